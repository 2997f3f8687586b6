/* Tornado's concurrent_test GeneratorCapClientTest: a loopback line
 * protocol (the server capitalises a line, or answers an error when it is
 * already capitalised) whose client reports through a future. */
#include "config.h"

#include <gust/future.h>

#include <ctype.h>
#include <stdint.h>

#include "async_tap.h"

/* ------------------------------------------------------------------ */
/* The server: reads one line, answers "ok\tLINE\n" or an error         */
/* ------------------------------------------------------------------ */

typedef struct conn {
  char in[256];
  size_t n;
  char out[300];
  int answered;
} conn;

static void conn_closed(gust_tcp *tcp) { free(gust_tcp_data(tcp)); }

static void conn_alloc(gust_tcp *tcp, size_t suggested, gust_vec *buf) {
  conn *c = gust_tcp_data(tcp);
  (void)suggested;
  buf->base = c->in + c->n;
  buf->len = sizeof(c->in) - 1 - c->n;
}

static void conn_written(gust_tcp *tcp, int status, void *ud) {
  (void)status;
  (void)ud;
  gust_tcp_close(tcp, conn_closed);
}

static void conn_read(gust_tcp *tcp, gust_ssize nread, const gust_vec *buf) {
  conn *c = gust_tcp_data(tcp);
  char *nl;
  gust_vec v;
  size_t i, len;
  int upper = 1;
  (void)buf;
  if (nread < 0 || (nread == 0 && c->n == sizeof(c->in) - 1)) {
    gust_tcp_close(tcp, conn_closed);
    return;
  }
  c->n += (size_t)nread;
  c->in[c->n] = '\0';
  nl = strchr(c->in, '\n');
  if (nl == NULL || c->answered)
    return;
  c->answered = 1;
  gust_tcp_read_stop(tcp);
  len = (size_t)(nl - c->in) + 1;
  for (i = 0; i < len; i++)
    upper &= toupper((unsigned char)c->in[i]) == c->in[i];
  if (upper) {
    snprintf(c->out, sizeof(c->out), "error\talready capitalized\n");
  } else {
    memcpy(c->out, "ok\t", 3);
    for (i = 0; i < len; i++)
      c->out[3 + i] = (char)toupper((unsigned char)c->in[i]);
    c->out[3 + len] = '\0';
  }
  v.base = c->out;
  v.len = strlen(c->out);
  if (gust_tcp_write(tcp, &v, 1, conn_written, NULL) != 0)
    gust_tcp_close(tcp, conn_closed);
}

static void on_accept(gust_tcp *server, gust_tcp *tcp, int status) {
  conn *c;
  (void)server;
  if (status < 0)
    return;
  c = calloc(1, sizeof(*c));
  gust_tcp_set_data(tcp, c);
  if (gust_tcp_read_start(tcp, conn_alloc, conn_read) != 0)
    gust_tcp_close(tcp, conn_closed);
}

/* ------------------------------------------------------------------ */
/* The client: capitalize(line) -> future                               */
/* ------------------------------------------------------------------ */

typedef struct client {
  gust_future *f;
  char line[64];
  char in[256];
  size_t n;
} client;

static void client_closed(gust_tcp *tcp) { free(gust_tcp_data(tcp)); }

static void client_alloc(gust_tcp *tcp, size_t suggested, gust_vec *buf) {
  client *c = gust_tcp_data(tcp);
  (void)suggested;
  buf->base = c->in + c->n;
  buf->len = sizeof(c->in) - 1 - c->n;
}

static char *dup_str(const char *s, size_t n) {
  char *p = malloc(n + 1);
  memcpy(p, s, n);
  p[n] = '\0';
  return p;
}

/* Tornado's process_response: "status\tmessage\n". */
static void client_finish(gust_tcp *tcp, client *c) {
  char *tab = strchr(c->in, '\t'), *nl = strchr(c->in, '\n');
  if (tab == NULL || nl == NULL || nl < tab) {
    gust_future_set_error(c->f, GUST_ESYNTAX, "did not match");
  } else if (strncmp(c->in, "ok\t", 3) == 0) {
    char *msg = dup_str(tab + 1, (size_t)(nl - tab - 1));
    if (gust_future_set_result(c->f, msg, free) != 0)
      free(msg);
  } else {
    *nl = '\0';
    gust_future_set_error(c->f, GUST_EINVAL, tab + 1); /* CapError */
  }
  gust_future_unref(c->f);
  c->f = NULL;
  gust_tcp_close(tcp, client_closed);
}

