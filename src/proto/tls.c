/* The backend-independent half of the Sans-IO TLS engine: argument checks,
 * buffers, the error latch, truncation detection and the context life
 * cycle; the backend file does the cryptography. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "proto/tls_int.h"

#define TLS_FILE_MAX (16u * 1024u * 1024u)

void gust__tls_set_msg(char *dst, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(dst, GUST__TLS_ERRMSG_MAX, fmt, ap);
  va_end(ap);
}

char *gust__tls_strndup(const gust_mem *mem, const void *s, size_t n) {
  return gust__strndup(mem, (const char *)s, n);
}

int gust__tls_is_ip(const char *host) {
  uint8_t addr[16];
  return inet_pton(AF_INET, host, addr) == 1 ||
         inet_pton(AF_INET6, host, addr) == 1;
}

/* ------------------------------------------------------------------ */
/* Contexts                                                             */
/* ------------------------------------------------------------------ */

int gust_tls_ctx_new(gust_tls_role role, const gust_mem *mem,
                     gust_tls_ctx **out) {
  gust_tls_ctx *ctx;
  int rc;
  if (out == NULL)
    return GUST_EINVAL;
  *out = NULL;
  if (role != GUST_TLS_CLIENT && role != GUST_TLS_SERVER)
    return GUST_EINVAL;
  mem = gust__mem(mem);
  ctx = gust__calloc(mem, 1, sizeof(*ctx));
  if (ctx == NULL)
    return GUST_ENOMEM;
  ctx->mem = mem;
  ctx->role = role;
  ctx->min_version = GUST_TLS_VERSION_1_2;
  ctx->resumption = 1;
  if (pthread_mutex_init(&ctx->sess_lock, NULL) != 0) {
    gust__free(mem, ctx);
    return GUST_ENOMEM;
  }
  rc = gust__tls_backend.ctx_new(ctx);
  if (rc < 0) {
    pthread_mutex_destroy(&ctx->sess_lock);
    gust__free(mem, ctx);
    return rc;
  }
  *out = ctx;
  return 0;
}

static void session_free(const gust_mem *mem, gust__tls_session *e) {
  gust__free(mem, e->host);
  gust__free(mem, e->data);
  gust__free(mem, e);
}

void gust_tls_ctx_free(gust_tls_ctx *ctx) {
  gust__tls_session *e;
  if (ctx == NULL)
    return;
  while ((e = ctx->sessions) != NULL) {
    ctx->sessions = e->next;
    session_free(ctx->mem, e);
  }
  pthread_mutex_destroy(&ctx->sess_lock);
  gust__tls_backend.ctx_free(ctx);
  gust__free(ctx->mem, ctx->alpn);
  gust__free(ctx->mem, ctx);
}

const char *gust_tls_ctx_error(const gust_tls_ctx *ctx) {
  return ctx != NULL ? ctx->errmsg : "";
}

static int ctx_check(gust_tls_ctx *ctx) {
  if (ctx == NULL)
    return GUST_EINVAL;
  ctx->errmsg[0] = '\0';
  return ctx->frozen ? GUST_ESTATE : 0;
}

/* Reads a whole file into `buf` (at most TLS_FILE_MAX bytes). */
static int read_file(gust_tls_ctx *ctx, const char *path, gust_buf *buf) {
  FILE *f;
  int rc = 0;
  f = fopen(path, "rb");
  if (f == NULL) {
    int e = errno;
    gust__tls_set_msg(ctx->errmsg, "%s: %s", path, strerror(e));
    return e == ENOENT ? GUST_ENOTFOUND : GUST_EIO;
  }
  buf->max = TLS_FILE_MAX;
  for (;;) {
    size_t n;
    rc = gust_buf_reserve(buf, 4096);
    if (rc < 0) {
      if (rc == GUST_EBUFFERFULL)
        gust__tls_set_msg(ctx->errmsg, "%s: file too large", path);
      break;
    }
    n = fread(gust_buf_tail(buf), 1, 4096, f);
    gust_buf_commit(buf, n);
    if (n < 4096) {
      if (ferror(f)) {
        gust__tls_set_msg(ctx->errmsg, "%s: read error", path);
        rc = GUST_EIO;
      }
      break;
    }
  }
  fclose(f);
  return rc;
}

