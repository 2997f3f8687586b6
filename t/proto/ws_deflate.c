/* Tests of permessage-deflate: negotiation tables for both roles, the
 * RFC 7692 vectors, round trips for each parameter set with and without
 * context takeover, bombs, corrupt data, fail-fast UTF-8 on inflated
 * output, and allocation-failure injection through zlib's hooks. */
#include "ws_util.h"

#include <stdlib.h>

/* ---------------------------------------------------------------- */
/* Negotiation                                                        */

struct ncase {
  const char *name;
  const char *offer;
  gust_ws_deflate_config cfg;
  int want;             /* 1 accepted, 0 declined */
  const char *response; /* when accepted */
};

static const struct ncase ncases[] = {
    {"bare offer", "permessage-deflate", {0, 0, 0, 0}, 1, "permessage-deflate"},
    {"bare client_max_window_bits dropped",
     "permessage-deflate; client_max_window_bits",
     {0, 0, 0, 0},
     1,
     "permessage-deflate"},
    {"bare client_max_window_bits answered with our limit",
     "permessage-deflate; client_max_window_bits",
     {0, 10, 0, 0},
     1,
     "permessage-deflate; client_max_window_bits=10"},
    {"client limit not offered cannot be asked",
     "permessage-deflate",
     {0, 10, 0, 0},
     1,
     "permessage-deflate"},
    {"client offers its own limit",
     "permessage-deflate; client_max_window_bits=12",
     {0, 0, 0, 0},
     1,
     "permessage-deflate; client_max_window_bits=12"},
    {"client limit tightened",
     "permessage-deflate; client_max_window_bits=12",
     {0, 9, 0, 0},
     1,
     "permessage-deflate; client_max_window_bits=9"},
    {"client limit 8 accepted",
     "permessage-deflate; client_max_window_bits=8",
     {0, 0, 0, 0},
     1,
     "permessage-deflate; client_max_window_bits=8"},
    {"server window requested",
     "permessage-deflate; server_max_window_bits=10",
     {0, 0, 0, 0},
     1,
     "permessage-deflate; server_max_window_bits=10"},
    {"server window lowered by config",
     "permessage-deflate; server_max_window_bits=12",
     {9, 0, 0, 0},
     1,
     "permessage-deflate; server_max_window_bits=9"},
    {"server window added unasked",
     "permessage-deflate",
     {12, 0, 0, 0},
     1,
     "permessage-deflate; server_max_window_bits=12"},
    {"server window 8 declined",
     "permessage-deflate; server_max_window_bits=8",
     {0, 0, 0, 0},
     0,
     NULL},
    {"next offer after a declined one",
     "permessage-deflate; server_max_window_bits=8, permessage-deflate",
     {0, 0, 0, 0},
     1,
     "permessage-deflate"},
    {"no context takeover both",
     "permessage-deflate; server_no_context_takeover; "
     "client_no_context_takeover",
     {0, 0, 0, 0},
     1,
     "permessage-deflate; server_no_context_takeover; "
     "client_no_context_takeover"},
    {"no context takeover added by config",
     "permessage-deflate",
     {0, 0, 1, 1},
     1,
     "permessage-deflate; server_no_context_takeover; "
     "client_no_context_takeover"},
    {"quoted value",
     "permessage-deflate; server_max_window_bits=\"10\"",
     {0, 0, 0, 0},
     1,
     "permessage-deflate; server_max_window_bits=10"},
    {"unknown parameter", "permessage-deflate; foo", {0, 0, 0, 0}, 0, NULL},
    {"repeated parameter",
     "permessage-deflate; server_no_context_takeover; "
     "server_no_context_takeover",
     {0, 0, 0, 0},
     0,
     NULL},
    {"value on a flag",
     "permessage-deflate; server_no_context_takeover=1",
     {0, 0, 0, 0},
     0,
     NULL},
    {"window 16",
     "permessage-deflate; server_max_window_bits=16",
     {0, 0, 0, 0},
     0,
     NULL},
    {"window 7",
     "permessage-deflate; client_max_window_bits=7",
     {0, 0, 0, 0},
     0,
     NULL},
    {"leading zero",
     "permessage-deflate; server_max_window_bits=09",
     {0, 0, 0, 0},
     0,
     NULL},
    {"bare server_max_window_bits",
     "permessage-deflate; server_max_window_bits",
     {0, 0, 0, 0},
     0,
     NULL},
    {"other extension only", "x-webkit-deflate-frame", {0, 0, 0, 0}, 0, NULL},
    {"other extension first",
     "x-foo, permessage-deflate",
     {0, 0, 0, 0},
     1,
     "permessage-deflate"},
};

