/* Throwaway certificates of <gust/testing.h>: what goes in them, and TLS
 * contexts that serve or trust exactly one. The key and the signature are
 * the backend's (backends/cert-*.c). */
#include "config.h"

#include <gust/testing.h>

#include <stdio.h>
#include <string.h>

#include "testing_int.h"

/* Validity: from an hour ago (clock skew between the two ends does not
 * matter on one host, but a clock that steps might) for one day. */
#define CERT_BACKDATE 3600
#define CERT_LIFETIME 86400

struct gust_test_cert {
  const gust_mem *mem;
  gust_buf cert;
  gust_buf key;
};

int gust_test_cert_new(gust_test_cert **out, const gust_mem *mem) {
  static const char *const dns[] = {"localhost"};
  static const uint8_t ip4[4] = {127, 0, 0, 1};
  static const uint8_t ip6[16] = {0, 0, 0, 0, 0, 0, 0, 0,
                                  0, 0, 0, 0, 0, 0, 0, 1};
  static const uint8_t *const ips[] = {ip4, ip6};
  static const size_t ip_lens[] = {sizeof(ip4), sizeof(ip6)};
  gust__cert_spec spec;
  gust_test_cert *c;
  char err[256];
  time_t now = time(NULL);
  int rc;
  if (out == NULL)
    return GUST_EINVAL;
  *out = NULL;
  mem = gust__mem(mem);
  memset(&spec, 0, sizeof(spec));
  spec.common_name = "localhost";
  spec.organization = "gust test";
  spec.dns = dns;
  spec.n_dns = GUST__ARRAY_SIZE(dns);
  spec.ips = ips;
  spec.ip_lens = ip_lens;
  spec.n_ips = GUST__ARRAY_SIZE(ips);
  spec.not_before = now - CERT_BACKDATE;
  spec.not_after = now + CERT_LIFETIME;
  rc = gust_random_bytes(spec.serial, sizeof(spec.serial));
  if (rc < 0)
    return rc;
  spec.serial[0] &= 0x7f; /* a positive serial */
  spec.serial[0] |= 0x01; /* without a leading zero byte */
  c = gust__calloc(mem, 1, sizeof(*c));
  if (c == NULL)
    return GUST_ENOMEM;
  c->mem = mem;
  gust_buf_init(&c->cert, mem);
  gust_buf_init(&c->key, mem);
  err[0] = '\0';
  rc = gust__cert_backend.self_signed(&spec, &c->cert, &c->key, err,
                                      sizeof(err));
  if (rc < 0) {
    if (err[0] != '\0')
      gust_log(GUST_LOG_GENERAL, GUST_LOG_ERROR, "test certificate: %s", err);
    gust_test_cert_free(c);
    return rc;
  }
  *out = c;
  return 0;
}

void gust_test_cert_free(gust_test_cert *c) {
  if (c == NULL)
    return;
  /* A throwaway key, but a key: do not leave it in freed memory. */
  if (c->key.ptr != NULL)
    memset(c->key.ptr, 0, c->key.len);
  gust_buf_free(&c->cert);
  gust_buf_free(&c->key);
  gust__free(c->mem, c);
}

gust_slice gust_test_cert_pem(const gust_test_cert *c) {
  return c != NULL ? gust_buf_slice(&c->cert) : gust_slice_cstr(NULL);
}

gust_slice gust_test_cert_key_pem(const gust_test_cert *c) {
  return c != NULL ? gust_buf_slice(&c->key) : gust_slice_cstr(NULL);
}

int gust_test_cert_server_ctx(const gust_test_cert *c, const gust_mem *mem,
                              gust_tls_ctx **out) {
  gust_tls_ctx *ctx;
  int rc;
  if (out == NULL)
    return GUST_EINVAL;
  *out = NULL;
  if (c == NULL)
    return GUST_EINVAL;
  rc = gust_tls_ctx_new(GUST_TLS_SERVER, mem, &ctx);
  if (rc < 0)
    return rc;
  rc = gust_tls_ctx_use_cert_mem(ctx, c->cert.ptr, c->cert.len, c->key.ptr,
                                 c->key.len);
  if (rc < 0) {
    gust_tls_ctx_free(ctx);
    return rc;
  }
  *out = ctx;
  return 0;
}

int gust_test_cert_client_ctx(const gust_test_cert *c, const gust_mem *mem,
                              gust_tls_ctx **out) {
  gust_tls_ctx *ctx;
  int rc;
  if (out == NULL)
    return GUST_EINVAL;
  *out = NULL;
  if (c == NULL)
    return GUST_EINVAL;
  rc = gust_tls_ctx_new(GUST_TLS_CLIENT, mem, &ctx);
  if (rc < 0)
    return rc;
  /* Once a CA is loaded the system store is not used: this certificate is
   * the only one trusted. */
  rc = gust_tls_ctx_load_ca_mem(ctx, c->cert.ptr, c->cert.len);
  if (rc < 0) {
    gust_tls_ctx_free(ctx);
    return rc;
  }
  *out = ctx;
  return 0;
}
