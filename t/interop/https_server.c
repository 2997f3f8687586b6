/* An HTTPS server for the TLS interop test (t/interop/httpserver_tls.sh):
 * examples/hello's answers over gust_http_server_opts.tls.
 *
 *   https_server --cert PEM --key KEY [-p PORT] [--host ADDR]
 *
 * GET/HEAD / → 200 text/plain "Hello, World!"; GET /protocol → the
 * request's protocol ("https"); POST /echo → 200 with the request body;
 * 404 otherwise. Prints "listening on PORT" once listening (port 0 picks
 * one); SIGTERM or SIGINT shut it down gracefully and it exits 0. */
#include <gust/gust.h>
#include <gust/httpserver.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct app {
  gust_loop *loop;
  gust_http_server *srv;
  gust_future *closed;
  int stopping;
} app;

static void handle(gust_http_request *req, void *user_data) {
  const char *method = gust_http_request_method(req);
  const char *path = gust_http_request_path(req);
  (void)user_data;
  if (strcmp(path, "/") == 0 &&
      (strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0)) {
    gust_http_respond(req, 200, "text/plain", "Hello, World!", 13);
  } else if (strcmp(path, "/protocol") == 0 && strcmp(method, "GET") == 0) {
    const char *p = gust_http_request_protocol(req);
    gust_http_respond(req, 200, "text/plain", p, strlen(p));
  } else if (strcmp(path, "/echo") == 0 && strcmp(method, "POST") == 0) {
    gust_slice body = gust_http_request_body(req);
    gust_http_respond(req, 200, "application/octet-stream", body.ptr, body.len);
  } else {
    gust_http_respond(req, 404, "text/plain", "Not Found", 9);
  }
}

static void on_closed(gust_future *f, void *user_data) {
  app *a = user_data;
  (void)f;
  gust_loop_stop(a->loop);
}

static void on_signal(gust_loop *loop, int signum, void *user_data) {
  app *a = user_data;
  (void)signum;
  if (a->stopping) {
    gust_loop_stop(loop);
    return;
  }
  a->stopping = 1;
  if (gust_http_server_shutdown(a->srv, 10.0, &a->closed) != 0 ||
      gust_future_add_done_callback(a->closed, on_closed, a) != 0)
    gust_loop_stop(loop);
}

static int usage(void) {
  fprintf(stderr,
          "usage: https_server --cert PEM --key KEY [-p PORT] [--host ADDR]\n");
  return 2;
}

int main(int argc, char **argv) {
  const char *cert = NULL, *key = NULL, *host = "127.0.0.1";
  int port = 0, rc, i;
  gust_tls_ctx *tls = NULL;
  gust_http_server_opts opts;
  app a;

  for (i = 1; i < argc; i++) {
    if (i + 1 >= argc)
      return usage();
    if (strcmp(argv[i], "--cert") == 0)
      cert = argv[++i];
    else if (strcmp(argv[i], "--key") == 0)
      key = argv[++i];
    else if (strcmp(argv[i], "--host") == 0)
      host = argv[++i];
    else if (strcmp(argv[i], "-p") == 0)
      port = atoi(argv[++i]);
    else
      return usage();
  }
  if (cert == NULL || key == NULL)
    return usage();

  memset(&a, 0, sizeof(a));
  memset(&opts, 0, sizeof(opts));
  if (gust_tls_ctx_new(GUST_TLS_SERVER, NULL, &tls) != 0)
    return 1;
  if (gust_tls_ctx_use_cert_file(tls, cert, key) != 0) {
    fprintf(stderr, "https_server: %s\n", gust_tls_ctx_error(tls));
    gust_tls_ctx_free(tls);
    return 1;
  }
  opts.tls = tls;
  rc = gust_loop_new(&a.loop, NULL);
  if (rc == 0)
    rc = gust_http_server_new_cb(&a.srv, a.loop, &opts, handle, &a, NULL);
  if (rc == 0)
    rc = gust_http_server_listen(a.srv, host, port, NULL);
  if (rc == 0)
    rc = gust_loop_add_signal_handler(a.loop, SIGTERM, on_signal, &a);
  if (rc == 0)
    rc = gust_loop_add_signal_handler(a.loop, SIGINT, on_signal, &a);
  if (rc == 0) {
    printf("listening on %d\n", gust_http_server_port(a.srv));
    fflush(stdout);
    rc = gust_loop_run(a.loop);
  }
  if (rc != 0)
    fprintf(stderr, "https_server: %s\n", gust_strerror(rc));
  gust_future_unref(a.closed);
  gust_http_server_free(a.srv);
  gust_loop_free(a.loop);
  gust_tls_ctx_free(tls);
  return rc == 0 ? 0 : 1;
}
