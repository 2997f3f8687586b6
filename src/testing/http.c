/* HTTP and WebSocket helpers of <gust/testing.h> (Tornado's
 * AsyncHTTPTestCase): test servers on ephemeral ports, a client that
 * trusts the test's throwaway certificate, fetch and WebSocket calls that
 * run the loop until they are answered. */
#include "config.h"

#include <gust/testing.h>

#include <stdio.h>
#include <string.h>

#include "testing_int.h"

struct gust_test_server {
  gust_test_server *next;
  gust_test *t;
  gust_http_server *srv;
  int port;
  int https;
};

typedef struct ws_node {
  struct ws_node *next;
  gust_websocket *ws;
  const char *url;
} ws_node;

typedef struct str_node {
  struct str_node *next;
  char s[1];
} str_node;

struct gust__test_http {
  gust_http_client *client;
  gust_test_server *servers;
  ws_node *sockets;
  str_node *strings; /* URLs handed out */
};

static gust__test_http *state(gust_test *t, int create) {
  gust__test_http **pp = gust__test_http_state(t);
  if (*pp == NULL && create) {
    *pp = gust__calloc(gust_test_mem(t), 1, sizeof(**pp));
    if (*pp == NULL)
      gust_test_fail(t, "out of memory");
  }
  return *pp;
}

static int is_url(const char *s) {
  return strncmp(s, "http://", 7) == 0 || strncmp(s, "https://", 8) == 0 ||
         strncmp(s, "ws://", 5) == 0 || strncmp(s, "wss://", 6) == 0;
}

/* ------------------------------------------------------------------ */
/* Servers                                                              */
/* ------------------------------------------------------------------ */

int gust_test_server_start(gust_test *t, const gust_test_server_opts *opts,
                           gust_test_server **out) {
  gust_http_server_opts so;
  gust_tcp_listen_opts lo;
  gust__test_http *h;
  gust_test_server *s;
  int rc;
  if (out != NULL)
    *out = NULL;
  if (t == NULL)
    return GUST_EINVAL;
  if (opts == NULL ||
      (opts->request_cb == NULL) == (opts->start_request == NULL)) {
    gust_test_fail(t, "gust_test_server_start() needs exactly one of "
                      "request_cb and start_request");
    return GUST_EINVAL;
  }
  h = state(t, 1);
  if (h == NULL)
    return GUST_ENOMEM;
  memset(&so, 0, sizeof(so));
  if (opts->http != NULL)
    so = *opts->http;
  so.tls = NULL;
  if (opts->https) {
    rc = gust_test_tls(t, NULL, &so.tls, NULL);
    if (rc < 0)
      return rc;
  }
  s = gust__calloc(gust_test_mem(t), 1, sizeof(*s));
  if (s == NULL) {
    gust_test_fail(t, "out of memory starting a test server");
    return GUST_ENOMEM;
  }
  s->t = t;
  s->https = opts->https != 0;
  if (opts->request_cb != NULL)
    rc = gust_http_server_new_cb(&s->srv, gust_test_loop(t), &so,
                                 opts->request_cb, opts->user_data,
                                 gust_test_mem(t));
  else
    rc = gust_http_server_new(&s->srv, gust_test_loop(t), &so,
                              opts->start_request, opts->user_data,
                              gust_test_mem(t));
  if (rc < 0) {
    gust_test_fail(t, "cannot make the test server: %s (%s)", gust_errname(rc),
                   gust_strerror(rc));
    gust__free(gust_test_mem(t), s);
    return rc;
  }
  memset(&lo, 0, sizeof(lo));
  lo.family = 4;
  rc = gust_http_server_listen(s->srv, "127.0.0.1", 0, &lo);
  if (rc == 0) {
    rc = gust_http_server_port(s->srv);
    if (rc > 0) {
      s->port = rc;
      rc = 0;
    }
  }
  if (rc < 0) {
    gust_test_fail(t, "the test server cannot listen on 127.0.0.1: %s (%s)",
                   gust_errname(rc), gust_strerror(rc));
    gust_http_server_free(s->srv);
    gust__free(gust_test_mem(t), s);
    return rc;
  }
  s->next = h->servers;
  h->servers = s;
  if (out != NULL)
    *out = s;
  return 0;
}

