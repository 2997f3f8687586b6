/* Differential fuzz target: the same bytes go through gust's request parser
 * (server role, strict defaults, read-only) and through llhttp (strict, no
 * lenient flags); the messages each one completes are compared, and every
 * disagreement is sorted into a named class. A class is justified when it
 * cites the rule of http1-rules.md that gust follows (doc/security.md lists
 * them); an input that falls in no justified class aborts. Set
 * GUST_DIFF_VERBOSE=1 to print the class of every input that disagrees. */
#include <gust/http1.h>

#include <llhttp.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_MSGS 16

/* The framing of one complete message, as either parser saw it. */
typedef struct diff_msg {
  char method[24];
  size_t target_len;
  uint32_t target_hash;
  int major, minor;
  size_t nfields;
  uint64_t body_len;
  uint32_t body_hash;
  int upgrade;  /* the bytes after this message belong to another protocol */
  size_t start; /* gust: offset of the request line in the input */
  int keep_alive;
} diff_msg;

/* How a parser ended on the input. */
enum { END_OPEN, END_ERROR, END_CLOSED, END_SWITCHED };

typedef struct diff_run {
  diff_msg msg[MAX_MSGS];
  int done;    /* complete messages */
  int started; /* llhttp: message begun */
  int end;     /* END_* */
  int code;    /* gust: GUST_E* / llhttp: HPE_* */
  const char *reason;
  uint64_t offset; /* offset of the offending byte */
  int heads;       /* gust: request heads accepted */
  size_t field_count;
} diff_run;

static uint32_t fnv(uint32_t h, const void *p, size_t n) {
  const uint8_t *b = p;
  for (size_t i = 0; i < n; i++)
    h = (h ^ b[i]) * 16777619u;
  return h;
}

#define FNV0 2166136261u

/* ---- gust ---------------------------------------------------------- */

static void run_gust(const uint8_t *data, size_t size, diff_run *r) {
  gust_h1_config cfg;
  gust_h1 *h;
  gust_h1_event ev;
  diff_msg *m = NULL;
  memset(r, 0, sizeof(*r));
  gust_h1_config_init(&cfg);
  cfg.flags = GUST_H1_READ_ONLY;
  if (gust_h1_new(&h, GUST_H1_SERVER, &cfg, NULL) != 0)
    abort();
  if (gust_h1_feed(h, data, size) != 0)
    abort();
  for (;;) {
    int t = gust_h1_next_event(h, &ev);
    if (t == GUST_H1_NEED_DATA || t == GUST_H1_PAUSED)
      break;
    if (t == GUST_H1_REQUEST) {
      if (r->done >= MAX_MSGS)
        break;
      r->heads++;
      m = &r->msg[r->done];
      memset(m, 0, sizeof(*m));
      snprintf(m->method, sizeof(m->method), "%.*s", (int)ev.method.len,
               (const char *)ev.method.ptr);
      m->start = ev.method.ptr >= data && ev.method.ptr < data + size
                     ? (size_t)(ev.method.ptr - data)
                     : size;
      m->target_len = ev.target.len;
      m->target_hash = fnv(FNV0, ev.target.ptr, ev.target.len);
      m->major = 1;
      m->minor = ev.minor_version;
      m->nfields = ev.nfields;
      m->body_hash = FNV0;
      m->upgrade =
          (ev.head & (GUST_H1_HEAD_UPGRADE | GUST_H1_HEAD_CONNECT)) != 0;
      m->keep_alive = (ev.head & GUST_H1_HEAD_KEEP_ALIVE) != 0;
    } else if (t == GUST_H1_DATA) {
      m->body_len += ev.data.len;
      m->body_hash = fnv(m->body_hash, ev.data.ptr, ev.data.len);
    } else if (t == GUST_H1_END_MESSAGE) {
      r->done++;
    } else if (t == GUST_H1_SWITCHED) {
      r->end = END_SWITCHED;
      break;
    } else if (t == GUST_H1_CLOSED) {
      r->end = END_CLOSED;
      break;
    } else if (t == GUST_H1_ERROR) {
      r->end = END_ERROR;
      r->code = ev.code;
      r->reason = ev.message;
      r->offset = ev.offset;
      break;
    }
  }
  gust_h1_free(h);
}