int gust_tls_ctx_load_ca_mem(gust_tls_ctx *ctx, const void *pem, size_t len) {
  int rc = ctx_check(ctx);
  if (rc < 0)
    return rc;
  if (pem == NULL || len == 0)
    return GUST_EINVAL;
  rc = gust__tls_backend.ctx_load_ca_mem(ctx, pem, len);
  if (rc == 0)
    ctx->ca_loaded = 1;
  return rc;
}

int gust_tls_ctx_load_ca_file(gust_tls_ctx *ctx, const char *path) {
  gust_buf buf;
  int rc = ctx_check(ctx);
  if (rc < 0)
    return rc;
  if (path == NULL)
    return GUST_EINVAL;
  gust_buf_init(&buf, ctx->mem);
  rc = read_file(ctx, path, &buf);
  if (rc == 0) {
    if (buf.len == 0) {
      gust__tls_set_msg(ctx->errmsg, "%s: empty file", path);
      rc = GUST_ETLS_CONFIG;
    } else {
      rc = gust_tls_ctx_load_ca_mem(ctx, buf.ptr, buf.len);
    }
  }
  gust_buf_free(&buf);
  return rc;
}

int gust_tls_ctx_load_ca_dir(gust_tls_ctx *ctx, const char *path) {
  struct stat st;
  int rc = ctx_check(ctx);
  if (rc < 0)
    return rc;
  if (path == NULL)
    return GUST_EINVAL;
  if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode)) {
    gust__tls_set_msg(ctx->errmsg, "%s: not a directory", path);
    return GUST_ENOTFOUND;
  }
  rc = gust__tls_backend.ctx_load_ca_dir(ctx, path);
  if (rc == 0)
    ctx->ca_loaded = 1;
  return rc;
}

int gust_tls_ctx_use_cert_mem(gust_tls_ctx *ctx, const void *cert_pem,
                              size_t cert_len, const void *key_pem,
                              size_t key_len) {
  int rc = ctx_check(ctx);
  if (rc < 0)
    return rc;
  if (cert_pem == NULL || cert_len == 0 || key_pem == NULL || key_len == 0)
    return GUST_EINVAL;
  /* One certificate per context, the same way on every backend. */
  if (ctx->have_cert)
    return GUST_EEXIST;
  rc = gust__tls_backend.ctx_use_cert_mem(ctx, cert_pem, cert_len, key_pem,
                                          key_len);
  if (rc == 0)
    ctx->have_cert = 1;
  return rc;
}

int gust_tls_ctx_use_cert_file(gust_tls_ctx *ctx, const char *cert_path,
                               const char *key_path) {
  gust_buf cert, key;
  int rc = ctx_check(ctx);
  if (rc < 0)
    return rc;
  if (cert_path == NULL || key_path == NULL)
    return GUST_EINVAL;
  if (ctx->have_cert)
    return GUST_EEXIST;
  gust_buf_init(&cert, ctx->mem);
  gust_buf_init(&key, ctx->mem);
  rc = read_file(ctx, cert_path, &cert);
  if (rc == 0)
    rc = read_file(ctx, key_path, &key);
  if (rc == 0 && (cert.len == 0 || key.len == 0)) {
    gust__tls_set_msg(ctx->errmsg, "%s: empty file",
                      cert.len == 0 ? cert_path : key_path);
    rc = GUST_ETLS_CONFIG;
  }
  if (rc == 0)
    rc = gust_tls_ctx_use_cert_mem(ctx, cert.ptr, cert.len, key.ptr, key.len);
  gust_buf_free(&cert);
  /* The key buffer held a private key: wipe it before release. */
  if (key.ptr != NULL)
    memset(key.ptr, 0, key.len);
  gust_buf_free(&key);
  return rc;
}

int gust_tls_ctx_set_alpn(gust_tls_ctx *ctx, const char *const *protos,
                          size_t n) {
  size_t i, total = 0;
  uint8_t *wire, *p;
  int rc = ctx_check(ctx);
  if (rc < 0)
    return rc;
  if (n == 0 || protos == NULL || n > 1000)
    return GUST_EINVAL;
  for (i = 0; i < n; i++) {
    size_t len = protos[i] != NULL ? strlen(protos[i]) : 0;
    if (len == 0 || len > 255)
      return GUST_EINVAL;
    total += 1 + len;
  }
  if (total > 65535)
    return GUST_EINVAL;
  wire = gust__malloc(ctx->mem, total);
  if (wire == NULL)
    return GUST_ENOMEM;
  for (p = wire, i = 0; i < n; i++) {
    size_t len = strlen(protos[i]);
    *p++ = (uint8_t)len;
    memcpy(p, protos[i], len);
    p += len;
  }
  gust__free(ctx->mem, ctx->alpn);
  ctx->alpn = wire;
  ctx->alpn_len = total;
  return 0;
}

