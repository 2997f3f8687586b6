/* Hashes, HMAC (RFC 2104, built on the backend's streaming hash so that
 * both backends share one implementation), constant-time comparison and
 * random bytes. */
#include "config.h"

#include <gust/crypto.h>

#include <string.h>

#include "base_int.h"
#include "crypto_int.h"

#define HMAC_BLOCK 64 /* SHA-1 and SHA-256 both use 64-byte blocks */

static void *(*const volatile memset_v)(void *, int, size_t) = memset;

size_t gust_digest_size(gust_digest alg) {
  switch (alg) {
  case GUST_SHA1:
    return 20;
  case GUST_SHA256:
    return 32;
  default:
    return 0;
  }
}

static int hash_parts(gust_digest alg, const void *prefix, size_t prefix_len,
                      const gust_slice *parts, size_t n, uint8_t *out) {
  const gust__crypto_vtable *b = &gust__crypto_backend;
  gust__hash_ctx *ctx = b->hash_new(alg);
  size_t i;
  if (ctx == NULL)
    return GUST_ENOMEM;
  if (prefix_len != 0 && b->hash_update(ctx, prefix, prefix_len) != 0)
    goto fail;
  for (i = 0; i < n; i++)
    if (parts[i].len != 0 &&
        b->hash_update(ctx, parts[i].ptr, parts[i].len) != 0)
      goto fail;
  return b->hash_final(ctx, out) != 0 ? GUST_ECRYPTO : 0;
fail:
  b->hash_free(ctx);
  return GUST_ECRYPTO;
}

/* The public streaming hash is the backend's context, renamed. */
struct gust_hash_ctx;

int gust_hash_new(gust_hash_ctx **out, gust_digest alg) {
  gust__hash_ctx *ctx;
  if (out == NULL)
    return GUST_EINVAL;
  *out = NULL;
  if (gust_digest_size(alg) == 0)
    return GUST_EINVAL;
  ctx = gust__crypto_backend.hash_new(alg);
  if (ctx == NULL)
    return GUST_ENOMEM;
  *out = (gust_hash_ctx *)ctx;
  return 0;
}

int gust_hash_update(gust_hash_ctx *ctx, const void *data, size_t len) {
  if (ctx == NULL || (data == NULL && len != 0))
    return GUST_EINVAL;
  if (len == 0)
    return 0;
  return gust__crypto_backend.hash_update((gust__hash_ctx *)ctx, data, len) != 0
             ? GUST_ECRYPTO
             : 0;
}

int gust_hash_final(gust_hash_ctx *ctx, uint8_t *out) {
  if (ctx == NULL)
    return GUST_EINVAL;
  if (out == NULL) {
    gust__crypto_backend.hash_free((gust__hash_ctx *)ctx);
    return GUST_EINVAL;
  }
  return gust__crypto_backend.hash_final((gust__hash_ctx *)ctx, out) != 0
             ? GUST_ECRYPTO
             : 0;
}

void gust_hash_free(gust_hash_ctx *ctx) {
  if (ctx != NULL)
    gust__crypto_backend.hash_free((gust__hash_ctx *)ctx);
}

int gust_hash(gust_digest alg, const gust_slice *parts, size_t n,
              uint8_t *out) {
  if (gust_digest_size(alg) == 0 || (n != 0 && parts == NULL) || out == NULL)
    return GUST_EINVAL;
  return hash_parts(alg, NULL, 0, parts, n, out);
}

int gust_hmac(gust_digest alg, const uint8_t *key, size_t key_len,
              const gust_slice *parts, size_t n, uint8_t *out) {
  uint8_t k[HMAC_BLOCK], pad[HMAC_BLOCK], inner[GUST_DIGEST_MAX];
  size_t dlen = gust_digest_size(alg), i;
  gust_slice in;
  int rc;
  if (dlen == 0 || (n != 0 && parts == NULL) || out == NULL ||
      (key_len != 0 && key == NULL))
    return GUST_EINVAL;
  memset(k, 0, sizeof(k));
  if (key_len > HMAC_BLOCK) {
    gust_slice ks;
    ks.ptr = key;
    ks.len = key_len;
    if ((rc = hash_parts(alg, NULL, 0, &ks, 1, k)) != 0)
      return rc;
  } else if (key_len != 0) {
    memcpy(k, key, key_len);
  }
  for (i = 0; i < HMAC_BLOCK; i++)
    pad[i] = k[i] ^ 0x36;
  rc = hash_parts(alg, pad, HMAC_BLOCK, parts, n, inner);
  if (rc == 0) {
    for (i = 0; i < HMAC_BLOCK; i++)
      pad[i] = k[i] ^ 0x5c;
    in.ptr = inner;
    in.len = dlen;
    rc = hash_parts(alg, pad, HMAC_BLOCK, &in, 1, out);
  }
  /* Key material should not linger on the stack; the volatile pointer
   * keeps the compiler from dropping these stores as dead. */
  memset_v(k, 0, sizeof(k));
  memset_v(pad, 0, sizeof(pad));
  memset_v(inner, 0, sizeof(inner));
  return rc;
}

int gust_const_time_eq(const void *a, size_t a_len, const void *b,
                       size_t b_len) {
  const volatile uint8_t *x = a, *y = b;
  size_t i;
  uint8_t diff;
  if (a_len != b_len)
    return 0;
  diff = 0;
  for (i = 0; i < a_len; i++)
    diff |= (uint8_t)(x[i] ^ y[i]);
  return diff == 0;
}

int gust_random_bytes(void *buf, size_t n) {
  if (n == 0)
    return 0;
  if (buf == NULL)
    return GUST_EINVAL;
  return gust__crypto_backend.random(buf, n) != 0 ? GUST_ECRYPTO : 0;
}

const char *gust_tls_backend_name(void) { return gust__crypto_backend.name; }

const char *gust_tls_backend_version(void) {
  return gust__crypto_backend.version();
}
