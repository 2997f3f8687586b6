/* Tests of the WebSocket connection state machine: every rule of the
 * frame, fragmentation, UTF-8 and closing sections of the reference, each
 * stream fed whole, at every split point, one byte at a time and from a
 * guard page, in whole-message and streaming mode; the close-code table;
 * sending in both roles; allocation-failure injection. */
#include "ws_util.h"

#include <stdlib.h>

struct fr {
  uint8_t b0;
  const char *p;
  size_t n;
};
#define FR(b0, s)                                                              \
  { b0, s, sizeof(s) - 1 }

struct wcase {
  const char *name;
  int client;         /* run the connection in the client role */
  int unmasked;       /* send the frames unmasked even to a server */
  uint64_t max_size;  /* 0 = default */
  uint32_t max_frags; /* 0 = default */
  struct fr frames[12];
  size_t cut;         /* drop this many bytes from the end */
  const char *events; /* wanted event transcript */
  const char *output; /* wanted output transcript */
};

static const char big125[] = "0123456789012345678901234567890123456789"
                             "0123456789012345678901234567890123456789"
                             "0123456789012345678901234567890123456789"
                             "01234";

static const struct wcase cases[] = {
    {"RFC text Hello", 0, 0, 0, 0, {FR(0x81, "Hello")}, 0, "text:Hello;", ""},
    {"RFC fragmented Hel+lo",
     0,
     0,
     0,
     0,
     {FR(0x01, "Hel"), FR(0x80, "lo")},
     0,
     "text:Hello;",
     ""},
    {"RFC ping answered with pong",
     0,
     0,
     0,
     0,
     {FR(0x89, "Hello")},
     0,
     "ping:Hello;",
     "pong:Hello;"},
    {"unsolicited pong reported, not answered",
     0,
     0,
     0,
     0,
     {FR(0x8a, "Hello")},
     0,
     "pong:Hello;",
     ""},
    {"empty text and binary",
     0,
     0,
     0,
     0,
     {FR(0x81, ""), FR(0x82, "")},
     0,
     "text:;binary:;",
     ""},
    {"binary with NUL",
     0,
     0,
     0,
     0,
     {FR(0x82, "a\0b")},
     0,
     "binary:a\\x00b;",
     ""},
    {"G4 ping between fragments",
     0,
     0,
     0,
     0,
     {FR(0x01, "Hel"), FR(0x89, "P"), FR(0x80, "lo")},
     0,
     "ping:P;text:Hello;",
     "pong:P;"},
    {"every ping answered",
     0,
     0,
     0,
     0,
     {FR(0x89, "1"), FR(0x89, "2"), FR(0x89, "3"), FR(0x89, "4"),
      FR(0x89, "5")},
     0,
     "ping:1;ping:2;ping:3;ping:4;ping:5;",
     "pong:1;pong:2;pong:3;pong:4;pong:5;"},
    {"125-byte ping", 0, 0, 0, 0, {{0x89, big125, 125}}, 0, NULL, NULL},
    {"G7 empty fragments legal",
     0,
     0,
     0,
     0,
     {FR(0x01, ""), FR(0x00, ""), FR(0x80, "")},
     0,
     "text:;",
     ""},
    {"G2 continuation without message",
     0,
     0,
     0,
     0,
     {FR(0x80, "x")},
     0,
     "error:1002;",
     "close:1002;"},
    {"G3 text inside fragmented message",
     0,
     0,
     0,
     0,
     {FR(0x01, "a"), FR(0x81, "b")},
     0,
     "error:1002;",
     "close:1002;"},
    {"G3 binary inside fragmented message",
     0,
     0,
     0,
     0,
     {FR(0x02, "a"), FR(0x82, "b")},
     0,
     "error:1002;",
     "close:1002;"},
    {"G5 126-byte ping",
     0,
     0,
     0,
     0,
     {{0x89, big125, 126}},
     0,
     "error:1002;",
     "close:1002;"},
    {"G6 fragmented ping",
     0,
     0,
     0,
     0,
     {FR(0x09, "x")},
     0,
     "error:1002;",
     "close:1002;"},
    {"G6 fragmented close",
     0,
     0,
     0,
     0,
     {FR(0x08, "")},
     0,
     "error:1002;",
     "close:1002;"},
    {"G7 fragment cap",
     0,
     0,
     0,
     3,
     {FR(0x01, "a"), FR(0x00, "b"), FR(0x00, "c"), FR(0x80, "d")},
     0,
     "error:1008;",
     "close:1008;"},
    {"G7 fragment cap exactly met",
     0,
     0,
     0,
     3,
     {FR(0x01, "a"), FR(0x00, "b"), FR(0x80, "c")},
     0,
     "text:abc;",
     ""},
    {"W1 RSV1 without extension",
     0,
     0,
     0,
     0,
     {FR(0xc1, "x")},
     0,
     "error:1002;",
     "close:1002;"},
    {"W1 RSV2", 0, 0, 0, 0, {FR(0xa1, "x")}, 0, "error:1002;", "close:1002;"},
    {"W1 RSV3", 0, 0, 0, 0, {FR(0x91, "x")}, 0, "error:1002;", "close:1002;"},
    {"W1 RSV on ping",
     0,
     0,
     0,
     0,
     {FR(0xc9, "x")},
     0,
     "error:1002;",
     "close:1002;"},
    {"W2 opcode 3",
     0,
     0,
     0,
     0,
     {FR(0x83, "")},
     0,
     "error:1002;",
     "close:1002;"},
    {"W2 opcode 7",
     0,
     0,
     0,
     0,
     {FR(0x87, "")},
     0,
     "error:1002;",
     "close:1002;"},
    {"W2 opcode B",
     0,
     0,
     0,
     0,
     {FR(0x8b, "")},
     0,
     "error:1002;",
     "close:1002;"},
    {"W2 opcode F",
     0,
     0,
     0,
     0,
     {FR(0x8f, "x")},
     0,
     "error:1002;",
     "close:1002;"},
    {"lazy failure: earlier messages first",
     0,
     0,
     0,
     0,
     {FR(0x81, "one"), FR(0x89, "p"), FR(0x82, "two"), FR(0x84, ""),
      FR(0x81, "never")},
     0,
     "text:one;ping:p;binary:two;error:1002;",
     "pong:p;close:1002;"},
    {"W5 message too big",
     0,
     0,
     10,
     0,
     {FR(0x81, "01234567890")},
     0,
     "error:1009;",
     "close:1009;"},
    {"W5 decided from the header",
     0,
     0,
     10,
     0,
     {FR(0x81, "01234567890")},
     11,
     "error:1009;",
     "close:1009;"},
    {"W5 exactly at the limit",
     0,
     0,
     10,
     0,
     {FR(0x81, "0123456789")},
     0,
     "text:0123456789;",
     ""},
    {"G8 fragments sum over the limit",
     0,
     0,
     10,
     0,
     {FR(0x01, "01234"), FR(0x80, "567890")},
     0,
     "error:1009;",
     "close:1009;"},
    {"W6 server refuses unmasked",
     0,
     1,
     0,
     0,
     {FR(0x81, "Hello")},
     0,
     "error:1002;",
     "close:1002;"},
    {"W7 client refuses masked",
     1,
     0,
     0,
     0,
     {FR(0x81, "Hello")},
     0,
     "error:1002;",
     "close:1002;"},
    {"client accepts unmasked",
     1,
     1,
     0,
     0,
     {FR(0x81, "Hello"), FR(0x89, "x")},
     0,
     "text:Hello;ping:x;",
     "pong:x;"},
    {"UTF-8 split across frames",
     0,
     0,
     0,
     0,
     {FR(0x01, "\xce"), FR(0x00, "\xba\xe1"), FR(0x80, "\xbd\xb9")},
     0,
     "text:\\xce\\xba\\xe1\\xbd\\xb9;",
     ""},
    {"UTF-8 invalid byte",
     0,
     0,
     0,
     0,
     {FR(0x81, "ab\xff")},
     0,
     "error:1007;",
     "close:1007;"},
    {"UTF-8 cut at FIN",
     0,
     0,
     0,
     0,
     {FR(0x81, "ab\xc2")},
     0,
     "error:1007;",
     "close:1007;"},
    {"UTF-8 cut at FIN across frames",
     0,
     0,
     0,
     0,
     {FR(0x01, "ab"), FR(0x80, "\xe1\x80")},
     0,
     "error:1007;",
     "close:1007;"},
    {"UTF-8 fail fast before FIN (6.4.1)",
     0,
     0,
     0,
     0,
     {FR(0x01, "\xce\xba\xf4\x90\x80\x80")},
     0,
     "error:1007;",
     "close:1007;"},
    {"UTF-8 fail fast inside a frame (6.4.3)",
     0,
     0,
     0,
     0,
     {FR(0x81, "\xce\xba\xf4\x90\x80\x80 and more text")},
     15,
     "error:1007;",
     "close:1007;"},
    {"UTF-8 not checked in binary",
     0,
     0,
     0,
     0,
     {FR(0x82, "\xff")},
     0,
     "binary:\\xff;",
     ""},
    {"X1 empty close", 0, 0, 0, 0, {FR(0x88, "")}, 0, "close:1005:;", "close;"},
    {"X2 one-byte close",
     0,
     0,
     0,
     0,
     {FR(0x88, "\x03")},
     0,
     "error:1002;",
     "close:1002;"},
    {"X3 close echoes the code only",
     0,
     0,
     0,
     0,
     {FR(0x88, "\x03\xe9"
               "bye")},
     0,
     "close:1001:bye;",
     "close:1001;"},
    {"X4 invalid code never echoed",
     0,
     0,
     0,
     0,
     {FR(0x88, "\x03\xec")},
     0,
     "error:1002;",
     "close:1002;"},
    {"X5 close reason not UTF-8",
     0,
     0,
     0,
     0,
     {FR(0x88, "\x03\xe8\xce\xba\xed\xa0\x80")},
     0,
     "error:1007;",
     "close:1007;"},
    {"X5 close reason cut code point",
     0,
     0,
     0,
     0,
     {FR(0x88, "\x03\xe8\xce")},
     0,
     "error:1007;",
     "close:1007;"},
    {"123-byte close reason",
     0,
     0,
     0,
     0,
     {{0x88,
       "\x03\xe8"
       "0123456789"
       "0123456789012345678901234567"
       "8901234567890123456789012345"
       "6789012345678901234567890123"
       "45678901234567890123456789012",
       125}},
     0,
     NULL,
     "close:1000;"},
    {"X6 nothing after close",
     0,
     0,
     0,
     0,
     {FR(0x88, "\x03\xe8"), FR(0x81, "late"), FR(0x89, "x")},
     0,
     "close:1000:;",
     "close:1000;"},
    {"7.1.5 close between fragments",
     0,
     0,
     0,
     0,
     {FR(0x01, "a"), FR(0x88, "\x03\xe8"), FR(0x80, "b")},
     0,
     "close:1000:;",
     "close:1000;"},
    {"incomplete frame waits", 0, 0, 0, 0, {FR(0x81, "Hello")}, 2, "", ""},
};

