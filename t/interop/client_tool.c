/* Command-line helper for the HTTP client interop tests: fetches each URL
 * in turn on ONE gust_http_client, so that keep-alive reuse shows (one
 * gust-fetch process makes one request). Prints per URL
 *
 *   CODE LENGTH reused=0|1 BODY
 *
 * (BODY only when it is short and printable, "-" otherwise; an error
 * message follows for a 599), then "connects N reuses M". Exits 0 when
 * every response has a code below 400, 1 otherwise, 2 on usage errors.
 *
 *   client_tool [--cacert FILE] [--slow] URL [URL...]
 *
 * --cacert trusts FILE's CAs for https URLs; --slow streams the body
 * through a streaming_callback that holds every piece back with a short
 * sleep future (flow control), counting the bytes as LENGTH. */
#include <gust/httpclient.h>

#include <stdio.h>
#include <string.h>

#define TIMEOUT 60.0 /* per request: generous, the machine may be busy */

static const char *cacert;
static int slow;
static gust_loop *the_loop;
static size_t streamed;

static int on_piece(const void *data, size_t len, void *ud, gust_future **w) {
  (void)data;
  (void)ud;
  streamed += len;
  return gust_future_sleep(w, the_loop, 0.002, NULL);
}

/* Whether `s` can be printed on one line of the output. */
static int printable(gust_slice s) {
  size_t i;
  if (s.len == 0 || s.len > 80)
    return 0;
  for (i = 0; i < s.len; i++)
    if (s.ptr[i] < 0x21 || s.ptr[i] > 0x7e)
      return 0;
  return 1;
}

/* Fetches `url` and prints its line; returns 0 for a code below 400. */
static int fetch_one(gust_http_client *c, const char *url) {
  gust_fetch_request req;
  gust_future *f = NULL;
  const gust_fetch_response *resp;
  gust_fetch_timings t;
  gust_slice body;
  int rc, code;
  gust_fetch_request_init(&req, url);
  req.request_timeout = TIMEOUT;
  req.ca_certs = cacert;
  streamed = 0;
  if (slow)
    req.streaming_callback = on_piece;
  rc = gust_http_client_fetch(c, &req, &f);
  if (rc < 0) {
    printf("ERR %s %s\n", gust_errname(rc), gust_http_client_last_error(c));
    return 1;
  }
  rc = gust_future_run(f, 0);
  resp = rc == 0 ? gust_fetch_response_of(f) : NULL;
  if (resp == NULL) {
    printf("ERR %s\n", gust_errname(rc < 0 ? rc : gust_future_error(f)));
    gust_future_unref(f);
    return 1;
  }
  code = gust_fetch_response_code(resp);
  body = gust_fetch_response_body(resp);
  gust_fetch_response_timings(resp, &t);
  printf("%d %zu reused=%d ", code, slow ? streamed : body.len, t.reused);
  if (printable(body))
    printf("%.*s", (int)body.len, (const char *)body.ptr);
  else
    printf("-");
  if (gust_fetch_response_error(resp) != 0)
    printf(" %s", gust_fetch_response_error_message(resp) != NULL
                      ? gust_fetch_response_error_message(resp)
                      : gust_errname(gust_fetch_response_error(resp)));
  printf("\n");
  gust_future_unref(f);
  return code < 400 ? 0 : 1;
}

int main(int argc, char **argv) {
  gust_loop *loop = NULL;
  gust_http_client *c = NULL;
  gust_http_client_stats st;
  int i = 1, failed = 0;
  for (; i < argc && argv[i][0] == '-'; i++) {
    if (strcmp(argv[i], "--cacert") == 0 && i + 1 < argc)
      cacert = argv[++i];
    else if (strcmp(argv[i], "--slow") == 0)
      slow = 1;
    else
      break;
  }
  if (i >= argc) {
    fprintf(stderr,
            "usage: client_tool [--cacert FILE] [--slow] URL [URL...]\n");
    return 2;
  }
  if (gust_loop_new(&loop, NULL) < 0 ||
      gust_http_client_new(&c, loop, NULL, NULL) < 0) {
    fprintf(stderr, "client_tool: cannot create the loop or the client\n");
    gust_loop_free(loop);
    return 1;
  }
  the_loop = loop;
  for (; i < argc; i++)
    failed |= fetch_one(c, argv[i]);
  gust_http_client_stats_get(c, &st);
  printf("connects %llu reuses %llu\n", (unsigned long long)st.connects,
         (unsigned long long)st.reuses);
  gust_http_client_free(c);
  {
    /* let the closes of the pooled connections complete */
    gust_future *s = NULL;
    if (gust_future_sleep(&s, loop, 0, NULL) == 0)
      gust_future_run(s, 0);
    gust_future_unref(s);
  }
  gust_loop_free(loop);
  fflush(stdout);
  return failed;
}
