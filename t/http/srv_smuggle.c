/* Black-box request-smuggling and framing tests against examples/hello.
 *
 * Every row of the smuggling table (http1-rules.md §9), the cases of §10
 * that apply to a server and the limits of §7 are sent as raw bytes on a
 * fresh loopback connection, followed in the same write by a request that
 * must never be answered (`GET /smuggled`, which would get a 404). Each
 * rejected vector must get exactly one response with the expected status
 * and `Connection: close`, then a clean close from the server. Each
 * accepted vector is followed by `GET /` with `Connection: close`: the echo
 * body must be exactly what the framing says, then the second response,
 * then the close. Good-path pipelining and requests split at every byte
 * complete the picture.
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "srv_common.h"
#include "../tap.h"

#define PE       "POST /echo HTTP/1.1\r\nHost: a\r\n"
#define TEC      "Transfer-Encoding: chunked\r\n"
#define SMUGGLED "GET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n"
#define FOLLOW   "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"
#define HELLO    "Hello, World!"

enum kind {
  REJECT,      /* one error response with `status`, then close */
  REJECT_BODY, /* as REJECT, or (echo already streaming) an unfinished 200
                  response, then close */
  ACCEPT,      /* `status` with body `body`, then the FOLLOW request */
  ONLY_ONE     /* exactly one response with `status`, then close */
};

typedef struct vec {
  const char *name;
  const char *bytes;
  size_t len;
  enum kind kind;
  int status;
  const char *body; /* ACCEPT: the expected body (NULL: not checked) */
} vec;

#define V(s) s, sizeof(s) - 1

