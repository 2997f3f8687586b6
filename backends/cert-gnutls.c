/* Throwaway certificates for the testing helpers, generated with GnuTLS:
 * an EC P-256 key and a self-signed X.509 v3 certificate. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "../src/testing/testing_int.h"

/* Writes GnuTLS's message for `r` into `err` and returns the code to
 * report. */
static int fail(char *err, size_t err_len, const char *what, int r) {
  snprintf(err, err_len, "%s: %s", what, gnutls_strerror(r));
  return r == GNUTLS_E_MEMORY_ERROR ? GUST_ENOMEM : GUST_ECRYPTO;
}

/* Moves a PEM export into `out` (the datum is released either way). */
static int take_datum(gnutls_datum_t *d, gust_buf *out) {
  int rc = gust_buf_append(out, d->data, d->size);
  gnutls_free(d->data);
  d->data = NULL;
  return rc;
}

static int set_fields(gnutls_x509_crt_t crt, gnutls_x509_privkey_t key,
                      const gust__cert_spec *sp, const char **what) {
  size_t i;
  int r;
  *what = "certificate fields";
  if ((r = gnutls_x509_crt_set_version(crt, 3)) < 0 ||
      (r = gnutls_x509_crt_set_serial(crt, sp->serial, sizeof(sp->serial))) <
          0 ||
      (r = gnutls_x509_crt_set_activation_time(crt, sp->not_before)) < 0 ||
      (r = gnutls_x509_crt_set_expiration_time(crt, sp->not_after)) < 0 ||
      (r = gnutls_x509_crt_set_dn_by_oid(
           crt, GNUTLS_OID_X520_COMMON_NAME, 0, sp->common_name,
           (unsigned)strlen(sp->common_name))) < 0 ||
      (r = gnutls_x509_crt_set_dn_by_oid(
           crt, GNUTLS_OID_X520_ORGANIZATION_NAME, 0, sp->organization,
           (unsigned)strlen(sp->organization))) < 0 ||
      (r = gnutls_x509_crt_set_key(crt, key)) < 0 ||
      (r = gnutls_x509_crt_set_basic_constraints(crt, 0, -1)) < 0)
    return r;
  for (i = 0; i < sp->n_dns; i++) {
    r = gnutls_x509_crt_set_subject_alt_name(
        crt, GNUTLS_SAN_DNSNAME, sp->dns[i], (unsigned)strlen(sp->dns[i]),
        GNUTLS_FSAN_APPEND);
    if (r < 0)
      return r;
  }
  for (i = 0; i < sp->n_ips; i++) {
    r = gnutls_x509_crt_set_subject_alt_name(
        crt, GNUTLS_SAN_IPADDRESS, sp->ips[i], (unsigned)sp->ip_lens[i],
        GNUTLS_FSAN_APPEND);
    if (r < 0)
      return r;
  }
  return 0;
}

static int gtls_self_signed(const gust__cert_spec *sp, gust_buf *cert,
                            gust_buf *key_out, char *err, size_t err_len) {
  gnutls_x509_privkey_t key = NULL;
  gnutls_x509_crt_t crt = NULL;
  gnutls_datum_t d = {NULL, 0};
  const char *what = "EC P-256 key generation";
  int r, rc = 0;
  if ((r = gnutls_x509_privkey_init(&key)) < 0 ||
      (r = gnutls_x509_privkey_generate(
           key, GNUTLS_PK_ECDSA,
           GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0)) < 0)
    goto fail;
  what = "certificate";
  if ((r = gnutls_x509_crt_init(&crt)) < 0 ||
      (r = set_fields(crt, key, sp, &what)) < 0)
    goto fail;
  what = "certificate signature";
  if ((r = gnutls_x509_crt_sign2(crt, crt, key, GNUTLS_DIG_SHA256, 0)) < 0)
    goto fail;
  what = "PEM encoding of the certificate";
  if ((r = gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_PEM, &d)) < 0)
    goto fail;
  rc = take_datum(&d, cert);
  if (rc < 0)
    goto out;
  what = "PEM encoding of the key";
  if ((r = gnutls_x509_privkey_export2_pkcs8(key, GNUTLS_X509_FMT_PEM, NULL,
                                             GNUTLS_PKCS_PLAIN, &d)) < 0)
    goto fail;
  rc = take_datum(&d, key_out);
  goto out;
fail:
  rc = fail(err, err_len, what, r);
out:
  gnutls_x509_crt_deinit(crt);
  gnutls_x509_privkey_deinit(key);
  return rc;
}

const gust__cert_vtable gust__cert_backend = {
    .name = "gnutls",
    .self_signed = gtls_self_signed,
};
