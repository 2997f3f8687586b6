/* hello: the HTTP server's benchmark and conformance target.
 *
 *   examples/hello [-p PORT] [--host ADDR] [--workers N]
 *                  [--idle-timeout SECONDS] [--body-timeout SECONDS]
 *
 * GET/HEAD / answers 200 text/plain "Hello, World!"; POST /echo answers
 * 200 with the request body, streamed back as it arrives (any size, flat
 * memory); anything else is 404. Prints "listening on PORT" once it
 * listens (port 0 picks one). SIGTERM/SIGINT shut it down gracefully.
 * --idle-timeout and --body-timeout set the server's
 * idle_connection_timeout and body_timeout (the slowloris tests). With
 * --workers N, N processes share the listening sockets and each hello
 * response says which one answered ("X-Worker: 0" .. N-1). */
#include <gust/httpserver.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

static const char HELLO[] = "Hello, World!";

enum { K_HELLO = 1, K_ECHO, K_NOT_FOUND };

/* ctx encodes the kind of request (no per-request allocation). */
static void *kind_ctx(int k) { return (void *)(HELLO + k); }
static int ctx_kind(void *ctx) { return (int)((const char *)ctx - HELLO); }

/* The echo response starts with the first body bytes (so that a client
 * waiting for 100 Continue gets it first): the request's framing is kept,
 * its Content-Length when it sent one, else chunked. */
static int echo_start(gust_http_request *req) {
  gust_headers h;
  gust_slice cl;
  int rc;
  if (gust_http_response_state(req) != 0)
    return 0;
  gust_headers_init(&h, NULL);
  rc = gust_headers_add_str(&h, "Content-Type", "application/octet-stream");
  if (rc == 0 && gust_headers_get(gust_http_request_headers(req),
                                  "Content-Length", &cl) == 0) {
    /* The server accepted it: one number, or a list of identical ones
     * ("5, 5"), of which the first is sent back. */
    size_t n = 0;
    while (n < cl.len && cl.ptr[n] != ',')
      n++;
    while (n > 0 && (cl.ptr[n - 1] == ' ' || cl.ptr[n - 1] == '\t'))
      n--;
    rc = gust_headers_add(&h, "Content-Length", 14, (const char *)cl.ptr, n);
  }
  if (rc == 0)
    rc = gust_http_response_start(req, 200, NULL, &h, NULL);
  gust_headers_free(&h);
  return rc;
}

static int on_data(gust_http_request *req, gust_slice chunk, void *ctx,
                   gust_future **wait) {
  int rc;
  if (ctx_kind(ctx) != K_ECHO)
    return 0;
  rc = echo_start(req);
  if (rc < 0)
    return rc;
  /* the write's future paces reading: flat memory for any size */
  return gust_http_response_write(req, chunk.ptr, chunk.len, wait);
}

/* With --workers: "X-Worker: N" on hello responses names the worker. */
static char worker_id[16];

static void respond_hello(gust_http_request *req) {
  gust_headers h;
  int rc;
  if (worker_id[0] == '\0') {
    gust_http_respond(req, 200, "text/plain", HELLO, sizeof(HELLO) - 1);
    return;
  }
  gust_headers_init(&h, NULL);
  rc = gust_headers_add_str(&h, "Content-Type", "text/plain");
  if (rc == 0)
    rc = gust_headers_add_str(&h, "Content-Length", "13");
  if (rc == 0)
    rc = gust_headers_add_str(&h, "X-Worker", worker_id);
  if (rc == 0)
    rc = gust_http_response_start(req, 200, NULL, &h, NULL);
  gust_headers_free(&h);
  if (rc == 0 && strcmp(gust_http_request_method(req), "HEAD") != 0)
    rc = gust_http_response_write(req, HELLO, sizeof(HELLO) - 1, NULL);
  if (rc == 0)
    gust_http_response_finish(req, NULL);
}

static void on_finish(gust_http_request *req, void *ctx) {
  switch (ctx_kind(ctx)) {
  case K_HELLO:
    respond_hello(req);
    break;
  case K_ECHO:
    if (echo_start(req) == 0)
      gust_http_response_finish(req, NULL);
    break;
  default:
    gust_http_respond(req, 404, "text/plain", "Not Found", 9);
    break;
  }
}

static const gust_http_delegate DELEGATE = {
    .data_received = on_data,
    .finish = on_finish,
};

static int start_request(gust_http_server *srv, gust_http_request *req,
                         void *ud, const gust_http_delegate **delegate,
                         void **ctx) {
  const char *m = gust_http_request_method(req);
  const char *p = gust_http_request_path(req);
  int k = K_NOT_FOUND;
  (void)srv;
  (void)ud;
  if (strcmp(p, "/") == 0 && (strcmp(m, "GET") == 0 || strcmp(m, "HEAD") == 0))
    k = K_HELLO;
  else if (strcmp(p, "/echo") == 0 && strcmp(m, "POST") == 0) {
    k = K_ECHO;
    /* any size: the echo streams with flat memory */
    gust_http_request_set_max_body_size(req, UINT64_MAX);
  }
  *delegate = &DELEGATE;
  *ctx = kind_ctx(k);
  return 0;
}

