/* gust cryptographic primitives: hashes, HMAC, constant-time comparison and
 * random bytes, provided by the TLS backend chosen at configure time. */
#ifndef GUST_CRYPTO_H
#define GUST_CRYPTO_H

#include <gust/base.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The hash functions available for digests and HMACs. */
typedef enum gust_digest {
  GUST_SHA1 = 1,  /* 20-byte output; WebSocket accept keys, signed v1 */
  GUST_SHA256 = 2 /* 32-byte output; signed values v2 */
} gust_digest;

/* Largest output of any gust_digest, in bytes. */
#define GUST_DIGEST_MAX 32

/* Returns the output size of `alg` in bytes, or 0 for an unknown value. */
GUST_EXTERN size_t gust_digest_size(gust_digest alg);

/* Hashes the concatenation of `n` parts into `out` (gust_digest_size(alg)
 * bytes). Returns 0, GUST_EINVAL for an unknown algorithm, or GUST_ENOMEM /
 * GUST_ECRYPTO if the backend fails. Thread-safe. */
GUST_EXTERN int gust_hash(gust_digest alg, const gust_slice *parts, size_t n,
                          uint8_t *out);

/* A hash computed piece by piece (for inputs that are not in memory at
 * once, e.g. a file). The context is allocated by the crypto backend. */
typedef struct gust_hash_ctx gust_hash_ctx;

/* Starts a hash of `alg`. *out owns the context until gust_hash_final()
 * or gust_hash_free(). Returns 0, GUST_EINVAL (NULL out, unknown alg) or
 * GUST_ENOMEM. */
GUST_EXTERN int gust_hash_new(gust_hash_ctx **out, gust_digest alg);

/* Adds `len` bytes. Returns 0, GUST_EINVAL or GUST_ECRYPTO (the context
 * is then unusable: free it). */
GUST_EXTERN int gust_hash_update(gust_hash_ctx *ctx, const void *data,
                                 size_t len);

/* Writes the digest (gust_digest_size() bytes) into `out` and releases the
 * context, whatever the result. Returns 0, GUST_EINVAL or GUST_ECRYPTO. */
GUST_EXTERN int gust_hash_final(gust_hash_ctx *ctx, uint8_t *out);

/* Releases an unfinished context (NULL is a no-op). */
GUST_EXTERN void gust_hash_free(gust_hash_ctx *ctx);

/* Computes HMAC-`alg` (RFC 2104) with `key` over the concatenation of `n`
 * parts into `out` (gust_digest_size(alg) bytes). Returns as gust_hash().
 * Thread-safe. */
GUST_EXTERN int gust_hmac(gust_digest alg, const uint8_t *key, size_t key_len,
                          const gust_slice *parts, size_t n, uint8_t *out);

/* Compares two byte strings in time that depends only on the lengths.
 * Returns 1 if they are equal (same length, same bytes), 0 otherwise. */
GUST_EXTERN int gust_const_time_eq(const void *a, size_t a_len, const void *b,
                                   size_t b_len);

/* Fills `buf` with `n` bytes from the backend's cryptographically secure
 * generator (n == 0 does nothing). Returns 0, GUST_EINVAL if buf is NULL
 * with n > 0, or GUST_ECRYPTO if the generator failed (the buffer contents
 * are then unspecified and must not be used). Thread-safe. */
GUST_EXTERN int gust_random_bytes(void *buf, size_t n);

/* Returns the name of the crypto/TLS backend: "openssl" or "gnutls". */
GUST_EXTERN const char *gust_tls_backend_name(void);

/* Returns the backend library's own version text, e.g. "OpenSSL 3.0.11
 * 19 Sep 2023" or "3.7.9" (GnuTLS). */
GUST_EXTERN const char *gust_tls_backend_version(void);

#ifdef __cplusplus
}
#endif

#endif /* GUST_CRYPTO_H */
