/* Tests of the frame header codec: RFC 6455 5.7 headers, the three length
 * forms and their minimal-encoding rule, every prefix reported incomplete,
 * the per-role checks and header encoding. */
#include "../tap.h"

#include <gust/ws.h>

#include <string.h>

struct fcase {
  const char *name;
  const char *bytes;
  size_t len;
  gust_ssize want; /* header length or negative code */
  unsigned fin, opcode, masked;
  uint64_t plen;
};

#define F(name, s, want, fin, op, m, plen)                                     \
  { name, s, sizeof(s) - 1, want, fin, op, m, plen }

static const struct fcase cases[] = {
    F("unmasked text Hello", "\x81\x05", 2, 1, 1, 0, 5),
    F("masked text Hello", "\x81\x85\x37\xfa\x21\x3d", 6, 1, 1, 1, 5),
    F("first fragment Hel", "\x01\x03", 2, 0, 1, 0, 3),
    F("last fragment lo", "\x80\x02", 2, 1, 0, 0, 2),
    F("unmasked ping", "\x89\x05", 2, 1, 9, 0, 5),
    F("masked pong", "\x8a\x85\x37\xfa\x21\x3d", 6, 1, 10, 1, 5),
    F("256-byte binary", "\x82\x7e\x01\x00", 4, 1, 2, 0, 256),
    F("65536-byte binary", "\x82\x7f\x00\x00\x00\x00\x00\x01\x00\x00", 10, 1, 2,
      0, 65536),
    F("125 in 7 bits", "\x82\x7d", 2, 1, 2, 0, 125),
    F("126 in 16 bits", "\x82\x7e\x00\x7e", 4, 1, 2, 0, 126),
    F("65535 in 16 bits", "\x82\x7e\xff\xff", 4, 1, 2, 0, 65535),
    F("largest 63-bit", "\x82\x7f\x7f\xff\xff\xff\xff\xff\xff\xff", 10, 1, 2, 0,
      0x7fffffffffffffffull),
    F("masked 16-bit", "\x82\xfe\x01\x00\x01\x02\x03\x04", 8, 1, 2, 1, 256),
    F("masked 64-bit",
      "\x82\xff\x00\x00\x00\x00\x00\x01\x00\x00\x01\x02\x03\x04", 14, 1, 2, 1,
      65536),
    F("124 in 16 bits (non-minimal)", "\x82\x7e\x00\x7c", GUST_EWS_PROTOCOL, 0,
      0, 0, 0),
    F("0 in 16 bits (non-minimal)", "\x82\x7e\x00\x00", GUST_EWS_PROTOCOL, 0, 0,
      0, 0),
    F("65535 in 64 bits (non-minimal)",
      "\x82\x7f\x00\x00\x00\x00\x00\x00\xff\xff", GUST_EWS_PROTOCOL, 0, 0, 0,
      0),
    F("125 in 64 bits (non-minimal)",
      "\x82\x7f\x00\x00\x00\x00\x00\x00\x00\x7d", GUST_EWS_PROTOCOL, 0, 0, 0,
      0),
    F("64-bit top bit set", "\x82\x7f\x80\x00\x00\x00\x00\x01\x00\x00",
      GUST_EWS_PROTOCOL, 0, 0, 0, 0),
};

static void check_case(const struct fcase *c) {
  gust_ws_frame_header h;
  uint8_t *g = tap_guard_copy(c->bytes, c->len);
  gust_ssize r = gust_ws_frame_parse(g, c->len, &h);
  size_t cut;
  int prefixes_ok = 1;

  is_int(r, c->want, "parse: %s (whole, guard page)", c->name);
  if (c->want > 0) {
    ok(h.fin == c->fin && h.opcode == c->opcode && h.masked == c->masked &&
           h.payload_len == c->plen && h.header_len == (size_t)c->want,
       "parse: %s fields", c->name);
    if (c->masked)
      cmp_mem(h.mask, 4, c->bytes + c->len - 4, 4, "parse: %s key", c->name);
  }
  for (cut = 0; cut < c->len; cut++) {
    uint8_t *p = tap_guard_copy(c->bytes, cut);
    if (gust_ws_frame_parse(p, cut, &h) != 0)
      prefixes_ok = 0;
    tap_guard_free(p, cut);
  }
  ok(prefixes_ok, "parse: %s every prefix incomplete", c->name);
  tap_guard_free(g, c->len);
}

static gust_ws_frame_header hdr(unsigned fin, unsigned rsv, unsigned op,
                                unsigned masked, uint64_t len) {
  gust_ws_frame_header h;
  memset(&h, 0, sizeof h);
  h.fin = fin;
  h.rsv = rsv;
  h.opcode = op;
  h.masked = masked;
  h.payload_len = len;
  return h;
}