void gust_test_server_free(gust_test_server *s) {
  gust__test_http *h;
  gust_test_server **pp;
  if (s == NULL)
    return;
  h = state(s->t, 0);
  for (pp = h != NULL ? &h->servers : NULL; pp != NULL && *pp != NULL;
       pp = &(*pp)->next) {
    if (*pp == s) {
      *pp = s->next;
      break;
    }
  }
  gust_http_server_free(s->srv);
  gust__free(gust_test_mem(s->t), s);
}

gust_http_server *gust_test_server_http(const gust_test_server *s) {
  return s != NULL ? s->srv : NULL;
}

int gust_test_server_port(const gust_test_server *s) {
  return s != NULL ? s->port : GUST_EINVAL;
}

/* A string owned by the test until it finishes. */
static const char *keep_printf(gust_test *t, const char *fmt, ...)
    GUST_PRINTF(2, 3);
static const char *keep_printf(gust_test *t, const char *fmt, ...) {
  gust__test_http *h = state(t, 1);
  gust_buf b;
  str_node *n;
  va_list ap;
  int rc;
  if (h == NULL)
    return NULL;
  gust_buf_init(&b, gust_test_mem(t));
  va_start(ap, fmt);
  rc = gust_buf_vprintf(&b, fmt, ap);
  va_end(ap);
  n = rc == 0 ? gust__malloc(gust_test_mem(t), sizeof(*n) + b.len) : NULL;
  if (n == NULL) {
    gust_buf_free(&b);
    gust_test_fail(t, "out of memory making a URL");
    return NULL;
  }
  memcpy(n->s, b.ptr, b.len);
  n->s[b.len] = '\0';
  gust_buf_free(&b);
  n->next = h->strings;
  h->strings = n;
  return n->s;
}

static const char *server_url(gust_test_server *s, const char *path,
                              const char *plain, const char *secure) {
  if (s == NULL)
    return NULL;
  if (path == NULL)
    path = "/";
  return keep_printf(s->t, "%s://127.0.0.1:%d%s%s", s->https ? secure : plain,
                     s->port, path[0] == '/' ? "" : "/", path);
}

const char *gust_test_server_url(gust_test_server *s, const char *path) {
  return server_url(s, path, "http", "https");
}

const char *gust_test_server_ws_url(gust_test_server *s, const char *path) {
  return server_url(s, path, "ws", "wss");
}

/* ------------------------------------------------------------------ */
/* The client and fetch                                                 */
/* ------------------------------------------------------------------ */

gust_http_client *gust_test_http_client(gust_test *t) {
  gust__test_http *h;
  gust_http_client_opts co;
  int rc;
  if (t == NULL)
    return NULL;
  h = state(t, 1);
  if (h == NULL)
    return NULL;
  if (h->client != NULL)
    return h->client;
  memset(&co, 0, sizeof(co));
  if (gust_test_tls(t, NULL, NULL, &co.tls) < 0)
    return NULL;
  rc = gust_http_client_new(&h->client, gust_test_loop(t), &co,
                            gust_test_mem(t));
  if (rc < 0) {
    gust_test_fail(t, "cannot make the test's HTTP client: %s (%s)",
                   gust_errname(rc), gust_strerror(rc));
    return NULL;
  }
  return h->client;
}