static void build(gust_buf *b, const struct wcase *c) {
  size_t i;
  gust_buf_init(b, NULL);
  for (i = 0; i < sizeof c->frames / sizeof c->frames[0]; i++) {
    const struct fr *f = &c->frames[i];
    if (f->p == NULL)
      break;
    wt_frame(b, f->b0, f->p, f->n, !c->unmasked);
  }
  gust_buf_truncate(b, b->len - c->cut);
}

/* variant 0: the case as written; 1: the same stream, unmasked, received
 * by a client; 2: with permessage-deflate negotiated (uncompressed
 * messages must behave the same). */
static void run_case(const struct wcase *orig, int streaming, int variant) {
  gust_ws_config cfg;
  gust_ws_deflate_params dp;
  struct wcase copy = *orig;
  const struct wcase *c = &copy;
  gust_buf in;
  wt_run r;
  char *want_ev = NULL, *want_out = NULL;
  size_t cut;
  int splits_ok = 1;
  static const char *const modes[2][3] = {
      {"whole", "whole, client", "whole, deflate"},
      {"streaming", "streaming, client", "streaming, deflate"}};
  const char *mode = modes[streaming != 0][variant];
  uint8_t *g;

  memset(&cfg, 0, sizeof cfg);
  memset(&dp, 0, sizeof dp);
  if (variant == 1)
    copy.client = copy.unmasked = 1;
  if (variant == 2)
    cfg.deflate = &dp;
  cfg.role = c->client ? GUST_WS_CLIENT : GUST_WS_SERVER;
  cfg.max_message_size = c->max_size;
  cfg.max_fragments = c->max_frags;
  cfg.streaming = streaming;
  build(&in, c);
  g = tap_guard_copy(in.ptr, in.len);

  wt_run_stream(&r, &cfg, g, in.len, in.len, in.len, NULL);
  if (c->events != NULL)
    is_str((const char *)r.events.ptr ? (const char *)r.events.ptr : "",
           c->events, "%s [%s, whole]: events", c->name, mode);
  if (c->output != NULL)
    is_str(r.output.ptr ? (const char *)r.output.ptr : "", c->output,
           "%s [%s, whole]: output", c->name, mode);
  is_int(r.rc, 0, "%s [%s, whole]: no unexpected error", c->name, mode);
  want_ev = strdup(r.events.ptr ? (const char *)r.events.ptr : "");
  want_out = strdup(r.output.ptr ? (const char *)r.output.ptr : "");
  wt_run_free(&r);

  for (cut = 1; cut < in.len; cut++) {
    wt_run_stream(&r, &cfg, g, in.len, cut, in.len, NULL);
    if (strcmp(r.events.ptr ? (const char *)r.events.ptr : "", want_ev) ||
        strcmp(r.output.ptr ? (const char *)r.output.ptr : "", want_out) ||
        r.rc != 0 || !r.flags_ok) {
      splits_ok = 0;
      diag("split at %zu: events %s output %s", cut,
           r.events.ptr ? (const char *)r.events.ptr : "",
           r.output.ptr ? (const char *)r.output.ptr : "");
    }
    wt_run_free(&r);
  }
  ok(splits_ok, "%s [%s]: every split point agrees", c->name, mode);

  wt_run_stream(&r, &cfg, g, in.len, in.len, 1, NULL);
  is_str(r.events.ptr ? (const char *)r.events.ptr : "", want_ev,
         "%s [%s, byte by byte]: events", c->name, mode);
  is_str(r.output.ptr ? (const char *)r.output.ptr : "", want_out,
         "%s [%s, byte by byte]: output", c->name, mode);
  ok(r.flags_ok, "%s [%s, byte by byte]: first/last flags", c->name, mode);
  wt_run_free(&r);

  tap_guard_free(g, in.len);
  gust_buf_free(&in);
  free(want_ev);
  free(want_out);
}

