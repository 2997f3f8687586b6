/* The contract between src/proto/tls.c and the TLS backends
 * (backends/tls-openssl.c, backends/tls-gnutls.c). Not installed. */
#ifndef GUST_TLS_INT_H
#define GUST_TLS_INT_H

#include <gust/tls.h>

#include <pthread.h>

#include "base/base_int.h"

#define GUST__TLS_ERRMSG_MAX 256

/* Client session cache: the last session per host name, most recent
 * first, at most GUST__TLS_SESSIONS_MAX of them. */
#define GUST__TLS_SESSIONS_MAX 64

typedef struct gust__tls_session {
  struct gust__tls_session *next;
  char *host;
  uint8_t *data; /* the backend's serialized session */
  size_t len;
} gust__tls_session;

struct gust_tls_ctx {
  const gust_mem *mem;
  gust_tls_role role;
  gust_tls_client_auth client_auth;
  int min_version;
  int resumption;
  int skip_verify;
  int ca_loaded; /* a CA was loaded explicitly */
  int have_cert; /* own certificate and key set */
  int frozen;    /* an engine was created: read-only from now on */
  int system_ca; /* the system store was loaded (client, lazily) */
  uint8_t *alpn; /* wire format: length-prefixed names */
  size_t alpn_len;
  /* client session cache (engines of several threads may share the
   * context: the lock guards it) */
  pthread_mutex_t sess_lock;
  gust__tls_session *sessions;
  size_t nsessions;
  void *be; /* backend context */
  char errmsg[GUST__TLS_ERRMSG_MAX];
};

struct gust_tls {
  const gust_mem *mem;
  gust_tls_ctx *ctx;
  char *host; /* NULL on a server */
  int host_is_ip;
  gust_buf in;  /* ciphertext fed, not yet taken by the backend */
  gust_buf out; /* ciphertext to send */
  int eof;      /* transport ended */
  int handshake_done;
  int sent_close;
  int got_close;
  int err; /* fatal error, 0 if none */
  int version;
  int verified;
  int resumed;
  char *alpn;         /* negotiated protocol, gust_mem */
  char *subject;      /* peer subject, gust_mem */
  char *sni;          /* server: name the client sent, gust_mem */
  void *be;           /* backend session */
  unsigned be_status; /* backend scratch (verification status) */
  int be_nomem;       /* the backend's output could not be buffered */
  int sess_stored;    /* client: a session went to the context's cache */
  char errmsg[GUST__TLS_ERRMSG_MAX];
};

/* One backend. Functions return 0 or a negative GUST_E* code and, on
 * failure, write the library's message into errmsg of the object. The
 * engine functions read ciphertext from tls->in (consuming what they take)
 * and append ciphertext to tls->out. */
typedef struct gust__tls_vtable {
  const char *name;
  int (*ctx_new)(gust_tls_ctx *ctx);
  void (*ctx_free)(gust_tls_ctx *ctx);
  int (*ctx_load_ca_mem)(gust_tls_ctx *ctx, const void *pem, size_t len);
  int (*ctx_load_ca_dir)(gust_tls_ctx *ctx, const char *path);
  int (*ctx_load_system_ca)(gust_tls_ctx *ctx);
  int (*ctx_use_cert_mem)(gust_tls_ctx *ctx, const void *cert, size_t cert_len,
                          const void *key, size_t key_len);
  /* Applies the settings held in ctx (versions, ALPN, client auth,
   * resumption, verification) before the first engine is created. */
  int (*ctx_freeze)(gust_tls_ctx *ctx);

  int (*conn_new)(gust_tls *tls);
  void (*conn_free)(gust_tls *tls);
  /* 0 when complete (and then fills version, alpn, subject, verified,
   * resumed), GUST_EAGAIN when more input is needed, or an error. */
  int (*handshake)(gust_tls *tls);
  /* > 0 bytes, 0 on close_notify, GUST_EAGAIN, or an error. */
  gust_ssize (*read)(gust_tls *tls, uint8_t *buf, size_t cap);
  /* Encrypts all `len` bytes; 0 or an error. */
  int (*write)(gust_tls *tls, const uint8_t *data, size_t len);
  int (*shutdown)(gust_tls *tls);
  /* Client: offers a session exported earlier (a serialized session as
   * handed to gust__tls_session_store()) on a new engine, before its
   * handshake. A session that does not load is ignored: 0 or GUST_ENOMEM. */
  int (*session_import)(gust_tls *tls, const uint8_t *data, size_t len);
} gust__tls_vtable;

/* Exactly one backend file is compiled in; it defines this table. */
extern const gust__tls_vtable gust__tls_backend;

/* Helpers for the backends (src/proto/tls.c). */

/* Copies a message into a fixed-size errmsg buffer, cutting it if needed. */
void gust__tls_set_msg(char *dst, const char *fmt, ...) GUST_PRINTF(2, 3);

/* Returns a gust_mem copy of `n` bytes plus a NUL, or NULL. */
char *gust__tls_strndup(const gust_mem *mem, const void *s, size_t n);

/* Client engines: the backend calls this when the connection has a
 * resumable session (after the handshake, or when a TLS 1.3 ticket
 * arrives), with its serialized form; it replaces the host's entry in the
 * context's cache. Allocation failures only cost the caching. */
void gust__tls_session_store(gust_tls *tls, const uint8_t *data, size_t len);

/* Returns 1 if `host` is an IPv4 or IPv6 literal. */
int gust__tls_is_ip(const char *host);

#endif /* GUST_TLS_INT_H */
