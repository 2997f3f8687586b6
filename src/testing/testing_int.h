/* The contract between the testing helpers (src/testing/) and the
 * certificate backends (backends/cert-openssl.c, backends/cert-gnutls.c),
 * and what the helpers' files share. Not installed. */
#ifndef GUST_TESTING_INT_H
#define GUST_TESTING_INT_H

#include <gust/testing.h>

#include <time.h>

#include "base/base_int.h"

/* What to put in a self-signed certificate. */
typedef struct gust__cert_spec {
  const char *common_name;
  const char *organization;
  const char *const *dns; /* subject alternative DNS names */
  size_t n_dns;
  const uint8_t *const *ips; /* subject alternative IP addresses (raw) */
  const size_t *ip_lens;     /* 4 or 16 each */
  size_t n_ips;
  time_t not_before, not_after;
  uint8_t serial[16]; /* positive (top bit clear) */
} gust__cert_spec;

/* One backend, compiled into libgust-testing with the TLS library the
 * build selected. */
typedef struct gust__cert_vtable {
  const char *name;
  /* Generates an EC P-256 key and a certificate for `spec` signed with it
   * (SHA-256), appending the certificate (PEM) to `cert` and the key (PEM,
   * PKCS#8) to `key`. On failure writes the library's message into `err`
   * and returns GUST_ENOMEM or GUST_ECRYPTO. */
  int (*self_signed)(const gust__cert_spec *spec, gust_buf *cert, gust_buf *key,
                     char *err, size_t err_len);
} gust__cert_vtable;

/* Exactly one backend file is compiled in; it defines this table. */
extern const gust__cert_vtable gust__cert_backend;

/* Records a failure of `t` (gust_test_fail() without the format check
 * noise) from another helper file. */
void gust__test_failv(gust_test *t, const char *fmt, va_list ap)
    GUST_PRINTF(2, 0);

/* gust_test_wait() naming what is awaited in a timeout's report. */
int gust__test_wait_what(gust_test *t, gust_future *f, const char *what);

/* Prints the TAP line of a test case (no file and line: the case is the
 * location), with `why` (may be NULL) as the diagnostic of a failure. */
void gust__tap_case(int passed, const char *name, const char *why);

/* Keeps `f` (a reference passes to the test) until the test finishes. */
int gust__test_keep(gust_test *t, gust_future *f);

/* Releases what src/testing/http.c made for `t` (called by
 * gust_test_finish() after the cleanups). */
void gust__test_http_teardown(gust_test *t);

/* Per-test state of src/testing/http.c. */
typedef struct gust__test_http gust__test_http;
gust__test_http **gust__test_http_state(gust_test *t);

#endif /* GUST_TESTING_INT_H */
