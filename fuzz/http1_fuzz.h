/* Shared driver for the HTTP/1.1 fuzz targets: feeds the input in pieces
 * chosen by the input itself, drains every event and aborts when an
 * invariant of the connection's contract breaks. */
#ifndef GUST_FUZZ_HTTP1_H
#define GUST_FUZZ_HTTP1_H

#include <gust/http1.h>

#include <stdlib.h>
#include <string.h>

#define FUZZ_CHECK(x)                                                          \
  do {                                                                         \
    if (!(x))                                                                  \
      abort();                                                                 \
  } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct fuzz_state {
  uint64_t fed;
  int done;
  int last;
  size_t chunk_size;
} fuzz_state;

/* Answers a request so that pipelined ones are read too. */
static inline void fuzz_answer(gust_h1 *h, unsigned head) {
  gust_headers hs;
  gust_slice out;
  gust_headers_init(&hs, NULL);
  if (head & (GUST_H1_HEAD_CONNECT | GUST_H1_HEAD_UPGRADE)) {
    if (gust_headers_add_str(&hs, "Content-Length", "0") == 0 &&
        gust_h1_send_response(h, 405, NULL, &hs) == 0)
      gust_h1_send_end(h);
  } else if (gust_h1_send_response(h, 200, NULL, NULL) == 0) {
    gust_h1_send_data(h, "ok", 2);
    gust_h1_send_end(h);
  }
  gust_headers_free(&hs);
  out = gust_h1_pending_output(h);
  gust_h1_consume_output(h, out.len);
}

/* Drains events, checking invariants; returns when more input is needed. */
static inline void fuzz_drain(gust_h1 *h, fuzz_state *st, int answer) {
  gust_h1_event ev;
  unsigned head = 0;
  for (;;) {
    int t = gust_h1_next_event(h, &ev);
    FUZZ_CHECK(t == (int)ev.type);
    if (st->done)
      FUZZ_CHECK(t == st->last); /* nothing after CLOSED or ERROR */
    st->last = t;
    switch (t) {
    case GUST_H1_NEED_DATA:
      return;
    case GUST_H1_REQUEST:
    case GUST_H1_RESPONSE:
      FUZZ_CHECK(ev.nfields <= 100);
      for (size_t i = 0; i < ev.nfields; i++)
        FUZZ_CHECK(ev.fields[i].name.len > 0);
      head = ev.head;
      break;
    case GUST_H1_DATA:
      FUZZ_CHECK(ev.data.len >= 1 && ev.data.len <= st->chunk_size);
      break;
    case GUST_H1_TRAILERS:
      FUZZ_CHECK(ev.nfields >= 1);
      break;
    case GUST_H1_END_MESSAGE:
      if (answer)
        fuzz_answer(h, head);
      break;
    case GUST_H1_PAUSED:
    case GUST_H1_SWITCHED:
      return;
    case GUST_H1_CLOSED:
      st->done = 1;
      return;
    case GUST_H1_ERROR:
      FUZZ_CHECK(ev.code < 0 && ev.message != NULL);
      FUZZ_CHECK(ev.offset <= st->fed);
      if (ev.http_status != 0)
        gust_h1_send_error(h);
      st->done = 1;
      return;
    default:
      FUZZ_CHECK(0);
    }
  }
}

/* Runs `data` through a new connection, cut into pieces whose sizes come
 * from `seed`; `prefix` (may be NULL) is fed first. */
static inline void fuzz_run(gust_h1 *h, const uint8_t *prefix, size_t plen,
                            const uint8_t *data, size_t size, unsigned seed,
                            size_t chunk_size, int answer) {
  fuzz_state st;
  size_t off = 0;
  memset(&st, 0, sizeof(st));
  st.last = -1;
  st.chunk_size = chunk_size;
  if (plen != 0) {
    gust_h1_feed(h, prefix, plen);
    st.fed += plen;
    fuzz_drain(h, &st, answer);
  }
  while (off < size && !st.done) {
    size_t n = (seed & 7) == 0 ? size - off : 1 + (seed % 13);
    if (n > size - off)
      n = size - off;
    gust_h1_feed(h, data + off, n);
    st.fed += n;
    off += n;
    seed = seed * 1103515245u + 12345u;
    fuzz_drain(h, &st, answer);
  }
  if (!st.done) {
    gust_h1_feed_eof(h, seed & 1 ? GUST_H1_EOF_UNCLEAN : 0);
    fuzz_drain(h, &st, answer);
  }
}

/* Builds a configuration from one input byte: leniency flags and small
 * limits so that the fuzzer reaches them. */
static inline void fuzz_config(gust_h1_config *cfg, uint8_t b) {
  gust_h1_config_init(cfg);
  cfg->flags = b & 0x1f;
  if (b & 0x20) {
    cfg->max_head = 256;
    cfg->max_fields = 8;
    cfg->max_target = 32;
    cfg->max_body = 64;
    cfg->max_chunk_ext = 16;
  }
  if (b & 0x40)
    cfg->chunk_size = 7;
}

#endif