static const vec vectors[] = {
    /* §9, in table order */
    {"CL.TE", V(PE "Content-Length: 6\r\n" TEC "\r\n0\r\n\r\nG"), REJECT, 400,
     NULL},
    {"CL.TE (TE first)", V(PE TEC "Content-Length: 6\r\n\r\n0\r\n\r\nG"),
     REJECT, 400, NULL},
    {"TE.CL", V(PE TEC "Content-Length: 3\r\n\r\n8\r\nSMUGGLED\r\n0\r\n\r\n"),
     REJECT, 400, NULL},
    {"TE.TE trailing SP",
     V(PE "Transfer-Encoding: chunked \r\n\r\n5\r\nhello\r\n0\r\n\r\n"), ACCEPT,
     200, "hello"},
    {"TE.TE trailing tab",
     V(PE "Transfer-Encoding: chunked\t\r\n\r\n5\r\nhello\r\n0\r\n\r\n"),
     REJECT, 400, NULL},
    {"TE.TE leading tab",
     V(PE "Transfer-Encoding:\tchunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"), REJECT,
     400, NULL},
    {"TE.TE prefix xchunked",
     V(PE "Transfer-Encoding: xchunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"), REJECT,
     400, NULL},
    {"TE.TE list chunked, identity",
     V(PE
       "Transfer-Encoding: chunked, identity\r\n\r\n5\r\nhello\r\n0\r\n\r\n"),
     REJECT, 400, NULL},
    {"TE identity alone", V(PE "Transfer-Encoding: identity\r\n\r\nhello"),
     REJECT, 400, NULL},
    {"TE chunked, gzip",
     V(PE "Transfer-Encoding: chunked, gzip\r\n\r\n5\r\nhello\r\n0\r\n\r\n"),
     REJECT, 400, NULL},
    {"TE.TE other coding first (gzip, chunked)",
     V(PE "Transfer-Encoding: gzip, chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"),
     REJECT, 501, NULL},
    {"TE.TE empty element",
     V(PE "Transfer-Encoding: ,chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"), REJECT,
     400, NULL},
    {"TE.TE quoted coding",
     V(PE "Transfer-Encoding: \"chunked\"\r\n\r\n5\r\nhello\r\n0\r\n\r\n"),
     REJECT, 400, NULL},
    {"TE.TE duplicate lines", V(PE TEC TEC "\r\n5\r\nhello\r\n0\r\n\r\n"),
     REJECT, 400, NULL},
    {"TE.TE chunked, chunked",
     V(PE "Transfer-Encoding: chunked, chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"),
     REJECT, 400, NULL},
    {"TE case CHUNKED",
     V(PE "Transfer-Encoding: CHUNKED\r\n\r\n5\r\nhello\r\n0\r\n\r\n"), ACCEPT,
     200, "hello"},
    {"TE hidden by folding",
     V(PE "X: a\r\n Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"),
     REJECT, 400, NULL},
    {"TE in HTTP/1.0",
     V("POST /echo HTTP/1.0\r\nHost: a\r\n" TEC "\r\n5\r\nhello\r\n0\r\n\r\n"),
     REJECT, 400, NULL},
    {"space before colon (TE)",
     V(PE "Transfer-Encoding : chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"), REJECT,
     400, NULL},
    {"space before colon (CL)", V(PE "Content-Length : 5\r\n\r\nhello"), REJECT,
     400, NULL},
    {"CL sign +5", V(PE "Content-Length: +5\r\n\r\nhello"), REJECT, 400, NULL},
    {"CL sign -5", V(PE "Content-Length: -5\r\n\r\nhello"), REJECT, 400, NULL},
    {"CL hex 0x5", V(PE "Content-Length: 0x5\r\n\r\nhello"), REJECT, 400, NULL},
    {"CL exponent 1e1", V(PE "Content-Length: 1e1\r\n\r\nhellohello"), REJECT,
     400, NULL},
    {"CL inner space 5 5", V(PE "Content-Length: 5 5\r\n\r\nhello"), REJECT,
     400, NULL},
    {"CL leading zeros 005", V(PE "Content-Length: 005\r\n\r\nhello"), ACCEPT,
     200, "hello"},
    {"CL underscore 1_0", V(PE "Content-Length: 1_0\r\n\r\nhellohello"), REJECT,
     400, NULL},
    {"CL empty", V(PE "Content-Length:\r\n\r\nhello"), REJECT, 400, NULL},
    {"CL conflict 5, 6", V(PE "Content-Length: 5, 6\r\n\r\nhello!"), REJECT,
     400, NULL},
    {"CL conflict two lines",
     V(PE "Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello!"), REJECT, 400,
     NULL},
    {"CL identical list 5, 5", V(PE "Content-Length: 5, 5\r\n\r\nhello"),
     ACCEPT, 200, "hello"},
    {"CL identical lines",
     V(PE "Content-Length: 5\r\nContent-Length: 5\r\n\r\nhello"), ACCEPT, 200,
     "hello"},
    {"CL overflow 2^64",
     V(PE "Content-Length: 18446744073709551616\r\n\r\nhello"), REJECT, 400,
     NULL},
    {"CL overflow 2^63",
     V(PE "Content-Length: 9223372036854775808\r\n\r\nhello"), REJECT, 400,
     NULL},
    {"CL with tabs around", V(PE "Content-Length:\t5\t\r\n\r\nhello"), ACCEPT,
     200, "hello"},
    {"chunk-size 0x1", V(PE TEC "\r\n0x1\r\nA\r\n0\r\n\r\n"), REJECT, 400,
     NULL},
    {"chunk-size 1_a", V(PE TEC "\r\n1_a\r\nA\r\n0\r\n\r\n"), REJECT, 400,
     NULL},
    {"chunk-size +1", V(PE TEC "\r\n+1\r\nA\r\n0\r\n\r\n"), REJECT, 400, NULL},
    {"chunk-size -1", V(PE TEC "\r\n-1\r\nA\r\n0\r\n\r\n"), REJECT, 400, NULL},
    {"chunk-size leading SP", V(PE TEC "\r\n 1\r\nA\r\n0\r\n\r\n"), REJECT, 400,
     NULL},
    {"chunk-size 5x", V(PE TEC "\r\n5x\r\nhello\r\n0\r\n\r\n"), REJECT, 400,
     NULL},
    {"chunk-size 123x", V(PE TEC "\r\n123x\r\nhello\r\n0\r\n\r\n"), REJECT, 400,
     NULL},
    {"chunk-size empty", V(PE TEC "\r\n\r\nhello\r\n0\r\n\r\n"), REJECT, 400,
     NULL},
    {"chunk-size overflow 2^64",
     V(PE TEC "\r\n10000000000000000\r\nhello\r\n0\r\n\r\n"), REJECT, 400,
     NULL},
    {"chunk-size overflow 2^63",
     V(PE TEC "\r\n8000000000000000\r\nhello\r\n0\r\n\r\n"), REJECT, 400, NULL},
    {"chunk extension without ;", V(PE TEC "\r\n5 a=b\r\nhello\r\n0\r\n\r\n"),
     REJECT, 400, NULL},
    {"chunk-size BWS then CRLF", V(PE TEC "\r\n5 \r\nhello\r\n0\r\n\r\n"),
     REJECT, 400, NULL},
    {"bare LF after chunk-size", V(PE TEC "\r\n5\nhello\r\n0\r\n\r\n"), REJECT,
     400, NULL},
    {"bare LF in chunk extension", V(PE TEC "\r\n5;a\nb\r\nhello\r\n0\r\n\r\n"),
     REJECT, 400, NULL},
    {"bare LF ending the chunked body", V(PE TEC "\r\n0\r\n\n"), REJECT, 400,
     NULL},
    {"bare CR in chunk line", V(PE TEC "\r\n2\r\r;a\r\nhi\r\n0\r\n\r\n"),
     REJECT, 400, NULL},
    {"chunk data not ended by CRLF", V(PE TEC "\r\n5\r\nhelloXX0\r\n\r\n"),
     REJECT_BODY, 400, NULL},
    {"chunk data ended by bare LF", V(PE TEC "\r\n5\r\nhello\n0\r\n\r\n"),
     REJECT_BODY, 400, NULL},
    /* The same where the body is read before answering (no echo). */
    {"chunk data not ended by CRLF, no echo",
     V("POST /missing HTTP/1.1\r\nHost: a\r\n" TEC "\r\n5\r\nhelloXX0\r\n\r\n"),
     REJECT, 400, NULL},
    {"chunk data ended by bare LF, no echo",
     V("POST /missing HTTP/1.1\r\nHost: a\r\n" TEC "\r\n5\r\nhello\n0\r\n\r\n"),
     REJECT, 400, NULL},
    {"data instead of CRLF after last chunk", V(PE TEC "\r\n0\r\nXX\r\n\r\n"),
     REJECT, 400, NULL},
    {"NUL in field name", V(PE "X\0Y: a\r\nContent-Length: 0\r\n\r\n"), REJECT,
     400, NULL},
    {"@ in field name", V(PE "X@Y: a\r\nContent-Length: 0\r\n\r\n"), REJECT,
     400, NULL},
    {"empty field name", V(PE ": a\r\nContent-Length: 0\r\n\r\n"), REJECT, 400,
     NULL},
    {"byte >= 0x80 in field name",
     V(PE "X\xc3\xa9: a\r\nContent-Length: 0\r\n\r\n"), REJECT, 400, NULL},
    {"NUL in value", V(PE "X: a\0b\r\nContent-Length: 0\r\n\r\n"), REJECT, 400,
     NULL},
    {"CR in value", V(PE "X: a\rb\r\nContent-Length: 0\r\n\r\n"), REJECT, 400,
     NULL},
    {"CR starting a value", V(PE "X:\rY: b\r\nContent-Length: 0\r\n\r\n"),
     REJECT, 400, NULL},
    {"CTL 0x01 in value", V(PE "X: a\x01z\r\nContent-Length: 0\r\n\r\n"),
     REJECT, 400, NULL},
    {"DEL in value", V(PE "X: a\x7fz\r\nContent-Length: 0\r\n\r\n"), REJECT,
     400, NULL},
    {"bare CR ending the head", V(PE "Content-Length: 0\r\n\rX"), REJECT, 400,
     NULL},
    {"request line spacing", V("GET  /  HTTP/1.1\r\nHost: a\r\n\r\n"), REJECT,
     400, NULL},
    {"request line HTAB", V("GET\t/ HTTP/1.1\r\nHost: a\r\n\r\n"), REJECT, 400,
     NULL},
    {"request line trailing SP", V("GET / HTTP/1.1 \r\nHost: a\r\n\r\n"),
     REJECT, 400, NULL},
    {"two Host lines", V("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"),
     REJECT, 400, NULL},
    {"Host a, b", V("GET / HTTP/1.1\r\nHost: a, b\r\n\r\n"), REJECT, 400, NULL},
    {"Host foo bar", V("GET / HTTP/1.1\r\nHost: foo bar\r\n\r\n"), REJECT, 400,
     NULL},
    {"HTTP/1.1 without Host", V("GET / HTTP/1.1\r\nX: a\r\n\r\n"), REJECT, 400,
     NULL},
    {"data after Connection: close",
     V("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"), ONLY_ONE, 200,
     NULL},
    {"body and data after Connection: close",
     V(PE "Connection: close\r\nContent-Length: 5\r\n\r\nhello"), ONLY_ONE, 200,
     NULL},

    /* §1, §2 and §10: head syntax others accepted */
    {"bare LF ending the request line", V("GET / HTTP/1.1\nHost: a\r\n\r\n"),
     REJECT, 400, NULL},
    {"all-LF request", V("GET / HTTP/1.1\nHost: a\n\n"), REJECT, 400, NULL},
    {"obs-fold", V("GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n b\r\n\r\n"), REJECT,
     400, NULL},
    {"whitespace before the first field",
     V("GET / HTTP/1.1\r\n Host: a\r\n\r\n"), REJECT, 400, NULL},
    {"NUL in request target", V("GET /a\0b HTTP/1.1\r\nHost: a\r\n\r\n"),
     REJECT, 400, NULL},
    {"DEL in request target", V("GET /a\x7f HTTP/1.1\r\nHost: a\r\n\r\n"),
     REJECT, 400, NULL},
    {"method with comma", V("FOO,BAR / HTTP/1.1\r\nHost: a\r\n\r\n"), REJECT,
     400, NULL},
    {"method GET/", V("GET/ / HTTP/1.1\r\nHost: a\r\n\r\n"), REJECT, 400, NULL},
    {"asterisk-form with GET", V("GET * HTTP/1.1\r\nHost: a\r\n\r\n"), REJECT,
     400, NULL},
    {"authority-form with GET",
     V("GET 127.0.0.1:8080 HTTP/1.1\r\nHost: a\r\n\r\n"), REJECT, 400, NULL},
    {"version HTTP/1.10", V("GET / HTTP/1.10\r\nHost: a\r\n\r\n"), REJECT, 400,
     NULL},
    {"version HTTP/01.1", V("GET / HTTP/01.1\r\nHost: a\r\n\r\n"), REJECT, 400,
     NULL},
    {"version http/1.1", V("GET / http/1.1\r\nHost: a\r\n\r\n"), REJECT, 400,
     NULL},
    {"version HTTP/1", V("GET / HTTP/1\r\nHost: a\r\n\r\n"), REJECT, 400, NULL},
    {"version HTTP/2.0", V("GET / HTTP/2.0\r\nHost: a\r\n\r\n"), REJECT, 505,
     NULL},
    {"version HTTP/3.0", V("GET / HTTP/3.0\r\nHost: a\r\n\r\n"), REJECT, 505,
     NULL},
    {"version HTTP/0.9", V("GET / HTTP/0.9\r\nHost: a\r\n\r\n"), REJECT, 505,
     NULL},
    {"version HTTP/1.2 answered as 1.1", V("GET / HTTP/1.2\r\nHost: a\r\n\r\n"),
     ACCEPT, 200, HELLO},
    {"empty lines before the request line",
     V("\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n"), ACCEPT, 200, HELLO},
    {"unknown valid method FOO", V("FOO / HTTP/1.1\r\nHost: a\r\n\r\n"), ACCEPT,
     404, NULL},
    /* Tornado keeps the whole target as the path, so hello may answer
     * 404: the framing is what counts here (status 0: 200 or 404). */
    {"absolute-form target", V("GET http://a/ HTTP/1.1\r\nHost: a\r\n\r\n"),
     ACCEPT, 0, NULL},
    {"obs-text in a value",
     V("GET / HTTP/1.1\r\nHost: a\r\nX: \xff\xfe\r\n\r\n"), ACCEPT, 200, HELLO},
    {"chunk extensions ignored",
     V(PE TEC "\r\n5;a=b;c=\"d;e\"\r\nhello\r\n0;z\r\n\r\n"), ACCEPT, 200,
     "hello"},
    {"chunk-size leading zeros and A-F",
     V(PE TEC "\r\n0003\r\nabc\r\n00a\r\n0123456789\r\n000\r\n\r\n"), ACCEPT,
     200, "abc0123456789"},
    {"trailers not merged",
     V(PE TEC "\r\n5\r\nhello\r\n0\r\nX-T: 1\r\nContent-Length: 99\r\n\r\n"),
     ACCEPT, 200, "hello"},
    {"Expect: 100-continue",
     V(PE "Expect: 100-continue\r\nContent-Length: 5\r\n\r\nhello"), ACCEPT,
     200, "hello"},
};

