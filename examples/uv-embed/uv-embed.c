/* uv-embed: an existing libuv application that embeds gust. The application
 * owns its uv_loop_t, runs it with uv_run(), keeps its own timer and its own
 * signal handlers; gust wraps that loop and runs an HTTP server and an HTTP
 * client fetch on it, side by side with the application's handles.
 *
 *   uv-embed [-p PORT] [--host ADDR] [--fetch URL]
 *
 * GET / answers a greeting, GET /ticks the application's timer count (it
 * keeps ticking while gust serves). At start the application fetches
 * --fetch URL (default: its own /ticks) with gust's client and prints the
 * outcome. SIGINT or SIGTERM: gust's server shuts down gracefully, the
 * application closes its handles, and the loop is torn down in the order
 * gust/loop.h documents. */
#include <gust/httpclient.h>
#include <gust/httpserver.h>
#include <gust/loop.h>

#include <uv.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The application's own state: what it had before it embedded gust. */
typedef struct app {
  uv_loop_t loop;
  uv_timer_t ticker;
  uv_signal_t sigint, sigterm;
  unsigned long ticks;
  int stopping;
  int status; /* exit status */
  /* what it added to embed gust */
  gust_loop *gloop;
  gust_http_server *server;
  gust_http_client *client;
} app;

static void on_tick(uv_timer_t *t) {
  app *a = t->data;
  a->ticks++;
}

/* The gust HTTP server's request callback: it runs inside uv_run(), on the
 * application's thread, so it may read the application's state freely. */
static void on_request(gust_http_request *req, void *user_data) {
  app *a = user_data;
  const char *path = gust_http_request_path(req);
  const char *method = gust_http_request_method(req);
  char body[64];
  int n;
  if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
    gust_http_respond(req, 405, "text/plain", "Method Not Allowed\n", 19);
  } else if (strcmp(path, "/") == 0) {
    static const char hello[] = "Hello from gust inside a libuv application\n";
    gust_http_respond(req, 200, "text/plain", hello, sizeof(hello) - 1);
  } else if (strcmp(path, "/ticks") == 0) {
    n = snprintf(body, sizeof(body), "ticks %lu\n", a->ticks);
    gust_http_respond(req, 200, "text/plain", body, (size_t)n);
  } else {
    gust_http_respond(req, 404, "text/plain", "Not Found\n", 10);
  }
}

static void on_fetched(gust_future *f, void *user_data) {
  const gust_fetch_response *r = gust_fetch_response_of(f);
  (void)user_data;
  if (r == NULL) {
    printf("uv-embed: fetch failed: %s\n", gust_future_error_message(f));
  } else {
    gust_slice body = gust_fetch_response_body(r);
    size_t shown = body.len > 60 ? 60 : body.len;
    while (shown > 0 && body.ptr[shown - 1] == '\n')
      shown--;
    printf("uv-embed: fetched %s: %d, %zu bytes: %.*s\n",
           gust_fetch_response_effective_url(r), gust_fetch_response_code(r),
           body.len, (int)shown, (const char *)body.ptr);
  }
  fflush(stdout);
  gust_future_unref(f);
}

static void close_app_handles(app *a) {
  uv_timer_stop(&a->ticker);
  uv_close((uv_handle_t *)&a->ticker, NULL);
  uv_close((uv_handle_t *)&a->sigint, NULL);
  uv_close((uv_handle_t *)&a->sigterm, NULL);
}

/* Every connection is closed: free gust's objects (their closes complete in
 * later iterations of the same uv_run) and close the application's own
 * handles, so that uv_run() runs out of work and returns. */
static void on_server_down(gust_future *f, void *user_data) {
  app *a = user_data;
  (void)f;
  gust_http_server_free(a->server);
  a->server = NULL;
  gust_http_client_free(a->client);
  a->client = NULL;
  close_app_handles(a);
}

/* The application's own signal handler decides how to stop; gust's part
 * is a graceful server shutdown. */
static void on_uv_signal(uv_signal_t *s, int signum) {
  app *a = s->data;
  gust_future *f = NULL;
  (void)signum;
  if (a->stopping)
    return;
  a->stopping = 1;
  printf("uv-embed: stopping after %lu ticks\n", a->ticks);
  fflush(stdout);
  if (gust_http_server_shutdown(a->server, 5.0, &f) != 0 ||
      gust_future_add_done_callback(f, on_server_down, a) != 0) {
    a->status = 1;
    on_server_down(NULL, a);
  }
  gust_future_unref(f);
}