/* A deterministic RNG for client masks. */
static int fixed_random(void *buf, size_t n, void *user_data) {
  (void)user_data;
  memcpy(buf, wt_key, n < 4 ? n : 4);
  return 0;
}

static void test_close_codes(void) {
  unsigned code;
  int bad = 0;
  for (code = 0; code <= 65535; code++) {
    gust_buf in, want_ev, want_out;
    uint8_t p[2] = {(uint8_t)(code >> 8), (uint8_t)code};
    wt_run r;
    int valid = gust_ws_close_code_valid(code);
    gust_buf_init(&in, NULL);
    gust_buf_init(&want_ev, NULL);
    gust_buf_init(&want_out, NULL);
    wt_frame(&in, 0x88, p, 2, 1);
    wt_run_stream(&r, NULL, in.ptr, in.len, in.len, in.len, NULL);
    if (valid) {
      gust_buf_printf(&want_ev, "close:%u:;", code);
      gust_buf_printf(&want_out, "close:%u;", code);
    } else {
      gust_buf_printf(&want_ev, "error:1002;");
      gust_buf_printf(&want_out, "close:1002;");
    }
    if (strcmp((const char *)r.events.ptr, (const char *)want_ev.ptr) ||
        strcmp((const char *)r.output.ptr, (const char *)want_out.ptr)) {
      if (bad++ < 5)
        diag("code %u: %s / %s", code, (const char *)r.events.ptr,
             (const char *)r.output.ptr);
    }
    wt_run_free(&r);
    gust_buf_free(&in);
    gust_buf_free(&want_ev);
    gust_buf_free(&want_out);
  }
  is_int(bad, 0,
         "close codes: all 65536 received codes echoed or refused "
         "with 1002 per the table");
}