/* After an error response the server half-closes and drains its input
 * (lingering close): a client that sent more than the server read still
 * gets the response and a clean end of stream, never a reset. */
#define JUNK_LEN (256 * 1024)

/* Vectors built at run time (limits of §7). */
static vec big[8];
/* Per big vector: 256 KiB more follow, which the server cannot have read
 * when it closes, so that the drain is tested every time. */
static int big_junk[8];
static size_t nbig;
static dbuf bigbuf[8];

static void add_big(const char *name, dbuf *b, enum kind kind, int status,
                    int junk) {
  big[nbig].name = name;
  big[nbig].bytes = (const char *)b->p;
  big[nbig].len = b->len;
  big[nbig].kind = kind;
  big[nbig].status = status;
  big[nbig].body = NULL;
  big_junk[nbig] = junk;
  nbig++;
}

static void build_limits(void) {
  char line[64];
  dbuf *b;

  b = &bigbuf[0]; /* R5: target over 8192 bytes */
  dbuf_adds(b, "GET /");
  for (int i = 0; i < 9000; i++)
    dbuf_adds(b, "a");
  dbuf_adds(b, " HTTP/1.1\r\nHost: a\r\n\r\n");
  add_big("request-target over 8192 bytes", b, REJECT, 414, 0);

  b = &bigbuf[1]; /* F9: head over 65536 bytes in few fields */
  dbuf_adds(b, "GET / HTTP/1.1\r\nHost: a\r\n");
  for (int i = 0; i < 20; i++) {
    snprintf(line, sizeof(line), "X-Fill-%02d: ", i);
    dbuf_adds(b, line);
    for (int j = 0; j < 4000; j++)
      dbuf_adds(b, "b");
    dbuf_adds(b, "\r\n");
  }
  dbuf_adds(b, "\r\n");
  add_big("head over 65536 bytes", b, REJECT, 431, 1);

  b = &bigbuf[2]; /* F9: more than 100 fields */
  dbuf_adds(b, "GET / HTTP/1.1\r\nHost: a\r\n");
  for (int i = 0; i < 101; i++) {
    snprintf(line, sizeof(line), "X-%03d: v\r\n", i);
    dbuf_adds(b, line);
  }
  dbuf_adds(b, "\r\n");
  add_big("more than 100 fields", b, REJECT, 431, 0);

  b = &bigbuf[3]; /* K5: chunk extensions over 4096 bytes */
  dbuf_adds(b, PE TEC "\r\n5;e=");
  for (int i = 0; i < 5000; i++)
    dbuf_adds(b, "e");
  dbuf_adds(b, "\r\nhello\r\n0\r\n\r\n");
  add_big("chunk extensions over 4096 bytes", b, REJECT, 400, 0);

  b = &bigbuf[4]; /* K6: tiny-chunk flood */
  dbuf_adds(b, "POST /missing HTTP/1.1\r\nHost: a\r\n" TEC "\r\n");
  for (int i = 0; i < 40000; i++)
    dbuf_adds(b, "1\r\nx\r\n");
  dbuf_adds(b, "0\r\n\r\n");
  add_big("tiny-chunk flood", b, REJECT, 400, 1);

  b = &bigbuf[6]; /* C7: Content-Length over the body limit */
  dbuf_adds(b, "POST /missing HTTP/1.1\r\nHost: a\r\n"
               "Content-Length: 104857601\r\n\r\nhello");
  add_big("Content-Length over 104857600", b, REJECT, 413, 0);

  b = &bigbuf[5]; /* L5: the skipped empty lines count toward the head */
  for (int i = 0; i < 33000; i++)
    dbuf_adds(b, "\r\n");
  dbuf_adds(b, "GET / HTTP/1.1\r\nHost: a\r\n\r\n");
  add_big("empty lines over the head limit", b, REJECT, 431, 1);
}