static void test_negotiate(void) {
  size_t i;
  for (i = 0; i < sizeof ncases / sizeof ncases[0]; i++) {
    const struct ncase *c = &ncases[i];
    gust_ws_extensions e;
    gust_ws_deflate_params a;
    gust_buf resp;
    int rc;
    gust_buf_init(&resp, NULL);
    if (gust_ws_extensions_parse_value(&e, c->offer, strlen(c->offer), NULL) <
        0)
      bail_out("offer does not parse: %s", c->offer);
    rc = gust_ws_deflate_negotiate(&e, &c->cfg, &a, &resp);
    is_int(rc, c->want, "negotiate: %s", c->name);
    if (c->want == 1) {
      gust_ws_extensions back;
      is_str(resp.ptr ? (const char *)resp.ptr : "", c->response,
             "negotiate: %s response", c->name);
      /* the answer is itself a valid extension header of one element */
      ok(gust_ws_extensions_parse_value(&back, (const char *)resp.ptr, resp.len,
                                        NULL) == 0 &&
             back.count == 1,
         "negotiate: %s response parses", c->name);
      gust_ws_extensions_free(&back);
    }
    gust_ws_extensions_free(&e);
    gust_buf_free(&resp);
  }
}

struct ccase {
  const char *name;
  gust_ws_deflate_config cfg;
  const char *response; /* NULL = no extension header */
  int rc;
  int accepted;
  gust_ws_deflate_params want;
};

static const struct ccase ccases[] = {
    {"no extension", {0, 0, 0, 0}, NULL, 0, 0, {0, 0, 0, 0}},
    {"plain accept", {0, 0, 0, 0}, "permessage-deflate", 0, 1, {0, 0, 0, 0}},
    {"server limits the client",
     {0, 0, 0, 0},
     "permessage-deflate; client_max_window_bits=10",
     0,
     1,
     {0, 0, 0, 10}},
    {"client limit above offer",
     {0, 10, 0, 0},
     "permessage-deflate; client_max_window_bits=12",
     GUST_EWS_EXTENSION,
     0,
     {0, 0, 0, 0}},
    {"client limit 8",
     {0, 0, 0, 0},
     "permessage-deflate; client_max_window_bits=8",
     GUST_EWS_EXTENSION,
     0,
     {0, 0, 0, 0}},
    {"bare client_max_window_bits in a response",
     {0, 0, 0, 0},
     "permessage-deflate; client_max_window_bits",
     GUST_EWS_EXTENSION,
     0,
     {0, 0, 0, 0}},
    {"server window unasked",
     {0, 0, 0, 0},
     "permessage-deflate; server_max_window_bits=9",
     0,
     1,
     {0, 0, 9, 0}},
    {"server window 8 unasked",
     {0, 0, 0, 0},
     "permessage-deflate; server_max_window_bits=8",
     0,
     1,
     {0, 0, 8, 0}},
    {"server window above request",
     {10, 0, 0, 0},
     "permessage-deflate; server_max_window_bits=11",
     GUST_EWS_EXTENSION,
     0,
     {0, 0, 0, 0}},
    {"requested server window missing",
     {10, 0, 0, 0},
     "permessage-deflate",
     GUST_EWS_EXTENSION,
     0,
     {0, 0, 0, 0}},
    {"requested server_no_context_takeover missing",
     {0, 0, 1, 0},
     "permessage-deflate",
     GUST_EWS_EXTENSION,
     0,
     {0, 0, 0, 0}},
    {"no context takeover",
     {0, 0, 1, 0},
     "permessage-deflate; server_no_context_takeover; "
     "client_no_context_takeover",
     0,
     1,
     {1, 1, 0, 0}},
    {"unknown extension",
     {0, 0, 0, 0},
     "x-foo",
     GUST_EWS_EXTENSION,
     0,
     {0, 0, 0, 0}},
    {"two elements",
     {0, 0, 0, 0},
     "permessage-deflate, permessage-deflate",
     GUST_EWS_EXTENSION,
     0,
     {0, 0, 0, 0}},
    {"unknown parameter",
     {0, 0, 0, 0},
     "permessage-deflate; x=1",
     GUST_EWS_EXTENSION,
     0,
     {0, 0, 0, 0}},
    {"repeated parameter",
     {0, 0, 0, 0},
     "permessage-deflate; client_no_context_takeover; "
     "client_no_context_takeover",
     GUST_EWS_EXTENSION,
     0,
     {0, 0, 0, 0}},
};