static void test_send(void) {
  gust_ws *ws;
  gust_ws_config cfg;
  gust_slice out;
  gust_buf t;
  static uint8_t big[70000];

  memset(&cfg, 0, sizeof cfg);
  cfg.role = GUST_WS_CLIENT;
  cfg.random = fixed_random;
  is_int(gust_ws_new(&ws, &cfg, NULL), 0, "send: client created");
  is_int(gust_ws_send(ws, GUST_WS_OP_TEXT, "Hello", 5), 0, "send: client text");
  out = gust_ws_pending_output(ws);
  cmp_mem(out.ptr, out.len, "\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58", 11,
          "send: client frame is the RFC masked Hello");
  gust_ws_consume_output(ws, out.len);
  is_int(gust_ws_send_pong(ws, "Hello", 5), 0, "send: client pong");
  out = gust_ws_pending_output(ws);
  cmp_mem(out.ptr, out.len, "\x8a\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58", 11,
          "send: client pong is the RFC masked pong");
  gust_ws_consume_output(ws, 3);
  out = gust_ws_pending_output(ws);
  is_int(out.len, 8, "send: partial consumption keeps the rest");
  gust_ws_consume_output(ws, 100);
  gust_ws_free(ws);

  is_int(gust_ws_new(&ws, NULL, NULL), 0, "send: server created");
  gust_buf_init(&t, NULL);
  ok(gust_ws_send(ws, GUST_WS_OP_TEXT, "Hello", 5) == 0 &&
         gust_ws_send_ping(ws, "Hello", 5) == 0 &&
         gust_ws_send(ws, GUST_WS_OP_BINARY, big, 256) == 0 &&
         gust_ws_send(ws, GUST_WS_OP_BINARY, big, 65536) == 0,
     "send: server frames queued");
  out = gust_ws_pending_output(ws);
  cmp_mem(out.ptr, 14, "\x81\x05Hello\x89\x05Hello", 14,
          "send: RFC unmasked Hello and ping");
  cmp_mem(out.ptr + 14, 4, "\x82\x7e\x01\x00", 4, "send: 256-byte header");
  cmp_mem(out.ptr + 14 + 4 + 256, 10,
          "\x82\x7f\x00\x00\x00\x00\x00\x01\x00\x00", 10,
          "send: 65536-byte header");
  gust_ws_consume_output(ws, out.len);
  is_int(gust_ws_send_fragment(ws, GUST_WS_OP_TEXT, "Hel", 3, 0), 0,
         "send: first fragment");
  is_int(gust_ws_send(ws, GUST_WS_OP_TEXT, "x", 1), GUST_ESTATE,
         "send: whole message refused while a fragmented one is open");
  is_int(gust_ws_send_fragment(ws, GUST_WS_OP_TEXT, "x", 1, 0), GUST_ESTATE,
         "send: new message refused while one is open");
  is_int(gust_ws_send_ping(ws, "p", 1), 0,
         "send: ping between own fragments (G9)");
  is_int(gust_ws_send_fragment(ws, GUST_WS_OP_CONT, "lo", 2, 1), 0,
         "send: last fragment");
  is_int(gust_ws_send_fragment(ws, GUST_WS_OP_CONT, "x", 1, 1), GUST_ESTATE,
         "send: continuation without message refused");
  out = gust_ws_pending_output(ws);
  wt_describe_output(&t, out.ptr, out.len);
  is_str((const char *)t.ptr, "text+:Hel;ping:p;cont:lo;",
         "send: fragments with a ping in between");
  gust_ws_consume_output(ws, out.len);
  is_int(gust_ws_send_ping(ws, big, 126), GUST_EINVAL,
         "send: 126-byte ping refused");
  is_int(gust_ws_send(ws, 9, "x", 1), GUST_EINVAL,
         "send: control opcode refused by gust_ws_send");
  is_int(gust_ws_close(ws, 1005, NULL, 0), GUST_EINVAL,
         "send: close 1005 refused");
  is_int(gust_ws_close(ws, 1000, "\xff", 1), GUST_EINVAL,
         "send: close reason must be UTF-8");
  is_int(gust_ws_close(ws, 1000, (const char *)big, 124), GUST_EINVAL,
         "send: 124-byte close reason refused");
  is_int(gust_ws_get_state(ws), GUST_WS_OPEN, "send: state open");
  is_int(gust_ws_close(ws, 0, "bye", 3), 0,
         "send: reason without code is sent with 1000");
  is_int(gust_ws_get_state(ws), GUST_WS_CLOSE_SENT, "send: state close sent");
  is_int(gust_ws_send(ws, GUST_WS_OP_TEXT, "x", 1), GUST_ESTATE,
         "send: no data after close (X6)");
  is_int(gust_ws_close(ws, 1000, NULL, 0), GUST_ESTATE,
         "send: second close refused");
  out = gust_ws_pending_output(ws);
  cmp_mem(out.ptr, out.len,
          "\x88\x05\x03\xe8"
          "bye",
          7, "send: close frame bytes");
  gust_ws_consume_output(ws, out.len);
  {
    gust_ws_event ev;
    const uint8_t reply[] = {0x88, 0x82, 0, 0, 0, 0, 0x03, 0xe8};
    is_int(gust_ws_feed(ws, reply, sizeof reply), 0, "send: feed reply");
    ok(gust_ws_next_event(ws, &ev) == 0 && ev.type == GUST_WS_EV_CLOSE &&
           ev.code == 1000,
       "send: peer's close reported");
    is_int(gust_ws_pending_output(ws).len, 0,
           "send: no second close frame after ours");
    is_int(gust_ws_get_state(ws), GUST_WS_CLOSED, "send: state closed");
    is_int(gust_ws_next_event(ws, &ev), GUST_ECLOSED,
           "send: GUST_ECLOSED after the close event");
  }
  gust_buf_free(&t);
  gust_ws_free(ws);
}