int gust_tls_ctx_set_client_auth(gust_tls_ctx *ctx, gust_tls_client_auth mode) {
  int rc = ctx_check(ctx);
  if (rc < 0)
    return rc;
  if (ctx->role != GUST_TLS_SERVER || (mode != GUST_TLS_CLIENT_AUTH_NONE &&
                                       mode != GUST_TLS_CLIENT_AUTH_OPTIONAL &&
                                       mode != GUST_TLS_CLIENT_AUTH_REQUIRED))
    return GUST_EINVAL;
  ctx->client_auth = mode;
  return 0;
}

int gust_tls_ctx_set_min_version(gust_tls_ctx *ctx, int version) {
  int rc = ctx_check(ctx);
  if (rc < 0)
    return rc;
  if (version != GUST_TLS_VERSION_1_2 && version != GUST_TLS_VERSION_1_3)
    return GUST_EINVAL;
  ctx->min_version = version;
  return 0;
}

int gust_tls_ctx_set_session_resumption(gust_tls_ctx *ctx, int on) {
  int rc = ctx_check(ctx);
  if (rc < 0)
    return rc;
  ctx->resumption = on != 0;
  return 0;
}

int gust_tls_ctx_set_insecure_skip_verify(gust_tls_ctx *ctx, int on) {
  int rc = ctx_check(ctx);
  if (rc < 0)
    return rc;
  if (ctx->role != GUST_TLS_CLIENT)
    return GUST_EINVAL;
  ctx->skip_verify = on != 0;
  return 0;
}

/* Applies the configuration once, before the first engine. */
static int ctx_freeze(gust_tls_ctx *ctx) {
  int rc;
  if (ctx->frozen)
    return 0;
  if (ctx->role == GUST_TLS_SERVER && !ctx->have_cert) {
    gust__tls_set_msg(ctx->errmsg, "a server needs a certificate and key");
    return GUST_ETLS_CONFIG;
  }
  if (ctx->role == GUST_TLS_SERVER &&
      ctx->client_auth != GUST_TLS_CLIENT_AUTH_NONE && !ctx->ca_loaded) {
    gust__tls_set_msg(ctx->errmsg,
                      "client authentication needs a CA to verify against");
    return GUST_ETLS_CONFIG;
  }
  if (ctx->role == GUST_TLS_CLIENT && !ctx->skip_verify && !ctx->ca_loaded &&
      !ctx->system_ca) {
    rc = gust__tls_backend.ctx_load_system_ca(ctx);
    if (rc < 0)
      return rc;
    ctx->system_ca = 1;
  }
  rc = gust__tls_backend.ctx_freeze(ctx);
  if (rc < 0)
    return rc;
  ctx->frozen = 1;
  return 0;
}

/* ------------------------------------------------------------------ */
/* Engine                                                               */
/* ------------------------------------------------------------------ */

int gust_tls_new(gust_tls_ctx *ctx, const char *host, const gust_mem *mem,
                 gust_tls **out) {
  gust_tls *tls;
  int rc;
  if (out == NULL)
    return GUST_EINVAL;
  *out = NULL;
  if (ctx == NULL)
    return GUST_EINVAL;
  if (ctx->role == GUST_TLS_CLIENT && !ctx->skip_verify &&
      (host == NULL || host[0] == '\0'))
    return GUST_EINVAL;
  if (host != NULL && strlen(host) > 255)
    return GUST_EINVAL;
  rc = ctx_freeze(ctx);
  if (rc < 0)
    return rc;
  mem = gust__mem(mem);
  tls = gust__calloc(mem, 1, sizeof(*tls));
  if (tls == NULL)
    return GUST_ENOMEM;
  tls->mem = mem;
  tls->ctx = ctx;
  gust_buf_init(&tls->in, mem);
  gust_buf_init(&tls->out, mem);
  if (ctx->role == GUST_TLS_CLIENT && host != NULL && host[0] != '\0') {
    tls->host = gust__strndup(mem, host, strlen(host));
    if (tls->host == NULL) {
      gust__free(mem, tls);
      return GUST_ENOMEM;
    }
    tls->host_is_ip = gust__tls_is_ip(host);
  }
  rc = gust__tls_backend.conn_new(tls);
  if (rc < 0) {
    gust__free(mem, tls->host);
    gust__free(mem, tls);
    return rc;
  }
  if (ctx->role == GUST_TLS_CLIENT && ctx->resumption && tls->host != NULL &&
      gust__tls_backend.session_import != NULL) {
    gust__tls_session *e;
    pthread_mutex_lock(&ctx->sess_lock);
    for (e = ctx->sessions; e != NULL; e = e->next)
      if (strcmp(e->host, tls->host) == 0)
        break;
    rc = e != NULL ? gust__tls_backend.session_import(tls, e->data, e->len) : 0;
    pthread_mutex_unlock(&ctx->sess_lock);
    if (rc < 0) {
      gust_tls_free(tls);
      return rc;
    }
  }
  *out = tls;
  return 0;
}