static void test_client_check(void) {
  size_t i;
  for (i = 0; i < sizeof ccases / sizeof ccases[0]; i++) {
    const struct ccase *c = &ccases[i];
    gust_ws_extensions e;
    gust_ws_deflate_params a;
    int accepted = -1;
    const char *r = c->response ? c->response : "";
    gust_ws_extensions_parse_value(&e, r, strlen(r), NULL);
    is_int(gust_ws_deflate_check_response(&e, &c->cfg, &a, &accepted), c->rc,
           "client check: %s", c->name);
    if (c->rc == 0) {
      is_int(accepted, c->accepted, "client check: %s accepted", c->name);
      ok(a.server_no_context_takeover == c->want.server_no_context_takeover &&
             a.client_no_context_takeover ==
                 c->want.client_no_context_takeover &&
             a.server_max_window_bits == c->want.server_max_window_bits &&
             a.client_max_window_bits == c->want.client_max_window_bits,
         "client check: %s parameters", c->name);
    }
    gust_ws_extensions_free(&e);
  }
}

static void test_offer(void) {
  gust_buf b;
  gust_ws_deflate_config cfg = {10, 12, 1, 1};
  gust_ws_deflate_config bad = {8, 0, 0, 0};
  gust_buf_init(&b, NULL);
  is_int(gust_ws_deflate_offer(NULL, &b), 0, "offer: default");
  is_str((const char *)b.ptr, "permessage-deflate; client_max_window_bits",
         "offer: default text (as Tornado)");
  gust_buf_clear(&b);
  is_int(gust_ws_deflate_offer(&cfg, &b), 0, "offer: configured");
  is_str((const char *)b.ptr,
         "permessage-deflate; server_no_context_takeover; "
         "client_no_context_takeover; server_max_window_bits=10; "
         "client_max_window_bits=12",
         "offer: configured text");
  is_int(gust_ws_deflate_offer(&bad, &b), GUST_EINVAL,
         "offer: never asks for 8");
  gust_buf_free(&b);
}

/* ---------------------------------------------------------------- */
/* Wire                                                               */

struct vcase {
  const char *name;
  const char *bytes;
  size_t len;
  const char *events;
};
#define V(name, s, ev)                                                         \
  { name, s, sizeof(s) - 1, ev }

static const struct vcase vcases[] = {
    V("RFC Hello one frame", "\xc1\x07\xf2\x48\xcd\xc9\xc9\x07\x00",
      "text:Hello;"),
    V("RFC Hello two frames", "\x41\x03\xf2\x48\xcd\x80\x04\xc9\xc9\x07\x00",
      "text:Hello;"),
    V("RFC context takeover",
      "\xc1\x07\xf2\x48\xcd\xc9\xc9\x07\x00\xc1\x05\xf2\x00\x11\x00\x00",
      "text:Hello;text:Hello;"),
    V("RFC stored block",
      "\xc1\x0b\x00\x05\x00\xfa\xff\x48\x65\x6c\x6c\x6f\x00", "text:Hello;"),
    V("RFC BFINAL", "\xc1\x08\xf3\x48\xcd\xc9\xc9\x07\x00\x00", "text:Hello;"),
    V("RFC BFINAL then another message",
      "\xc1\x08\xf3\x48\xcd\xc9\xc9\x07\x00\x00"
      "\xc1\x07\xf2\x48\xcd\xc9\xc9\x07\x00",
      "text:Hello;text:Hello;"),
    V("RFC two deflate blocks",
      "\xc1\x0d\xf2\x48\x05\x00\x00\x00\xff\xff\xca\xc9\xc9\x07\x00",
      "text:Hello;"),
    V("RFC empty message", "\xc1\x01\x00", "text:;"),
    V("uncompressed message allowed", "\x81\x02hi", "text:hi;"),
    V("RSV1 on continuation", "\x41\x03\xf2\x48\xcd\xc0\x04\xc9\xc9\x07\x00",
      "error:1002;"),
    V("RSV1 on ping", "\xc9\x00", "error:1002;"),
    V("corrupt data", "\xc1\x03\xff\xff\xff", "error:1007;"),
    V("compressed invalid UTF-8", "\xc1\x03\xfb\x0f\x00", "error:1007;"),
    V("compressed binary not validated", "\xc2\x03\xfb\x0f\x00",
      "binary:\\xff;"),
};