static void test_error_event(void) {
  gust_ws *ws;
  gust_ws_event ev;
  gust_buf in;
  gust_buf_init(&in, NULL);
  wt_frame(&in, 0x81, "ok", 2, 1);
  wt_frame(&in, 0x81, "a\xc0", 3, 1);
  gust_ws_new(&ws, NULL, NULL);
  gust_ws_feed(ws, in.ptr, in.len);
  ok(gust_ws_next_event(ws, &ev) == 0 && ev.type == GUST_WS_EV_TEXT,
     "error: message before the bad frame delivered");
  ok(gust_ws_next_event(ws, &ev) == 0 && ev.type == GUST_WS_EV_ERROR &&
         ev.error == GUST_EWS_UTF8 && ev.code == 1007 && ev.message != NULL,
     "error: ERROR event with code and message");
  is_int(ev.offset, 8 + 6 + 1, "error: offset of the offending byte");
  is_int(gust_ws_next_event(ws, &ev), GUST_EWS_UTF8,
         "error: sticky afterwards");
  is_int(gust_ws_feed(ws, in.ptr, in.len), 0,
         "error: frames after the failure are skipped");
  is_int(gust_ws_get_state(ws), GUST_WS_CLOSE_SENT,
         "error: waiting for the peer's close");
  gust_buf_clear(&in);
  wt_frame(&in, 0x88, "\x03\xea", 2, 1);
  is_int(gust_ws_feed(ws, in.ptr, in.len), 0, "error: peer's close fed");
  is_int(gust_ws_get_state(ws), GUST_WS_CLOSED,
         "error: the peer's close completes the handshake");
  {
    gust_slice r;
    is_int(gust_ws_peer_close(ws, &r), 1002,
           "error: the peer's code is known after draining");
    is_int((int)r.len, 0, "error: ... with its (empty) reason");
  }
  is_int(gust_ws_pending_output(ws).len, 2 + 2 + strlen(ev.message),
         "error: only our one close frame is queued");
  gust_ws_free(ws);
  gust_buf_free(&in);
}

