/* web_peer: a gust web application for the Tornado interop test
 * (t/interop/web_tornado.py), the counterpart of the Tornado application
 * that test runs.
 *
 *   t/interop/web_peer [-p PORT] [--host ADDR]
 *                      [--secret S | --keys "0:abc,1:def" --key-version N]
 *                      [--xsrf] [--xsrf-version 1|2]
 *
 * Endpoints (arguments are query arguments, values taken unstripped):
 *   GET /set?name=N&value=V        set_secure_cookie(N, V), body "ok"
 *   GET /get?name=N[&max_age_days=D]  (also /getv) the verified value, or
 *                                  404 with gust_errname() of the failure
 *   GET /keyversion?name=N         the key version of cookie N, or 404 and
 *                                  gust_errname()
 *   GET /setplain?name=N&value=V   set_cookie(N, V), body "ok"; 500 and
 *                                  gust_errname() when gust refuses it
 *   GET /getplain?name=N           the cookie's value, or 404 "absent"
 *   GET /xsrf                      the XSRF token (sets the cookie if
 *                                  the request has none)
 *   POST /xsrf                     "ok" (the XSRF check runs before, with
 *                                  --xsrf)
 * Prints "listening on PORT" once it listens (port 0 picks one). SIGTERM
 * and SIGINT stop it gracefully, exiting with status 0. */
#include <gust/web.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The query argument `name`, unstripped (as the Tornado side reads it). */
static int arg(gust_web_handler *h, const char *name, const char *dflt,
               const char **value) {
  return gust_web_get_argument_from(h, GUST_WEB_ARGS_QUERY, name, dflt, 0,
                                    value);
}

/* Ends a request that failed with `code`: `status` and the code's name. */
static int fail(gust_web_handler *h, int status, int code) {
  int rc = gust_web_set_status(h, status, NULL);
  if (rc < 0)
    return rc;
  return gust_web_write_str(h, gust_errname(code));
}

static int set_get(gust_web_handler *h, gust_future **w) {
  const char *name, *value;
  int rc;
  (void)w;
  if ((rc = arg(h, "name", NULL, &name)) < 0 ||
      (rc = arg(h, "value", NULL, &value)) < 0)
    return rc;
  rc = gust_web_set_secure_cookie(h, name, value, strlen(value), NULL, 0);
  if (rc < 0)
    return fail(h, 500, rc);
  return gust_web_write_str(h, "ok");
}

static int get_get(gust_web_handler *h, gust_future **w) {
  const char *name, *days;
  gust_buf v;
  int rc;
  (void)w;
  if ((rc = arg(h, "name", NULL, &name)) < 0 ||
      (rc = arg(h, "max_age_days", "31", &days)) < 0)
    return rc;
  gust_buf_init(&v, NULL);
  rc = gust_web_get_secure_cookie(h, name, atof(days), 0, &v);
  if (rc < 0)
    rc = fail(h, 404, rc);
  else
    rc = gust_web_write(h, v.ptr, v.len);
  gust_buf_free(&v);
  return rc;
}

static int keyversion_get(gust_web_handler *h, gust_future **w) {
  const char *name;
  int rc, kv = -1;
  (void)w;
  if ((rc = arg(h, "name", NULL, &name)) < 0)
    return rc;
  rc = gust_web_get_secure_cookie_key_version(h, name, &kv);
  if (rc < 0)
    return fail(h, 404, rc);
  return gust_web_writef(h, "%d", kv);
}

static int setplain_get(gust_web_handler *h, gust_future **w) {
  const char *name, *value;
  int rc;
  (void)w;
  if ((rc = arg(h, "name", NULL, &name)) < 0 ||
      (rc = arg(h, "value", NULL, &value)) < 0)
    return rc;
  rc = gust_web_set_cookie(h, name, value, strlen(value), NULL, 0);
  if (rc < 0)
    return fail(h, 500, rc);
  return gust_web_write_str(h, "ok");
}

static int getplain_get(gust_web_handler *h, gust_future **w) {
  const char *name, *value;
  int rc;
  (void)w;
  if ((rc = arg(h, "name", NULL, &name)) < 0 ||
      (rc = gust_web_get_cookie(h, name, NULL, &value)) < 0)
    return rc;
  if (value == NULL) {
    if ((rc = gust_web_set_status(h, 404, NULL)) < 0)
      return rc;
    return gust_web_write_str(h, "absent");
  }
  return gust_web_write_str(h, value);
}

static int xsrf_get(gust_web_handler *h, gust_future **w) {
  const char *tok;
  int rc;
  (void)w;
  if ((rc = gust_web_xsrf_token(h, &tok)) < 0)
    return rc;
  return gust_web_write_str(h, tok);
}

static int xsrf_post(gust_web_handler *h, gust_future **w) {
  (void)w;
  return gust_web_write_str(h, "ok");
}

static const gust_web_handler_class set_class = {.name = "Set", .get = set_get};
static const gust_web_handler_class get_class = {.name = "Get", .get = get_get};
static const gust_web_handler_class keyversion_class = {.name = "KeyVersion",
                                                        .get = keyversion_get};
static const gust_web_handler_class setplain_class = {.name = "SetPlain",
                                                      .get = setplain_get};
static const gust_web_handler_class getplain_class = {.name = "GetPlain",
                                                      .get = getplain_get};
