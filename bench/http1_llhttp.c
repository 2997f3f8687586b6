/* The llhttp runner of bench/http1_parse: header callbacks sum the lengths,
 * as for every parser. llhttp itself is compiled from the sources Debian's
 * node-llhttp ships (bench/llhttp_*.c), in the same run. */
#include <llhttp.h>

#include <stddef.h>

long bench_run_llhttp(const char *req, size_t len, long n);

static volatile size_t ll_sink;

static int ll_cb(llhttp_t *p, const char *at, size_t length) {
  (void)p;
  (void)at;
  ll_sink += length;
  return 0;
}

static int ll_done(llhttp_t *p) {
  (*(long *)p->data)++;
  return 0;
}

long bench_run_llhttp(const char *req, size_t len, long n) {
  llhttp_t p;
  llhttp_settings_t s;
  long i, done = 0;
  llhttp_settings_init(&s);
  s.on_header_field = ll_cb;
  s.on_header_value = ll_cb;
  s.on_message_complete = ll_done;
  llhttp_init(&p, HTTP_REQUEST, &s);
  p.data = &done;
  for (i = 0; i < n; i++)
    if (llhttp_execute(&p, req, len) != HPE_OK)
      break;
  return done;
}