static void test_vectors(void) {
  gust_ws_deflate_params dp;
  gust_ws_config cfg;
  size_t i;
  memset(&dp, 0, sizeof dp);
  memset(&cfg, 0, sizeof cfg);
  cfg.role = GUST_WS_CLIENT;
  cfg.deflate = &dp;
  for (i = 0; i < sizeof vcases / sizeof vcases[0]; i++) {
    const struct vcase *c = &vcases[i];
    int mode;
    /* bit 0: streaming; bit 1: max_message_size = UINT64_MAX ("no
     * limit", whose bound must not wrap) */
    for (mode = 0; mode < 4; mode++) {
      uint8_t *g = tap_guard_copy(c->bytes, c->len);
      wt_run r;
      size_t cut;
      int splits = 1;
      cfg.streaming = mode & 1;
      cfg.max_message_size = (mode & 2) ? UINT64_MAX : 0;
      wt_run_stream(&r, &cfg, g, c->len, c->len, c->len, NULL);
      is_str((const char *)r.events.ptr, c->events, "vector: %s [%s%s]",
             c->name, (mode & 1) ? "streaming" : "whole",
             (mode & 2) ? ", no limit" : "");
      wt_run_free(&r);
      for (cut = 1; cut < c->len; cut++) {
        wt_run_stream(&r, &cfg, g, c->len, cut, c->len, NULL);
        if (strcmp((const char *)r.events.ptr, c->events) != 0)
          splits = 0;
        wt_run_free(&r);
      }
      wt_run_stream(&r, &cfg, g, c->len, c->len, 1, NULL);
      if (strcmp((const char *)r.events.ptr, c->events) != 0)
        splits = 0;
      wt_run_free(&r);
      ok(splits, "vector: %s [%s%s] every split and byte by byte", c->name,
         (mode & 1) ? "streaming" : "whole", (mode & 2) ? ", no limit" : "");
      tap_guard_free(g, c->len);
    }
  }
}

/* Sends `msgs` from a `from` endpoint and feeds the bytes to `to` in
 * pieces of `step`; returns 1 if every message arrives intact. */
static uint8_t *pattern(size_t n, int kind) {
  uint8_t *p = (uint8_t *)malloc(n ? n : 1);
  size_t i;
  unsigned s = 7;
  for (i = 0; i < n; i++) {
    s = s * 1103515245u + 12345u;
    p[i] = kind == 0   ? (uint8_t) "The quick brown fox "[i % 20]
           : kind == 1 ? (uint8_t)(s >> 16)
                       : (uint8_t)(i % 7 == 0 ? '\n' : 'a' + (s >> 16) % 4);
  }
  return p;
}

static int pump(gust_ws *from, gust_ws *to, size_t step, gust_buf *got,
                int *nmsg) {
  gust_slice out = gust_ws_pending_output(from);
  size_t off = 0;
  while (off < out.len) {
    size_t k = out.len - off < step ? out.len - off : step;
    gust_ws_event ev;
    if (gust_ws_feed(to, out.ptr + off, k) < 0)
      return 0;
    off += k;
    for (;;) {
      if (gust_ws_next_event(to, &ev) < 0)
        return 0;
      if (ev.type == GUST_WS_EV_NEED_DATA)
        break;
      if (ev.type == GUST_WS_EV_ERROR)
        return 0;
      if (ev.type == GUST_WS_EV_TEXT || ev.type == GUST_WS_EV_BINARY) {
        gust_buf_append(got, ev.data.ptr, ev.data.len);
        if (ev.last)
          (*nmsg)++;
      }
    }
  }
  gust_ws_consume_output(from, out.len);
  return 1;
}

static const size_t sizes[] = {0, 1, 5, 200, 5000, 70000};