/* ---- llhttp -------------------------------------------------------- */

static diff_run *ll_run(llhttp_t *p) { return p->data; }

static diff_msg *ll_msg(llhttp_t *p) {
  diff_run *r = ll_run(p);
  return r->done < MAX_MSGS ? &r->msg[r->done] : NULL;
}

static int ll_begin(llhttp_t *p) {
  diff_msg *m = ll_msg(p);
  if (m == NULL)
    return HPE_USER;
  memset(m, 0, sizeof(*m));
  m->target_hash = FNV0;
  m->body_hash = FNV0;
  ll_run(p)->started = 1;
  ll_run(p)->field_count = 0;
  return 0;
}

static int ll_url(llhttp_t *p, const char *at, size_t n) {
  diff_msg *m = ll_msg(p);
  if (m == NULL)
    return HPE_USER;
  m->target_len += n;
  m->target_hash = fnv(m->target_hash, at, n);
  return 0;
}

static int ll_field_done(llhttp_t *p) {
  ll_run(p)->field_count++;
  return 0;
}

static int ll_headers(llhttp_t *p) {
  diff_msg *m = ll_msg(p);
  if (m == NULL)
    return HPE_USER;
  snprintf(m->method, sizeof(m->method), "%s",
           llhttp_method_name((llhttp_method_t)p->method));
  m->major = p->http_major;
  m->minor = p->http_minor;
  m->nfields = ll_run(p)->field_count;
  m->upgrade = p->upgrade != 0 || p->method == HTTP_CONNECT;
  return 0;
}

static int ll_body(llhttp_t *p, const char *at, size_t n) {
  diff_msg *m = ll_msg(p);
  if (m == NULL)
    return HPE_USER;
  m->body_len += n;
  m->body_hash = fnv(m->body_hash, at, n);
  return 0;
}

static int ll_complete(llhttp_t *p) {
  diff_run *r = ll_run(p);
  if (r->done >= MAX_MSGS)
    return HPE_USER;
  r->msg[r->done].keep_alive = llhttp_should_keep_alive(p);
  r->done++;
  r->started = 0;
  return 0;
}

static void run_llhttp(const uint8_t *data, size_t size, diff_run *r) {
  llhttp_t p;
  llhttp_settings_t s;
  llhttp_errno_t e;
  memset(r, 0, sizeof(*r));
  llhttp_settings_init(&s);
  s.on_message_begin = ll_begin;
  s.on_url = ll_url;
  s.on_header_field_complete = ll_field_done;
  s.on_headers_complete = ll_headers;
  s.on_body = ll_body;
  s.on_message_complete = ll_complete;
  llhttp_init(&p, HTTP_REQUEST, &s);
  p.data = r;
  e = llhttp_execute(&p, (const char *)data, size);
  if (e == HPE_PAUSED_UPGRADE) {
    r->end = END_SWITCHED;
  } else if (e != HPE_OK) {
    r->end = END_ERROR;
    r->code = (int)e;
    r->reason = llhttp_get_error_reason(&p);
    if (llhttp_get_error_pos(&p) != NULL)
      r->offset = (uint64_t)(llhttp_get_error_pos(&p) - (const char *)data);
  } else if (r->done > 0 && !r->started && !r->msg[r->done - 1].keep_alive) {
    r->end = END_CLOSED;
  }
}

/* ---- classes ------------------------------------------------------- */

/* Where the line holding byte `off` starts. */
static size_t line_start(const uint8_t *data, size_t size, uint64_t off) {
  size_t i = off < size ? (size_t)off : size;
  while (i > 0 && data[i - 1] != '\n')
    i--;
  return i;
}

/* Set before classifying: gust had accepted the head of the message
 * llhttp rejected, so the offending line is in its body or trailers. */
static int past_head;

/* Set before classifying: where the request line of the message llhttp
 * rejected starts (from gust's view when gust read its head, else the
 * line llhttp stopped in). */
static size_t request_line;