static const gust_fetch_response *fetch(gust_test *t, const char *url,
                                        const gust_fetch_request *options) {
  gust_http_client *c;
  gust_fetch_request r;
  gust_future *f;
  char what[600];
  int rc;
  if (url == NULL)
    return NULL; /* the failure was recorded when making the URL */
  if (options != NULL) {
    r = *options;
  } else {
    gust_fetch_request_init(&r, url);
    r.connect_timeout = gust_test_timeout(t);
    r.request_timeout = gust_test_timeout(t);
  }
  r.url = url;
  c = gust_test_http_client(t);
  if (c == NULL)
    return NULL;
  rc = gust_http_client_fetch(c, &r, &f);
  if (rc < 0) {
    gust_test_fail(t, "the request %s %s was refused: %s (%s)",
                   r.method != NULL ? r.method : "GET", url, gust_errname(rc),
                   rc == GUST_EINVAL ? gust_http_client_last_error(c)
                                     : gust_strerror(rc));
    return NULL;
  }
  snprintf(what, sizeof(what), "the response to %s %s",
           r.method != NULL ? r.method : "GET", url);
  rc = gust__test_wait_what(t, f, what);
  if (rc < 0) {
    gust_future_cancel(f); /* aborts the request */
    gust_future_unref(f);
    return NULL;
  }
  rc = gust_future_error(f);
  if (rc < 0) {
    gust_test_fail(t, "%s failed: %s (%s)", what, gust_errname(rc),
                   gust_future_error_message(f));
    gust_future_unref(f);
    return NULL;
  }
  if (gust__test_keep(t, gust_future_ref(f)) < 0) {
    gust_future_unref(f);
    gust_test_fail(t, "out of memory keeping %s", what);
    return NULL;
  }
  gust_future_unref(f);
  return gust_fetch_response_of(f);
}

const gust_fetch_response *gust_test_fetch(gust_test_server *s,
                                           const char *path,
                                           const gust_fetch_request *options) {
  if (s == NULL || path == NULL)
    return NULL;
  return fetch(s->t, is_url(path) ? path : gust_test_server_url(s, path),
               options);
}

const gust_fetch_response *
gust_test_fetch_url(gust_test *t, const char *url,
                    const gust_fetch_request *options) {
  if (t == NULL)
    return NULL;
  if (url == NULL) {
    gust_test_fail(t, "gust_test_fetch_url() was given no URL");
    return NULL;
  }
  return fetch(t, url, options);
}

/* ------------------------------------------------------------------ */
/* WebSocket                                                            */
/* ------------------------------------------------------------------ */

gust_websocket *gust_test_ws_connect(gust_test_server *s, const char *path,
                                     const gust_websocket_connect_opts *opts) {
  gust_websocket_connect_opts o;
  gust_fetch_request r;
  gust__test_http *h;
  gust_future *f;
  gust_websocket *ws;
  const char *url;
  char what[600];
  ws_node *n;
  gust_test *t;
  int rc;
  if (s == NULL || path == NULL)
    return NULL;
  t = s->t;
  /* Copied even when given whole: the report of a connection left open
   * names it after the caller's string is gone. */
  url = is_url(path) ? keep_printf(t, "%s", path)
                     : gust_test_server_ws_url(s, path);
  h = state(t, 1);
  if (url == NULL || h == NULL)
    return NULL;
  memset(&o, 0, sizeof(o));
  if (opts != NULL)
    o = *opts;
  if (o.client == NULL) {
    o.client = gust_test_http_client(t);
    if (o.client == NULL)
      return NULL;
  }
  gust_fetch_request_init(&r, url);
  r.connect_timeout = gust_test_timeout(t);
  r.request_timeout = gust_test_timeout(t);
  rc = gust_websocket_connect(gust_test_loop(t), &r, &o, gust_test_mem(t), &f);
  if (rc < 0) {
    gust_test_fail(t, "the WebSocket connection to %s was refused: %s (%s)",
                   url, gust_errname(rc), gust_strerror(rc));
    return NULL;
  }
  snprintf(what, sizeof(what), "the WebSocket handshake with %s", url);
  rc = gust__test_wait_what(t, f, what);
  if (rc < 0) {
    gust_future_cancel(f);
    gust_future_unref(f);
    return NULL;
  }
  rc = gust_future_error(f);
  if (rc < 0) {
    gust_test_fail(t, "%s failed: %s (%s)", what, gust_errname(rc),
                   gust_future_error_message(f));
    gust_future_unref(f);
    return NULL;
  }
  ws = gust_websocket_connect_take(f);
  gust_future_unref(f);
  n = ws != NULL ? gust__malloc(gust_test_mem(t), sizeof(*n)) : NULL;
  if (n == NULL) {
    gust_test_fail(t, "out of memory keeping the WebSocket connection to %s",
                   url);
    if (ws != NULL) {
      gust_websocket_abort(ws);
      gust_websocket_unref(ws);
    }
    return NULL;
  }
  n->ws = ws;
  n->url = url; /* owned by the test's string list */
  n->next = h->sockets;
  h->sockets = n;
  return ws;
}