/* After a failure in the middle of a long frame, the rest of that frame
 * and later frames are skipped until the peer's close, fed at every
 * step size. */
static void test_drain(void) {
  static uint8_t big[3000];
  gust_buf in;
  size_t step;
  int bad = 0;
  memset(big, 'a', sizeof big);
  big[100] = 0xff;
  gust_buf_init(&in, NULL);
  wt_frame(&in, 0x81, big, sizeof big, 1);
  wt_frame(&in, 0x89, "ping", 4, 1);
  wt_frame(&in, 0x82, big, 200, 1);
  wt_frame(&in, 0x88, "\x03\xe8", 2, 1);
  for (step = 1; step <= 64; step++) {
    gust_ws *ws;
    gust_ws_event ev;
    size_t off = 0;
    int errors = 0;
    gust_ws_new(&ws, NULL, NULL);
    while (off < in.len) {
      size_t k = in.len - off < step ? in.len - off : step;
      gust_ws_feed(ws, in.ptr + off, k);
      off += k;
      while (gust_ws_next_event(ws, &ev) == 0 &&
             ev.type != GUST_WS_EV_NEED_DATA)
        errors += ev.type == GUST_WS_EV_ERROR && ev.code == 1007;
    }
    if (errors != 1 || gust_ws_get_state(ws) != GUST_WS_CLOSED || ws == NULL)
      bad++;
    gust_ws_free(ws);
  }
  is_int(bad, 0,
         "drain: one 1007, then the peer's close is found at every "
         "step size");
  {
    gust_ws *ws;
    gust_ws_event ev;
    gust_buf_clear(&in);
    wt_frame(&in, 0x88, "\x03\xec", 2, 1);
    gust_ws_new(&ws, NULL, NULL);
    gust_ws_feed(ws, in.ptr, in.len);
    gust_ws_next_event(ws, &ev);
    ok(ev.type == GUST_WS_EV_ERROR && ev.code == 1002 &&
           gust_ws_get_state(ws) == GUST_WS_CLOSED,
       "drain: an invalid close code ends the handshake at once");
    gust_ws_free(ws);
  }
  {
    /* a close frame failing the header rules (RSV bits, fragmented, a
     * payload over 125 bytes) is still the peer's close */
    static const uint8_t bad_close[][8] = {{0xf8, 0x82, 0, 0, 0, 0},
                                           {0x08, 0x82, 0, 0, 0, 0},
                                           {0x88, 0xfe, 0, 126, 0, 0, 0, 0}};
    size_t i;
    int fine = 0;
    for (i = 0; i < sizeof(bad_close) / sizeof(bad_close[0]); i++) {
      gust_ws *ws;
      gust_ws_event ev;
      gust_ws_new(&ws, NULL, NULL);
      gust_ws_feed(ws, bad_close[i], 8);
      gust_ws_next_event(ws, &ev);
      fine += ev.type == GUST_WS_EV_ERROR && ev.code == 1002 &&
              gust_ws_get_state(ws) == GUST_WS_CLOSED;
      gust_ws_free(ws);
    }
    is_int(fine, 3, "drain: a malformed close ends the handshake at once");
  }
  {
    gust_ws *ws;
    gust_ws_event ev;
    const uint8_t junk[] = {0x82, 0xfe, 0x00, 0x05, 1, 2, 3, 4};
    gust_buf_clear(&in);
    wt_frame(&in, 0x88, "\x03\xe8", 2, 1);
    gust_ws_new(&ws, NULL, NULL);
    gust_ws_feed(ws, junk, sizeof junk);
    gust_ws_next_event(ws, &ev);
    gust_ws_feed(ws, in.ptr, in.len);
    ok(ev.type == GUST_WS_EV_ERROR &&
           gust_ws_get_state(ws) == GUST_WS_CLOSE_SENT,
       "drain: nothing is parsed after an undecodable length");
    gust_ws_free(ws);
  }
  gust_buf_free(&in);
}