/* Which side rejected the message the other one took (or has not rejected
 * yet: a message still incomplete counts as not rejected). */
enum { GUST_REJECTS, LLHTTP_REJECTS };

typedef struct diff_class {
  int side;
  const char *match; /* gust: error message; llhttp: reason prefix */
  int ll_code;       /* llhttp side: HPE_* code (with match), -1 any */
  const char *name;
  const char *rule; /* the rule gust follows (http1-rules.md) */
  /* NULL, or a check on the input that must hold for the class to apply;
   * `line` is where the line holding the offending byte starts */
  int (*holds)(const uint8_t *data, size_t size, size_t line);
} diff_class;

/* The line llhttp stopped in is a Content-Length field whose value holds
 * only digits, SP, HTAB and commas: the lists and the OWS that C1 and C5
 * allow. */
static int cl_lists_only(const uint8_t *data, size_t size, size_t line) {
  static const char name[] = "content-length:";
  size_t k;
  if (size - line < sizeof(name) - 1)
    return 0;
  for (k = 0; k < sizeof(name) - 1; k++) {
    uint8_t c = data[line + k];
    if (c >= 'A' && c <= 'Z')
      c = (uint8_t)(c + 32);
    if (c != (uint8_t)name[k])
      return 0;
  }
  for (k = line + sizeof(name) - 1; k < size && data[k] != '\r'; k++)
    if (!(data[k] >= '0' && data[k] <= '9') && data[k] != ' ' &&
        data[k] != '\t' && data[k] != ',')
      return 0;
  return 1;
}

/* The request line starts with a method that is a token (R2): 1*tchar
 * then SP. */
static int method_is_token(const uint8_t *data, size_t size, size_t line) {
  static const char extra[] = "!#$%&'*+-.^_`|~";
  size_t i = request_line;
  (void)line;
  while (i < size && data[i] != ' ') {
    uint8_t c = data[i];
    if (!((c >= '0' && c <= '9') || ((c | 32) >= 'a' && (c | 32) <= 'z') ||
          (c != 0 && strchr(extra, c) != NULL)))
      return 0;
    i++;
  }
  return i > request_line && i < size;
}

/* Case-insensitive: does the line at `line` start with `name`? */
static int line_is(const uint8_t *data, size_t size, size_t line,
                   const char *name) {
  size_t n = strlen(name);
  if (size - line < n)
    return 0;
  for (size_t k = 0; k < n; k++) {
    uint8_t c = data[line + k];
    if (c >= 'A' && c <= 'Z')
      c = (uint8_t)(c + 32);
    if (c != (uint8_t)name[k])
      return 0;
  }
  return 1;
}

/* A Transfer-Encoding or Content-Length field in the trailer section
 * llhttp stopped in (it may stop at the start of the next line): K9 says
 * such trailers are ignored, llhttp reads them as framing. The walk back
 * ends at the last-chunk line (1*"0", then `;`, blanks or CR) or a blank
 * line. */
static int framing_trailer(const uint8_t *data, size_t size, size_t line) {
  int first = 1;
  if (!past_head)
    return 0;
  for (;;) {
    size_t k = line;
    if (line_is(data, size, line, "transfer-encoding:") ||
        line_is(data, size, line, "content-length:"))
      return 1;
    while (k < size && data[k] == '0')
      k++;
    if (line == 0 || (!first && k < size &&
                      (data[line] == '\r' ||
                       (k > line && (data[k] == ';' || data[k] == '\r' ||
                                     data[k] == ' ' || data[k] == '\t')))))
      return 0;
    first = 0;
    line = line_start(data, size, line - 1);
  }
}

/* A chunk-size line with extensions, which gust checked against K4: any
 * number of `;` name [ `=` token / quoted-string ] with BWS around `;` and
 * `=`; llhttp 8.1 takes a narrower grammar (no second valued extension, no
 * BWS after `=`). */
static int chunk_ext_line(const uint8_t *data, size_t size, size_t line) {
  size_t i = line;
  while (i < size && ((data[i] >= '0' && data[i] <= '9') ||
                      ((data[i] | 32) >= 'a' && (data[i] | 32) <= 'f')))
    i++;
  if (!past_head || i == line)
    return 0;
  while (i < size && (data[i] == ' ' || data[i] == '\t'))
    i++;
  return i < size && data[i] == ';';
}

