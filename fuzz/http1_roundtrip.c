/* Fuzz target: parse -> serialize -> parse. Every request the server side
 * accepts is written again by the client side and read back by a fresh
 * server: method, target, fields and body must come back unchanged. */
#include "http1_fuzz.h"

#include <stdio.h>

typedef struct msg {
  char method[64];
  char target[8300];
  gust_headers hs;
  gust_buf body;
  int usable;
} msg;

static void copy_cstr(char *dst, size_t cap, gust_slice s, int *usable) {
  if (s.len >= cap) {
    *usable = 0;
    return;
  }
  memcpy(dst, s.ptr, s.len);
  dst[s.len] = '\0';
}

static int is_framing(gust_slice name) {
  static const char cl[] = "content-length", te[] = "transfer-encoding";
  gust_slice a = {(const uint8_t *)cl, sizeof(cl) - 1};
  gust_slice b = {(const uint8_t *)te, sizeof(te) - 1};
  return gust_slice_caseeq(name, a) || gust_slice_caseeq(name, b);
}

/* Serializes `m` as a client and checks that a fresh server reads it back. */
static void replay(msg *m) {
  gust_h1_config cfg;
  gust_h1 *c, *s;
  gust_h1_event ev;
  gust_slice out;
  char cl[32];
  size_t got = 0, i, it = 0, n;
  int t, saw_end = 0;
  gust_slice name, value;
  if (gust_headers_count_name(&m->hs, "Host") != 1)
    return; /* an HTTP/1.0 request without Host cannot be sent as 1.1 */
  snprintf(cl, sizeof(cl), "%zu", m->body.len);
  if (gust_headers_add_str(&m->hs, "Content-Length", cl) != 0)
    return;
  /* the copy carries one more field (Content-Length) and a few more bytes */
  gust_h1_config_init(&cfg);
  cfg.max_fields += 1;
  cfg.max_head += 64;
  FUZZ_CHECK(gust_h1_new(&c, GUST_H1_CLIENT, NULL, NULL) == 0);
  FUZZ_CHECK(gust_h1_new(&s, GUST_H1_SERVER, &cfg, NULL) == 0);
  FUZZ_CHECK(gust_h1_send_request(c, m->method, m->target, &m->hs) == 0);
  if (m->body.len != 0)
    FUZZ_CHECK(gust_h1_send_data(c, m->body.ptr, m->body.len) == 0);
  FUZZ_CHECK(gust_h1_send_end(c) == 0);
  out = gust_h1_pending_output(c);
  FUZZ_CHECK(gust_h1_feed(s, out.ptr, out.len) == 0);
  t = gust_h1_next_event(s, &ev);
  FUZZ_CHECK(t == GUST_H1_REQUEST);
  FUZZ_CHECK(ev.method.len == strlen(m->method) &&
             memcmp(ev.method.ptr, m->method, ev.method.len) == 0);
  FUZZ_CHECK(ev.target.len == strlen(m->target) &&
             memcmp(ev.target.ptr, m->target, ev.target.len) == 0);
  n = gust_headers_count(&m->hs);
  FUZZ_CHECK(ev.nfields == n);
  for (i = 0; i < n; i++) {
    FUZZ_CHECK(gust_headers_next(&m->hs, &it, &name, &value));
    FUZZ_CHECK(gust_slice_eq(name, ev.fields[i].name));
    FUZZ_CHECK(gust_slice_eq(value, ev.fields[i].value));
  }
  while ((t = gust_h1_next_event(s, &ev)) == GUST_H1_DATA) {
    FUZZ_CHECK(got + ev.data.len <= m->body.len);
    FUZZ_CHECK(memcmp(ev.data.ptr, m->body.ptr + got, ev.data.len) == 0);
    got += ev.data.len;
  }
  saw_end = t == GUST_H1_END_MESSAGE;
  FUZZ_CHECK(saw_end && got == m->body.len);
  gust_h1_free(c);
  gust_h1_free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  gust_h1_config cfg;
  gust_h1 *h;
  gust_h1_event ev;
  msg m;
  size_t i;
  int t;
  if (size < 1)
    return 0;
  gust_h1_config_init(&cfg);
  cfg.flags = data[0] & (GUST_H1_BARE_LF_HEAD | GUST_H1_CTL_IN_VALUES |
                         GUST_H1_SPACES_AFTER_CHUNK_SIZE);
  if (gust_h1_new(&h, GUST_H1_SERVER, &cfg, NULL) != 0)
    return 0;
  gust_headers_init(&m.hs, NULL);
  gust_buf_init(&m.body, NULL);
  m.usable = 0;
  gust_h1_feed(h, data + 1, size - 1);
  gust_h1_feed_eof(h, 0);
  for (;;) {
    t = gust_h1_next_event(h, &ev);
    if (t == GUST_H1_REQUEST) {
      gust_headers_clear(&m.hs);
      gust_buf_clear(&m.body);
      m.usable = 1;
      copy_cstr(m.method, sizeof(m.method), ev.method, &m.usable);
      copy_cstr(m.target, sizeof(m.target), ev.target, &m.usable);
      for (i = 0; i < ev.nfields && m.usable; i++) {
        if (is_framing(ev.fields[i].name))
          continue;
        if (gust_headers_add(&m.hs, (const char *)ev.fields[i].name.ptr,
                             ev.fields[i].name.len,
                             (const char *)ev.fields[i].value.ptr,
                             ev.fields[i].value.len) != 0)
          m.usable = 0; /* e.g. a control byte allowed by a leniency flag */
      }
    } else if (t == GUST_H1_DATA) {
      if (gust_buf_append(&m.body, ev.data.ptr, ev.data.len) != 0)
        m.usable = 0;
    } else if (t == GUST_H1_END_MESSAGE) {
      if (m.usable)
        replay(&m);
      fuzz_answer(h, 0);
    } else if (t != GUST_H1_TRAILERS) {
      break;
    }
  }
  gust_headers_free(&m.hs);
  gust_buf_free(&m.body);
  gust_h1_free(h);
  return 0;
}
