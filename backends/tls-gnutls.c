/* TLS engine backend over GnuTLS: one session per engine whose transport
 * functions (push, pull, pull_timeout) read from and append to the engine's
 * own buffers instead of a socket. */
#include "config.h"

#include <errno.h>
#include <string.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "../src/proto/tls_int.h"

typedef struct gtls_ctx {
  gnutls_certificate_credentials_t cred;
  gnutls_priority_t prio;
  gnutls_datum_t ticket_key; /* server session tickets */
  gnutls_datum_t *alpn;      /* views into gust_tls_ctx.alpn */
  unsigned alpn_n;
} gtls_ctx;

static int map_plain(int r) {
  return r == GNUTLS_E_MEMORY_ERROR ? GUST_ENOMEM : GUST_ETLS_CONFIG;
}

/* ------------------------------------------------------------------ */
/* Contexts                                                             */
/* ------------------------------------------------------------------ */

static int gtls_ctx_new(gust_tls_ctx *ctx) {
  gtls_ctx *g = gust__calloc(ctx->mem, 1, sizeof(*g));
  int r;
  if (g == NULL)
    return GUST_ENOMEM;
  r = gnutls_certificate_allocate_credentials(&g->cred);
  if (r < 0) {
    gust__tls_set_msg(ctx->errmsg, "%s", gnutls_strerror(r));
    gust__free(ctx->mem, g);
    return r == GNUTLS_E_MEMORY_ERROR ? GUST_ENOMEM : GUST_ECRYPTO;
  }
  ctx->be = g;
  return 0;
}

static void gtls_ctx_free(gust_tls_ctx *ctx) {
  gtls_ctx *g = ctx->be;
  if (g == NULL)
    return;
  gnutls_certificate_free_credentials(g->cred);
  if (g->prio != NULL)
    gnutls_priority_deinit(g->prio);
  if (g->ticket_key.data != NULL) {
    memset(g->ticket_key.data, 0, g->ticket_key.size);
    gnutls_free(g->ticket_key.data);
  }
  gust__free(ctx->mem, g->alpn);
  gust__free(ctx->mem, g);
  ctx->be = NULL;
}

static int gtls_ctx_load_ca_mem(gust_tls_ctx *ctx, const void *pem,
                                size_t len) {
  gtls_ctx *g = ctx->be;
  gnutls_datum_t d;
  int r;
  if (len > 0xffffffffu)
    return GUST_EINVAL;
  d.data = (unsigned char *)(uintptr_t)pem;
  d.size = (unsigned)len;
  r = gnutls_certificate_set_x509_trust_mem(g->cred, &d, GNUTLS_X509_FMT_PEM);
  if (r <= 0) {
    gust__tls_set_msg(ctx->errmsg, "%s",
                      r < 0 ? gnutls_strerror(r)
                            : "no certificate in the CA data");
    return map_plain(r);
  }
  return 0;
}

static int gtls_ctx_load_ca_dir(gust_tls_ctx *ctx, const char *path) {
  gtls_ctx *g = ctx->be;
  int r =
      gnutls_certificate_set_x509_trust_dir(g->cred, path, GNUTLS_X509_FMT_PEM);
  if (r <= 0) {
    gust__tls_set_msg(ctx->errmsg, "%s: %s", path,
                      r < 0 ? gnutls_strerror(r) : "no CA certificate found");
    return map_plain(r);
  }
  return 0;
}

static int gtls_ctx_load_system_ca(gust_tls_ctx *ctx) {
  gtls_ctx *g = ctx->be;
  int r = gnutls_certificate_set_x509_system_trust(g->cred);
  if (r < 0) {
    gust__tls_set_msg(ctx->errmsg, "cannot load the system CA store: %s",
                      gnutls_strerror(r));
    return map_plain(r);
  }
  return 0;
}

static int gtls_ctx_use_cert_mem(gust_tls_ctx *ctx, const void *cert,
                                 size_t cert_len, const void *key,
                                 size_t key_len) {
  gtls_ctx *g = ctx->be;
  gnutls_datum_t c, k;
  int r;
  if (cert_len > 0xffffffffu || key_len > 0xffffffffu)
    return GUST_EINVAL;
  c.data = (unsigned char *)(uintptr_t)cert;
  c.size = (unsigned)cert_len;
  k.data = (unsigned char *)(uintptr_t)key;
  k.size = (unsigned)key_len;
  r = gnutls_certificate_set_x509_key_mem2(g->cred, &c, &k, GNUTLS_X509_FMT_PEM,
                                           NULL, 0);
  if (r < 0) {
    gust__tls_set_msg(ctx->errmsg, "%s", gnutls_strerror(r));
    return map_plain(r);
  }
  return 0;
}