/* The request-target is 1*(VCHAR / obs-text) (R3). */
static int target_is_vchar(const uint8_t *data, size_t size, size_t line) {
  size_t i = request_line, n = 0;
  (void)line;
  while (i < size && data[i] != ' ' && data[i] != '\n')
    i++;
  for (i++; i < size && data[i] != ' '; i++, n++)
    if (data[i] < 0x21 || data[i] == 0x7f)
      return 0;
  return n > 0 && i < size;
}

/* The request line's version is HTTP/1.x with one digit x >= 2 (R8). */
static int minor_above_one(const uint8_t *data, size_t size, size_t line) {
  (void)line;
  for (size_t i = request_line; i + 10 <= size && data[i] != '\n'; i++)
    if (memcmp(data + i, " HTTP/1.", 8) == 0)
      return data[i + 8] >= '2' && data[i + 8] <= '9' && data[i + 9] == '\r';
  return 0;
}

/* The request-target starts with an RFC 3986 scheme and a colon: the
 * absolute-form of R4 (absolute-URI), which llhttp only parses as letters
 * followed by "://". */
static int scheme_without_slashes(const uint8_t *data, size_t size,
                                  size_t line) {
  size_t i = request_line;
  (void)line;
  while (i < size && data[i] != ' ' && data[i] != '\n')
    i++;
  if (++i >= size || !((data[i] | 32) >= 'a' && (data[i] | 32) <= 'z'))
    return 0;
  while (i < size && (((data[i] | 32) >= 'a' && (data[i] | 32) <= 'z') ||
                      (data[i] >= '0' && data[i] <= '9') || data[i] == '+' ||
                      data[i] == '-' || data[i] == '.'))
    i++;
  return i < size && data[i] == ':';
}

