/* Tests of the chunked transfer coding: sizes, extensions, trailers, the
 * CRLF after data, the body and extension limits, the framing-overhead
 * guard and Tornado's delivery vectors. */
#include <gust/http1.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../tap.h"
#include "http1_drive.h"

#define HEAD    "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
#define REQ     "REQ POST / 1.1 KC [Host=a] [Transfer-Encoding=chunked]"
#define HEADLEN 56

static void valid(void) {
  drive_opts o = server_opts();
  if (!tap_group("valid"))
    return;
  check_str("valid: one chunk", &o, HEAD "5\r\nhello\r\n0\r\n\r\n",
            REQ " | D:hello | END | NEED");
  check_str("valid: upper and lower hex", &o,
            HEAD "a\r\n0123456789\r\nA\r\nabcdefghij\r\n0\r\n\r\n",
            REQ " | D:0123456789abcdefghij | END | NEED");
  check_str("valid: leading zeros", &o, HEAD "0005\r\nhello\r\n000\r\n\r\n",
            REQ " | D:hello | END | NEED");
  check_str("valid: extensions, token and quoted values", &o,
            HEAD "5;a\r\nhello\r\n1 ; b = c ;d=\"x;\\\"y\"\r\n!\r\n0;z\r\n\r\n",
            REQ " | D:hello! | END | NEED");
  check_str("valid: trailers delivered separately", &o,
            HEAD "1\r\nx\r\n0\r\nX-Sum: 1\r\nX-B:  two \r\n\r\n",
            REQ " | D:x | TRL [X-Sum=1] [X-B=two] | END | NEED");
  check_str("valid: CL, TE and Host in trailers are ignored", &o,
            HEAD "0\r\nContent-Length: 5\r\nTransfer-Encoding: x\r\nHost: "
                 "b\r\n\r\n",
            REQ " | TRL [Content-Length=5] [Transfer-Encoding=x] [Host=b] | "
                "END | NEED");
  check_str("valid: request after a chunked one", &o,
            HEAD "0\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n",
            REQ " | END | REQ GET / 1.1 KL0 [Host=a] | END | NEED");
}

static void invalid(void) {
  drive_opts o = server_opts();
  if (!tap_group("invalid"))
    return;
  check_str("invalid: empty size", &o, HEAD "\r\n",
            REQ " | ERR 400 GUST_EHTTP_CHUNK @56");
  check_str("invalid: minus sign", &o, HEAD "-1\r\n",
            REQ " | ERR 400 GUST_EHTTP_CHUNK @56");
  check_str("invalid: extension name missing", &o, HEAD "1;=a\r\n",
            REQ " | ERR 400 GUST_EHTTP_CHUNK @58");
  check_str("invalid: extension value missing", &o, HEAD "1;a=\r\n",
            REQ " | ERR 400 GUST_EHTTP_CHUNK @60");
  check_str("invalid: blank after extension name then CRLF", &o,
            HEAD "1;a \r\n", REQ " | ERR 400 GUST_EHTTP_CHUNK @60");
  check_str("invalid: CR inside a quoted extension", &o,
            HEAD "1;a=\"x\ry\"\r\n", REQ " | ERR 400 GUST_EHTTP_CHUNK @62");
  check_str("invalid: data followed by LF only", &o, HEAD "1\r\nx\n0\r\n\r\n",
            REQ " | D:x | ERR 400 GUST_EHTTP_CHUNK @60");
  check_str("invalid: data followed by CR only", &o, HEAD "1\r\nx\r0\r\n\r\n",
            REQ " | D:x | ERR 400 GUST_EHTTP_CHUNK @61");
  check_str("invalid: data instead of the final CRLF", &o,
            HEAD "0\r\nX\r\n\r\n", REQ " | ERR 400 GUST_EHTTP_SYNTAX @60");
  check_str("invalid: obs-fold in trailers", &o, HEAD "0\r\nA: b\r\n c\r\n\r\n",
            REQ " | ERR 400 GUST_EHTTP_SYNTAX @65");
  check_str("invalid: size with 65 digits", &o,
            HEAD "000000000000000000000000000000000000000000000000000000000000"
                 "00001\r\n",
            REQ " | ERR 400 GUST_EHTTP_CHUNK @120");
  check_str("invalid: 7fffffffffffffff is the largest size", &o,
            HEAD "7fffffffffffffff\r\n",
            REQ " | ERR 413 GUST_EHTTP_BODY_SIZE @56");
  check_str("invalid: 8000000000000000 overflows", &o,
            HEAD "8000000000000000\r\n", REQ " | ERR 400 GUST_EHTTP_CHUNK @71");
}