/* Server with an optional client certificate: verify one if it came. */
static int verify_optional(gnutls_session_t s) {
  gust_tls *tls = gnutls_session_get_ptr(s);
  unsigned n = 0, status = 0;
  if (gnutls_certificate_get_peers(s, &n) == NULL || n == 0)
    return 0;
  if (gnutls_certificate_verify_peers2(s, &status) < 0)
    status = GNUTLS_CERT_INVALID;
  if (status != 0) {
    tls->be_status = status;
    return GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR;
  }
  return 0;
}

static int gtls_ctx_freeze(gust_tls_ctx *ctx) {
  gtls_ctx *g = ctx->be;
  const char *err_pos = NULL;
  const char *prio = ctx->min_version == GUST_TLS_VERSION_1_3
                         ? "NORMAL:-VERS-ALL:+VERS-TLS1.3"
                         : "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2";
  int r;
  /* A failed freeze is retried by the next gust_tls_new(): start over. */
  if (g->prio != NULL)
    gnutls_priority_deinit(g->prio);
  gust__free(ctx->mem, g->alpn);
  g->alpn = NULL;
  g->alpn_n = 0;
  r = gnutls_priority_init(&g->prio, prio, &err_pos);
  if (r < 0) {
    g->prio = NULL;
    gust__tls_set_msg(ctx->errmsg, "priority string: %s", gnutls_strerror(r));
    return map_plain(r);
  }
  if (ctx->alpn != NULL) {
    size_t i, n = 0;
    for (i = 0; i < ctx->alpn_len; i += 1 + ctx->alpn[i])
      n++;
    g->alpn = gust__calloc(ctx->mem, n, sizeof(*g->alpn));
    if (g->alpn == NULL)
      return GUST_ENOMEM;
    for (n = 0, i = 0; i < ctx->alpn_len; i += 1 + ctx->alpn[i], n++) {
      g->alpn[n].data = ctx->alpn + i + 1;
      g->alpn[n].size = ctx->alpn[i];
    }
    g->alpn_n = (unsigned)n;
  }
  if (ctx->role == GUST_TLS_SERVER &&
      ctx->client_auth == GUST_TLS_CLIENT_AUTH_OPTIONAL)
    gnutls_certificate_set_verify_function(g->cred, verify_optional);
  if (ctx->role == GUST_TLS_SERVER && ctx->resumption &&
      g->ticket_key.data == NULL) {
    r = gnutls_session_ticket_key_generate(&g->ticket_key);
    if (r < 0) {
      g->ticket_key.data = NULL;
      gust__tls_set_msg(ctx->errmsg, "session ticket key: %s",
                        gnutls_strerror(r));
      return r == GNUTLS_E_MEMORY_ERROR ? GUST_ENOMEM : GUST_ECRYPTO;
    }
  }
  return 0;
}

/* ------------------------------------------------------------------ */
/* Transport over the engine's buffers                                  */
/* ------------------------------------------------------------------ */

static ssize_t push(gnutls_transport_ptr_t ptr, const void *data, size_t len) {
  gust_tls *tls = ptr;
  gnutls_session_t s = tls->be;
  if (gust_buf_append(&tls->out, data, len) < 0) {
    /* GnuTLS may swallow a failed push (session tickets): remember it. */
    tls->be_nomem = 1;
    gnutls_transport_set_errno(s, ENOMEM);
    return -1;
  }
  return (ssize_t)len;
}

/* Never reports end of stream: the engine turns "no more input after the
 * transport ended" into GUST_ETLS_TRUNCATED itself. */
static ssize_t pull(gnutls_transport_ptr_t ptr, void *data, size_t len) {
  gust_tls *tls = ptr;
  gnutls_session_t s = tls->be;
  if (tls->in.len == 0) {
    gnutls_transport_set_errno(s, EAGAIN);
    return -1;
  }
  if (len > tls->in.len)
    len = tls->in.len;
  memcpy(data, tls->in.ptr, len);
  gust_buf_consume(&tls->in, len);
  return (ssize_t)len;
}

/* Bytes are available at once or not before the next feed: never wait. */
static int pull_timeout(gnutls_transport_ptr_t ptr, unsigned int ms) {
  gust_tls *tls = ptr;
  GUST__UNUSED(ms);
  return tls->in.len > 0 ? 1 : 0;
}

/* ------------------------------------------------------------------ */
/* Engine                                                               */
/* ------------------------------------------------------------------ */