static void round_trip(const gust_ws_deflate_params *dp, int level,
                       int mem_level, int frag, const char *label) {
  gust_ws_config sc, cc;
  gust_ws *srv, *cli;
  int good = 1, dir;
  size_t i;
  memset(&sc, 0, sizeof sc);
  memset(&cc, 0, sizeof cc);
  sc.deflate = cc.deflate = dp;
  sc.deflate_level = cc.deflate_level = level;
  sc.deflate_mem_level = cc.deflate_mem_level = mem_level;
  cc.role = GUST_WS_CLIENT;
  if (gust_ws_new(&srv, &sc, NULL) < 0 || gust_ws_new(&cli, &cc, NULL) < 0)
    bail_out("cannot create connections");
  for (dir = 0; dir < 2; dir++) {
    gust_ws *a = dir ? srv : cli, *b = dir ? cli : srv;
    int kind;
    for (kind = 0; kind < 3; kind++)
      for (i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        int rep;
        for (rep = 0; rep < 2; rep++) { /* twice: exercises the context */
          size_t n = sizes[i];
          uint8_t *p = pattern(n, kind);
          gust_buf got;
          int nmsg = 0, rc;
          unsigned op = kind == 1 ? GUST_WS_OP_BINARY : GUST_WS_OP_TEXT;
          gust_buf_init(&got, NULL);
          if (!frag) {
            rc = gust_ws_send(a, op, p, n);
          } else {
            size_t h = n / 3;
            rc = gust_ws_send_fragment(a, op, p, h, 0);
            if (rc == 0)
              rc = gust_ws_send_fragment(a, GUST_WS_OP_CONT, p + h, n / 3, 0);
            if (rc == 0)
              rc = gust_ws_send_fragment(a, GUST_WS_OP_CONT, p + h + n / 3,
                                         n - h - n / 3, 1);
          }
          if (rc != 0 || !pump(a, b, n < 300 ? 1 : 997, &got, &nmsg) ||
              nmsg != 1 || got.len != n || (n && memcmp(got.ptr, p, n))) {
            if (good)
              diag("%s: dir %d kind %d size %zu rep %d failed", label, dir,
                   kind, n, rep);
            good = 0;
          }
          gust_buf_free(&got);
          free(p);
        }
      }
  }
  ok(good, "round trip: %s", label);
  gust_ws_free(srv);
  gust_ws_free(cli);
}

static void test_round_trips(void) {
  static const int bits[] = {9, 10, 12, 15};
  static const int levels[][2] = {{1, 1}, {6, 8}, {9, 9}, {-1, 5}};
  size_t b, l;
  int takeover, frag;
  char label[160];
  for (takeover = 0; takeover < 4; takeover++)
    for (b = 0; b < sizeof bits / sizeof bits[0]; b++)
      for (frag = 0; frag < 2; frag++) {
        gust_ws_deflate_params dp;
        dp.server_no_context_takeover = takeover & 1;
        dp.client_no_context_takeover = (takeover >> 1) & 1;
        dp.server_max_window_bits = bits[b];
        dp.client_max_window_bits = bits[(b + 1) % 4];
        l = (b + (size_t)takeover) % 4;
        snprintf(label, sizeof label,
                 "snct=%d cnct=%d smwb=%d cmwb=%d level=%d memLevel=%d %s",
                 dp.server_no_context_takeover, dp.client_no_context_takeover,
                 dp.server_max_window_bits, dp.client_max_window_bits,
                 levels[l][0], levels[l][1], frag ? "fragmented" : "whole");
        round_trip(&dp, levels[l][0], levels[l][1], frag, label);
      }
}

/* With no context takeover every identical message compresses the same;
 * with takeover the repeat is shorter. */
