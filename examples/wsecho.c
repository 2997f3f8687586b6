/* wsecho: a WebSocket echo server, the conformance and benchmark target.
 *
 *   examples/wsecho [-p PORT] [--host ADDR] [--no-compression]
 *                   [--max-message-size BYTES] [--ping-interval SECONDS]
 *
 * Accepts a WebSocket upgrade on any path and sends every message back
 * with the same opcode (text as text, binary as binary). permessage-deflate
 * is accepted when the client offers it (--no-compression declines it).
 * Cross-origin upgrades are refused (403), as Tornado does by default.
 * Prints "listening on PORT" once it listens (port 0 picks one).
 * SIGTERM/SIGINT stop it gracefully: open connections are closed with
 * 1001 "going away" first. */
#include <gust/websocket.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

static int on_message(gust_websocket *ws, const gust_websocket_message *msg,
                      void *ud, gust_future **wait) {
  (void)ud;
  (void)wait;
  /* a closing connection refuses the write: nothing to do then */
  gust_websocket_write_message(ws, msg->data.ptr, msg->data.len, msg->binary,
                               NULL);
  return 0;
}

static const gust_websocket_handler HANDLER = {
    .on_message = on_message,
};

static gust_http_server *server;

static void on_shutdown(gust_future *f, void *ud) {
  (void)ud;
  gust_loop_stop(gust_future_loop(f));
}

/* A graceful stop: every connection gets 1001 "going away" first. */
static void on_signal(gust_loop *loop, int signum, void *ud) {
  gust_future *f = NULL;
  (void)signum;
  (void)ud;
  if (gust_http_server_shutdown(server, 10.0, &f) != 0 ||
      gust_future_add_done_callback(f, on_shutdown, NULL) != 0)
    gust_loop_stop(loop);
  gust_future_unref(f);
}

static void usage(void) {
  fprintf(stderr, "usage: wsecho [-p PORT] [--host ADDR] [--no-compression]\n"
                  "              [--max-message-size BYTES] "
                  "[--ping-interval SECONDS]\n");
  exit(2);
}

int main(int argc, char **argv) {
  const char *host = "127.0.0.1";
  int port = 8888, i, rc;
  gust_loop *loop;
  gust_websocket_opts wopts;
  gust_websocket_endpoint ep;
  struct rlimit rl;
  signal(SIGPIPE, SIG_IGN);
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
  memset(&wopts, 0, sizeof(wopts));
  wopts.compression = 1;
  for (i = 1; i < argc; i++) {
    if ((strcmp(argv[i], "-p") == 0 || strcmp(argv[i], "--port") == 0) &&
        i + 1 < argc)
      port = atoi(argv[++i]);
    else if (strcmp(argv[i], "--host") == 0 && i + 1 < argc)
      host = argv[++i];
    else if (strcmp(argv[i], "--no-compression") == 0)
      wopts.compression = 0;
    else if (strcmp(argv[i], "--max-message-size") == 0 && i + 1 < argc)
      wopts.max_message_size = strtoull(argv[++i], NULL, 10);
    else if (strcmp(argv[i], "--ping-interval") == 0 && i + 1 < argc)
      wopts.ping_interval = atof(argv[++i]);
    else
      usage();
  }
  ep.handler = &HANDLER;
  ep.opts = &wopts;
  ep.user_data = NULL;
  if (gust_loop_new(&loop, NULL) != 0 ||
      gust_http_server_new(&server, loop, NULL, gust_websocket_start_request,
                           &ep, NULL) != 0) {
    fprintf(stderr, "wsecho: out of memory\n");
    return 1;
  }
  rc = gust_http_server_listen(server, host, port, NULL);
  if (rc < 0) {
    fprintf(stderr, "wsecho: cannot listen: %s\n", gust_strerror(rc));
    return 1;
  }
  printf("listening on %d\n", gust_http_server_port(server));
  fflush(stdout);
  gust_loop_add_signal_handler(loop, SIGTERM, on_signal, NULL);
  gust_loop_add_signal_handler(loop, SIGINT, on_signal, NULL);
  gust_loop_run(loop);
  gust_http_server_free(server);
  gust_loop_free(loop);
  return 0;
}
