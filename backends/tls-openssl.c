/* TLS engine backend over OpenSSL: one SSL object per engine between two
 * memory BIOs, pumped from and into the engine's buffers around each call. */
#include "config.h"

#include <limits.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "../src/proto/tls_int.h"

#define CHUNK_MAX (1 << 30)

typedef struct ossl_conn {
  SSL *ssl;
  BIO *rbio; /* ciphertext from the peer (owned by ssl) */
  BIO *wbio; /* ciphertext to the peer (owned by ssl) */
} ossl_conn;

/* Writes the first queued OpenSSL error (or `fallback`) into `dst` and
 * empties the thread's error queue; returns the error's packed code. */
static unsigned long take_error(char *dst, const char *fallback) {
  unsigned long e = ERR_peek_error();
  if (e != 0) {
    char buf[GUST__TLS_ERRMSG_MAX];
    ERR_error_string_n(e, buf, sizeof(buf));
    gust__tls_set_msg(dst, "%s", buf);
  } else {
    gust__tls_set_msg(dst, "%s", fallback);
  }
  ERR_clear_error();
  return e;
}

static int is_oom(unsigned long e) {
  return e != 0 && ERR_GET_REASON(e) == ERR_R_MALLOC_FAILURE;
}

/* ------------------------------------------------------------------ */
/* Contexts                                                             */
/* ------------------------------------------------------------------ */