int main(void) {
  size_t i;

  if (tap_group("parse"))
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++)
      check_case(&cases[i]);

  if (tap_group("check")) {
    gust_ws_frame_header h;
    const char *why = NULL;
    unsigned op;
    int reserved_ok = 1;
    for (op = 0; op < 16; op++) {
      int want = (op >= 3 && op <= 7) || op >= 11 ? 1002 : 0;
      h = hdr(1, 0, op, 1, 0);
      if (gust_ws_frame_check(&h, GUST_WS_SERVER, 0, NULL) != want)
        reserved_ok = 0;
    }
    ok(reserved_ok, "check: opcodes 3-7 and B-F are reserved (W2)");
    h = hdr(1, 0x40, 1, 1, 5);
    is_int(gust_ws_frame_check(&h, GUST_WS_SERVER, 0, &why), 1002,
           "check: RSV1 without extension (W1)");
    ok(why != NULL, "check: a reason is given");
    is_int(gust_ws_frame_check(&h, GUST_WS_SERVER, 0x40, NULL), 0,
           "check: RSV1 with deflate on a first frame");
    h = hdr(1, 0x20, 1, 1, 5);
    is_int(gust_ws_frame_check(&h, GUST_WS_SERVER, 0x40, NULL), 1002,
           "check: RSV2 always refused");
    h = hdr(1, 0x10, 1, 1, 5);
    is_int(gust_ws_frame_check(&h, GUST_WS_SERVER, 0x40, NULL), 1002,
           "check: RSV3 always refused");
    h = hdr(1, 0x40, 0, 1, 5);
    is_int(gust_ws_frame_check(&h, GUST_WS_SERVER, 0x40, NULL), 1002,
           "check: RSV1 on a continuation refused");
    h = hdr(1, 0x40, 9, 1, 5);
    is_int(gust_ws_frame_check(&h, GUST_WS_SERVER, 0x40, NULL), 1002,
           "check: RSV1 on a control frame refused");
    h = hdr(0, 0, 9, 1, 5);
    is_int(gust_ws_frame_check(&h, GUST_WS_SERVER, 0, NULL), 1002,
           "check: fragmented ping (G6)");
    h = hdr(1, 0, 8, 1, 126);
    is_int(gust_ws_frame_check(&h, GUST_WS_SERVER, 0, NULL), 1002,
           "check: 126-byte close (G5)");
    h = hdr(1, 0, 10, 1, 125);
    is_int(gust_ws_frame_check(&h, GUST_WS_SERVER, 0, NULL), 0,
           "check: 125-byte pong accepted");
    h = hdr(1, 0, 2, 0, 5);
    is_int(gust_ws_frame_check(&h, GUST_WS_SERVER, 0, NULL), 1002,
           "check: server refuses an unmasked frame (W6)");
    is_int(gust_ws_frame_check(&h, GUST_WS_CLIENT, 0, NULL), 0,
           "check: client accepts an unmasked frame");
    h = hdr(1, 0, 2, 1, 5);
    is_int(gust_ws_frame_check(&h, GUST_WS_CLIENT, 0, NULL), 1002,
           "check: client refuses a masked frame (W7)");
  }

  if (tap_group("write")) {
    static const uint64_t lens[] = {0,   1,     125,   126,
                                    127, 65535, 65536, 0x7fffffffffffffffull};
    const uint8_t key[4] = {9, 8, 7, 6};
    uint8_t out[GUST_WS_MAX_HEADER];
    int all = 1;
    size_t n;
    for (i = 0; i < sizeof lens / sizeof lens[0]; i++) {
      int m;
      for (m = 0; m < 2; m++) {
        gust_ws_frame_header h;
        n = gust_ws_frame_header_write(out, 1, 0x40, 2, lens[i],
                                       m ? key : NULL);
        if (gust_ws_frame_parse(out, n, &h) != (gust_ssize)n ||
            h.payload_len != lens[i] || h.masked != (unsigned)m ||
            h.rsv != 0x40 || h.opcode != 2 || !h.fin ||
            (m && memcmp(h.mask, key, 4) != 0))
          all = 0;
        if (n != (lens[i] < 126     ? 2u
                  : lens[i] < 65536 ? 4u
                                    : 10u) +
                     (m ? 4u : 0u))
          all = 0;
      }
    }
    ok(all, "write: every length form round-trips, shortest encoding");
    n = gust_ws_frame_header_write(out, 1, 0, 1, 5, NULL);
    cmp_mem(out, n, "\x81\x05", 2, "write: RFC unmasked Hello header");
    n = gust_ws_frame_header_write(out, 1, 0, 10, 5,
                                   (const uint8_t *)"\x37\xfa\x21\x3d");
    cmp_mem(out, n, "\x8a\x85\x37\xfa\x21\x3d", 6,
            "write: RFC masked pong header");
  }

  if (tap_group("close codes")) {
    unsigned code;
    int bad = 0;
    for (code = 0; code <= 65535; code++) {
      int want = (code >= 1000 && code <= 1003) ||
                 (code >= 1007 && code <= 1014) ||
                 (code >= 3000 && code <= 4999);
      if (gust_ws_close_code_valid(code) != want)
        bad++;
    }
    is_int(bad, 0, "close codes: table of all 65536 values");
    ok(!gust_ws_close_code_valid(1004) && !gust_ws_close_code_valid(1005) &&
           !gust_ws_close_code_valid(1006) && !gust_ws_close_code_valid(1015),
       "close codes: 1004-1006 and 1015 are invalid on the wire");
  }
  return done_testing();
}