void gust_tls_free(gust_tls *tls) {
  if (tls == NULL)
    return;
  gust__tls_backend.conn_free(tls);
  gust_buf_free(&tls->in);
  gust_buf_free(&tls->out);
  gust__free(tls->mem, tls->host);
  gust__free(tls->mem, tls->alpn);
  gust__free(tls->mem, tls->subject);
  gust__free(tls->mem, tls->sni);
  gust__free(tls->mem, tls);
}

/* Latches a fatal error; a non-fatal code passes through. */
static int fail(gust_tls *tls, int rc) {
  if (rc < 0 && rc != GUST_EAGAIN && gust_is_fatal(rc)) {
    tls->err = rc;
    if (tls->errmsg[0] == '\0')
      gust__tls_set_msg(tls->errmsg, "%s", gust_strerror(rc));
  }
  return rc;
}

/* GUST_EAGAIN after the transport ended means the rest never comes. */
static int eof_check(gust_tls *tls, int rc) {
  if (rc == GUST_EAGAIN && tls->eof && !tls->got_close) {
    gust__tls_set_msg(tls->errmsg,
                      "transport closed without TLS close_notify%s",
                      tls->handshake_done ? "" : " during the handshake");
    return fail(tls, GUST_ETLS_TRUNCATED);
  }
  return rc;
}

int gust_tls_feed(gust_tls *tls, const uint8_t *data, size_t len) {
  if (tls == NULL || (data == NULL && len != 0))
    return GUST_EINVAL;
  if (tls->err)
    return tls->err;
  if (tls->eof)
    return GUST_ESTATE;
  if (len == 0)
    return 0;
  return fail(tls, gust_buf_append(&tls->in, data, len));
}

int gust_tls_feed_eof(gust_tls *tls) {
  if (tls == NULL)
    return GUST_EINVAL;
  tls->eof = 1;
  return 0;
}

int gust_tls_handshake(gust_tls *tls) {
  int rc;
  if (tls == NULL)
    return GUST_EINVAL;
  if (tls->err)
    return tls->err;
  if (tls->handshake_done)
    return 0;
  tls->errmsg[0] = '\0';
  rc = gust__tls_backend.handshake(tls);
  if (rc == 0) {
    tls->handshake_done = 1;
    return 0;
  }
  return eof_check(tls, fail(tls, rc));
}

int gust_tls_handshake_done(const gust_tls *tls) {
  return tls != NULL && tls->handshake_done;
}

gust_ssize gust_tls_read(gust_tls *tls, uint8_t *buf, size_t cap) {
  gust_ssize n;
  int rc;
  if (tls == NULL || (buf == NULL && cap != 0))
    return GUST_EINVAL;
  if (tls->err)
    return tls->err;
  rc = gust_tls_handshake(tls);
  if (rc < 0)
    return rc;
  if (tls->got_close)
    return 0;
  if (cap == 0)
    return GUST_EINVAL;
  n = gust__tls_backend.read(tls, buf, cap);
  if (n == 0) {
    tls->got_close = 1;
    return 0;
  }
  if (n > 0)
    return n;
  return eof_check(tls, fail(tls, (int)n));
}

gust_ssize gust_tls_write(gust_tls *tls, const uint8_t *data, size_t len) {
  int rc;
  if (tls == NULL || (data == NULL && len != 0))
    return GUST_EINVAL;
  if ((size_t)len > (size_t)PTRDIFF_MAX)
    return GUST_EOVERFLOW;
  if (tls->err)
    return tls->err;
  if (tls->sent_close)
    return GUST_ESTATE;
  rc = gust_tls_handshake(tls);
  if (rc < 0)
    return rc;
  if (len == 0)
    return 0;
  rc = fail(tls, gust__tls_backend.write(tls, data, len));
  return rc < 0 ? rc : (gust_ssize)len;
}