static const gust_web_handler_class xsrf_class = {
    .name = "Xsrf", .get = xsrf_get, .post = xsrf_post};

static gust_http_server *server;

static void on_shutdown(gust_future *f, void *ud) {
  (void)ud;
  gust_loop_stop(gust_future_loop(f));
}

static void on_signal(gust_loop *loop, int signum, void *ud) {
  gust_future *f = NULL;
  (void)signum;
  (void)ud;
  if (gust_http_server_shutdown(server, 5.0, &f) != 0 ||
      gust_future_add_done_callback(f, on_shutdown, NULL) != 0)
    gust_loop_stop(loop);
  gust_future_unref(f);
}

static void usage(void) {
  fprintf(stderr, "usage: web_peer [-p PORT] [--host ADDR]\n"
                  "                [--secret S | --keys \"0:abc,1:def\" "
                  "--key-version N]\n"
                  "                [--xsrf] [--xsrf-version 1|2]\n");
  exit(2);
}

/* Builds the versioned table from "V:KEY,V:KEY,...". Keys hold no ','. */
static int parse_keys(gust_secrets **out, const char *spec, int current) {
  const char *p = spec;
  int rc = gust_secrets_new_versioned(out, NULL, current);
  while (rc == 0 && *p != '\0') {
    char *colon;
    const char *end;
    long version = strtol(p, &colon, 10);
    if (colon == p || *colon != ':' || version < 0 || version > 1000000)
      return GUST_EINVAL;
    end = strchr(colon + 1, ',');
    if (end == NULL)
      end = colon + 1 + strlen(colon + 1);
    rc = gust_secrets_add(*out, (int)version, (const uint8_t *)colon + 1,
                          (size_t)(end - colon - 1));
    p = *end == ',' ? end + 1 : end;
  }
  return rc;
}

int main(int argc, char **argv) {
  const char *host = "127.0.0.1", *secret = NULL, *keys = NULL;
  int port = 8888, key_version = 0, i, rc;
  gust_loop *loop;
  gust_web_app *app;
  gust_web_settings st;
  gust_secrets *secrets = NULL;
  signal(SIGPIPE, SIG_IGN);
  memset(&st, 0, sizeof st);
  for (i = 1; i < argc; i++) {
    if ((strcmp(argv[i], "-p") == 0 || strcmp(argv[i], "--port") == 0) &&
        i + 1 < argc)
      port = atoi(argv[++i]);
    else if (strcmp(argv[i], "--host") == 0 && i + 1 < argc)
      host = argv[++i];
    else if (strcmp(argv[i], "--secret") == 0 && i + 1 < argc)
      secret = argv[++i];
    else if (strcmp(argv[i], "--keys") == 0 && i + 1 < argc)
      keys = argv[++i];
    else if (strcmp(argv[i], "--key-version") == 0 && i + 1 < argc)
      key_version = atoi(argv[++i]);
    else if (strcmp(argv[i], "--xsrf") == 0)
      st.xsrf_cookies = 1;
    else if (strcmp(argv[i], "--xsrf-version") == 0 && i + 1 < argc)
      st.xsrf_cookie_version = atoi(argv[++i]);
    else
      usage();
  }
  if (secret != NULL && keys != NULL)
    usage();
  if (secret != NULL)
    rc = gust_secrets_new(&secrets, NULL, (const uint8_t *)secret,
                          strlen(secret));
  else if (keys != NULL)
    rc = parse_keys(&secrets, keys, key_version);
  else
    rc = 0;
  if (rc < 0) {
    fprintf(stderr, "web_peer: bad secret: %s\n", gust_strerror(rc));
    return 2;
  }
  st.cookie_secret = secrets;
  if ((rc = gust_loop_new(&loop, NULL)) < 0 ||
      (rc = gust_web_app_new(&app, loop, &st, NULL)) < 0) {
    fprintf(stderr, "web_peer: %s\n", gust_strerror(rc));
    return 1;
  }
  if ((rc = gust_web_app_add(app, "/set", &set_class, NULL, NULL)) < 0 ||
      (rc = gust_web_app_add(app, "/getv?", &get_class, NULL, NULL)) < 0 ||
      (rc = gust_web_app_add(app, "/keyversion", &keyversion_class, NULL,
                             NULL)) < 0 ||
      (rc = gust_web_app_add(app, "/setplain", &setplain_class, NULL, NULL)) <
          0 ||
      (rc = gust_web_app_add(app, "/getplain", &getplain_class, NULL, NULL)) <
          0 ||
      (rc = gust_web_app_add(app, "/xsrf", &xsrf_class, NULL, NULL)) < 0) {
    fprintf(stderr, "web_peer: route: %s\n", gust_strerror(rc));
    return 1;
  }
  rc = gust_web_app_listen(app, host, port, NULL, &server);
  if (rc < 0) {
    fprintf(stderr, "web_peer: cannot listen: %s\n", gust_strerror(rc));
    return 1;
  }
  printf("listening on %d\n", gust_http_server_port(server));
  fflush(stdout);
  gust_loop_add_signal_handler(loop, SIGTERM, on_signal, NULL);
  gust_loop_add_signal_handler(loop, SIGINT, on_signal, NULL);
  gust_loop_run(loop);
  gust_http_server_free(server);
  gust_web_app_free(app);
  gust_loop_free(loop);
  gust_secrets_free(secrets);
  return 0;
}