static void test_context(void) {
  int takeover;
  for (takeover = 0; takeover < 2; takeover++) {
    gust_ws_deflate_params dp;
    gust_ws_config cfg;
    gust_ws *ws;
    gust_slice out;
    uint8_t first[64];
    size_t n1;
    memset(&dp, 0, sizeof dp);
    dp.server_no_context_takeover = !takeover;
    memset(&cfg, 0, sizeof cfg);
    cfg.deflate = &dp;
    gust_ws_new(&ws, &cfg, NULL);
    gust_ws_send(ws, GUST_WS_OP_TEXT, "Hello", 5);
    out = gust_ws_pending_output(ws);
    n1 = out.len;
    memcpy(first, out.ptr, n1);
    cmp_mem(first, n1, "\xc1\x07\xf2\x48\xcd\xc9\xc9\x07\x00", 9,
            "context: first Hello is the RFC frame (%s)",
            takeover ? "takeover" : "no takeover");
    gust_ws_consume_output(ws, n1);
    gust_ws_send(ws, GUST_WS_OP_TEXT, "Hello", 5);
    out = gust_ws_pending_output(ws);
    if (takeover)
      cmp_mem(out.ptr, out.len, "\xc1\x05\xf2\x00\x11\x00\x00", 7,
              "context: second Hello reuses the window (RFC vector)");
    else
      cmp_mem(out.ptr, out.len, first, n1,
              "context: second Hello compresses afresh");
    gust_ws_free(ws);
  }
  {
    gust_ws_deflate_params dp;
    gust_ws_config cfg;
    gust_ws *ws;
    memset(&dp, 0, sizeof dp);
    memset(&cfg, 0, sizeof cfg);
    cfg.deflate = &dp;
    cfg.deflate_min_size = 10;
    gust_ws_new(&ws, &cfg, NULL);
    gust_ws_send(ws, GUST_WS_OP_TEXT, "Hello", 5);
    cmp_mem(gust_ws_pending_output(ws).ptr, gust_ws_pending_output(ws).len,
            "\x81\x05Hello", 7, "context: short message sent uncompressed");
    gust_ws_free(ws);
  }
}

/* A small frame inflating past max_message_size closes with 1009 while
 * the memory used stays near the cap. */
static void test_bombs(void) {
  int streaming;
  for (streaming = 0; streaming < 2; streaming++) {
    gust_ws_deflate_params dp;
    gust_ws_config cc, sc;
    gust_ws *cli, *srv;
    gust_failmem fm;
    size_t n = 8u << 20;
    uint8_t *zeros = (uint8_t *)calloc(1, n);
    gust_slice out;
    gust_ws_event ev;
    int saw = 0;
    memset(&dp, 0, sizeof dp);
    memset(&cc, 0, sizeof cc);
    memset(&sc, 0, sizeof sc);
    cc.role = GUST_WS_CLIENT;
    cc.deflate = sc.deflate = &dp;
    sc.max_message_size = 1u << 20;
    sc.streaming = streaming;
    gust_ws_new(&cli, &cc, NULL);
    gust_ws_send(cli, GUST_WS_OP_BINARY, zeros, n);
    out = gust_ws_pending_output(cli);
    ok(out.len < 20000, "bomb: 8 MiB of zeros compress to %zu bytes", out.len);
    gust_failmem_init(&fm, NULL);
    gust_ws_new(&srv, &sc, &fm.mem);
    gust_ws_feed(srv, out.ptr, out.len);
    while (gust_ws_next_event(srv, &ev) == 0 && ev.type != GUST_WS_EV_NEED_DATA)
      if (ev.type == GUST_WS_EV_ERROR) {
        saw = ev.code == 1009 && ev.error == GUST_EWS_TOOBIG &&
              strcmp(ev.message, "message too big after decompression") == 0;
        break;
      }
    ok(saw, "bomb: closed with 1009 after decompression [%s]",
       streaming ? "streaming" : "whole");
    ok(fm.peak_bytes < (3u << 20),
       "bomb: peak memory %zu bytes stays near the 1 MiB cap [%s]",
       fm.peak_bytes, streaming ? "streaming" : "whole");
    gust_ws_free(srv);
    is_int(fm.live_blocks, 0, "bomb: nothing leaked");
    gust_ws_free(cli);
    free(zeros);
  }
}

/* Fail-fast UTF-8 on inflated output: the error comes before the frame is
 * complete. */