static int gtls_conn_new(gust_tls *tls) {
  gust_tls_ctx *ctx = tls->ctx;
  gtls_ctx *g = ctx->be;
  gnutls_session_t s;
  unsigned flags = GNUTLS_NONBLOCK;
  int r;
  if (ctx->role == GUST_TLS_SERVER)
    flags |= GNUTLS_SERVER | (ctx->resumption ? 0 : GNUTLS_NO_TICKETS);
  else
    flags |= GNUTLS_CLIENT | (ctx->resumption ? 0 : GNUTLS_NO_TICKETS);
  r = gnutls_init(&s, flags);
  if (r < 0) {
    gust__tls_set_msg(tls->errmsg, "%s", gnutls_strerror(r));
    return r == GNUTLS_E_MEMORY_ERROR ? GUST_ENOMEM : GUST_ECRYPTO;
  }
  tls->be = s;
  gnutls_session_set_ptr(s, tls);
  gnutls_transport_set_ptr(s, tls);
  gnutls_transport_set_push_function(s, push);
  gnutls_transport_set_pull_function(s, pull);
  gnutls_transport_set_pull_timeout_function(s, pull_timeout);
  r = gnutls_priority_set(s, g->prio);
  if (r >= 0)
    r = gnutls_credentials_set(s, GNUTLS_CRD_CERTIFICATE, g->cred);
  if (r >= 0 && g->alpn_n > 0)
    r = gnutls_alpn_set_protocols(
        s, g->alpn, g->alpn_n,
        ctx->role == GUST_TLS_SERVER ? GNUTLS_ALPN_SERVER_PRECEDENCE : 0);
  if (ctx->role == GUST_TLS_CLIENT) {
    if (r >= 0 && tls->host != NULL && !tls->host_is_ip)
      r = gnutls_server_name_set(s, GNUTLS_NAME_DNS, tls->host,
                                 strlen(tls->host));
    /* Verification (chain and host name) runs inside the handshake. */
    if (r >= 0 && !ctx->skip_verify)
      gnutls_session_set_verify_cert(s, tls->host, 0);
  } else {
    if (r >= 0 && ctx->resumption)
      r = gnutls_session_ticket_enable_server(s, &g->ticket_key);
    if (r >= 0 && ctx->client_auth != GUST_TLS_CLIENT_AUTH_NONE) {
      gnutls_certificate_server_set_request(
          s, ctx->client_auth == GUST_TLS_CLIENT_AUTH_REQUIRED
                 ? GNUTLS_CERT_REQUIRE
                 : GNUTLS_CERT_REQUEST);
      if (ctx->client_auth == GUST_TLS_CLIENT_AUTH_REQUIRED)
        gnutls_session_set_verify_cert(s, NULL, 0);
    }
  }
  if (r < 0) {
    gust__tls_set_msg(tls->errmsg, "%s", gnutls_strerror(r));
    gnutls_deinit(s);
    tls->be = NULL;
    return r == GNUTLS_E_MEMORY_ERROR ? GUST_ENOMEM : GUST_ECRYPTO;
  }
  return 0;
}

static void gtls_conn_free(gust_tls *tls) {
  if (tls->be != NULL)
    gnutls_deinit((gnutls_session_t)tls->be);
  tls->be = NULL;
}

/* Turns a fatal GnuTLS code into a GUST_E* code and a message, and queues
 * the alert that tells the peer why. */
