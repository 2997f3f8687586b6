/* Crypto backend over GnuTLS's hash and random-number interfaces. */
#include "config.h"

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>

#include "../src/base/crypto_int.h"

/* gnutls_check_version(NULL) gives the bare number ("3.7.9"). */
static const char *gnutls_version_text(void) {
  return gnutls_check_version(NULL);
}

static gust__hash_ctx *gnu_hash_new(gust_digest alg) {
  gnutls_hash_hd_t h;
  gnutls_digest_algorithm_t a =
      alg == GUST_SHA1 ? GNUTLS_DIG_SHA1 : GNUTLS_DIG_SHA256;
  if (gnutls_hash_init(&h, a) < 0)
    return NULL;
  return (gust__hash_ctx *)h;
}

static int gnu_hash_update(gust__hash_ctx *ctx, const void *data, size_t len) {
  return gnutls_hash((gnutls_hash_hd_t)ctx, data, len) < 0 ? -1 : 0;
}

static int gnu_hash_final(gust__hash_ctx *ctx, uint8_t *out) {
  gnutls_hash_deinit((gnutls_hash_hd_t)ctx, out);
  return 0;
}

static void gnu_hash_free(gust__hash_ctx *ctx) {
  gnutls_hash_deinit((gnutls_hash_hd_t)ctx, NULL);
}

static int gnu_random(void *buf, size_t n) {
  return gnutls_rnd(GNUTLS_RND_RANDOM, buf, n) < 0 ? -1 : 0;
}

const gust__crypto_vtable gust__crypto_backend = {
    .name = "gnutls",
    .version = gnutls_version_text,
    .hash_new = gnu_hash_new,
    .hash_update = gnu_hash_update,
    .hash_final = gnu_hash_final,
    .hash_free = gnu_hash_free,
    .random = gnu_random,
};