/* gust's messages are its own; llhttp's reasons are those of llhttp 8.1. */
static const diff_class classes[] = {
    /* gust rejects, llhttp accepts (or has not finished) */
    {GUST_REJECTS, "Missing Host header", 0, "host-missing", "R9", NULL},
    {GUST_REJECTS, "Multiple host headers not allowed", 0, "host-multiple",
     "R9", NULL},
    {GUST_REJECTS, "Invalid Host header", 0, "host-invalid", "R9", NULL},
    {GUST_REJECTS, "request target form does not fit the method", 0,
     "target-form", "R4", NULL},
    {GUST_REJECTS, "Transfer-Encoding in an HTTP/1.0 request", 0, "te-http10",
     "T6", NULL},
    {GUST_REJECTS, "Unsupported Transfer-Encoding", 0, "te-not-chunked",
     "T2 T3", NULL},
    {GUST_REJECTS, "chunked applied twice", 0, "te-chunked-twice", "T4", NULL},
    {GUST_REJECTS, "tab in Transfer-Encoding", 0, "te-tab", "T5", NULL},
    {GUST_REJECTS, "empty element in Transfer-Encoding", 0, "te-empty-element",
     "T5", NULL},
    {GUST_REJECTS, "invalid transfer coding", 0, "te-syntax", "T1 T5", NULL},
    {GUST_REJECTS, "Message with both Transfer-Encoding and Content-Length", 0,
     "cl-and-te", "C8", NULL},
    {GUST_REJECTS, "empty Content-Length", 0, "cl-empty", "C2", NULL},
    {GUST_REJECTS, "empty element in Content-Length", 0, "cl-empty-element",
     "C2", NULL},
    {GUST_REJECTS, "Only integer Content-Length is allowed", 0, "cl-syntax",
     "C2", NULL},
    {GUST_REJECTS, "Content-Length overflows", 0, "cl-overflow", "C4", NULL},
    {GUST_REJECTS, "Content-Length too long", 0, "body-limit", "C7", NULL},
    {GUST_REJECTS, "WebSocket upgrade request with a body", 0,
     "upgrade-with-body", "U4", NULL},
    {GUST_REJECTS, "CONNECT request with content", 0, "connect-with-body", "U5",
     NULL},
    {GUST_REJECTS, "HTTP version not supported", 0, "version-major", "R7",
     NULL},
    {GUST_REJECTS, "invalid HTTP version", 0, "version-syntax", "R6", NULL},
    {GUST_REJECTS, "missing HTTP version in request line", 0,
     "request-line-spacing", "R1", NULL},
    {GUST_REJECTS, "empty request target", 0, "request-line-spacing", "R1",
     NULL},
    {GUST_REJECTS, "invalid request method", 0, "request-line-spacing", "R1 R2",
     NULL},
    {GUST_REJECTS, "invalid character in request method", 0, "method-syntax",
     "R2", NULL},
    {GUST_REJECTS, "invalid character in request target", 0, "target-syntax",
     "R3", NULL},
    {GUST_REJECTS, "request target too long", 0, "target-limit", "R5", NULL},
    {GUST_REJECTS, "too many header fields", 0, "field-limit", "F9", NULL},
    {GUST_REJECTS, "message head too large", 0, "head-limit", "F9", NULL},
    {GUST_REJECTS, "obs-fold or whitespace before a field name", 0, "obs-fold",
     "F7 L6", NULL},
    {GUST_REJECTS, "field line without a colon", 0, "field-no-colon", "F4",
     NULL},
    {GUST_REJECTS, "invalid character in field name", 0, "field-name", "F2 F3",
     NULL},
    {GUST_REJECTS, "empty field name", 0, "field-name", "F2", NULL},
    {GUST_REJECTS, "invalid character in field value", 0, "field-value-ctl",
     "F5", NULL},
    {GUST_REJECTS, "bare CR in message head", 0, "bare-cr", "L4", NULL},
    {GUST_REJECTS, "bare LF in message head", 0, "bare-lf-head", "L2", NULL},
    {GUST_REJECTS, "NUL in message head", 0, "nul-in-head", "L7", NULL},
    {GUST_REJECTS, "invalid chunk size", 0, "chunk-size-syntax", "K1 L3", NULL},
    {GUST_REJECTS, "chunk size overflows", 0, "chunk-size-overflow", "K2",
     NULL},
    {GUST_REJECTS, "chunk size line too long", 0, "chunk-size-overflow", "K2",
     NULL},
    {GUST_REJECTS, "invalid character after chunk size", 0, "chunk-after-size",
     "K3 L3", NULL},
    {GUST_REJECTS, "invalid chunk extension", 0, "chunk-ext-syntax", "K4 L3",
     NULL},
    {GUST_REJECTS, "invalid chunk extension value", 0, "chunk-ext-syntax", "K4",
     NULL},
    {GUST_REJECTS, "invalid character in chunk extension", 0,
     "chunk-ext-syntax", "K4", NULL},
    {GUST_REJECTS, "bare CR in chunk line", 0, "chunk-bare-cr", "L4 L3", NULL},
    {GUST_REJECTS, "chunk extension too long", 0, "chunk-ext-limit", "K5",
     NULL},
    {GUST_REJECTS, "chunked body too large", 0, "body-limit", "K8", NULL},
    {GUST_REJECTS, "body too large", 0, "body-limit", "C7 K8", NULL},
    {GUST_REJECTS, "chunk framing overhead too high", 0, "chunk-overhead", "K6",
     NULL},
    {GUST_REJECTS, "Multiple unequal Content-Lengths", 0, "cl-conflict", "C6",
     NULL},
    {GUST_REJECTS, "chunk data not followed by CRLF", 0, "chunk-data-end", "K7",
     NULL},
    {GUST_REJECTS, "trailer section too large", 0, "head-limit", "F9 K9", NULL},
    /* llhttp rejects, gust accepts */
    {LLHTTP_REJECTS, "Invalid method encountered", HPE_INVALID_METHOD,
     "method-unknown", "R2", method_is_token},
    {LLHTTP_REJECTS, "Expected space after method", HPE_INVALID_METHOD,
     "method-unknown", "R2", method_is_token},
    {LLHTTP_REJECTS, "Expected HTTP/2 Connection Preface", HPE_INVALID_VERSION,
     "method-pri", "R2", method_is_token},
    /* llhttp's table also holds RTSP methods (PLAY, SETUP, ...), which it
     * takes only with RTSP/1.0; for gust they are token methods */
    {LLHTTP_REJECTS, "Invalid method for HTTP/x.x request",
     HPE_INVALID_CONSTANT, "method-rtsp", "R2", method_is_token},
    {LLHTTP_REJECTS, "Duplicate Content-Length", HPE_UNEXPECTED_CONTENT_LENGTH,
     "cl-duplicate-equal", "C5", cl_lists_only},
    {LLHTTP_REJECTS, "Invalid character in Content-Length",
     HPE_INVALID_CONTENT_LENGTH, "cl-list-or-ows", "C1 C5", cl_lists_only},
    {LLHTTP_REJECTS, "Invalid HTTP version", HPE_INVALID_VERSION,
     "version-minor", "R8", minor_above_one},
    {LLHTTP_REJECTS, "Invalid characters in url", HPE_INVALID_URL,
     "target-absolute-uri", "R4", scheme_without_slashes},
    {LLHTTP_REJECTS, "Unexpected start char in url", HPE_INVALID_URL,
     "target-absolute-uri", "R4", scheme_without_slashes},
    {LLHTTP_REJECTS, "Invalid char in url path", HPE_INVALID_URL,
     "target-bytes", "R3", target_is_vchar},
    {LLHTTP_REJECTS, "Invalid char in url query", HPE_INVALID_URL,
     "target-bytes", "R3", target_is_vchar},
    {LLHTTP_REJECTS, "Invalid char in url fragment start", HPE_INVALID_URL,
     "target-bytes", "R3", target_is_vchar},
    {LLHTTP_REJECTS, "Invalid characters in url", HPE_INVALID_URL,
     "target-bytes", "R3", target_is_vchar},
    {LLHTTP_REJECTS, "Double @ in url", HPE_INVALID_URL, "target-bytes", "R3",
     target_is_vchar},
    {LLHTTP_REJECTS, "Unexpected char in url server", HPE_INVALID_URL,
     "target-bytes", "R3", target_is_vchar},
    {LLHTTP_REJECTS, "Unexpected start char in url", HPE_INVALID_URL,
     "target-bytes", "R3", target_is_vchar},
    {LLHTTP_REJECTS, "Invalid `Transfer-Encoding` header value",
     HPE_INVALID_TRANSFER_ENCODING, "trailer-framing-field", "K9",
     framing_trailer},
    {LLHTTP_REJECTS, "Content-Length can't be present with Transfer-Encoding",
     HPE_UNEXPECTED_CONTENT_LENGTH, "trailer-framing-field", "K9",
     framing_trailer},
    {LLHTTP_REJECTS, "Duplicate Content-Length", HPE_UNEXPECTED_CONTENT_LENGTH,
     "trailer-framing-field", "K9", framing_trailer},
    {LLHTTP_REJECTS, "Invalid character in Content-Length",
     HPE_INVALID_CONTENT_LENGTH, "trailer-framing-field", "K9",
     framing_trailer},
    {LLHTTP_REJECTS, "Content-Length overflow", HPE_INVALID_CONTENT_LENGTH,
     "trailer-framing-field", "K9", framing_trailer},
    {LLHTTP_REJECTS, "Empty Content-Length", HPE_INVALID_CONTENT_LENGTH,
     "trailer-framing-field", "K9", framing_trailer},
    {LLHTTP_REJECTS, "Invalid character in chunk size", HPE_INVALID_CHUNK_SIZE,
     "chunk-ext-grammar", "K4", chunk_ext_line},
    {LLHTTP_REJECTS, "Invalid character in chunk extensions name", -1,
     "chunk-ext-grammar", "K4", chunk_ext_line},
    {LLHTTP_REJECTS, "Invalid character in chunk extensions quote value", -1,
     "chunk-ext-grammar", "K4", chunk_ext_line},
    {LLHTTP_REJECTS, "Invalid character in chunk extensions quoted value", -1,
     "chunk-ext-grammar", "K4", chunk_ext_line},
    {LLHTTP_REJECTS, "Invalid character in chunk extensions value", -1,
     "chunk-ext-grammar", "K4", chunk_ext_line},
    {LLHTTP_REJECTS, "Invalid character in chunk extensions", -1,
     "chunk-ext-grammar", "K4", chunk_ext_line},
    {LLHTTP_REJECTS, "Unexpected char in url schema", HPE_INVALID_URL,
     "target-absolute-uri", "R4", scheme_without_slashes},
};