/* Builds HEAD + "1;" + ext bytes + "\r\nx\r\n0\r\n\r\n" with `n` extension
 * bytes counted from the ';'. */
static char *ext_request(size_t n, size_t *len) {
  size_t hl = strlen(HEAD), i;
  char *b = malloc(hl + n + 64);
  char *p = b;
  memcpy(p, HEAD, hl);
  p += hl;
  *p++ = '1';
  *p++ = ';';
  for (i = 1; i < n; i++)
    *p++ = 'e';
  memcpy(p, "\r\nx\r\n0\r\n\r\n", 10);
  p += 10;
  *len = (size_t)(p - b);
  return b;
}

static void limits(void) {
  drive_opts o = server_opts();
  gust_h1_config cfg;
  char name[128], want[256];
  size_t len, n;
  char *b;
  if (!tap_group("limits"))
    return;
  /* extension bytes: limit-1, limit, limit+1 */
  for (n = 4095; n <= 4097; n++) {
    b = ext_request(n, &len);
    snprintf(name, sizeof(name), "limits: %zu extension bytes", n);
    if (n <= 4096)
      snprintf(want, sizeof(want), "%s | D:x | END | NEED", REQ);
    else
      snprintf(want, sizeof(want), "%s | ERR 400 GUST_EHTTP_CHUNK @%d", REQ,
               HEADLEN + 1 + 4096);
    check_vector(name, &o, b, len, want);
    free(b);
  }
  /* running body total against max_body = 10 */
  gust_h1_config_init(&cfg);
  cfg.max_body = 10;
  o.cfg = &cfg;
  check_str("limits: chunked total limit-1", &o,
            HEAD "5\r\nhello\r\n4\r\nabcd\r\n0\r\n\r\n",
            REQ " | D:helloabcd | END | NEED");
  check_str("limits: chunked total at the limit", &o,
            HEAD "5\r\nhello\r\n5\r\nabcde\r\n0\r\n\r\n",
            REQ " | D:helloabcde | END | NEED");
  check_str("limits: chunked total limit+1", &o,
            HEAD "5\r\nhello\r\n6\r\nabcdef\r\n0\r\n\r\n",
            REQ " | D:hello | ERR 413 GUST_EHTTP_BODY_SIZE @66");
  /* trailers share the field and head limits with the head */
  gust_h1_config_init(&cfg);
  cfg.max_fields = 3;
  o.cfg = &cfg;
  check_str("limits: trailers up to the field limit", &o,
            HEAD "0\r\nA: 1\r\n\r\n", REQ " | TRL [A=1] | END | NEED");
  check_str("limits: one trailer over the field limit", &o,
            HEAD "0\r\nA: 1\r\nB: 2\r\n\r\n",
            REQ " | ERR 431 GUST_EHTTP_HEAD_SIZE @65");
  gust_h1_config_init(&cfg);
  /* what the head left (13 bytes) plus the final CRLF: 15 bytes */
  cfg.max_head = HEADLEN + 13;
  check_str("limits: trailer section at what the head left", &o,
            HEAD "0\r\nAB: 1234567\r\n\r\n",
            REQ " | TRL [AB=1234567] | END | NEED");
  check_str("limits: trailer section one byte over", &o,
            HEAD "0\r\nAB: 12345678\r\n\r\n",
            REQ " | ERR 431 GUST_EHTTP_HEAD_SIZE @74");
  /* default body limit on one chunk size */
  o.cfg = NULL;
  check_str("limits: chunk of exactly 100 MiB announced", &o,
            HEAD "6400000\r\n", REQ " | NEED");
  check_str("limits: chunk of 100 MiB + 1 refused", &o, HEAD "6400001\r\n",
            REQ " | ERR 413 GUST_EHTTP_BODY_SIZE @56");
}

/* K6: a flood of one-byte chunks is cut off once framing passes 100 KiB
 * and 80 % of the bytes. */
