/* Tests of hello_handler with gust's testing helpers (doc/testing.md).
 * Build: cc hello_test.c hello_handler.c $(pkg-config --cflags --libs
 * gust-testing); run it directly, under prove, or from make check. */
#include <gust/testing.h>

#include "hello_handler.h"

/* Starts the handler on a fresh port of the test's loop; the test frees
 * the server when it ends. */
static gust_test_server *start(gust_test *t, int https) {
  gust_test_server_opts opts = {0};
  gust_test_server *srv = NULL;
  opts.request_cb = hello_handler;
  opts.https = https;
  gust_test_server_start(t, &opts, &srv);
  return srv;
}

/* The body of a response as a slice (empty when there is none). */
static gust_slice body(const gust_fetch_response *r) {
  return r != NULL ? gust_fetch_response_body(r) : gust_slice_cstr(NULL);
}

static void greets_by_name(gust_test *t, void *user_data) {
  gust_test_server *srv = start(t, 0);
  const gust_fetch_response *r;
  (void)user_data;
  if (srv == NULL)
    return; /* the test has failed and says why */
  r = gust_test_fetch(srv, "/hello?name=gust", NULL);
  GUST_IS_INT(r ? gust_fetch_response_code(r) : 0, 200, "status 200");
  GUST_OK(gust_slice_eq(body(r), gust_slice_cstr("Hello, gust!")),
          "greets by name");
}

static void greets_the_world(gust_test *t, void *user_data) {
  gust_test_server *srv = start(t, 0);
  (void)user_data;
  if (srv == NULL)
    return;
  GUST_OK(gust_slice_eq(body(gust_test_fetch(srv, "/hello", NULL)),
                        gust_slice_cstr("Hello, world!")),
          "greets the world without a name");
}

static void reverses_a_post(gust_test *t, void *user_data) {
  gust_test_server *srv = start(t, 0);
  gust_fetch_request req;
  (void)user_data;
  if (srv == NULL)
    return;
  gust_fetch_request_init(&req, NULL); /* the URL comes from the path */
  req.method = "POST";
  req.body = "stressed";
  req.body_len = 8;
  GUST_OK(gust_slice_eq(body(gust_test_fetch(srv, "/reverse", &req)),
                        gust_slice_cstr("desserts")),
          "POST /reverse reverses the body");
}

static void unknown_path(gust_test *t, void *user_data) {
  gust_test_server *srv = start(t, 0);
  const gust_fetch_response *r;
  (void)user_data;
  if (srv == NULL)
    return;
  r = gust_test_fetch(srv, "/nope", NULL);
  GUST_IS_INT(r ? gust_fetch_response_code(r) : 0, 404, "404 elsewhere");
}

static void over_https(gust_test *t, void *user_data) {
  /* A throwaway certificate for 127.0.0.1, trusted by the test's client
   * and by nothing else. */
  gust_test_server *srv = start(t, 1);
  const gust_fetch_response *r;
  (void)user_data;
  if (srv == NULL)
    return;
  r = gust_test_fetch(srv, "/hello?name=tls", NULL);
  GUST_IS_INT(r ? gust_fetch_response_code(r) : 0, 200, "status 200");
  GUST_OK(gust_slice_eq(body(r), gust_slice_cstr("Hello, tls!")),
          "the same answer over HTTPS");
}

int main(void) {
  gust_test_case("GET /hello?name=gust", greets_by_name, NULL);
  gust_test_case("GET /hello", greets_the_world, NULL);
  gust_test_case("POST /reverse", reverses_a_post, NULL);
  gust_test_case("GET /nope", unknown_path, NULL);
  gust_test_case("GET /hello over HTTPS", over_https, NULL);
  return gust_tap_done();
}