static const char *classify_gust(const diff_run *g, const uint8_t *data,
                                 size_t size, const char **rule) {
  for (size_t i = 0; i < sizeof(classes) / sizeof(classes[0]); i++)
    if (classes[i].side == GUST_REJECTS && g->reason != NULL &&
        strcmp(classes[i].match, g->reason) == 0 &&
        (classes[i].holds == NULL ||
         classes[i].holds(data, size, line_start(data, size, g->offset)))) {
      *rule = classes[i].rule;
      return classes[i].name;
    }
  return NULL;
}

static const char *classify_llhttp(const diff_run *l, const uint8_t *data,
                                   size_t size, const char **rule) {
  for (size_t i = 0; i < sizeof(classes) / sizeof(classes[0]); i++)
    if (classes[i].side == LLHTTP_REJECTS &&
        (classes[i].ll_code < 0 || classes[i].ll_code == l->code) &&
        l->reason != NULL && strcmp(classes[i].match, l->reason) == 0 &&
        (classes[i].holds == NULL ||
         classes[i].holds(data, size, line_start(data, size, l->offset)))) {
      *rule = classes[i].rule;
      return classes[i].name;
    }
  return NULL;
}

static int same_framing(const diff_msg *a, const diff_msg *b) {
  return strcmp(a->method, b->method) == 0 && a->target_len == b->target_len &&
         a->target_hash == b->target_hash && a->major == b->major &&
         a->minor == b->minor && a->nfields == b->nfields &&
         a->body_len == b->body_len && a->body_hash == b->body_hash;
}