const gust_websocket_message *gust_test_ws_read(gust_test *t,
                                                gust_websocket *ws) {
  gust_future *f;
  int rc;
  if (t == NULL || ws == NULL)
    return NULL;
  rc = gust_websocket_read_message(ws, &f);
  if (rc < 0) {
    gust_test_fail(t, "cannot read a WebSocket message: %s (%s)",
                   gust_errname(rc), gust_strerror(rc));
    return NULL;
  }
  rc = gust__test_wait_what(t, f, "a message on a WebSocket connection");
  if (rc == 0 && gust_future_error(f) < 0) {
    gust_test_fail(t, "reading a WebSocket message failed: %s (%s)",
                   gust_errname(gust_future_error(f)),
                   gust_future_error_message(f));
    rc = gust_future_error(f);
  }
  /* Kept even after a timeout: the read stays pending on the connection. */
  if (gust__test_keep(t, f) < 0) {
    gust_test_fail(t, "out of memory keeping a WebSocket message");
    return NULL;
  }
  return rc == 0 ? gust_future_result(f) : NULL;
}

static int ws_closed(gust_loop *loop, void *ud) {
  GUST__UNUSED(loop);
  return gust_websocket_get_state((gust_websocket *)ud) ==
         GUST_WEBSOCKET_CLOSED;
}

int gust_test_ws_close(gust_test *t, gust_websocket *ws, unsigned code,
                       const char *reason) {
  int rc;
  if (t == NULL || ws == NULL)
    return GUST_EINVAL;
  rc = gust_websocket_close(ws, code, reason);
  if (rc < 0) {
    gust_test_fail(t, "cannot close a WebSocket connection: %s (%s)",
                   gust_errname(rc), gust_strerror(rc));
    return rc;
  }
  gust_websocket_ref(ws);
  rc = gust_test_run_until(t, ws_closed, ws,
                           "the closing handshake of a WebSocket connection");
  gust_websocket_unref(ws);
  return rc;
}

/* ------------------------------------------------------------------ */
/* Teardown                                                             */
/* ------------------------------------------------------------------ */

void gust__test_http_teardown(gust_test *t) {
  gust__test_http **pp = gust__test_http_state(t);
  gust__test_http *h = *pp;
  if (h == NULL)
    return;
  while (h->sockets != NULL) {
    ws_node *n = h->sockets;
    h->sockets = n->next;
    if (gust_websocket_get_state(n->ws) != GUST_WEBSOCKET_CLOSED) {
      gust_test_fail(t,
                     "the WebSocket connection to %s is still open at the "
                     "end of the test (close it with gust_test_ws_close())",
                     n->url);
      gust_websocket_abort(n->ws);
    }
    gust_websocket_unref(n->ws);
    gust__free(gust_test_mem(t), n);
  }
  gust_http_client_free(h->client);
  h->client = NULL;
  while (h->servers != NULL)
    gust_test_server_free(h->servers);
  while (h->strings != NULL) {
    str_node *n = h->strings;
    h->strings = n->next;
    gust__free(gust_test_mem(t), n);
  }
  gust__free(gust_test_mem(t), h);
  *pp = NULL;
}