/* A big message does not pin its memory once it was handed out. */
static void test_retain(void) {
  static uint8_t big[1 << 20];
  gust_failmem fm;
  gust_buf in;
  gust_ws *ws;
  gust_ws_event ev;
  int got = 0;
  gust_buf_init(&in, NULL);
  wt_frame(&in, 0x82, big, sizeof big, 1);
  gust_failmem_init(&fm, NULL);
  gust_ws_new(&ws, NULL, &fm.mem);
  gust_ws_feed(ws, in.ptr, in.len);
  while (gust_ws_next_event(ws, &ev) == 0 && ev.type != GUST_WS_EV_NEED_DATA)
    got += ev.type == GUST_WS_EV_BINARY && ev.data.len == sizeof big;
  is_int(got, 1, "retain: 1 MiB message received");
  ok(fm.live_bytes < 16384,
     "retain: %zu bytes held afterwards (buffers released)", fm.live_bytes);
  gust_ws_send(ws, GUST_WS_OP_BINARY, big, sizeof big);
  gust_ws_consume_output(ws, gust_ws_pending_output(ws).len);
  ok(fm.live_bytes < 16384, "retain: output buffer released once written");
  gust_ws_free(ws);
  gust_buf_free(&in);
}

static void test_config(void) {
  gust_ws *ws = NULL;
  gust_ws_config cfg;
  gust_ws_deflate_params dp;
  memset(&cfg, 0, sizeof cfg);
  memset(&dp, 0, sizeof dp);
  cfg.role = (gust_ws_role)7;
  is_int(gust_ws_new(&ws, &cfg, NULL), GUST_EINVAL, "config: bad role");
  cfg.role = GUST_WS_SERVER;
  cfg.deflate_level = 10;
  is_int(gust_ws_new(&ws, &cfg, NULL), GUST_EINVAL, "config: bad level");
  cfg.deflate_level = 0;
  cfg.deflate = &dp;
  dp.server_max_window_bits = 8;
  is_int(gust_ws_new(&ws, &cfg, NULL), GUST_EINVAL,
         "config: window bits 8 refused");
  ok(ws == NULL, "config: nothing returned on failure");
}