/* Runs one vector on a fresh connection. */
static void run_vector(int port, const vec *v, int junk) {
  dbuf out = {0}, got = {0};
  resp r1, r2;
  int fd = conn_open(port);
  memset(&r1, 0, sizeof(r1));
  memset(&r2, 0, sizeof(r2));
  if (fd < 0) {
    ok(0, "%s: connect (%s)", v->name, strerror(errno));
    return;
  }
  /* A conforming server answers and closes at once; a lenient one would
   * keep the connection open: do not wait for it the full I/O timeout. */
  conn_set_rcvtimeo(fd, 10);
  dbuf_add(&out, v->bytes, v->len);
  dbuf_adds(&out, v->kind == ACCEPT ? FOLLOW : SMUGGLED);
  for (int i = 0; junk && i < JUNK_LEN / 8; i++)
    dbuf_add(&out, "junkjunk", 8);
  int sent = send_all(fd, out.p, out.len);
  /* The server may close before reading everything: a send error is fine
   * for rejected vectors as long as the response arrived. */
  int rc = read_to_eof(fd, &got);
  int rerr = errno;
  close(fd);
  long used = got.len ? resp_parse(got.p, got.len, 0, 1, &r1) : 0;
  size_t skip = 0;
  while (used > 0 && r1.status == 100) { /* interim responses */
    skip += (size_t)used;
    used = resp_parse(got.p + skip, got.len - skip, 0, 1, &r1);
  }
  if (used > 0)
    used += (long)skip;
  size_t nresp = count_mem(got.p, got.len, "HTTP/1.");
  size_t n404 = count_mem(got.p, got.len, "HTTP/1.1 404");
  int line11 = got.len >= 9 && memcmp(got.p, "HTTP/1.1 ", 9) == 0;

  switch (v->kind) {
  case REJECT:
  case REJECT_BODY:
  case ONLY_ONE: {
    int streamed = v->kind == REJECT_BODY && used == 0 && got.len > 0 &&
                   memcmp(got.p, "HTTP/1.1 200 ", 13) == 0;
    if (streamed) {
      /* The echo had already started its response: it must stay
       * unfinished (no terminating chunk) and the connection closes. */
      note("%s: error after the echo response started", v->name);
      ok(1, "%s: error found after the response started", v->name);
      ok(resp_parse(got.p, got.len, 0, 0, &r1) == 0,
         "%s: the streamed response is left unfinished", v->name);
    } else {
      is_int(used > 0 ? r1.status : -1, v->status, "%s: status", v->name);
      ok(used > 0 && (v->kind == ONLY_ONE || r1.conn_close),
         "%s: Connection: close", v->name);
      if (v->kind != ONLY_ONE)
        ok(used > 0 && r1.has_clen && r1.clen == 0, "%s: Content-Length: 0",
           v->name);
    }
    ok(line11, "%s: HTTP/1.1 status line", v->name);
    ok(rc == 0 || (rc == -1 && rerr == ECONNRESET),
       "%s: the server closes the connection", v->name);
    is_int(rc, 0, "%s: closed cleanly, no reset (input drained)", v->name);
    ok(nresp <= 1 && n404 == 0, "%s: nothing smuggled (%zu responses)", v->name,
       nresp);
    if (sent != 0 && used <= 0)
      diag("%s: send failed: %s", v->name, strerror(errno));
    break;
  }
  case ACCEPT: {
    long used2 =
        used > 0 ? resp_parse(got.p + used, got.len - (size_t)used, 0, 1, &r2)
                 : -1;
    if (v->status == 0)
      ok(used > 0 && (r1.status == 200 || r1.status == 404),
         "%s: status 200 or 404 (%d)", v->name, used > 0 ? r1.status : -1);
    else
      is_int(used > 0 ? r1.status : -1, v->status, "%s: status", v->name);
    ok(line11, "%s: HTTP/1.1 status line", v->name);
    if (v->body != NULL)
      cmp_mem(used > 0 ? r1.body.p : NULL, used > 0 ? r1.body.len : 0, v->body,
              strlen(v->body), "%s: body", v->name);
    ok(used > 0 && !r1.conn_close, "%s: keep-alive", v->name);
    ok(used2 > 0 && r2.status == 200 && (size_t)used + (size_t)used2 == got.len,
       "%s: the next request is answered, nothing else", v->name);
    is_int(rc, 0, "%s: closed after Connection: close", v->name);
    break;
  }
  }
  resp_free(&r1);
  resp_free(&r2);
  dbuf_free(&out);
  dbuf_free(&got);
}

