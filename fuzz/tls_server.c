/* libFuzzer target: arbitrary bytes fed to a TLS server engine during the
 * handshake, in pieces whose sizes the input chooses. Invariants: no crash,
 * no leak, every result is 0, GUST_EAGAIN or a GUST_E* code, and a fatal
 * code is answered again by every later call. */
#include "config.h"

#include <gust/tls.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* A throw-away self-signed test certificate (CN=gust fuzz) and its key:
 * they protect nothing. */
static const char cert_pem[] =
    "-----BEGIN CERTIFICATE-----\n"
    "MIIBfzCCASWgAwIBAgIUUUPtNVJXLRlUwGb7JyoNmbJ4l9wwCgYIKoZIzj0EAwIw\n"
    "FDESMBAGA1UEAwwJZ3VzdCBmdXp6MCAXDTI2MTEyMTIyMDExN1oYDzIxMjYxMDI4\n"
    "MjIwMTE3WjAUMRIwEAYDVQQDDAlndXN0IGZ1enowWTATBgcqhkjOPQIBBggqhkjO\n"
    "PQMBBwNCAAQLPXNTA23WFVtQYGlWZhPV0q0E0NEGfcG7BKw6Jn2JY0wUAMcnsnrH\n"
    "fAZznXKZ17dyhvzbh1m6CqCwOGMo4XZYo1MwUTAdBgNVHQ4EFgQUKibuV8RXfn8r\n"
    "F2VY1ZZ/e/uuj64wHwYDVR0jBBgwFoAUKibuV8RXfn8rF2VY1ZZ/e/uuj64wDwYD\n"
    "VR0TAQH/BAUwAwEB/zAKBggqhkjOPQQDAgNIADBFAiAhefXhrYGnVYK/TC51nnft\n"
    "4K1QZg8lGXPsvYz/U0wOKwIhAJBznsJ9vJBX6LWaIhM6Lqi9G7SDx9zeHFKjCv8l\n"
    "f8Fx\n"
    "-----END CERTIFICATE-----\n";
static const char key_pem[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgueYdu305c/fNLXiD\n"
    "HeCs4c5R1E3GD1vnyQdZpo3h0qKhRANCAAQLPXNTA23WFVtQYGlWZhPV0q0E0NEG\n"
    "fcG7BKw6Jn2JY0wUAMcnsnrHfAZznXKZ17dyhvzbh1m6CqCwOGMo4XZY\n"
    "-----END PRIVATE KEY-----\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static gust_tls_ctx *server_ctx(void) {
  static gust_tls_ctx *ctx;
  static const char *const alpn[] = {"h2", "http/1.1"};
  if (ctx == NULL) {
    if (gust_tls_ctx_new(GUST_TLS_SERVER, NULL, &ctx) != 0 ||
        gust_tls_ctx_use_cert_mem(ctx, cert_pem, sizeof(cert_pem) - 1, key_pem,
                                  sizeof(key_pem) - 1) != 0 ||
        gust_tls_ctx_set_alpn(ctx, alpn, 2) != 0)
      abort();
  }
  return ctx;
}

static void check(int rc) {
  if (rc > 0 || rc < -999)
    abort();
  if (rc < 0 && rc != GUST_EAGAIN &&
      strcmp(gust_strerror(rc), "unknown error") == 0)
    abort(); /* "unknown error": not a GUST_E* code */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  gust_tls *tls;
  uint8_t plain[256];
  int rc = GUST_EAGAIN;
  size_t step;
  if (gust_tls_new(server_ctx(), NULL, NULL, &tls) != 0)
    return 0;
  /* The first byte picks the piece size (1..256); the rest is ciphertext. */
  step = size > 0 ? (size_t)data[0] + 1 : 1;
  if (size > 0) {
    data++;
    size--;
  }
  while (size > 0) {
    size_t n = size < step ? size : step;
    gust_slice out;
    if (gust_tls_feed(tls, data, n) != 0)
      break;
    data += n;
    size -= n;
    rc = gust_tls_handshake(tls);
    check(rc);
    if (rc == 0)
      check((int)gust_tls_read(tls, plain, sizeof(plain)));
    out = gust_tls_pending_output(tls);
    gust_tls_consume_output(tls, out.len);
    if (rc < 0 && rc != GUST_EAGAIN) {
      if (gust_is_fatal(rc) && gust_tls_handshake(tls) != rc)
        abort();
      break;
    }
  }
  gust_tls_feed_eof(tls);
  check(gust_tls_handshake(tls));
  gust_tls_free(tls);
  return 0;
}