static gust_http_server *server;

static void on_shutdown(gust_future *f, void *ud) {
  (void)ud;
  gust_loop_stop(gust_future_loop(f));
}

static void on_signal(gust_loop *loop, int signum, void *ud) {
  gust_future *f = NULL;
  (void)signum;
  (void)ud;
  if (gust_http_server_shutdown(server, 10.0, &f) != 0 ||
      gust_future_add_done_callback(f, on_shutdown, NULL) != 0)
    gust_loop_stop(loop);
  gust_future_unref(f);
}

static void stop_cb(gust_loop *loop, void *ud) {
  (void)ud;
  gust_loop_stop(loop);
}

static void usage(void) {
  fprintf(stderr, "usage: hello [-p PORT] [--host ADDR] [--workers N]\n"
                  "             [--idle-timeout SECONDS] "
                  "[--body-timeout SECONDS]\n");
  exit(2);
}

#ifdef __linux__
static void parent_term(int sig) {
  (void)sig;
  _exit(0); /* the workers get SIGTERM as their parent dies */
}
#endif

int main(int argc, char **argv) {
  const char *host = NULL;
  int port = 8888, workers = 0, i, rc, fds[16];
  size_t nfds = 0;
  gust_loop *loop;
  gust_http_server_opts opts;
  struct rlimit rl;
  /* a peer gone mid-write is an error code, not a signal */
  signal(SIGPIPE, SIG_IGN);
  /* serve as many connections as the hard limit allows */
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
  memset(&opts, 0, sizeof(opts));
  for (i = 1; i < argc; i++) {
    if ((strcmp(argv[i], "-p") == 0 || strcmp(argv[i], "--port") == 0) &&
        i + 1 < argc)
      port = atoi(argv[++i]);
    else if (strcmp(argv[i], "--host") == 0 && i + 1 < argc)
      host = argv[++i];
    else if (strcmp(argv[i], "--workers") == 0 && i + 1 < argc)
      workers = atoi(argv[++i]);
    else if (strcmp(argv[i], "--idle-timeout") == 0 && i + 1 < argc)
      opts.idle_connection_timeout = atof(argv[++i]);
    else if (strcmp(argv[i], "--body-timeout") == 0 && i + 1 < argc)
      opts.body_timeout = atof(argv[++i]);
    else
      usage();
  }
  if (workers > 0) {
    int task;
    rc = gust_tcp_bind_sockets(host, port, NULL, fds, 16, &nfds);
    if (rc < 0 || nfds == 0) {
      fprintf(stderr, "hello: cannot listen: %s\n", gust_strerror(rc));
      return 1;
    }
    {
      gust_addr a;
      socklen_t len = sizeof(a.ss);
      if (getsockname(fds[0], (struct sockaddr *)&a.ss, &len) == 0) {
        a.len = len;
        port = gust_addr_port(&a);
      }
    }
    printf("listening on %d\n", port);
    fflush(stdout);
#ifdef __linux__
    signal(SIGTERM, parent_term);
    signal(SIGINT, parent_term);
#endif
    rc = gust_fork_processes(workers, -1, &task);
    if (rc != 0)
      return rc == 1 ? 0 : 1;
#ifdef __linux__
    signal(SIGTERM, SIG_DFL);
    signal(SIGINT, SIG_DFL);
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() == 1) /* the parent died before prctl() */
      return 0;
#endif
    snprintf(worker_id, sizeof(worker_id), "%d", task);
  }
  if (gust_loop_new(&loop, NULL) != 0 ||
      gust_http_server_new(&server, loop, &opts, start_request, NULL, NULL) !=
          0) {
    fprintf(stderr, "hello: out of memory\n");
    return 1;
  }
  if (workers > 0)
    rc = gust_http_server_add_sockets(server, fds, nfds);
  else
    rc = gust_http_server_listen(server, host, port, NULL);
  if (rc < 0) {
    fprintf(stderr, "hello: cannot listen: %s\n", gust_strerror(rc));
    return 1;
  }
  if (workers == 0) {
    printf("listening on %d\n", gust_http_server_port(server));
    fflush(stdout);
  }
  gust_loop_add_signal_handler(loop, SIGTERM, on_signal, NULL);
  gust_loop_add_signal_handler(loop, SIGINT, on_signal, NULL);
  gust_loop_run(loop);
  gust_http_server_free(server);
  gust_loop_call_later(loop, 0.01, stop_cb, NULL, NULL); /* closes finish */
  gust_loop_run(loop);
  gust_loop_free(loop);
  return 0;
}