static void test_failmem(void) {
  gust_buf in;
  unsigned long i;
  int leaks = 0, bad = 0, hit = 0;
  gust_ws_config cfg;
  memset(&cfg, 0, sizeof cfg);
  gust_buf_init(&in, NULL);
  wt_frame(&in, 0x01, "Hel", 3, 1);
  wt_frame(&in, 0x89, "ping", 4, 1);
  wt_frame(&in, 0x80, "lo", 2, 1);
  wt_frame(&in, 0x82, "binary", 6, 1);
  wt_frame(&in, 0x88, "\x03\xe8", 2, 1);
  for (i = 1; i <= 40; i++) {
    gust_failmem fm;
    wt_run r;
    gust_failmem_init(&fm, NULL);
    fm.fail_at = i;
    wt_run_stream(&r, &cfg, in.ptr, in.len, in.len, 3, &fm.mem);
    if (r.rc == GUST_ENOMEM)
      hit++;
    else if (r.rc != 0)
      bad++;
    else if (strcmp((const char *)r.events.ptr,
                    "ping:ping;text:Hello;binary:binary;close:1000:;") != 0)
      bad++;
    if (fm.live_blocks != 0)
      leaks++;
    wt_run_free(&r);
  }
  ok(hit > 0, "failmem: allocation failures were injected (%d)", hit);
  is_int(bad, 0, "failmem: every run ends cleanly or with GUST_ENOMEM");
  is_int(leaks, 0, "failmem: nothing leaked");
  gust_buf_free(&in);
}

int main(void) {
  size_t i;
  if (tap_group("rules"))
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
      const struct wcase *c = &cases[i];
      size_t f;
      int rsv1 = 0;
      for (f = 0; f < sizeof c->frames / sizeof c->frames[0]; f++)
        if (c->frames[f].p != NULL && (c->frames[f].b0 & 0x40))
          rsv1 = 1;
      run_case(c, 0, 0);
      run_case(c, 1, 0);
      if (!c->client && !c->unmasked) {
        run_case(c, 0, 1);
        run_case(c, 1, 1);
      }
      if (!rsv1) {
        run_case(c, 0, 2);
        run_case(c, 1, 2);
      }
    }
  if (tap_group("close codes"))
    test_close_codes();
  if (tap_group("send"))
    test_send();
  if (tap_group("error"))
    test_error_event();
  if (tap_group("drain"))
    test_drain();
  if (tap_group("retain"))
    test_retain();
  if (tap_group("config"))
    test_config();
  if (tap_group("failmem"))
    test_failmem();
  return done_testing();
}
