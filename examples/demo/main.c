/* gust demo: one server that shows the library whole — a chat room over
 * WebSocket with a long-polling fallback, streamed uploads with a progress
 * bar, a login with a signed cookie, XSRF-protected forms, and static
 * assets with ETag and gzip. See doc/demo.md.
 *
 *   examples/demo/demo [--host ADDR] [-p PORT] [--upload-dir DIR]
 *                      [--static-dir DIR] [--cookie-secret S]
 *                      [--max-upload BYTES]
 *
 * Prints "gust demo: serving on http://HOST:PORT/" once it listens.
 * SIGINT / SIGTERM stop it gracefully (WebSockets get 1001, long polls are
 * answered, partial uploads removed) and it exits with status 0. */
#include "demo.h"

#include <gust/crypto.h>

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#ifndef DEMO_STATIC_DIR
#define DEMO_STATIC_DIR "examples/demo/static"
#endif

static demo the_demo;

static void usage(FILE *to, int status) {
  fprintf(to,
          "usage: demo [--host ADDR] [-p|--port N] [--upload-dir DIR]\n"
          "            [--static-dir DIR] [--cookie-secret S] "
          "[--max-upload BYTES]\n"
          "  --host ADDR         address to listen on (127.0.0.1)\n"
          "  -p, --port N        port (8888; 0 picks a free one)\n"
          "  --upload-dir DIR    where uploads go (./demo-uploads)\n"
          "  --static-dir DIR    front-end files (%s)\n"
          "  --cookie-secret S   key of the signed cookies (random per run)\n"
          "  --max-upload BYTES  largest upload (1073741824)\n",
          DEMO_STATIC_DIR);
  exit(status);
}

static void on_shutdown(gust_future *f, void *ud) {
  (void)ud;
  gust_loop_stop(gust_future_loop(f));
}

/* First signal: a graceful stop; a second one stops at once. */
static void on_signal(gust_loop *loop, int signum, void *ud) {
  demo *d = ud;
  gust_future *f = NULL;
  (void)signum;
  if (d->shutting_down) {
    gust_loop_stop(loop);
    return;
  }
  d->shutting_down = 1;
  fprintf(stderr, "gust demo: shutting down\n");
  demo_chat_shutdown(d);
  demo_upload_shutdown(d);
  if (gust_http_server_shutdown(d->server, 5.0, &f) != 0 ||
      gust_future_add_done_callback(f, on_shutdown, NULL) != 0)
    gust_loop_stop(loop);
  gust_future_unref(f);
}

static int parse_u64(const char *s, uint64_t *out) {
  return gust_slice_to_u64(gust_slice_cstr(s), UINT64_MAX, out);
}

int main(int argc, char **argv) {
  demo *d = &the_demo;
  const char *host = "127.0.0.1", *upload_dir = "demo-uploads";
  const char *static_dir = DEMO_STATIC_DIR, *secret = NULL;
  char upload_abs[PATH_MAX], static_abs[PATH_MAX], hexsecret[65];
  uint64_t port = 8888;
  gust_web_settings st;
  gust_http_server_opts sopts;
  int i, rc;

  d->max_upload = (uint64_t)1 << 30;
  for (i = 1; i < argc; i++) {
    const char *a = argv[i];
    int has = i + 1 < argc;
    if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0)
      usage(stdout, 0);
    else if ((strcmp(a, "-p") == 0 || strcmp(a, "--port") == 0) && has) {
      if (parse_u64(argv[++i], &port) < 0 || port > 65535) {
        fprintf(stderr, "demo: bad port %s\n", argv[i]);
        return 2;
      }
    } else if (strcmp(a, "--host") == 0 && has)
      host = argv[++i];
    else if (strcmp(a, "--upload-dir") == 0 && has)
      upload_dir = argv[++i];
    else if (strcmp(a, "--static-dir") == 0 && has)
      static_dir = argv[++i];
    else if (strcmp(a, "--cookie-secret") == 0 && has)
      secret = argv[++i];
    else if (strcmp(a, "--max-upload") == 0 && has) {
      if (parse_u64(argv[++i], &d->max_upload) < 0 || d->max_upload == 0) {
        fprintf(stderr, "demo: bad --max-upload %s\n", argv[i]);
        return 2;
      }
    } else
      usage(stderr, 2);
  }
  signal(SIGPIPE, SIG_IGN);

  if (mkdir(upload_dir, 0755) != 0 && errno != EEXIST) {
    fprintf(stderr, "demo: cannot create %s: %s\n", upload_dir,
            strerror(errno));
    return 1;
  }
  if (realpath(upload_dir, upload_abs) == NULL) {
    fprintf(stderr, "demo: %s: %s\n", upload_dir, strerror(errno));
    return 1;
  }
  if (realpath(static_dir, static_abs) == NULL) {
    fprintf(stderr, "demo: static directory %s: %s\n", static_dir,
            strerror(errno));
    return 1;
  }
  d->upload_dir = upload_abs;

  if (secret == NULL) {
    uint8_t raw[32];
    if (gust_random_bytes(raw, sizeof(raw)) != 0) {
      fprintf(stderr, "demo: no random bytes for the cookie secret\n");
      return 1;
    }
    for (i = 0; i < 32; i++)
      snprintf(hexsecret + 2 * i, 3, "%02x", raw[i]);
    secret = hexsecret;
  }
  if (gust_secrets_new(&d->secrets, NULL, (const uint8_t *)secret,
                       strlen(secret)) != 0 ||
      gust_loop_new(&d->loop, NULL) != 0) {
    fprintf(stderr, "demo: out of memory\n");
    return 1;
  }

  memset(&st, 0, sizeof(st));
  st.cookie_secret = d->secrets;
  st.xsrf_cookies = 1;
  st.compress_response = 1;
  st.static_path = static_abs;
  st.login_url = "/login";
  rc = gust_web_app_new(&d->app, d->loop, &st, NULL);
  if (rc == 0)
    rc = demo_auth_routes(d);
  if (rc == 0)
    rc = demo_chat_routes(d);
  if (rc == 0)
    rc = demo_upload_routes(d);
  if (rc < 0) {
    fprintf(stderr, "demo: setting up the application: %s %s\n",
            gust_strerror(rc), d->app ? gust_web_app_error(d->app) : "");
    return 1;
  }

  memset(&sopts, 0, sizeof(sopts));
  sopts.max_body_size = 1 << 20; /* forms and chat; uploads raise it */
  rc = gust_web_app_listen(d->app, host, (int)port, &sopts, &d->server);
  if (rc < 0) {
    fprintf(stderr, "demo: cannot listen on %s:%d: %s\n", host, (int)port,
            gust_strerror(rc));
    return 1;
  }
  gust_loop_add_signal_handler(d->loop, SIGTERM, on_signal, d);
  gust_loop_add_signal_handler(d->loop, SIGINT, on_signal, d);
  printf("gust demo: serving on http://%s%s%s:%d/\n",
         strchr(host, ':') ? "[" : "", host, strchr(host, ':') ? "]" : "",
         gust_http_server_port(d->server));
  fflush(stdout);

  gust_loop_run(d->loop);

  gust_http_server_free(d->server);
  demo_chat_free(d);
  demo_upload_free(d);
  demo_auth_free(d);
  gust_web_app_free(d->app);
  gust_loop_free(d->loop);
  gust_secrets_free(d->secrets);
  fprintf(stderr, "gust demo: stopped\n");
  return 0;
}