static void client_read(gust_tcp *tcp, gust_ssize nread, const gust_vec *buf) {
  client *c = gust_tcp_data(tcp);
  (void)buf;
  if (c->f == NULL)
    return;
  if (nread > 0) {
    c->n += (size_t)nread;
    c->in[c->n] = '\0';
    if (strchr(c->in, '\n') == NULL && c->n < sizeof(c->in) - 1)
      return;
  } else if (nread == 0) {
    return;
  }
  gust_tcp_read_stop(tcp);
  client_finish(tcp, c);
}

static void client_connected(gust_tcp *tcp, int status) {
  client *c = gust_tcp_data(tcp);
  gust_vec v;
  if (status == 0 && gust_tcp_read_start(tcp, client_alloc, client_read) == 0) {
    v.base = c->line;
    v.len = strlen(c->line);
    if (gust_tcp_write(tcp, &v, 1, NULL, NULL) == 0)
      return;
  }
  gust_future_set_error(c->f, status < 0 ? status : GUST_EIO, NULL);
  gust_future_unref(c->f);
  c->f = NULL;
  gust_tcp_close(tcp, client_closed);
}

static int port;

static gust_future *capitalize(const char *s) {
  client *c = calloc(1, sizeof(*c));
  gust_tcp *tcp;
  gust_future *f = t_future();
  c->f = gust_future_ref(f);
  snprintf(c->line, sizeof(c->line), "%s\n", s);
  if (gust_tcp_connect(L, "127.0.0.1", port, 30, client_connected, NULL,
                       &tcp) != 0) {
    gust_future_set_error(f, GUST_EIO, "connect");
    gust_future_unref(c->f);
    free(c);
    return f;
  }
  gust_tcp_set_data(tcp, c);
  return f;
}

static gust_tcp *listener;

static int start_server(void) {
  size_t n = 0;
  gust_tcp_listen_opts opts;
  memset(&opts, 0, sizeof(opts));
  opts.family = 4;
  if (gust_tcp_listen(L, "127.0.0.1", 0, &opts, on_accept, NULL, &listener, 1,
                      &n) != 0 ||
      n != 1)
    return -1;
  port = gust_tcp_local_port(listener);
  return 0;
}

static void stop_server(void) {
  gust_tcp_close(listener, NULL);
  t_spin(3);
}

static void cap_ok(void) {
  gust_future *f;
  if (start_server() != 0) {
    CHECK(!"listen on 127.0.0.1");
    return;
  }
  f = capitalize("hello");
  t_wait(f);
  CHECK(gust_future_error(f) == 0);
  CHECK(gust_future_result(f) != NULL &&
        strcmp(gust_future_result(f), "HELLO") == 0);
  gust_future_unref(f);
  stop_server();
}

static void cap_error(void) {
  gust_future *f;
  if (start_server() != 0) {
    CHECK(!"listen on 127.0.0.1");
    return;
  }
  f = capitalize("HELLO");
  t_wait(f);
  CHECK(gust_future_error(f) == GUST_EINVAL);
  CHECK(gust_future_error_message(f) != NULL &&
        strcmp(gust_future_error_message(f), "already capitalized") == 0);
  gust_future_unref(f);
  stop_server();
}

/* The "generator" variants: a task that awaits capitalize() and passes the
 * outcome on through its own future. */
static void relay(gust_future *in, void *ud) {
  gust_future *out = ud;
  gust_future_chain(in, out);
  gust_future_unref(out);
}

static void gen_case(const char *word, int want_error) {
  gust_future *f, *task;
  if (start_server() != 0) {
    CHECK(!"listen on 127.0.0.1");
    return;
  }
  task = t_future();
  f = capitalize(word);
  gust_future_add_done_callback(f, relay, gust_future_ref(task));
  t_wait(task);
  if (want_error) {
    CHECK(gust_future_error(task) == GUST_EINVAL);
  } else {
    CHECK(gust_future_error(task) == 0 && gust_future_result(task) != NULL &&
          strcmp(gust_future_result(task), "HELLO") == 0);
  }
  gust_future_unref(f);
  gust_future_unref(task);
  stop_server();
}

static void Cap_test_future(void) { cap_ok(); }
static void Cap_test_future_error(void) { cap_error(); }
static void Cap_test_generator(void) { gen_case("hello", 0); }
static void Cap_test_generator_error(void) { gen_case("HELLO", 1); }

int main(void) {
  t_run("GeneratorCapClientTest.test_future", Cap_test_future);
  t_run("GeneratorCapClientTest.test_future_error", Cap_test_future_error);
  t_run("GeneratorCapClientTest.test_generator", Cap_test_generator);
  t_run("GeneratorCapClientTest.test_generator_error",
        Cap_test_generator_error);
  return done_testing();
}
