/* Crypto backend over OpenSSL's EVP interface. */
#include "config.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "../src/base/crypto_int.h"

static const char *ossl_version(void) {
  return OpenSSL_version(OPENSSL_VERSION);
}

static gust__hash_ctx *ossl_hash_new(gust_digest alg) {
  const EVP_MD *md = alg == GUST_SHA1 ? EVP_sha1() : EVP_sha256();
  EVP_MD_CTX *ctx = EVP_MD_CTX_new();
  if (ctx == NULL)
    return NULL;
  if (EVP_DigestInit_ex(ctx, md, NULL) != 1) {
    EVP_MD_CTX_free(ctx);
    return NULL;
  }
  return (gust__hash_ctx *)ctx;
}

static int ossl_hash_update(gust__hash_ctx *ctx, const void *data, size_t len) {
  return EVP_DigestUpdate((EVP_MD_CTX *)ctx, data, len) == 1 ? 0 : -1;
}

static int ossl_hash_final(gust__hash_ctx *ctx, uint8_t *out) {
  int ok = EVP_DigestFinal_ex((EVP_MD_CTX *)ctx, out, NULL) == 1;
  EVP_MD_CTX_free((EVP_MD_CTX *)ctx);
  return ok ? 0 : -1;
}

static void ossl_hash_free(gust__hash_ctx *ctx) {
  EVP_MD_CTX_free((EVP_MD_CTX *)ctx);
}

static int ossl_random(void *buf, size_t n) {
  unsigned char *p = buf;
  while (n > 0) {
    int chunk = n > 1 << 30 ? 1 << 30 : (int)n;
    if (RAND_bytes(p, chunk) != 1)
      return -1;
    p += chunk;
    n -= (size_t)chunk;
  }
  return 0;
}

const gust__crypto_vtable gust__crypto_backend = {
    .name = "openssl",
    .version = ossl_version,
    .hash_new = ossl_hash_new,
    .hash_update = ossl_hash_update,
    .hash_final = ossl_hash_final,
    .hash_free = ossl_hash_free,
    .random = ossl_random,
};