gust_slice gust_tls_pending_output(const gust_tls *tls) {
  gust_slice s = {NULL, 0};
  if (tls != NULL)
    s = gust_buf_slice(&tls->out);
  return s;
}

void gust_tls_consume_output(gust_tls *tls, size_t n) {
  if (tls != NULL)
    gust_buf_consume(&tls->out, n);
}

int gust_tls_shutdown(gust_tls *tls) {
  int rc;
  if (tls == NULL)
    return GUST_EINVAL;
  if (tls->err)
    return tls->err;
  if (tls->sent_close)
    return 0;
  if (!tls->handshake_done)
    return GUST_ESTATE;
  rc = fail(tls, gust__tls_backend.shutdown(tls));
  if (rc == 0)
    tls->sent_close = 1;
  return rc;
}

int gust_tls_close_notify_sent(const gust_tls *tls) {
  return tls != NULL && tls->sent_close;
}

int gust_tls_close_notify_received(const gust_tls *tls) {
  return tls != NULL && tls->got_close;
}

const char *gust_tls_alpn(const gust_tls *tls) {
  return tls != NULL && tls->handshake_done ? tls->alpn : NULL;
}

int gust_tls_version(const gust_tls *tls) {
  return tls != NULL && tls->handshake_done ? tls->version : 0;
}

const char *gust_tls_version_name(const gust_tls *tls) {
  switch (gust_tls_version(tls)) {
  case GUST_TLS_VERSION_1_2:
    return "TLSv1.2";
  case GUST_TLS_VERSION_1_3:
    return "TLSv1.3";
  default:
    return NULL;
  }
}

const char *gust_tls_peer_subject(const gust_tls *tls) {
  return tls != NULL && tls->handshake_done ? tls->subject : NULL;
}

const char *gust_tls_server_name(const gust_tls *tls) {
  return tls != NULL && tls->handshake_done ? tls->sni : NULL;
}

int gust_tls_peer_verified(const gust_tls *tls) {
  return tls != NULL && tls->handshake_done && tls->verified;
}

void gust__tls_session_store(gust_tls *tls, const uint8_t *data, size_t len) {
  gust_tls_ctx *ctx = tls->ctx;
  gust__tls_session *e, **pp, *drop = NULL;
  uint8_t *copy;
  if (tls->host == NULL || !ctx->resumption || len == 0)
    return;
  copy = gust__malloc(ctx->mem, len);
  if (copy == NULL)
    return;
  memcpy(copy, data, len);
  pthread_mutex_lock(&ctx->sess_lock);
  for (pp = &ctx->sessions; *pp != NULL; pp = &(*pp)->next)
    if (strcmp((*pp)->host, tls->host) == 0)
      break;
  e = *pp;
  if (e != NULL) {
    *pp = e->next; /* moves to the front below */
    gust__free(ctx->mem, e->data);
  } else {
    e = gust__calloc(ctx->mem, 1, sizeof(*e));
    if (e != NULL)
      e->host = gust__strndup(ctx->mem, tls->host, strlen(tls->host));
    if (e == NULL || e->host == NULL) {
      pthread_mutex_unlock(&ctx->sess_lock);
      gust__free(ctx->mem, e);
      gust__free(ctx->mem, copy);
      return;
    }
    ctx->nsessions++;
    if (ctx->nsessions > GUST__TLS_SESSIONS_MAX) {
      /* the least recently stored one goes */
      gust__tls_session **last = &ctx->sessions;
      while ((*last)->next != NULL)
        last = &(*last)->next;
      drop = *last;
      *last = NULL;
      ctx->nsessions--;
    }
  }
  e->data = copy;
  e->len = len;
  e->next = ctx->sessions;
  ctx->sessions = e;
  pthread_mutex_unlock(&ctx->sess_lock);
  if (drop != NULL)
    session_free(ctx->mem, drop);
}

int gust_tls_session_resumed(const gust_tls *tls) {
  return tls != NULL && tls->handshake_done && tls->resumed;
}

int gust_tls_error(const gust_tls *tls) {
  return tls != NULL ? tls->err : GUST_EINVAL;
}

const char *gust_tls_error_message(const gust_tls *tls) {
  return tls != NULL ? tls->errmsg : "";
}