static int map_error(gust_tls *tls, int r) {
  gnutls_session_t s = tls->be;
  int rc = GUST_ETLS;
  switch (r) {
  case GNUTLS_E_AGAIN:
  case GNUTLS_E_INTERRUPTED:
    return GUST_EAGAIN;
  case GNUTLS_E_MEMORY_ERROR:
  case GNUTLS_E_PUSH_ERROR:
    gust__tls_set_msg(tls->errmsg, "%s", gnutls_strerror(r));
    return GUST_ENOMEM;
  case GNUTLS_E_CERTIFICATE_ERROR:
  case GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR: {
    unsigned status = tls->be_status != 0
                          ? tls->be_status
                          : gnutls_session_get_verify_cert_status(s);
    gnutls_datum_t out = {NULL, 0};
    if (status & (GNUTLS_CERT_EXPIRED | GNUTLS_CERT_NOT_ACTIVATED))
      rc = GUST_ETLS_EXPIRED;
    else if (status & GNUTLS_CERT_UNEXPECTED_OWNER)
      rc = GUST_ETLS_HOSTNAME;
    else
      rc = GUST_ETLS_VERIFY;
    if (gnutls_certificate_verification_status_print(status, GNUTLS_CRT_X509,
                                                     &out, 0) == 0) {
      gust__tls_set_msg(tls->errmsg, "certificate verify failed: %s",
                        (const char *)out.data);
      gnutls_free(out.data);
    } else {
      gust__tls_set_msg(tls->errmsg, "%s", gnutls_strerror(r));
    }
    break;
  }
  case GNUTLS_E_NO_CERTIFICATE_FOUND:
  case GNUTLS_E_CERTIFICATE_REQUIRED:
    rc = GUST_ETLS_NOCERT;
    gust__tls_set_msg(tls->errmsg, "%s", gnutls_strerror(r));
    break;
  case GNUTLS_E_NO_CIPHER_SUITES:
    /* A TLS 1.3-only server finds no suite for a TLS 1.2-only client. */
    rc = tls->ctx->min_version == GUST_TLS_VERSION_1_3 &&
                 gnutls_protocol_get_version(s) != GNUTLS_TLS1_3
             ? GUST_ETLS_VERSION
             : GUST_ETLS;
    gust__tls_set_msg(tls->errmsg, "%s", gnutls_strerror(r));
    break;
  case GNUTLS_E_UNSUPPORTED_VERSION_PACKET:
    rc = GUST_ETLS_VERSION;
    gust__tls_set_msg(tls->errmsg, "%s", gnutls_strerror(r));
    break;
  case GNUTLS_E_FATAL_ALERT_RECEIVED: {
    gnutls_alert_description_t a = gnutls_alert_get(s);
    const char *name = gnutls_alert_get_name(a);
    rc = a == GNUTLS_A_PROTOCOL_VERSION ? GUST_ETLS_VERSION : GUST_ETLS_ALERT;
    gust__tls_set_msg(tls->errmsg, "received fatal alert: %s",
                      name != NULL ? name : "unknown");
    return rc; /* no alert answers an alert */
  }
  default:
    gust__tls_set_msg(tls->errmsg, "%s", gnutls_strerror(r));
    break;
  }
  gnutls_alert_send_appropriate(s, r);
  return rc;
}

/* Turns a swallowed push failure into GUST_ENOMEM. */
static int nomem_check(gust_tls *tls, int rc) {
  if (tls->be_nomem && (rc >= 0 || rc == GUST_EAGAIN)) {
    gust__tls_set_msg(tls->errmsg, "out of memory for TLS output");
    return GUST_ENOMEM;
  }
  return rc;
}

/* Client: hands the session to the context's cache once it can be
 * resumed: after a TLS 1.2 handshake, or once a TLS 1.3 ticket came. */
static void store_session(gust_tls *tls) {
  gnutls_session_t s = tls->be;
  gnutls_datum_t d;
  if (tls->sess_stored || tls->ctx->role != GUST_TLS_CLIENT ||
      !tls->ctx->resumption)
    return;
  if (gnutls_protocol_get_version(s) == GNUTLS_TLS1_3 &&
      !(gnutls_session_get_flags(s) & GNUTLS_SFLAGS_SESSION_TICKET))
    return;
  if (gnutls_session_get_data2(s, &d) == 0) {
    gust__tls_session_store(tls, d.data, d.size);
    gnutls_free(d.data);
  }
  tls->sess_stored = 1;
}

static int gtls_session_import(gust_tls *tls, const uint8_t *data, size_t len) {
  int r = gnutls_session_set_data((gnutls_session_t)tls->be, data, len);
  return r == GNUTLS_E_MEMORY_ERROR ? GUST_ENOMEM : 0;
}

