/* The contract between src/base/crypto.c and the crypto backends
 * (backends/crypto-openssl.c, backends/crypto-gnutls.c). Not installed. */
#ifndef GUST_CRYPTO_INT_H
#define GUST_CRYPTO_INT_H

#include <gust/crypto.h>

typedef struct gust__hash_ctx gust__hash_ctx;

typedef struct gust__crypto_vtable {
  const char *name;             /* "openssl" or "gnutls" */
  const char *(*version)(void); /* the library's version text */
  /* Streaming hash: new() returns NULL on failure; final() writes the
   * digest and releases the context; hash_free releases it unfinished. */
  gust__hash_ctx *(*hash_new)(gust_digest alg);
  int (*hash_update)(gust__hash_ctx *ctx, const void *data, size_t len);
  int (*hash_final)(gust__hash_ctx *ctx, uint8_t *out);
  void (*hash_free)(gust__hash_ctx *ctx);
  int (*random)(void *buf, size_t n);
} gust__crypto_vtable;

/* Exactly one backend file is compiled in; it defines this table. */
extern const gust__crypto_vtable gust__crypto_backend;

#endif /* GUST_CRYPTO_INT_H */