static int ossl_ctx_new(gust_tls_ctx *ctx) {
  SSL_CTX *sc;
  ERR_clear_error();
  sc = SSL_CTX_new(ctx->role == GUST_TLS_CLIENT ? TLS_client_method()
                                                : TLS_server_method());
  if (sc == NULL) {
    unsigned long e = take_error(ctx->errmsg, "SSL_CTX_new failed");
    return is_oom(e) ? GUST_ENOMEM : GUST_ECRYPTO;
  }
  if (SSL_CTX_set_min_proto_version(sc, TLS1_2_VERSION) != 1) {
    take_error(ctx->errmsg, "cannot set the minimum version");
    SSL_CTX_free(sc);
    return GUST_ECRYPTO;
  }
  SSL_CTX_set_options(sc, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
  if (ctx->role == GUST_TLS_SERVER)
    SSL_CTX_set_options(sc, SSL_OP_CIPHER_SERVER_PREFERENCE);
  ctx->be = sc;
  return 0;
}

static void ossl_ctx_free(gust_tls_ctx *ctx) {
  SSL_CTX_free((SSL_CTX *)ctx->be);
  ctx->be = NULL;
}

static int ossl_ctx_load_ca_mem(gust_tls_ctx *ctx, const void *pem,
                                size_t len) {
  SSL_CTX *sc = ctx->be;
  X509_STORE *store = SSL_CTX_get_cert_store(sc);
  STACK_OF(X509_INFO) * infos;
  BIO *bio;
  int i, count = 0, rc = 0;
  if (len > INT_MAX)
    return GUST_EINVAL;
  ERR_clear_error();
  bio = BIO_new_mem_buf(pem, (int)len);
  if (bio == NULL)
    return GUST_ENOMEM;
  infos = PEM_X509_INFO_read_bio(bio, NULL, NULL, NULL);
  BIO_free(bio);
  if (infos == NULL) {
    unsigned long e = take_error(ctx->errmsg, "no PEM certificate found");
    return is_oom(e) ? GUST_ENOMEM : GUST_ETLS_CONFIG;
  }
  for (i = 0; i < sk_X509_INFO_num(infos) && rc == 0; i++) {
    X509_INFO *info = sk_X509_INFO_value(infos, i);
    if (info->x509 == NULL)
      continue;
    if (X509_STORE_add_cert(store, info->x509) != 1) {
      unsigned long e = take_error(ctx->errmsg, "cannot add a CA");
      rc = is_oom(e) ? GUST_ENOMEM : GUST_ETLS_CONFIG;
      break;
    }
    /* A server names the CAs it accepts in its certificate request. */
    if (ctx->role == GUST_TLS_SERVER &&
        SSL_CTX_add_client_CA(sc, info->x509) != 1) {
      unsigned long e = take_error(ctx->errmsg, "cannot add a client CA");
      rc = is_oom(e) ? GUST_ENOMEM : GUST_ETLS_CONFIG;
      break;
    }
    count++;
  }
  sk_X509_INFO_pop_free(infos, X509_INFO_free);
  if (rc == 0 && count == 0) {
    gust__tls_set_msg(ctx->errmsg, "no certificate in the CA data");
    rc = GUST_ETLS_CONFIG;
  }
  ERR_clear_error();
  return rc;
}

static int ossl_ctx_load_ca_dir(gust_tls_ctx *ctx, const char *path) {
  ERR_clear_error();
  if (SSL_CTX_load_verify_locations(ctx->be, NULL, path) != 1) {
    take_error(ctx->errmsg, "cannot use the CA directory");
    return GUST_ETLS_CONFIG;
  }
  return 0;
}

static int ossl_ctx_load_system_ca(gust_tls_ctx *ctx) {
  ERR_clear_error();
  if (SSL_CTX_set_default_verify_paths(ctx->be) != 1) {
    take_error(ctx->errmsg, "cannot load the system CA store");
    return GUST_ETLS_CONFIG;
  }
  return 0;
}

static int ossl_ctx_use_cert_mem(gust_tls_ctx *ctx, const void *cert,
                                 size_t cert_len, const void *key,
                                 size_t key_len) {
  SSL_CTX *sc = ctx->be;
  BIO *bio;
  X509 *x;
  EVP_PKEY *pkey;
  unsigned long e;
  if (cert_len > INT_MAX || key_len > INT_MAX)
    return GUST_EINVAL;
  ERR_clear_error();
  bio = BIO_new_mem_buf(cert, (int)cert_len);
  if (bio == NULL)
    return GUST_ENOMEM;
  x = PEM_read_bio_X509_AUX(bio, NULL, NULL, NULL);
  if (x == NULL || SSL_CTX_use_certificate(sc, x) != 1) {
    X509_free(x);
    BIO_free(bio);
    e = take_error(ctx->errmsg, "no usable PEM certificate");
    return is_oom(e) ? GUST_ENOMEM : GUST_ETLS_CONFIG;
  }
  X509_free(x);
  SSL_CTX_clear_chain_certs(sc);
  while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
    if (SSL_CTX_add0_chain_cert(sc, x) != 1) {
      X509_free(x);
      BIO_free(bio);
      e = take_error(ctx->errmsg, "cannot add a chain certificate");
      return is_oom(e) ? GUST_ENOMEM : GUST_ETLS_CONFIG;
    }
  }
  BIO_free(bio);
  /* The loop ends on "no start line", which is not an error. */
  ERR_clear_error();

  bio = BIO_new_mem_buf(key, (int)key_len);
  if (bio == NULL)
    return GUST_ENOMEM;
  pkey = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
  BIO_free(bio);
  if (pkey == NULL || SSL_CTX_use_PrivateKey(sc, pkey) != 1) {
    EVP_PKEY_free(pkey);
    e = take_error(ctx->errmsg, "no usable PEM private key");
    return is_oom(e) ? GUST_ENOMEM : GUST_ETLS_CONFIG;
  }
  EVP_PKEY_free(pkey);
  if (SSL_CTX_check_private_key(sc) != 1) {
    take_error(ctx->errmsg, "the private key does not match the certificate");
    return GUST_ETLS_CONFIG;
  }
  return 0;
}

/* Server-side ALPN: the first of our protocols the client also offers. */
static int alpn_select(SSL *ssl, const unsigned char **out,
                       unsigned char *outlen, const unsigned char *in,
                       unsigned int inlen, void *arg) {
  const gust_tls_ctx *ctx = arg;
  size_t i = 0;
  GUST__UNUSED(ssl);
  while (i < ctx->alpn_len) {
    size_t len = ctx->alpn[i];
    unsigned int j = 0;
    while (j < inlen) {
      unsigned int clen = in[j];
      if (j + 1 + clen > inlen)
        break;
      if (clen == len && memcmp(in + j + 1, ctx->alpn + i + 1, len) == 0) {
        *out = ctx->alpn + i + 1;
        *outlen = (unsigned char)len;
        return SSL_TLSEXT_ERR_OK;
      }
      j += 1 + clen;
    }
    i += 1 + len;
  }
  return SSL_TLSEXT_ERR_NOACK;
}