/* Records what the handshake agreed; GUST_ENOMEM if it cannot be kept. */
static int fill_info(gust_tls *tls) {
  gnutls_session_t s = tls->be;
  gnutls_datum_t d;
  const gnutls_datum_t *peers;
  unsigned n = 0;
  int rc = 0;
  switch (gnutls_protocol_get_version(s)) {
  case GNUTLS_TLS1_3:
    tls->version = GUST_TLS_VERSION_1_3;
    break;
  case GNUTLS_TLS1_2:
    tls->version = GUST_TLS_VERSION_1_2;
    break;
  default:
    tls->version = 0;
    break;
  }
  if (tls->alpn == NULL && gnutls_alpn_get_selected_protocol(s, &d) == 0 &&
      d.size > 0) {
    tls->alpn = gust__tls_strndup(tls->mem, d.data, d.size);
    if (tls->alpn == NULL)
      rc = GUST_ENOMEM;
  }
  tls->resumed = gnutls_session_is_resumed(s) != 0;
  if (tls->ctx->role == GUST_TLS_SERVER && tls->sni == NULL && rc == 0) {
    char name[256];
    size_t len = sizeof(name);
    unsigned type = 0;
    if (gnutls_server_name_get(s, name, &len, &type, 0) == 0 &&
        type == GNUTLS_NAME_DNS && len > 0) {
      tls->sni = gust__tls_strndup(tls->mem, name, strnlen(name, len));
      if (tls->sni == NULL)
        rc = GUST_ENOMEM;
    }
  }
  peers = gnutls_certificate_get_peers(s, &n);
  if (peers != NULL && n > 0 && rc == 0 && tls->subject == NULL) {
    gnutls_x509_crt_t crt;
    /* Verification ran in the handshake, which failed if it did not pass. */
    tls->verified = tls->ctx->role == GUST_TLS_CLIENT
                        ? !tls->ctx->skip_verify
                        : tls->ctx->client_auth != GUST_TLS_CLIENT_AUTH_NONE;
    if (gnutls_x509_crt_init(&crt) == 0) {
      if (gnutls_x509_crt_import(crt, &peers[0], GNUTLS_X509_FMT_DER) == 0 &&
          gnutls_x509_crt_get_dn3(crt, &d, 0) == 0) {
        tls->subject = gust__tls_strndup(tls->mem, d.data, d.size);
        gnutls_free(d.data);
      }
      gnutls_x509_crt_deinit(crt);
    }
    if (tls->subject == NULL)
      rc = GUST_ENOMEM;
  }
  if (rc < 0)
    gust__tls_set_msg(tls->errmsg, "out of memory after the handshake");
  return rc;
}

static int gtls_handshake(gust_tls *tls) {
  gnutls_session_t s = tls->be;
  int r;
  do {
    r = gnutls_handshake(s);
  } while (r < 0 && r != GNUTLS_E_AGAIN && !gnutls_error_is_fatal(r));
  if (r == 0) {
    store_session(tls);
    return nomem_check(tls, fill_info(tls));
  }
  return nomem_check(tls, map_error(tls, r));
}

static gust_ssize gtls_read(gust_tls *tls, uint8_t *buf, size_t cap) {
  gnutls_session_t s = tls->be;
  ssize_t r;
  int idle = 0;
  for (;;) {
    size_t before = tls->in.len;
    r = gnutls_record_recv(s, buf, cap);
    if (tls->be_nomem)
      return nomem_check(tls, GUST_EAGAIN);
    store_session(tls);
    if (r >= 0)
      return (gust_ssize)r;
    /* After a post-handshake message (a session ticket) GnuTLS answers
     * "again" although records may be waiting: retry until a call makes
     * no progress twice. */
    if (r == GNUTLS_E_AGAIN) {
      if (tls->in.len != before)
        idle = 0;
      else if (++idle >= 2)
        break;
      continue;
    }
    if (gnutls_error_is_fatal((int)r))
      break;
    /* Warning alerts, a TLS 1.2 renegotiation request (refused by
     * ignoring it): keep reading. */
  }
  return nomem_check(tls, map_error(tls, (int)r));
}

static int gtls_write(gust_tls *tls, const uint8_t *data, size_t len) {
  gnutls_session_t s = tls->be;
  while (len > 0) {
    ssize_t r = gnutls_record_send(s, data, len);
    if (r < 0) {
      if (!gnutls_error_is_fatal((int)r) && r != GNUTLS_E_AGAIN)
        continue;
      r = map_error(tls, (int)r);
      if (r == GUST_EAGAIN) {
        gust__tls_set_msg(tls->errmsg, "cannot write in this TLS state");
        r = GUST_ETLS;
      }
      return (int)r;
    }
    data += r;
    len -= (size_t)r;
  }
  return nomem_check(tls, 0);
}

static int gtls_shutdown(gust_tls *tls) {
  int r = gnutls_bye((gnutls_session_t)tls->be, GNUTLS_SHUT_WR);
  return nomem_check(tls, r < 0 ? map_error(tls, r) : 0);
}

const gust__tls_vtable gust__tls_backend = {
    .name = "gnutls",
    .ctx_new = gtls_ctx_new,
    .ctx_free = gtls_ctx_free,
    .ctx_load_ca_mem = gtls_ctx_load_ca_mem,
    .ctx_load_ca_dir = gtls_ctx_load_ca_dir,
    .ctx_load_system_ca = gtls_ctx_load_system_ca,
    .ctx_use_cert_mem = gtls_ctx_use_cert_mem,
    .ctx_freeze = gtls_ctx_freeze,
    .conn_new = gtls_conn_new,
    .conn_free = gtls_conn_free,
    .handshake = gtls_handshake,
    .session_import = gtls_session_import,
    .read = gtls_read,
    .write = gtls_write,
    .shutdown = gtls_shutdown,
};
