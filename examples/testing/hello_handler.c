/* The handler tested in doc/testing.md. */
#include "hello_handler.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void hello(gust_http_request *req) {
  const gust_http_args *args;
  gust_slice name = gust_slice_cstr("world");
  char text[128];
  int n;
  if (gust_http_request_query_arguments(req, &args) == 0)
    gust_http_args_get_last(args, "name", &name);
  n = snprintf(text, sizeof(text), "Hello, %.*s!", (int)name.len,
               (const char *)name.ptr);
  gust_http_respond(req, 200, "text/plain", text,
                    n < (int)sizeof(text) ? (size_t)n : sizeof(text) - 1);
}

static void reverse(gust_http_request *req) {
  gust_slice body = gust_http_request_body(req);
  char *out = malloc(body.len + 1);
  size_t i;
  if (out == NULL) {
    gust_http_respond(req, 500, "text/plain", "out of memory", 13);
    return;
  }
  for (i = 0; i < body.len; i++)
    out[i] = (char)body.ptr[body.len - 1 - i];
  gust_http_respond(req, 200, "text/plain", out, body.len);
  free(out);
}

void hello_handler(gust_http_request *req, void *user_data) {
  const char *method = gust_http_request_method(req);
  const char *path = gust_http_request_path(req);
  (void)user_data;
  if (strcmp(method, "GET") == 0 && strcmp(path, "/hello") == 0)
    hello(req);
  else if (strcmp(method, "POST") == 0 && strcmp(path, "/reverse") == 0)
    reverse(req);
  else
    gust_http_respond(req, 404, "text/plain", "not found", 9);
}