static void test_failfast(void) {
  gust_ws_deflate_params dp;
  gust_ws_config cc, sc;
  gust_ws *cli, *srv;
  gust_slice out;
  gust_ws_event ev;
  uint8_t msg[40000];
  size_t i;
  int err = 0;
  for (i = 0; i < sizeof msg; i++)
    msg[i] = (uint8_t)('a' + i % 26);
  msg[100] = 0xff;
  memset(&dp, 0, sizeof dp);
  memset(&cc, 0, sizeof cc);
  memset(&sc, 0, sizeof sc);
  cc.role = GUST_WS_CLIENT;
  cc.deflate = sc.deflate = &dp;
  cc.deflate_level = 0; /* level 0 means zlib's default */
  gust_ws_new(&cli, &cc, NULL);
  gust_ws_new(&srv, &sc, NULL);
  gust_ws_send(cli, GUST_WS_OP_TEXT, msg, sizeof msg);
  out = gust_ws_pending_output(cli);
  /* feed only the first half of the frame */
  gust_ws_feed(srv, out.ptr, out.len / 2);
  while (gust_ws_next_event(srv, &ev) == 0 && ev.type != GUST_WS_EV_NEED_DATA)
    if (ev.type == GUST_WS_EV_ERROR)
      err = ev.code;
  is_int(err, 1007,
         "fail-fast: invalid UTF-8 in inflated text closes 1007 "
         "before the frame ends");
  gust_ws_free(cli);
  gust_ws_free(srv);
}

static void test_failmem(void) {
  gust_ws_deflate_params dp;
  unsigned long i;
  int hit = 0, bad = 0, leaks = 0;
  memset(&dp, 0, sizeof dp);
  for (i = 1; i <= 60; i++) {
    gust_failmem fm;
    gust_ws_config sc, cc;
    gust_ws *srv = NULL, *cli = NULL;
    int rc;
    memset(&sc, 0, sizeof sc);
    memset(&cc, 0, sizeof cc);
    cc.role = GUST_WS_CLIENT;
    sc.deflate = cc.deflate = &dp;
    gust_failmem_init(&fm, NULL);
    fm.fail_at = i;
    rc = gust_ws_new(&cli, &cc, &fm.mem);
    if (rc == 0)
      rc = gust_ws_new(&srv, &sc, &fm.mem);
    if (rc == 0)
      rc = gust_ws_send(cli, GUST_WS_OP_TEXT, "Hello, Hello, Hello", 19);
    if (rc == 0) {
      gust_slice out = gust_ws_pending_output(cli);
      gust_ws_event ev;
      rc = gust_ws_feed(srv, out.ptr, out.len);
      while (rc == 0 && (rc = gust_ws_next_event(srv, &ev)) == 0 &&
             ev.type != GUST_WS_EV_NEED_DATA)
        if (ev.type == GUST_WS_EV_ERROR)
          rc = -1000;
    }
    if (rc == GUST_ENOMEM)
      hit++;
    else if (rc != 0)
      bad++;
    gust_ws_free(srv);
    gust_ws_free(cli);
    if (fm.live_blocks != 0)
      leaks++;
  }
  {
    gust_failmem fm;
    gust_ws_config cc;
    gust_ws *cli;
    memset(&cc, 0, sizeof cc);
    cc.deflate = &dp;
    gust_failmem_init(&fm, NULL);
    if (gust_ws_new(&cli, &cc, &fm.mem) != 0)
      bail_out("cannot create a connection");
    fm.fail_at = fm.count + 1;
    fm.fail_after = 1;
    is_int(gust_ws_send(cli, GUST_WS_OP_TEXT, "Hello", 5), GUST_ENOMEM,
           "failmem: compressed send fails cleanly");
    fm.fail_at = 0;
    is_int(gust_ws_send(cli, GUST_WS_OP_TEXT, "Hello", 5), GUST_ENOMEM,
           "failmem: the connection stays failed (context out of sync)");
    gust_ws_free(cli);
    is_int(fm.live_blocks, 0, "failmem: nothing leaked after a failed send");
  }
  ok(hit > 3, "failmem: failures injected into zlib too (%d)", hit);
  is_int(bad, 0, "failmem: each run ends cleanly or with GUST_ENOMEM");
  is_int(leaks, 0, "failmem: nothing leaked");
}

int main(void) {
  if (tap_group("negotiate"))
    test_negotiate();
  if (tap_group("client check"))
    test_client_check();
  if (tap_group("offer"))
    test_offer();
  if (tap_group("vectors"))
    test_vectors();
  if (tap_group("round trip"))
    test_round_trips();
  if (tap_group("context"))
    test_context();
  if (tap_group("bomb"))
    test_bombs();
  if (tap_group("fail-fast"))
    test_failfast();
  if (tap_group("failmem"))
    test_failmem();
  return done_testing();
}