static void usage(void) {
  fprintf(stderr, "usage: uv-embed [-p PORT] [--host ADDR] [--fetch URL]\n");
  exit(2);
}

int main(int argc, char **argv) {
  app a;
  const char *host = "127.0.0.1", *fetch_url = NULL;
  char url[300];
  int port = 8888, rc, i;
  gust_future *f;

  for (i = 1; i < argc; i++) {
    if ((strcmp(argv[i], "-p") == 0 || strcmp(argv[i], "--port") == 0) &&
        i + 1 < argc)
      port = atoi(argv[++i]);
    else if (strcmp(argv[i], "--host") == 0 && i + 1 < argc)
      host = argv[++i];
    else if (strcmp(argv[i], "--fetch") == 0 && i + 1 < argc)
      fetch_url = argv[++i];
    else
      usage();
  }
  signal(SIGPIPE, SIG_IGN);

  /* The application as it was: its loop, its timer, its signals. */
  memset(&a, 0, sizeof(a));
  if (uv_loop_init(&a.loop) != 0)
    return 1;
  uv_timer_init(&a.loop, &a.ticker);
  a.ticker.data = &a;
  uv_timer_start(&a.ticker, on_tick, 50, 50);
  uv_signal_init(&a.loop, &a.sigint);
  uv_signal_init(&a.loop, &a.sigterm);
  a.sigint.data = a.sigterm.data = &a;
  uv_signal_start(&a.sigint, on_uv_signal, SIGINT);
  uv_signal_start(&a.sigterm, on_uv_signal, SIGTERM);

  /* Embedding gust: wrap the loop, then use any gust object on it. */
  rc = gust_loop_wrap_uv(&a.gloop, &a.loop, NULL);
  if (rc == 0)
    rc =
        gust_http_server_new_cb(&a.server, a.gloop, NULL, on_request, &a, NULL);
  if (rc == 0)
    rc = gust_http_server_listen(a.server, host, port, NULL);
  if (rc == 0)
    rc = gust_http_client_new(&a.client, a.gloop, NULL, NULL);
  if (rc != 0) {
    fprintf(stderr, "uv-embed: %s\n", gust_strerror(rc));
    gust_http_server_free(a.server);
    close_app_handles(&a);
    gust_loop_free(a.gloop);
    uv_run(&a.loop, UV_RUN_DEFAULT);
    uv_loop_close(&a.loop);
    return 1;
  }
  snprintf(url, sizeof(url),
           strchr(host, ':') != NULL ? "http://[%s]:%d/" : "http://%s:%d/",
           host, gust_http_server_port(a.server));
  printf("uv-embed: listening on %s\n", url);
  fflush(stdout);

  /* A client fetch, on the same loop as the server that may answer it. */
  if (fetch_url == NULL) {
    size_t n = strlen(url);
    snprintf(url + n, sizeof(url) - n, "ticks");
    fetch_url = url;
  }
  rc = gust_http_client_fetch_url(a.client, fetch_url, &f);
  if (rc == 0 && gust_future_add_done_callback(f, on_fetched, NULL) != 0) {
    gust_future_unref(f);
    rc = GUST_ENOMEM;
  }
  if (rc != 0) {
    fprintf(stderr, "uv-embed: fetch %s: %s\n", fetch_url,
            rc == GUST_EINVAL ? gust_http_client_last_error(a.client)
                              : gust_strerror(rc));
    a.status = 1;
  }

  /* The application's own run: gust's callbacks run inside it. */
  uv_run(&a.loop, UV_RUN_DEFAULT);

  /* Teardown in gust/loop.h's order: free the gust loop, let libuv finish
   * closing gust's handles in one more run, then close the native loop. */
  gust_loop_free(a.gloop);
  uv_run(&a.loop, UV_RUN_DEFAULT);
  rc = uv_loop_close(&a.loop);
  if (rc != 0) {
    fprintf(stderr, "uv-embed: uv_loop_close: %s\n", uv_strerror(rc));
    return 1;
  }
  printf("uv-embed: clean exit\n");
  return a.status;
}