/* gust has not decided on the message llhttp rejected: it waits for the
 * rest of the head, or for the end of the body line llhttp stopped in. */
static int gust_undecided(const diff_run *g, const diff_run *l,
                          const uint8_t *data, size_t size) {
  if (g->end != END_OPEN || g->done != l->done)
    return 0;
  if (g->heads == g->done)
    return 1;
  return l->offset <= size &&
         memchr(data + l->offset, '\n', size - l->offset) == NULL;
}

/* Does the head starting at `start` hold a Connection field whose value
 * has a tab or a space (OWS, which gust trims around list elements, F1)?
 * llhttp matches "keep-alive" / "close" only without them. */
static int connection_ows(const uint8_t *data, size_t size, size_t start) {
  size_t i = start;
  while (i < size) {
    size_t e = i;
    while (e < size && data[e] != '\n')
      e++;
    if (e == i || (e == i + 1 && data[i] == '\r'))
      return 0; /* the end of the head */
    if (line_is(data, size, i, "connection:")) {
      size_t k;
      for (k = i + 11; k < e; k++)
        if (data[k] == '\t' ||
            (data[k] == ' ' && k + 1 < e && data[k + 1] != '\r'))
          return 1;
    }
    i = e + 1;
  }
  return 0;
}

static size_t req_line(const diff_run *g, const diff_run *l,
                       const uint8_t *data, size_t size) {
  if (g->heads > l->done && g->msg[l->done].start < size)
    return g->msg[l->done].start;
  return line_start(data, size, l->offset);
}

