/* Tests of the HTTP server's request object, built from heads the
 * HTTP/1.1 state machine really parsed. */
#include <gust/httpserver.h>

#include <stdio.h>
#include <string.h>

#include "../tap.h"
#include "http/request_int.h"

/* Parses `raw` (one whole request) and builds the request from its events
 * with `env`. Returns 0 or the first error. */
static int build(const char *raw, const gust__http_req_env *env,
                 const gust_mem *mem, gust_http_request **out) {
  gust_h1 *h;
  gust_h1_event ev;
  gust_http_request *req = NULL;
  int rc = 0, type;
  *out = NULL;
  if (gust_h1_new(&h, GUST_H1_SERVER, NULL, NULL) != 0)
    bail_out("gust_h1_new");
  if (gust_h1_feed(h, raw, strlen(raw)) != 0)
    bail_out("gust_h1_feed");
  for (;;) {
    type = gust_h1_next_event(h, &ev);
    if (type == GUST_H1_REQUEST) {
      rc = gust__http_request_new(&req, mem, &ev, env);
    } else if (type == GUST_H1_DATA) {
      rc = gust__http_request_append_body(req, ev.data.ptr, ev.data.len);
    } else if (type == GUST_H1_TRAILERS) {
      rc = gust__http_request_set_trailers(req, ev.fields, ev.nfields);
    } else if (type == GUST_H1_END_MESSAGE) {
      break;
    } else {
      rc = GUST_EINTERNAL;
      diag("unexpected event %d", type);
    }
    if (rc != 0)
      break;
  }
  gust_h1_free(h);
  if (rc != 0) {
    gust_http_request_unref(req);
    return rc;
  }
  *out = req;
  return 0;
}

static gust__http_req_env plain_env(void) {
  static gust_addr peer;
  gust__http_req_env env;
  memset(&env, 0, sizeof(env));
  gust_addr_set(&peer, "10.0.0.1", 4321);
  env.peer = &peer;
  env.protocol = "http";
  env.start_time = 100.0;
  return env;
}

static void test_basic(void) {
  gust__http_req_env env = plain_env();
  gust_http_request *req;
  if (!tap_group("basic"))
    return;
  is_int(build("GET /a/b?x=1 HTTP/1.1\r\nHost: Example.COM:8080\r\n\r\n", &env,
               NULL, &req),
         0, "basic: request built");
  is_str(gust_http_request_method(req), "GET", "basic: method");
  is_str(gust_http_request_uri(req), "/a/b?x=1", "basic: uri");
  is_str(gust_http_request_path(req), "/a/b", "basic: path");
  is_str(gust_http_request_query(req), "x=1", "basic: query");
  is_str(gust_http_request_host(req), "Example.COM:8080", "basic: host");
  is_str(gust_http_request_host_name(req), "example.com", "basic: host_name");
  is_str(gust_http_request_remote_ip(req), "10.0.0.1", "basic: remote_ip");
  gust_http_request_unref(req);
}

int main(void) {
  gust_log_set_level(GUST_LOG_GENERAL, GUST_LOG_OFF);
  test_basic();
  return done_testing();
}