/* Client: a resumable session (after a TLS 1.2 handshake, or a TLS 1.3
 * ticket) goes to the context's cache, serialized. */
static int new_session(SSL *ssl, SSL_SESSION *sess) {
  gust_tls *tls = SSL_get_app_data(ssl);
  int len;
  if (tls == NULL || !SSL_SESSION_is_resumable(sess))
    return 0;
  len = i2d_SSL_SESSION(sess, NULL);
  if (len > 0 && len <= 65536) {
    uint8_t *buf = gust__malloc(tls->mem, (size_t)len), *p = buf;
    if (buf != NULL && i2d_SSL_SESSION(sess, &p) == len)
      gust__tls_session_store(tls, buf, (size_t)len);
    gust__free(tls->mem, buf);
  }
  ERR_clear_error();
  return 0; /* the session is not kept by reference */
}

static int ossl_session_import(gust_tls *tls, const uint8_t *data, size_t len) {
  ossl_conn *c = tls->be;
  const unsigned char *p = data;
  SSL_SESSION *sess = d2i_SSL_SESSION(NULL, &p, (long)len);
  if (sess != NULL) {
    SSL_set_session(c->ssl, sess);
    SSL_SESSION_free(sess);
  }
  ERR_clear_error();
  return 0;
}

static int ossl_ctx_freeze(gust_tls_ctx *ctx) {
  SSL_CTX *sc = ctx->be;
  ERR_clear_error();
  if (ctx->min_version == GUST_TLS_VERSION_1_3 &&
      SSL_CTX_set_min_proto_version(sc, TLS1_3_VERSION) != 1) {
    take_error(ctx->errmsg, "cannot set the minimum version");
    return GUST_ETLS_CONFIG;
  }
  if (ctx->role == GUST_TLS_CLIENT) {
    SSL_CTX_set_verify(sc, ctx->skip_verify ? SSL_VERIFY_NONE : SSL_VERIFY_PEER,
                       NULL);
    if (ctx->resumption) {
      SSL_CTX_set_session_cache_mode(sc, SSL_SESS_CACHE_CLIENT |
                                             SSL_SESS_CACHE_NO_INTERNAL_STORE);
      SSL_CTX_sess_set_new_cb(sc, new_session);
    } else {
      SSL_CTX_set_session_cache_mode(sc, SSL_SESS_CACHE_OFF);
      SSL_CTX_set_options(sc, SSL_OP_NO_TICKET);
    }
    if (ctx->alpn != NULL &&
        SSL_CTX_set_alpn_protos(sc, ctx->alpn, (unsigned)ctx->alpn_len) != 0) {
      take_error(ctx->errmsg, "cannot set the ALPN list");
      return GUST_ENOMEM;
    }
    return 0;
  }
  switch (ctx->client_auth) {
  case GUST_TLS_CLIENT_AUTH_REQUIRED:
    SSL_CTX_set_verify(sc, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT,
                       NULL);
    break;
  case GUST_TLS_CLIENT_AUTH_OPTIONAL:
    SSL_CTX_set_verify(sc, SSL_VERIFY_PEER, NULL);
    break;
  default:
    SSL_CTX_set_verify(sc, SSL_VERIFY_NONE, NULL);
    break;
  }
  if (ctx->alpn != NULL)
    SSL_CTX_set_alpn_select_cb(sc, alpn_select, ctx);
  if (ctx->resumption) {
    static const unsigned char sid_ctx[] = "gust";
    SSL_CTX_set_session_cache_mode(sc, SSL_SESS_CACHE_SERVER);
    if (SSL_CTX_set_session_id_context(sc, sid_ctx, sizeof(sid_ctx) - 1) != 1) {
      take_error(ctx->errmsg, "cannot set the session id context");
      return GUST_ECRYPTO;
    }
  } else {
    SSL_CTX_set_session_cache_mode(sc, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_options(sc, SSL_OP_NO_TICKET);
    SSL_CTX_set_num_tickets(sc, 0);
  }
  return 0;
}

/* ------------------------------------------------------------------ */
/* Engine                                                               */
/* ------------------------------------------------------------------ */

static int ossl_conn_new(gust_tls *tls) {
  gust_tls_ctx *ctx = tls->ctx;
  ossl_conn *c;
  unsigned long e;
  c = gust__calloc(tls->mem, 1, sizeof(*c));
  if (c == NULL)
    return GUST_ENOMEM;
  ERR_clear_error();
  c->ssl = SSL_new(ctx->be);
  c->rbio = BIO_new(BIO_s_mem());
  c->wbio = BIO_new(BIO_s_mem());
  if (c->ssl == NULL || c->rbio == NULL || c->wbio == NULL)
    goto fail;
  /* An empty input BIO means "more later": the engine decides about EOF. */
  BIO_set_mem_eof_return(c->rbio, -1);
  SSL_set_bio(c->ssl, c->rbio, c->wbio);
  SSL_set_app_data(c->ssl, tls);
  if (ctx->role == GUST_TLS_CLIENT) {
    SSL_set_connect_state(c->ssl);
    if (tls->host != NULL && !tls->host_is_ip &&
        SSL_set_tlsext_host_name(c->ssl, tls->host) != 1)
      goto fail_ssl;
    if (tls->host != NULL && !ctx->skip_verify) {
      if (tls->host_is_ip) {
        if (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(c->ssl), tls->host) !=
            1)
          goto fail_ssl;
      } else {
        SSL_set_hostflags(c->ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
        if (SSL_set1_host(c->ssl, tls->host) != 1)
          goto fail_ssl;
      }
    }
  } else {
    SSL_set_accept_state(c->ssl);
  }
  tls->be = c;
  return 0;

fail:
  BIO_free(c->rbio);
  BIO_free(c->wbio);
  c->rbio = c->wbio = NULL;
fail_ssl:
  SSL_free(c->ssl);
  e = take_error(tls->errmsg, "cannot create the TLS session");
  gust__free(tls->mem, c);
  return is_oom(e) || e == 0 ? GUST_ENOMEM : GUST_ECRYPTO;
}

static void ossl_conn_free(gust_tls *tls) {
  ossl_conn *c = tls->be;
  if (c == NULL)
    return;
  SSL_free(c->ssl); /* frees both BIOs */
  gust__free(tls->mem, c);
  tls->be = NULL;
}

/* Moves the fed ciphertext into the input BIO. */
static int pump_in(gust_tls *tls) {
  ossl_conn *c = tls->be;
  while (tls->in.len > 0) {
    int chunk = tls->in.len > CHUNK_MAX ? CHUNK_MAX : (int)tls->in.len;
    int n = BIO_write(c->rbio, tls->in.ptr, chunk);
    if (n <= 0) {
      gust__tls_set_msg(tls->errmsg, "cannot buffer input");
      return GUST_ENOMEM;
    }
    gust_buf_consume(&tls->in, (size_t)n);
  }
  return 0;
}

/* Moves what OpenSSL wrote into the engine's output buffer. */
static int pump_out(gust_tls *tls) {
  ossl_conn *c = tls->be;
  size_t pending;
  while ((pending = BIO_ctrl_pending(c->wbio)) > 0) {
    int chunk = pending > CHUNK_MAX ? CHUNK_MAX : (int)pending;
    int n, rc = gust_buf_reserve(&tls->out, (size_t)chunk);
    if (rc < 0)
      return rc;
    n = BIO_read(c->wbio, gust_buf_tail(&tls->out), chunk);
    if (n <= 0)
      break;
    gust_buf_commit(&tls->out, (size_t)n);
  }
  return 0;
}

static int map_verify_result(long v) {
  switch (v) {
  case X509_V_ERR_CERT_HAS_EXPIRED:
  case X509_V_ERR_CERT_NOT_YET_VALID:
    return GUST_ETLS_EXPIRED;
  case X509_V_ERR_HOSTNAME_MISMATCH:
  case X509_V_ERR_IP_ADDRESS_MISMATCH:
    return GUST_ETLS_HOSTNAME;
  default:
    return GUST_ETLS_VERIFY;
  }
}

/* Turns a failed SSL call's result into a GUST_E* code and a message. */
static int map_error(gust_tls *tls, int ret) {
  ossl_conn *c = tls->be;
  int err = SSL_get_error(c->ssl, ret);
  unsigned long e;
  int reason;
  switch (err) {
  case SSL_ERROR_WANT_READ:
  case SSL_ERROR_WANT_WRITE:
    return GUST_EAGAIN;
  case SSL_ERROR_ZERO_RETURN:
    return 0;
  case SSL_ERROR_SSL:
    break;
  default:
    take_error(tls->errmsg, "TLS I/O failure");
    return GUST_ETLS;
  }
  e = ERR_peek_error();
  reason = ERR_GET_REASON(e);
  if (is_oom(e)) {
    take_error(tls->errmsg, "out of memory");
    return GUST_ENOMEM;
  }
  if (ERR_GET_LIB(e) == ERR_LIB_SSL) {
    switch (reason) {
    case SSL_R_CERTIFICATE_VERIFY_FAILED: {
      long v = SSL_get_verify_result(c->ssl);
      ERR_clear_error();
      gust__tls_set_msg(tls->errmsg, "certificate verify failed: %s",
                        X509_verify_cert_error_string(v));
      return map_verify_result(v);
    }
    case SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE:
      take_error(tls->errmsg, "");
      return GUST_ETLS_NOCERT;
    case SSL_R_UNSUPPORTED_PROTOCOL:
    case SSL_R_NO_PROTOCOLS_AVAILABLE:
    case SSL_R_VERSION_TOO_LOW:
    case SSL_R_WRONG_SSL_VERSION:
    case SSL_R_TLSV1_ALERT_PROTOCOL_VERSION:
      take_error(tls->errmsg, "");
      return GUST_ETLS_VERSION;
    default:
      break;
    }
    /* Received alerts have reasons SSL_AD_REASON_OFFSET + alert number. */
    if (reason >= SSL_AD_REASON_OFFSET && reason < SSL_AD_REASON_OFFSET + 256) {
      take_error(tls->errmsg, "");
      return GUST_ETLS_ALERT;
    }
  }
  take_error(tls->errmsg, "TLS protocol failure");
  return GUST_ETLS;
}

/* Runs after every SSL call: output first, so alerts are sent too. */
static int finish(gust_tls *tls, int ret, int ok) {
  int rc = pump_out(tls);
  if (rc < 0) {
    ERR_clear_error();
    gust__tls_set_msg(tls->errmsg, "out of memory for TLS output");
    return rc;
  }
  return ok ? 0 : map_error(tls, ret);
}

/* Records what the handshake agreed; GUST_ENOMEM if it cannot be kept. */
static int fill_info(gust_tls *tls) {
  ossl_conn *c = tls->be;
  const unsigned char *alpn = NULL;
  unsigned int alpn_len = 0;
  X509 *peer;
  int rc = 0;
  tls->version = SSL_version(c->ssl);
  SSL_get0_alpn_selected(c->ssl, &alpn, &alpn_len);
  if (alpn != NULL && alpn_len > 0 && tls->alpn == NULL) {
    tls->alpn = gust__tls_strndup(tls->mem, alpn, alpn_len);
    if (tls->alpn == NULL)
      rc = GUST_ENOMEM;
  }
  tls->resumed = SSL_session_reused(c->ssl) == 1;
  if (tls->ctx->role == GUST_TLS_SERVER && tls->sni == NULL && rc == 0) {
    const char *name = SSL_get_servername(c->ssl, TLSEXT_NAMETYPE_host_name);
    if (name != NULL && name[0] != '\0') {
      tls->sni = gust__tls_strndup(tls->mem, name, strlen(name));
      if (tls->sni == NULL)
        rc = GUST_ENOMEM;
    }
  }
#if OPENSSL_VERSION_NUMBER >= 0x30000000L
  peer = SSL_get1_peer_certificate(c->ssl);
#else
  peer = SSL_get_peer_certificate(c->ssl);
#endif
  if (peer != NULL && rc == 0) {
    BIO *bio = BIO_new(BIO_s_mem());
    int verifying = tls->ctx->role == GUST_TLS_CLIENT
                        ? !tls->ctx->skip_verify
                        : tls->ctx->client_auth != GUST_TLS_CLIENT_AUTH_NONE;
    char *data = NULL;
    long len = -1;
    tls->verified =
        verifying && SSL_get_verify_result(c->ssl) == X509_V_OK ? 1 : 0;
    if (bio != NULL &&
        X509_NAME_print_ex(bio, X509_get_subject_name(peer), 0,
                           XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) >= 0)
      len = BIO_get_mem_data(bio, &data);
    if (len >= 0 && tls->subject == NULL)
      tls->subject = gust__tls_strndup(tls->mem, data, (size_t)len);
    if (tls->subject == NULL)
      rc = GUST_ENOMEM;
    BIO_free(bio);
  }
  X509_free(peer);
  ERR_clear_error();
  if (rc < 0)
    gust__tls_set_msg(tls->errmsg, "out of memory after the handshake");
  return rc;
}

static int ossl_handshake(gust_tls *tls) {
  ossl_conn *c = tls->be;
  int ret, rc = pump_in(tls);
  if (rc < 0)
    return rc;
  ERR_clear_error();
  ret = SSL_do_handshake(c->ssl);
  rc = finish(tls, ret, ret == 1);
  if (rc == 0 && ret != 1) {
    gust__tls_set_msg(tls->errmsg, "peer closed during the handshake");
    rc = GUST_ETLS;
  }
  if (rc == 0)
    rc = fill_info(tls);
  return rc;
}

static gust_ssize ossl_read(gust_tls *tls, uint8_t *buf, size_t cap) {
  ossl_conn *c = tls->be;
  int ret, rc = pump_in(tls);
  if (rc < 0)
    return rc;
  ERR_clear_error();
  ret = SSL_read(c->ssl, buf, cap > CHUNK_MAX ? CHUNK_MAX : (int)cap);
  rc = finish(tls, ret, ret > 0);
  if (rc < 0)
    return rc;
  return ret > 0 ? ret : 0;
}

static int ossl_write(gust_tls *tls, const uint8_t *data, size_t len) {
  ossl_conn *c = tls->be;
  int rc = pump_in(tls);
  if (rc < 0)
    return rc;
  while (len > 0) {
    int chunk = len > CHUNK_MAX ? CHUNK_MAX : (int)len;
    int ret;
    ERR_clear_error();
    ret = SSL_write(c->ssl, data, chunk);
    rc = finish(tls, ret, ret > 0);
    if (rc < 0 || ret <= 0) {
      if (rc == 0 || rc == GUST_EAGAIN)
        gust__tls_set_msg(tls->errmsg, "cannot write in this TLS state");
      return rc < 0 && rc != GUST_EAGAIN ? rc : GUST_ETLS;
    }
    data += ret;
    len -= (size_t)ret;
  }
  return 0;
}

static int ossl_shutdown(gust_tls *tls) {
  ossl_conn *c = tls->be;
  int ret;
  ERR_clear_error();
  ret = SSL_shutdown(c->ssl);
  return finish(tls, ret, ret >= 0);
}

const gust__tls_vtable gust__tls_backend = {
    .name = "openssl",
    .ctx_new = ossl_ctx_new,
    .ctx_free = ossl_ctx_free,
    .ctx_load_ca_mem = ossl_ctx_load_ca_mem,
    .ctx_load_ca_dir = ossl_ctx_load_ca_dir,
    .ctx_load_system_ca = ossl_ctx_load_system_ca,
    .ctx_use_cert_mem = ossl_ctx_use_cert_mem,
    .ctx_freeze = ossl_ctx_freeze,
    .conn_new = ossl_conn_new,
    .conn_free = ossl_conn_free,
    .handshake = ossl_handshake,
    .session_import = ossl_session_import,
    .read = ossl_read,
    .write = ossl_write,
    .shutdown = ossl_shutdown,
};