static void report(const char *what, const char *cls, const char *rule,
                   const diff_run *g, const diff_run *l, const uint8_t *data,
                   size_t size) {
  if (cls != NULL && getenv("GUST_DIFF_VERBOSE") == NULL)
    return;
  fprintf(
      stderr,
      "http1_diff: %s: class %s (rule %s); gust %d msgs end %d \"%s\" @%llu;"
      " llhttp %d msgs end %d %d \"%s\" @%llu; input %zu bytes: ",
      what, cls != NULL ? cls : "UNJUSTIFIED", rule != NULL ? rule : "-",
      g->done, g->end, g->reason != NULL ? g->reason : "",
      (unsigned long long)g->offset, l->done, l->end, l->code,
      l->reason != NULL ? l->reason : "", (unsigned long long)l->offset, size);
  for (size_t i = 0; i < size && i < 512; i++)
    fprintf(stderr, data[i] >= 0x20 && data[i] < 0x7f ? "%c" : "\\x%02x",
            data[i]);
  fputc('\n', stderr);
  if (cls == NULL)
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static diff_run g, l;
  const char *cls = NULL, *rule = NULL;
  int n, i;
  run_gust(data, size, &g);
  run_llhttp(data, size, &l);
  /* Messages both completed must be framed alike. Comparison stops after
   * a message that either side ends the connection with, or that hands
   * the bytes to another protocol (U2). */
  n = g.done < l.done ? g.done : l.done;
  for (i = 0; i < n; i++) {
    if (!same_framing(&g.msg[i], &l.msg[i])) {
      report("framing differs", NULL, NULL, &g, &l, data, size);
      return 0;
    }
    if (g.msg[i].upgrade || l.msg[i].upgrade)
      return 0;
    if (!g.msg[i].keep_alive || !l.msg[i].keep_alive) {
      /* gust closing after an HTTP/1.0 message that llhttp keeps alive
       * follows P3 (Tornado's rule: keep-alive also needs a length,
       * chunked, or GET/HEAD); the bytes after it are ignored (Q4). */
      if (g.msg[i].keep_alive != l.msg[i].keep_alive &&
          (g.done > i + 1 || l.done > i + 1)) {
        /* A Connection value with OWS around its tokens, which gust trims
         * (F1) and llhttp does not match, explains either direction
         * (gust keeping "keep-alive\t" or closing on "close\t"). */
        int ows =
            g.msg[i].start < size && connection_ows(data, size, g.msg[i].start);
        report("persistence differs",
               ows ? "connection-ows"
               : !g.msg[i].keep_alive && g.msg[i].minor == 0
                   ? "http10-persistence"
                   : NULL,
               ows ? "F1 P3" : "P3", &g, &l, data, size);
      }
      return 0;
    }
  }
  if (g.done == l.done) {
    if ((g.end == END_ERROR) == (l.end == END_ERROR))
      return 0;
    if (g.end == END_ERROR) {
      cls = classify_gust(&g, data, size, &rule);
      report("gust rejects", cls, rule, &g, &l, data, size);
    } else if (!gust_undecided(&g, &l, data, size)) {
      past_head = g.heads > l.done;
      request_line = req_line(&g, &l, data, size);
      cls = classify_llhttp(&l, data, size, &rule);
      report("llhttp rejects", cls, rule, &g, &l, data, size);
    }
    return 0;
  }
  if (g.done < l.done) {
    /* gust stopped on a message llhttp completed */
    if (g.end == END_ERROR) {
      cls = classify_gust(&g, data, size, &rule);
      report("gust rejects", cls, rule, &g, &l, data, size);
    } else if (g.done < MAX_MSGS) {
      report("llhttp completes more", NULL, NULL, &g, &l, data, size);
    }
    return 0;
  }
  if (l.end == END_ERROR) {
    past_head = g.heads > l.done;
    request_line = req_line(&g, &l, data, size);
    cls = classify_llhttp(&l, data, size, &rule);
    report("llhttp rejects", cls, rule, &g, &l, data, size);
  } else if (l.done < MAX_MSGS) {
    /* llhttp still waits for the rest of an HTTP/2 preface after "PRI "
     * with an HTTP/1 version; gust read a token method (R2) */
    size_t at = g.msg[l.done].start;
    int pri = l.end == END_OPEN && at + 4 <= size &&
              memcmp(data + at, "PRI ", 4) == 0;
    report("gust completes more", pri ? "method-pri" : NULL, pri ? "R2" : NULL,
           &g, &l, data, size);
  }
  return 0;
}