/* K8: a chunked body whose running total passes the body limit gets 413
 * and a close. The body is sent while watching for the answer, and sending
 * stops once it arrives, so that the server never has to reset. */
static void test_chunked_over_limit(int port) {
  static const char head[] = "POST /missing HTTP/1.1\r\nHost: a\r\n" TEC "\r\n";
  static uint8_t chunk[1024 * 1024 + 16];
  uint64_t limit = 104857600, sent = 0;
  int hl = snprintf((char *)chunk, 16, "%x\r\n", 1024 * 1024);
  memset(chunk + hl, 'z', 1024 * 1024);
  memcpy(chunk + hl + 1024 * 1024, "\r\n", 2);
  size_t clen = (size_t)hl + 1024 * 1024 + 2, pos = clen;
  dbuf got = {0};
  resp r;
  memset(&r, 0, sizeof(r));
  int fd = conn_open(port);
  int fine = fd >= 0 && send_str(fd, head) == 0;
  double last = now_sec();
  while (fine && got.len == 0 && now_sec() - last < SRV_IO_TIMEOUT) {
    struct pollfd p = {fd, POLLIN, 0};
    if (sent <= limit + 4 * 1024 * 1024)
      p.events |= POLLOUT;
    if (poll(&p, 1, 1000) <= 0)
      continue;
    if (p.revents & (POLLIN | POLLHUP | POLLERR))
      break;
    if (pos == clen) {
      pos = 0;
      sent += 1024 * 1024;
    }
    ssize_t w = send(fd, chunk + pos, clen - pos, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (w > 0) {
      pos += (size_t)w;
      last = now_sec();
    } else if (w < 0 && errno != EAGAIN && errno != EINTR) {
      break;
    }
  }
  int rc = fd >= 0 ? read_to_eof(fd, &got) : -1;
  int rerr = errno;
  long used = got.len ? resp_parse(got.p, got.len, 0, 1, &r) : 0;
  is_int(used > 0 ? r.status : -1, 413,
         "chunked body over 104857600 bytes: status (%llu MiB sent)",
         (unsigned long long)(sent >> 20));
  ok(used > 0 && r.conn_close,
     "chunked body over the limit: Connection: close");
  ok(sent > limit - 2 * 1024 * 1024,
     "chunked body over the limit: answered only near the limit");
  ok(rc == 0 || (rc == -1 && rerr == ECONNRESET),
     "chunked body over the limit: the server closes");
  if (rc != 0)
    note("chunked body over the limit: the close was a reset (%s)",
         strerror(rerr));
  if (fd >= 0)
    close(fd);
  resp_free(&r);
  dbuf_free(&got);
}

/* Good-path pipelining: several requests in one write, answered in order
 * on a connection that stays usable. */
static void test_pipelining(int port) {
  static const char reqs[] =
      "GET / HTTP/1.1\r\nHost: a\r\n\r\n"
      "HEAD / HTTP/1.1\r\nHost: a\r\n\r\n"
      "POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nfirst"
      "POST /echo HTTP/1.1\r\nHost: a\r\n" TEC "\r\n"
      "6\r\nsecond\r\n0\r\n\r\n"
      "GET /missing HTTP/1.1\r\nHost: a\r\n\r\n";
  static const int want_status[] = {200, 200, 200, 200, 404};
  static const char *const want_body[] = {HELLO, "", "first", "second", NULL};
  dbuf in = {0};
  resp r;
  memset(&r, 0, sizeof(r));
  int fd = conn_open(port);
  ok(fd >= 0 && send_all(fd, reqs, sizeof(reqs) - 1) == 0,
     "pipelining: 5 requests in one write");
  for (int i = 0; i < 5; i++) {
    int got = fd >= 0 ? read_response(fd, &in, i == 1, &r) : -1;
    is_int(got == 1 ? r.status : -1, want_status[i],
           "pipelining: response %d status", i + 1);
    if (want_body[i] != NULL)
      cmp_mem(got == 1 ? r.body.p : NULL, got == 1 ? r.body.len : 0,
              want_body[i], strlen(want_body[i]),
              "pipelining: response %d body", i + 1);
    if (i == 1) {
      char v[64];
      ok(got == 1 && resp_header(&r, "Content-Length", v, sizeof(v)) &&
             strcmp(v, "13") == 0,
         "pipelining: HEAD carries the GET length and no body");
    }
  }
  /* The connection is still usable afterwards. */
  int got = fd >= 0 && send_str(fd, "GET / HTTP/1.1\r\nHost: a\r\n\r\n") == 0
                ? read_response(fd, &in, 0, &r)
                : -1;
  ok(got == 1 && r.status == 200 && in.len == 0,
     "pipelining: the connection serves another request");
  if (fd >= 0)
    close(fd);
  resp_free(&r);
  dbuf_free(&in);
}

/* Sends `req` split in two at every offset (a short pause between the
 * parts so the server reads them apart), then once one byte at a time;
 * each time the response must be `status` with body `body` (NULL: not
 * checked) and, for errors, the connection must close. */
static void test_splits(int port, const char *name, const char *req, int status,
                        const char *body) {
  size_t n = strlen(req);
  int bad = 0;
  for (size_t i = 0; i <= n + 1; i++) {
    dbuf in = {0};
    resp r;
    memset(&r, 0, sizeof(r));
    int fd = conn_open(port);
    int fine = fd >= 0;
    /* A rejecting server may close before the last bytes: a failed send
     * only ends the sending, the response decides. */
    if (fine && i <= n) {
      if (send_all(fd, req, i) == 0) {
        usleep(2000);
        send_all(fd, req + i, n - i);
      }
    } else if (fine) {
      for (size_t j = 0; j < n && send_all(fd, req + j, 1) == 0; j++)
        usleep(300);
    }
    fine = fine && read_response(fd, &in, 0, &r) == 1 && r.status == status;
    if (fine && body != NULL)
      fine =
          r.body.len == strlen(body) && memcmp(r.body.p, body, r.body.len) == 0;
    if (fine && status >= 400) {
      dbuf rest = {0};
      fine = r.conn_close && read_to_eof(fd, &rest) == 0 && rest.len == 0;
      dbuf_free(&rest);
    }
    if (!fine && bad++ == 0)
      diag("%s: first failure %s", name,
           i <= n ? "at a split point" : "one byte at a time");
    if (!fine && i <= n && bad <= 5)
      diag("%s: split at %zu fails", name, i);
    if (fd >= 0)
      close(fd);
    resp_free(&r);
    dbuf_free(&in);
  }
  is_int(bad, 0, "%s: every split point and one byte at a time", name);
}

int main(void) {
  srv s;
  if (srv_start(&s, NULL, 0) != 0) {
    ok(0, "examples/hello starts");
    return done_testing();
  }
  ok(1, "examples/hello listens on port %d", s.port);

  if (tap_group("smuggling table")) {
    for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++)
      run_vector(s.port, &vectors[i], 0);
  }
  if (tap_group("limits")) {
    build_limits();
    for (size_t i = 0; i < nbig; i++)
      run_vector(s.port, &big[i], big_junk[i]);
    for (size_t i = 0; i < nbig; i++)
      dbuf_free(&bigbuf[i]);
    test_chunked_over_limit(s.port);
  }
  if (tap_group("pipelining"))
    test_pipelining(s.port);
  if (tap_group("splits")) {
    test_splits(s.port, "GET /",
                "GET / HTTP/1.1\r\nHost: a\r\nUser-Agent: t\r\n\r\n", 200,
                HELLO);
    test_splits(s.port, "POST /echo Content-Length",
                PE "Content-Length: 11\r\n\r\nhello world", 200, "hello world");
    test_splits(s.port, "POST /echo chunked",
                PE TEC "\r\n5;x=y\r\nhello\r\n6\r\n world\r\n0\r\nT: v\r\n\r\n",
                200, "hello world");
    test_splits(s.port, "CL.TE rejected",
                PE TEC "Content-Length: 6\r\n\r\n0\r\n\r\nG", 400, NULL);
  }
  is_int(srv_stop(&s, 30), 0, "hello exits 0 on SIGTERM");
  return done_testing();
}