static void overhead(void) {
  gust_h1 *h;
  gust_h1_event ev;
  size_t i, total = 0;
  int t = 0, data = 0;
  if (!tap_group("overhead"))
    return;
  if (gust_h1_new(&h, GUST_H1_SERVER, NULL, NULL) != 0)
    bail_out("gust_h1_new");
  gust_h1_feed(h, HEAD, strlen(HEAD));
  t = gust_h1_next_event(h, &ev);
  is_int(t, GUST_H1_REQUEST, "overhead: head parsed");
  for (i = 0; i < 40000; i++) {
    gust_h1_feed(h, "1\r\nx\r\n", 6);
    total += 6;
    while ((t = gust_h1_next_event(h, &ev)) == GUST_H1_DATA)
      data++;
    if (t != GUST_H1_NEED_DATA)
      break;
  }
  is_int(t, GUST_H1_ERROR, "overhead: tiny-chunk flood rejected");
  is_int(ev.code, GUST_EHTTP_CHUNK, "overhead: with a chunk error");
  is_int(ev.http_status, 400, "overhead: answered with 400");
  ok(total > 102400 && total < 140000,
     "overhead: cut off soon after 100 KiB of framing (%zu bytes)", total);
  gust_h1_free(h);

  /* big chunks with the same number of lines stay accepted */
  if (gust_h1_new(&h, GUST_H1_SERVER, NULL, NULL) != 0)
    bail_out("gust_h1_new");
  gust_h1_feed(h, HEAD, strlen(HEAD));
  gust_h1_next_event(h, &ev);
  {
    static char chunk[4 + 32 + 2];
    memcpy(chunk, "20\r\n", 4);
    memset(chunk + 4, 'y', 32);
    memcpy(chunk + 36, "\r\n", 2);
    for (i = 0; i < 20000; i++) {
      gust_h1_feed(h, chunk, 38);
      while ((t = gust_h1_next_event(h, &ev)) == GUST_H1_DATA)
        ;
      if (t != GUST_H1_NEED_DATA)
        break;
    }
  }
  is_int(t, GUST_H1_NEED_DATA, "overhead: 32-byte chunks are not a flood");
  gust_h1_free(h);
}

/* K11 / Tornado: data events of at most chunk_size, chunk boundaries kept. */
static void sizes(gust_h1_config *cfg, const char *in, size_t len,
                  const char *want, const char *name) {
  gust_h1 *h;
  gust_h1_event ev;
  char got[256] = "";
  int t;
  if (gust_h1_new(&h, GUST_H1_SERVER, cfg, NULL) != 0)
    bail_out("gust_h1_new");
  gust_h1_feed(h, in, len);
  while ((t = gust_h1_next_event(h, &ev)) != GUST_H1_NEED_DATA &&
         t != GUST_H1_PAUSED && t != GUST_H1_ERROR)
    if (t == GUST_H1_DATA)
      snprintf(got + strlen(got), sizeof(got) - strlen(got), "%s%zu",
               got[0] ? "," : "", ev.data.len);
  is_str(got, want, "%s", name);
  gust_h1_free(h);
}

static void delivery(void) {
  gust_h1_config cfg;
  char buf[512];
  int n;
  if (!tap_group("delivery"))
    return;
  gust_h1_config_init(&cfg);
  cfg.chunk_size = 16;
  n = snprintf(buf, sizeof(buf),
               "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 50\r\n\r\n%s",
               "01234567890123456789012345678901234567890123456789");
  sizes(&cfg, buf, (size_t)n, "16,16,16,2",
        "delivery: 50-byte fixed body in [16,16,16,2]");
  n = snprintf(buf, sizeof(buf), HEAD "14\r\n%s\r\n1e\r\n%s\r\n0\r\n\r\n",
               "01234567890123456789", "012345678901234567890123456789");
  sizes(&cfg, buf, (size_t)n, "16,4,16,14",
        "delivery: chunks of 20 and 30 bytes in [16,4,16,14]");
  cfg.chunk_size = 1;
  sizes(&cfg, buf, (size_t)n,
        "1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,"
        "1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1",
        "delivery: chunk_size 1 gives one-byte events");
}

int main(void) {
  valid();
  invalid();
  limits();
  overhead();
  delivery();
  return done_testing();
}
