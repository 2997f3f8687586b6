/* HTTP/1.1 head parser: start lines, field lines and the framing decision
 * (RFC 9112 §2-§6, strict as reference/http1-rules.md). Lines are scanned
 * incrementally; a head is handed out as slices once it is complete. */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/http1_int.h"

#define INT63_MAX ((uint64_t)INT64_MAX)

#if defined(__GNUC__) || defined(__clang__)
#define ALWAYS_INLINE __attribute__((always_inline)) inline
#else
#define ALWAYS_INLINE inline
#endif

/* Bytes of a reg-name: unreserved and sub-delims, except ',' (merged
 * duplicates look like "a, b"). */
static const uint8_t host_tab[256] = {
    ['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1,  ['e'] = 1, ['f'] = 1,
    ['g'] = 1, ['h'] = 1, ['i'] = 1, ['j'] = 1,  ['k'] = 1, ['l'] = 1,
    ['m'] = 1, ['n'] = 1, ['o'] = 1, ['p'] = 1,  ['q'] = 1, ['r'] = 1,
    ['s'] = 1, ['t'] = 1, ['u'] = 1, ['v'] = 1,  ['w'] = 1, ['x'] = 1,
    ['y'] = 1, ['z'] = 1, ['A'] = 1, ['B'] = 1,  ['C'] = 1, ['D'] = 1,
    ['E'] = 1, ['F'] = 1, ['G'] = 1, ['H'] = 1,  ['I'] = 1, ['J'] = 1,
    ['K'] = 1, ['L'] = 1, ['M'] = 1, ['N'] = 1,  ['O'] = 1, ['P'] = 1,
    ['Q'] = 1, ['R'] = 1, ['S'] = 1, ['T'] = 1,  ['U'] = 1, ['V'] = 1,
    ['W'] = 1, ['X'] = 1, ['Y'] = 1, ['Z'] = 1,  ['0'] = 1, ['1'] = 1,
    ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1,  ['6'] = 1, ['7'] = 1,
    ['8'] = 1, ['9'] = 1, ['-'] = 1, ['.'] = 1,  ['_'] = 1, ['~'] = 1,
    ['!'] = 1, ['$'] = 1, ['&'] = 1, ['\''] = 1, ['('] = 1, [')'] = 1,
    ['*'] = 1, ['+'] = 1, [';'] = 1, ['='] = 1};

#define TCHAR(c) (gust__tchar[(uint8_t)(c)])

static int is_ows(uint8_t c) { return c == ' ' || c == '\t'; }

/* Server errors carry the status to answer; a client has none to send. */
static int fail(gust_h1 *h, int code, int status, size_t at, const char *msg) {
  return gust__h1_fail(h, code, h->role == GUST_H1_SERVER ? status : 0,
                       h->consumed + at, msg);
}

static int bad(gust_h1 *h, size_t at, const char *msg) {
  return fail(h, GUST_EHTTP_SYNTAX, 400, at, msg);
}

static int eq_lower(const uint8_t *p, size_t n, const char *lower) {
  size_t i;
  for (i = 0; i < n; i++)
    if (gust__lower(p[i]) != (uint8_t)lower[i])
      return 0;
  return lower[n] == '\0';
}

/* Returns the slice [a, b) of p trimmed of OWS. */
static void trim(const uint8_t *p, size_t *a, size_t *b) {
  while (*a < *b && is_ows(p[*a]))
    (*a)++;
  while (*b > *a && is_ows(p[*b - 1]))
    (*b)--;
}

/* ------------------------------------------------------------------ */
/* Byte scanners                                                        */
/* ------------------------------------------------------------------ */

#define ONES  0x0101010101010101ull
#define HIGHS 0x8080808080808080ull

/* The byte scanners below return the index of the first byte in p[i..end)
 * that is <= `lim` or equal to DEL, or `end`. The head scanner uses lim
 * 0x1f (controls), the request-target scanner 0x20 (controls and SP). Each
 * has a portable eight-bytes-at-a-time form; x86-64 adds SSE2 (always
 * present there) and AVX2 (chosen at run time). */
static size_t skip_swar(const uint8_t *p, size_t i, size_t end, uint8_t lim) {
  while (end - i >= 8) {
    uint64_t x, y;
    memcpy(&x, p + i, 8);
    y = x ^ (ONES * 0x7f);
    /* a byte below lim + 1 or equal to 0x7f sets its high bit */
    if (((x - ONES * (uint64_t)(lim + 1)) & ~x & HIGHS) |
        ((y - ONES) & ~y & HIGHS))
      break;
    i += 8;
  }
  while (i < end && p[i] > lim && p[i] != 0x7f)
    i++;
  return i;
}

/* The first byte in p[i..end) whose entry in `tab` is 0, or `end`. */
static size_t skip_tab(const uint8_t *p, size_t i, size_t end,
                       const uint8_t *tab) {
  while (i < end && tab[p[i]])
    i++;
  return i;
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>

/* Bytes of the 16 at p that are <= lim or DEL, as a bit mask. */
static unsigned hits_sse2(const uint8_t *p, __m128i l, __m128i d) {
  __m128i x = _mm_loadu_si128((const __m128i *)(const void *)p);
  __m128i hit =
      _mm_or_si128(_mm_cmpeq_epi8(_mm_max_epu8(x, l), l), _mm_cmpeq_epi8(x, d));
  return (unsigned)_mm_movemask_epi8(hit);
}

/* The vector scanners need p[0..end) readable, p being the start of the
 * input: a tail shorter than a vector is read as the last vector of the
 * input, the bytes before i shifted out of the mask. */
static size_t skip_sse2(const uint8_t *p, size_t i, size_t end, uint8_t lim) {
  const __m128i l = _mm_set1_epi8((char)lim), d = _mm_set1_epi8(0x7f);
  unsigned m;
  while (end - i >= 16) {
    m = hits_sse2(p + i, l, d);
    if (m != 0)
      return i + (size_t)__builtin_ctz(m);
    i += 16;
  }
  if (i == end || end < 16)
    return skip_swar(p, i, end, lim);
  m = hits_sse2(p + end - 16, l, d) >> (16 - (end - i));
  return m != 0 ? i + (size_t)__builtin_ctz(m) : end;
}

__attribute__((target("avx2"))) static size_t
skip_avx2(const uint8_t *p, size_t i, size_t end, uint8_t lim) {
  const __m256i l = _mm256_set1_epi8((char)lim), d = _mm256_set1_epi8(0x7f);
  while (end - i >= 32) {
    __m256i x = _mm256_loadu_si256((const __m256i *)(const void *)(p + i));
    __m256i hit = _mm256_or_si256(_mm256_cmpeq_epi8(_mm256_max_epu8(x, l), l),
                                  _mm256_cmpeq_epi8(x, d));
    unsigned m = (unsigned)_mm256_movemask_epi8(hit);
    if (m != 0)
      return i + (size_t)__builtin_ctz(m);
    i += 32;
  }
  return skip_sse2(p, i, end, lim);
}

/* Bytes of the 16 at p outside a set of ASCII bytes from 0x20 to 0x7f, as
 * a bit mask: each byte is classified by two table lookups on its nibbles
 * (a member's row bit, for rows 2 to 7, is set in its column's mask). */
__attribute__((target("avx2"), always_inline)) static inline unsigned
outside_set(const uint8_t *p, __m128i col) {
  const __m128i row =
      _mm_setr_epi8(0, 0, 1, 2, 4, 8, 16, 32, 0, 0, 0, 0, 0, 0, 0, 0);
  const __m128i nib = _mm_set1_epi8(0x0f);
  __m128i x = _mm_loadu_si128((const __m128i *)(const void *)p);
  __m128i c = _mm_shuffle_epi8(col, _mm_and_si128(x, nib));
  __m128i r = _mm_shuffle_epi8(row, _mm_and_si128(_mm_srli_epi16(x, 4), nib));
  return (unsigned)_mm_movemask_epi8(
      _mm_cmpeq_epi8(_mm_and_si128(c, r), _mm_setzero_si128()));
}

/* Returns the index of the first byte in p[i..end) outside the set given
 * by `col` and `tab` (its byte table), or `end`, sixteen bytes at a time
 * (p[0..end) readable, as above). */
__attribute__((target("avx2"), always_inline)) static inline size_t
skip_set_avx2(const uint8_t *p, size_t i, size_t end, __m128i col,
              const uint8_t *tab) {
  unsigned m;
  while (end - i >= 16) {
    m = outside_set(p + i, col);
    if (m != 0)
      return i + (size_t)__builtin_ctz(m);
    i += 16;
  }
  if (i == end || end < 16)
    return skip_tab(p, i, end, tab);
  m = outside_set(p + end - 16, col) >> (16 - (end - i));
  return m != 0 ? i + (size_t)__builtin_ctz(m) : end;
}

__attribute__((target("avx2"))) static size_t
skip_tchar_avx2(const uint8_t *p, size_t i, size_t end) {
  const __m128i col = _mm_setr_epi8(58, 63, 62, 63, 63, 63, 63, 63, 62, 62, 61,
                                    21, 52, 21, 61, 28);
  return skip_set_avx2(p, i, end, col, gust__tchar);
}

/* reg-name bytes (host_tab) */
__attribute__((target("avx2"))) static size_t
skip_host_avx2(const uint8_t *p, size_t i, size_t end) {
  const __m128i col = _mm_setr_epi8(42, 63, 62, 62, 63, 62, 63, 63, 63, 63, 61,
                                    23, 20, 23, 53, 28);
  return skip_set_avx2(p, i, end, col, host_tab);
}

/* 1 = SSE2, 2 = AVX2; set once by gust__h1_simd_init() before any parse
 * (pthread_once: connections may be created on several threads at once).
 * The environment variable GUST_SIMD lowers it for the tests (0 SWAR,
 * 1 SSE2). */
static int simd_level = 1;
static pthread_once_t simd_once = PTHREAD_ONCE_INIT;

static void simd_detect(void) {
  const char *cap = getenv("GUST_SIMD");
  int level;
  __builtin_cpu_init();
  level = __builtin_cpu_supports("avx2") ? 2 : 1;
  if (cap != NULL && cap[0] >= '0' && cap[0] < '0' + level)
    level = cap[0] - '0';
  simd_level = level;
}

void gust__h1_simd_init(void) { pthread_once(&simd_once, simd_detect); }

ALWAYS_INLINE static size_t skip_until(const uint8_t *p, size_t i, size_t end,
                                       uint8_t lim) {
  if (end - i >= 32 && simd_level == 2)
    return skip_avx2(p, i, end, lim);
  if (GUST__UNLIKELY(simd_level == 0))
    return skip_swar(p, i, end, lim);
  return skip_sse2(p, i, end, lim);
}

/* The first non-tchar at or after p[i]; p[end - 1] must not be a tchar (it
 * is the CR or LF ending the line), so the scalar loop needs no bound. */
static size_t skip_tchar(const uint8_t *p, size_t i, size_t end) {
  if (end - i >= 16 && simd_level == 2)
    return skip_tchar_avx2(p, i, end);
  while (gust__tchar[p[i]])
    i++;
  return i;
}

/* The first non-tchar in p[i..end), or `end`. */
static size_t skip_tchar_to(const uint8_t *p, size_t i, size_t end) {
  if (end >= 16 && simd_level == 2)
    return skip_tchar_avx2(p, i, end);
  return skip_tab(p, i, end, gust__tchar);
}

/* The first byte in p[i..end) that is not a reg-name byte, or `end`. */
static size_t skip_host(const uint8_t *p, size_t i, size_t end) {
  if (end >= 16 && simd_level == 2)
    return skip_host_avx2(p, i, end);
  return skip_tab(p, i, end, host_tab);
}
#else
void gust__h1_simd_init(void) {}

static size_t skip_host(const uint8_t *p, size_t i, size_t end) {
  return skip_tab(p, i, end, host_tab);
}

static size_t skip_tchar_to(const uint8_t *p, size_t i, size_t end) {
  return skip_tab(p, i, end, gust__tchar);
}

static size_t skip_until(const uint8_t *p, size_t i, size_t end, uint8_t lim) {
  return skip_swar(p, i, end, lim);
}

/* The first non-tchar at or after p[i]; p[end - 1] is the CR or LF ending
 * the line, so the loop needs no bound. */
static size_t skip_tchar(const uint8_t *p, size_t i, size_t end) {
  (void)end;
  while (gust__tchar[p[i]])
    i++;
  return i;
}
#endif

ALWAYS_INLINE static size_t skip_plain(const uint8_t *p, size_t i, size_t end) {
  return skip_until(p, i, end, 0x1f);
}

/* ------------------------------------------------------------------ */
/* Start lines                                                          */
/* ------------------------------------------------------------------ */

/* Checks `HTTP/d.d` at p[i..i+8); returns 1 valid, 0 malformed; sets the
 * major and minor digits. */
static int version_ok(const uint8_t *p, size_t i, int *major, int *minor) {
  if (memcmp(p + i, "HTTP/", 5) != 0)
    return 0;
  if (p[i + 5] < '0' || p[i + 5] > '9' || p[i + 6] != '.' || p[i + 7] < '0' ||
      p[i + 7] > '9')
    return 0;
  *major = p[i + 5] - '0';
  *minor = p[i + 7] - '0';
  return 1;
}

/* Loads eight bytes as a little-endian word (for fixed-string compares). */
static uint64_t load8(const uint8_t *p) {
  uint64_t x;
  memcpy(&x, p, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
  x = __builtin_bswap64(x);
#endif
  return x;
}

static uint32_t load4(const uint8_t *p) {
  uint32_t x;
  memcpy(&x, p, 4);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
  x = __builtin_bswap32(x);
#endif
  return x;
}

/* "GET " and "HTTP/1.1" as little-endian words. */
#define WORD_GET_SP 0x20544547u
#define WORD_HTTP11 0x312e312f50545448ull
#define WORD_HOST   0x74736f68u

enum { M_OTHER, M_GET, M_HEAD, M_CONNECT, M_OPTIONS };

/* Classifies the methods whose meaning the parser needs (case-sensitive). */
static int method_kind(const uint8_t *ptr, size_t len) {
  switch (len) {
  case 3:
    return memcmp(ptr, "GET", 3) == 0 ? M_GET : M_OTHER;
  case 4:
    return memcmp(ptr, "HEAD", 4) == 0 ? M_HEAD : M_OTHER;
  case 7:
    if (memcmp(ptr, "CONNECT", 7) == 0)
      return M_CONNECT;
    return memcmp(ptr, "OPTIONS", 7) == 0 ? M_OPTIONS : M_OTHER;
  default:
    return M_OTHER;
  }
}

static int request_line(gust_h1 *h, const uint8_t *p, size_t ls, size_t le) {
  size_t i = ls, ts;
  int major, minor;
  /* the line ends in CR or LF, so a line of four bytes or more may be
   * read four bytes from its start */
  if (le - ls >= 4 && load4(p + ls) == WORD_GET_SP) {
    i = ls + 3;
    h->m_kind = M_GET;
  } else {
    i = skip_tchar(p, i, le + 1);
    h->m_kind = method_kind(p + ls, i - ls);
  }
  if (i == ls)
    return bad(h, ls, "invalid request method");
  if (i == le || p[i] != ' ')
    return bad(h, i, "invalid character in request method");
  h->m_off = (uint32_t)ls;
  h->m_len = (uint32_t)(i - ls);
  ts = ++i;
  {
    /* the target ends at the first SP; a control or DEL before it, or a
     * target over the limit, is an error (the earlier of the two wins) */
    size_t lim = le - ts > h->cfg.max_target ? ts + h->cfg.max_target : le;
    i = skip_until(p, ts, lim, 0x20);
    if (i < le && p[i] != ' ') {
      if (p[i] < 0x21 || p[i] == 0x7f)
        return bad(h, i, "invalid character in request target");
      return fail(h, GUST_EHTTP_TARGET_SIZE, 414, i, "request target too long");
    }
  }
  if (i == ts)
    return bad(h, i, "empty request target");
  if (i == le)
    return bad(h, i, "missing HTTP version in request line");
  h->t_off = (uint32_t)ts;
  h->t_len = (uint32_t)(i - ts);
  i++;
  if (le - i == 8 && load8(p + i) == WORD_HTTP11) {
    h->minor = 1;
    return 0;
  }
  if (le - i != 8 || !version_ok(p, i, &major, &minor))
    return bad(h, i, "invalid HTTP version");
  if (major != 1)
    return fail(h, GUST_EHTTP_VERSION, 505, i, "HTTP version not supported");
  h->minor = minor >= 1 ? 1 : 0;
  return 0;
}

static int status_line(gust_h1 *h, const uint8_t *p, size_t ls, size_t le) {
  int major, minor, code;
  size_t i;
  if (le - ls < 12 || !version_ok(p, ls, &major, &minor))
    return bad(h, ls, "invalid status line");
  if (major != 1)
    return fail(h, GUST_EHTTP_VERSION, 0, ls, "HTTP version not supported");
  if (p[ls + 8] != ' ')
    return bad(h, ls + 8, "invalid status line");
  code = 0;
  for (i = ls + 9; i < ls + 12; i++) {
    if (p[i] < '0' || p[i] > '9')
      return bad(h, i, "invalid status code");
    code = code * 10 + (p[i] - '0');
  }
  if (code < 100 || code > 599)
    return bad(h, ls + 9, "status code out of range");
  h->status = code;
  h->minor = minor >= 1 ? 1 : 0;
  h->r_off = h->r_len = 0;
  if (le == ls + 12)
    return 0;
  if (p[ls + 12] != ' ')
    return bad(h, ls + 12, "invalid status line");
  for (i = ls + 13; i < le; i++)
    if ((p[i] < 0x20 && p[i] != '\t') || p[i] == 0x7f)
      return bad(h, i, "invalid character in reason phrase");
  h->r_off = (uint32_t)(ls + 13);
  h->r_len = (uint32_t)(le - ls - 13);
  return 0;
}

/* ------------------------------------------------------------------ */
/* Fields with framing meaning                                          */
/* ------------------------------------------------------------------ */

static int content_length(gust_h1 *h, const uint8_t *p, size_t a, size_t b) {
  size_t i = a;
  int n = 0;
  if (a == b)
    return bad(h, a, "empty Content-Length");
  while (i <= b) {
    size_t s = i, e;
    uint64_t v = 0;
    while (i < b && p[i] != ',')
      i++;
    e = i;
    trim(p, &s, &e);
    if (s == e)
      return bad(h, s, "empty element in Content-Length");
    for (; s < e; s++) {
      unsigned d = (unsigned)p[s] - '0';
      if (d > 9)
        return bad(h, s, "Only integer Content-Length is allowed");
      if (v > (INT63_MAX - d) / 10)
        return bad(h, s, "Content-Length overflows");
      v = v * 10 + d;
    }
    if (h->n_cl > 0 || n > 0) {
      if (v != h->cl)
        return bad(h, a, "Multiple unequal Content-Lengths");
      if (h->cfg.flags & GUST_H1_STRICT_DUPLICATE_CL)
        return bad(h, a, "repeated Content-Length");
    }
    h->cl = v;
    n++;
    i++; /* past the comma (or past b, ending the loop) */
  }
  h->n_cl++;
  return 0;
}

/* Transfer-Encoding; `ra`..`rb` is the raw value with its OWS. */
static int transfer_encoding(gust_h1 *h, const uint8_t *p, size_t ra,
                             size_t rb) {
  int request = h->role == GUST_H1_SERVER;
  size_t i, a = ra, b = rb;
  if (request) {
    for (i = ra; i < rb; i++)
      if (p[i] == '\t')
        return bad(h, i, "tab in Transfer-Encoding");
  }
  trim(p, &a, &b);
  h->te_last_chunked = 0;
  i = a;
  for (;;) {
    size_t s = i, e, k;
    while (i < b && p[i] != ',')
      i++;
    e = i;
    trim(p, &s, &e);
    if (s == e) {
      if (request)
        return bad(h, s, "empty element in Transfer-Encoding");
    } else {
      for (k = s; k < e; k++)
        if (!TCHAR(p[k]))
          return bad(h, k, "invalid transfer coding");
      if (e - s == 7 && eq_lower(p + s, 7, "chunked")) {
        h->te_chunked++;
        h->te_last_chunked = 1;
      } else {
        h->te_other = 1;
        h->te_last_chunked = 0;
      }
    }
    if (i >= b)
      break;
    i++;
  }
  h->n_te++;
  return 0;
}

static int is_hex(uint8_t c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
         (c >= 'A' && c <= 'F');
}

/* Returns 1 if p[a..b) is uri-host [":" port]. */
static int host_valid(const uint8_t *p, size_t a, size_t b) {
  size_t i = a;
  if (i < b && p[i] == '[') {
    i++;
    while (i < b && p[i] != ']') {
      if (!(host_tab[p[i]] || p[i] == ':'))
        return 0;
      i++;
    }
    if (i == b)
      return 0;
    i++;
  } else {
    for (;;) {
      i = skip_host(p, i, b);
      if (i < b && p[i] == '%') {
        if (b - i < 3 || !is_hex(p[i + 1]) || !is_hex(p[i + 2]))
          return 0;
        i += 3;
        continue;
      }
      break;
    }
  }
  if (i == b)
    return 1;
  if (p[i] != ':')
    return 0;
  for (i++; i < b; i++)
    if (p[i] < '0' || p[i] > '9')
      return 0;
  return 1;
}

static int host_field(gust_h1 *h, const uint8_t *p, size_t a, size_t b,
                      size_t ls) {
  size_t i;
  if (h->role != GUST_H1_SERVER)
    return 0;
  if (++h->n_host > 1)
    return bad(h, ls, "Multiple host headers not allowed");
  if (!host_valid(p, a, b)) {
    for (i = a; i < b; i++)
      if (p[i] == ',')
        return bad(h, i, "Multiple host headers not allowed");
    return bad(h, a, "Invalid Host header");
  }
  return 0;
}

/* Walks a comma list, calling back on each trimmed element. */
static void tokens(gust_h1 *h, const uint8_t *p, size_t a, size_t b,
                   void (*fn)(gust_h1 *, const uint8_t *, size_t)) {
  size_t i = a;
  while (i < b) {
    size_t s = i, e;
    while (i < b && p[i] != ',')
      i++;
    e = i;
    trim(p, &s, &e);
    if (e > s)
      fn(h, p + s, e - s);
    i++;
  }
}

static void connection_token(gust_h1 *h, const uint8_t *t, size_t n) {
  if (eq_lower(t, n, "close"))
    h->conn_close = 1;
  else if (eq_lower(t, n, "keep-alive"))
    h->conn_keep_alive = 1;
  else if (eq_lower(t, n, "upgrade"))
    h->conn_upgrade = 1;
}

static void upgrade_token(gust_h1 *h, const uint8_t *t, size_t n) {
  if (n >= 9 && eq_lower(t, 9, "websocket"))
    h->up_websocket = 1;
}

/* Records what a header field means for framing and persistence. */
static int special_field(gust_h1 *h, const uint8_t *p, size_t ls, size_t ns,
                         size_t ne, size_t va, size_t vb) {
  size_t n = ne - ns;
  const uint8_t *name = p + ns;
  switch (n) {
  case 4:
    /* every byte of the name is a tchar, so OR-ing 0x20 into each is a
     * case-insensitive compare with "host" */
    if ((load4(name) | 0x20202020u) == WORD_HOST)
      return host_field(h, p, va, vb, ls);
    break;
  case 6:
    if (eq_lower(name, 6, "expect")) {
      h->framing = 1;
      if (vb - va == 12 && eq_lower(p + va, 12, "100-continue"))
        h->expect_100 = 1;
      else if (vb > va)
        h->expect_other = 1;
    }
    break;
  case 7:
    if (eq_lower(name, 7, "upgrade")) {
      h->framing = 1;
      h->has_upgrade = 1;
      tokens(h, p, va, vb, upgrade_token);
    }
    break;
  case 10:
    if (eq_lower(name, 10, "connection")) {
      h->framing = 1;
      tokens(h, p, va, vb, connection_token);
    }
    break;
  case 14:
    if (eq_lower(name, 14, "content-length")) {
      h->framing = 1;
      return content_length(h, p, va, vb);
    }
    break;
  default:
    break;
  }
  return 0;
}

static int grow_fields(gust_h1 *h) {
  size_t cap = h->fcap * 2;
  gust__h1_foff *f;
  gust_h1_field *g;
  if (cap > h->cfg.max_fields)
    cap = h->cfg.max_fields;
  f = gust__realloc(h->mem, h->foff, cap * sizeof(*f));
  if (f == NULL)
    return gust__h1_fail(h, GUST_ENOMEM, 500, h->consumed, "out of memory");
  h->foff = f;
  g = gust__realloc(h->mem, h->fields, cap * sizeof(*g));
  if (g == NULL)
    return gust__h1_fail(h, GUST_ENOMEM, 500, h->consumed, "out of memory");
  h->fields = g;
  h->fcap = cap;
  return 0;
}

ALWAYS_INLINE static int field_store(gust_h1 *h, const uint8_t *p, size_t ls,
                                     size_t ne, size_t va, size_t vb, size_t le,
                                     int trailers);

/* Stores a field's slices: name from ls to ne, value from va to vb. */
ALWAYS_INLINE static int add_field(gust_h1 *h, size_t ls, size_t ne, size_t va,
                                   size_t vb) {
  gust__h1_foff *f;
  if (h->nf >= h->field_limit)
    return fail(h, GUST_EHTTP_HEAD_SIZE, 431, ls, "too many header fields");
  if (h->nf == h->fcap && grow_fields(h) != 0)
    return h->err_code;
  f = &h->foff[h->nf++];
  f->name_off = (uint32_t)ls;
  f->name_len = (uint32_t)(ne - ls);
  f->value_off = (uint32_t)va;
  f->value_len = (uint32_t)(vb - va);
  return 0;
}

static int field_line(gust_h1 *h, const uint8_t *p, size_t ls, size_t le,
                      int trailers, int odd) {
  size_t i = ls, va, vb;
  if (is_ows(p[ls]))
    return bad(h, ls, "obs-fold or whitespace before a field name");
  i = skip_tchar(p, i, le + 1);
  if (i == le)
    return bad(h, i, "field line without a colon");
  if (p[i] != ':')
    return bad(h, i, "invalid character in field name");
  if (i == ls)
    return bad(h, i, "empty field name");
  va = i + 1;
  while (va < le && is_ows(p[va]))
    va++;
  /* the scanner saw every byte: only a line holding DEL or a control other
   * than HTAB needs a second look */
  for (vb = odd ? va : le; vb < le; vb++) {
    uint8_t c = p[vb];
    if ((c < 0x20 && c != '\t') || c == 0x7f) {
      if (!(h->cfg.flags & GUST_H1_CTL_IN_VALUES) || c == 0 || c == '\r' ||
          c == '\n')
        return bad(h, vb, "invalid character in field value");
    }
  }
  vb = le;
  while (vb > va && is_ows(p[vb - 1]))
    vb--;
  return field_store(h, p, ls, i, va, vb, le, trailers);
}

/* ------------------------------------------------------------------ */
/* Line scanner                                                         */
/* ------------------------------------------------------------------ */

/* Takes complete lines of the common shapes in a single pass each: a
 * request line `GET SP target SP HTTP/1.1 CRLF`, field lines without HTAB,
 * DEL or other controls, and the empty line ending the head. At the first
 * line of another kind (not yet complete, another method or version, an
 * odd byte, a limit reached) it stops and leaves that line to the general
 * scanner below, which reads it from its start and reports any error: this
 * path accepts only lines that the general one accepts with the same
 * result. Returns 1 at the end of the head, 2 for "go on with the general
 * scanner", or a negative code from the field semantics. */
ALWAYS_INLINE static int fast_lines(gust_h1 *h, const uint8_t *p, size_t avail,
                                    int trailers) {
  size_t ls = h->line_start, i, va, vb, le;
  size_t end = avail < h->head_limit ? avail : h->head_limit;
  int rc;
  if (!h->start_done) {
    size_t ts = ls + 4, lim;
    if (trailers || h->role != GUST_H1_SERVER || end - ls < 4 ||
        load4(p + ls) != WORD_GET_SP)
      return 2;
    lim = end - ts > h->cfg.max_target ? ts + h->cfg.max_target : end;
    i = skip_until(p, ts, lim, 0x20);
    if (i == lim || i == ts || p[i] != ' ' || end - i < 11 ||
        load8(p + i + 1) != WORD_HTTP11 || p[i + 9] != '\r' ||
        p[i + 10] != '\n')
      return 2;
    h->m_kind = M_GET;
    h->m_off = (uint32_t)ls;
    h->m_len = 3;
    h->t_off = (uint32_t)ts;
    h->t_len = (uint32_t)(i - ts);
    h->minor = 1;
    h->start_done = 1;
    ls = i + 11;
  }
  for (;;) {
    if (end - ls < 2)
      break;
    if (p[ls] == '\r') {
      if (p[ls + 1] != '\n')
        break;
      h->line_start = h->scan = h->head_size = ls + 2;
      return 1;
    }
    i = skip_tchar_to(p, ls, end);
    if (i == ls || i == end || p[i] != ':')
      break;
    va = i + 1;
    while (va < end && is_ows(p[va]))
      va++;
    if (i - ls == 4 && (load4(p + ls) | 0x20202020u) == WORD_HOST &&
        h->n_host == 0 && !trailers && h->role == GUST_H1_SERVER) {
      /* a first Host whose value is reg-name bytes up to the CR holds no
       * control or OWS and is valid as host_field() sees it */
      le = skip_host(p, va, end);
      if (end - le >= 2 && p[le] == '\r' && p[le + 1] == '\n') {
        rc = add_field(h, ls, i, va, le);
        if (rc != 0)
          return rc;
        h->n_host = 1;
        ls = le + 2;
        continue;
      }
    }
    le = skip_plain(p, va, end);
    if (end - le < 2 || p[le] != '\r' || p[le + 1] != '\n')
      break;
    vb = le;
    while (vb > va && p[vb - 1] == ' ')
      vb--;
    rc = field_store(h, p, ls, i, va, vb, le, trailers);
    if (rc != 0)
      return rc;
    ls = le + 2;
  }
  h->line_start = h->scan = ls;
  return 2;
}

/* A Connection field in a trailer section: only its "close" counts. */
static void trailer_connection(gust_h1 *h, const uint8_t *p, size_t va,
                               size_t vb) {
  unsigned close = h->conn_close, keep = h->conn_keep_alive,
           up = h->conn_upgrade;
  h->conn_close = 0;
  tokens(h, p, va, vb, connection_token);
  if (h->conn_close)
    h->keep_alive = 0;
  h->conn_close = close;
  h->conn_keep_alive = keep;
  h->conn_upgrade = up;
}

/* Stores a field line's slices and records what the field means; `ne` is
 * the colon after the name, `le` the end of the line. */
ALWAYS_INLINE static int field_store(gust_h1 *h, const uint8_t *p, size_t ls,
                                     size_t ne, size_t va, size_t vb, size_t le,
                                     int trailers) {
  int rc = add_field(h, ls, ne, va, vb);
  if (rc != 0)
    return rc;
  if (trailers) {
    /* CL, TE and Host mean nothing in trailers. Connection may not be
     * sent there (RFC 9110 6.5.1) and is not merged into the head, but a
     * "close" in it still ends the connection after this message, as
     * llhttp does: not reusing a connection is always the safe side. */
    if (ne - ls == 10 && eq_lower(p + ls, 10, "connection"))
      trailer_connection(h, p, va, vb);
    return 0;
  }
  if (ne - ls == 17) {
    if (eq_lower(p + ls, 17, "transfer-encoding")) {
      h->framing = 1;
      return transfer_encoding(h, p, ne + 1, le);
    }
    return 0;
  }
  if (ne - ls == 4 && (load4(p + ls) | 0x20202020u) == WORD_HOST)
    return host_field(h, p, va, vb, ls); /* as special_field() */
  return special_field(h, p, ls, ls, ne, va, vb);
}

/* The general scanner: one line at a time, from wherever the last call
 * stopped; lines of the common shapes still go through fast_lines(). */
__attribute__((noinline)) static int general_lines(gust_h1 *h, const uint8_t *p,
                                                   size_t avail, int trailers) {
  size_t limit = h->head_limit;
  int first = 1;
  for (;;) {
    size_t i, end = avail < limit ? avail : limit, le, next;
    int rc;
    if (!first && h->scan == h->line_start) {
      rc = fast_lines(h, p, avail, trailers);
      if (rc != 2)
        return rc;
    }
    first = 0;
    i = h->scan;
    for (;;) {
      /* a control byte (as the CR of the empty line ending the head) is
       * where the scan would stop: no need to call it */
      if (i == end || p[i] >= 0x20)
        i = skip_plain(p, i, end);
      if (i == end) {
        h->scan = i;
        if (end == limit)
          return fail(h, GUST_EHTTP_HEAD_SIZE, 431, limit,
                      trailers ? "trailer section too large"
                               : "message head too large");
        return 0;
      }
      if (p[i] == '\r') {
        if (i + 1 >= limit)
          return fail(h, GUST_EHTTP_HEAD_SIZE, 431, limit,
                      "message head too large");
        if (i + 1 >= avail) {
          h->scan = i;
          return 0;
        }
        if (p[i + 1] != '\n')
          return bad(h, i, "bare CR in message head");
        le = i;
        next = i + 2;
        break;
      }
      if (p[i] == '\n') {
        if (trailers || !(h->cfg.flags & GUST_H1_BARE_LF_HEAD))
          return bad(h, i, "bare LF in message head");
        le = i;
        next = i + 1;
        break;
      }
      if (p[i] == 0)
        return bad(h, i, "NUL in message head");
      if (p[i] != '\t')
        h->line_odd = 1; /* DEL or a control: the line parser decides */
      i++;
    }
    {
      size_t ls = h->line_start;
      int odd = h->line_odd;
      h->line_odd = 0;
      h->line_start = h->scan = next;
      if (le == ls) {
        if (!h->start_done && !trailers)
          continue; /* empty lines before the start line are skipped */
        h->head_size = next;
        return 1;
      }
      if (!h->start_done) {
        rc = h->role == GUST_H1_SERVER ? request_line(h, p, ls, le)
                                       : status_line(h, p, ls, le);
        h->start_done = 1;
      } else {
        rc = field_line(h, p, ls, le, trailers, odd);
      }
      if (rc != 0)
        return rc;
    }
  }
}

int gust__h1_parse_head(gust_h1 *h, const uint8_t *p, size_t avail,
                        int trailers) {
  if (h->scan == h->line_start) {
    int rc = fast_lines(h, p, avail, trailers);
    if (rc != 2)
      return rc;
  }
  return general_lines(h, p, avail, trailers);
}

/* ------------------------------------------------------------------ */
/* Framing decision                                                     */
/* ------------------------------------------------------------------ */

/* R4: the request-target form must fit the method. */
static int target_form_ok(int kind, gust_slice t) {
  size_t i;
  if (kind == M_CONNECT) {
    size_t colon = t.len;
    if (t.ptr[0] == '[') {
      for (i = 0; i < t.len && t.ptr[i] != ']'; i++)
        ;
      if (i == t.len)
        return 0;
    } else {
      i = 0;
    }
    for (; i < t.len; i++) {
      uint8_t c = t.ptr[i];
      if (c == '/' || c == '?' || c == '#' || c == '@' || c == ',')
        return 0;
      if (c == ':')
        colon = i;
    }
    if (colon == t.len || colon == 0 || colon + 1 == t.len)
      return 0;
    for (i = colon + 1; i < t.len; i++)
      if (t.ptr[i] < '0' || t.ptr[i] > '9')
        return 0;
    return 1;
  }
  if (t.ptr[0] == '/')
    return 1;
  if (t.len == 1 && t.ptr[0] == '*')
    return kind == M_OPTIONS;
  /* absolute-form: scheme ":" ... */
  if (!((t.ptr[0] | 0x20) >= 'a' && (t.ptr[0] | 0x20) <= 'z'))
    return 0;
  for (i = 1; i < t.len; i++) {
    uint8_t c = t.ptr[i];
    if (c == ':')
      return 1;
    if (!(((c | 0x20) >= 'a' && (c | 0x20) <= 'z') || (c >= '0' && c <= '9') ||
          c == '+' || c == '-' || c == '.'))
      return 0;
  }
  return 0;
}

ALWAYS_INLINE static void build_fields(gust_h1 *h, const uint8_t *p) {
  size_t i;
  for (i = 0; i < h->nf; i++) {
    h->fields[i].name.ptr = p + h->foff[i].name_off;
    h->fields[i].name.len = h->foff[i].name_len;
    h->fields[i].value.ptr = p + h->foff[i].value_off;
    h->fields[i].value.len = h->foff[i].value_len;
  }
}

static int finish_request(gust_h1 *h, const uint8_t *p) {
  size_t at = h->head_size - 2;
  gust_slice t;
  unsigned fl = 0;
  int body, kind;
  t.ptr = p + h->t_off;
  t.len = h->t_len;
  kind = h->m_kind;
  if (!target_form_ok(kind, t))
    return bad(h, h->t_off, "request target form does not fit the method");
  if (h->minor == 1 && h->n_host == 0)
    return bad(h, at, "Missing Host header");
  if (h->n_te > 0) {
    if (h->minor == 0)
      return bad(h, at, "Transfer-Encoding in an HTTP/1.0 request");
    if (h->n_cl > 0)
      return fail(h, GUST_EHTTP_FRAMING, 400, at,
                  "Message with both Transfer-Encoding and Content-Length");
    if (h->te_chunked > 1)
      return fail(h, GUST_EHTTP_FRAMING, 400, at, "chunked applied twice");
    if (!h->te_last_chunked)
      return fail(h, GUST_EHTTP_FRAMING, 400, at,
                  "Unsupported Transfer-Encoding");
    if (h->te_other)
      return fail(h, GUST_EHTTP_CODING, 501, at,
                  "Unsupported Transfer-Encoding");
    fl |= GUST_H1_HEAD_CHUNKED;
  } else if (h->n_cl > 0) {
    /* the body limit (C7) is checked when the body starts: see
     * next_event() */
    fl |= GUST_H1_HEAD_HAS_LENGTH;
    h->content_length = h->cl;
  } else {
    fl |= GUST_H1_HEAD_HAS_LENGTH;
    h->content_length = 0;
  }
  body = (fl & GUST_H1_HEAD_CHUNKED) || h->content_length > 0;
  /* U5: a CONNECT request has no content; a peer that reads it as a
   * tunnel would take these bytes as tunnel data. */
  if (kind == M_CONNECT && body)
    return bad(h, at, "CONNECT request with content");
  if (h->minor == 1 && h->has_upgrade && h->conn_upgrade) {
    if (h->up_websocket && body)
      return bad(h, at, "WebSocket upgrade request with a body");
    fl |= GUST_H1_HEAD_UPGRADE;
  }
  if (kind == M_CONNECT)
    fl |= GUST_H1_HEAD_CONNECT;
  if (h->minor == 1) {
    if (h->expect_100 && body)
      fl |= GUST_H1_HEAD_EXPECT_100;
    if (h->expect_other)
      fl |= GUST_H1_HEAD_EXPECT_OTHER;
    h->msg_keep_alive = !h->conn_close;
  } else {
    h->msg_keep_alive =
        h->conn_keep_alive && (h->n_cl > 0 || kind == M_GET || kind == M_HEAD);
  }
  if (h->cfg.flags & GUST_H1_NO_KEEP_ALIVE)
    h->msg_keep_alive = 0;
  if (h->msg_keep_alive)
    fl |= GUST_H1_HEAD_KEEP_ALIVE;
  h->head_flags = fl;
  h->req_seen = 1;
  h->req_minor = h->minor;
  h->req_head = kind == M_HEAD;
  h->req_connect = (fl & GUST_H1_HEAD_CONNECT) != 0;
  h->req_upgrade = (fl & GUST_H1_HEAD_UPGRADE) != 0;
  h->req_expect_100 = (fl & GUST_H1_HEAD_EXPECT_100) != 0;
  return 0;
}

static int finish_response(gust_h1 *h) {
  size_t at = h->head_size - 2;
  int s = h->status;
  unsigned fl = 0;
  h->interim = 0;
  if (s < 200) {
    if (h->n_cl > 0 || h->n_te > 0) {
      snprintf(h->err_buf, sizeof(h->err_buf),
               "Response code %d cannot have body", s);
      return fail(h, GUST_EHTTP_FRAMING, 0, at, h->err_buf);
    }
    if (s == 101) {
      if (!h->req_upgrade && !(h->cfg.flags & GUST_H1_READ_ONLY))
        return fail(h, GUST_EHTTP_SYNTAX, 0, at,
                    "101 response to a request that did not ask to upgrade");
      fl |= GUST_H1_HEAD_UPGRADE;
    } else {
      h->interim = 1;
    }
    h->head_flags = fl | GUST_H1_HEAD_HAS_LENGTH;
    h->content_length = 0;
    return 0;
  }
  if (s == 204 && (h->n_te > 0 || (h->n_cl > 0 && h->cl != 0))) {
    snprintf(h->err_buf, sizeof(h->err_buf),
             "Response with code %d should not have body", s);
    return fail(h, GUST_EHTTP_FRAMING, 0, at, h->err_buf);
  }
  if (h->minor == 1)
    h->msg_keep_alive = !h->conn_close;
  else
    h->msg_keep_alive = h->conn_keep_alive;
  if (s == 204 || s == 304 || h->req_head) {
    fl |= GUST_H1_HEAD_HAS_LENGTH;
    h->content_length = 0;
  } else if (h->req_connect && s < 300) {
    fl |= GUST_H1_HEAD_CONNECT | GUST_H1_HEAD_HAS_LENGTH;
    h->content_length = 0;
  } else if (h->n_te > 0) {
    if (h->n_cl > 0)
      return fail(h, GUST_EHTTP_FRAMING, 0, at,
                  "Message with both Transfer-Encoding and Content-Length");
    if (h->te_chunked > 1)
      return fail(h, GUST_EHTTP_FRAMING, 0, at, "chunked applied twice");
    if (h->te_last_chunked && h->te_other)
      return fail(h, GUST_EHTTP_CODING, 0, at, "Unsupported Transfer-Encoding");
    if (h->te_last_chunked) {
      fl |= GUST_H1_HEAD_CHUNKED;
    } else {
      fl |= GUST_H1_HEAD_UNTIL_CLOSE;
      h->msg_keep_alive = 0;
    }
  } else if (h->n_cl > 0) {
    fl |= GUST_H1_HEAD_HAS_LENGTH; /* C7 when the body starts */
    h->content_length = h->cl;
  } else {
    fl |= GUST_H1_HEAD_UNTIL_CLOSE;
    h->msg_keep_alive = 0;
  }
  if (h->cfg.flags & GUST_H1_NO_KEEP_ALIVE)
    h->msg_keep_alive = 0;
  if (h->msg_keep_alive)
    fl |= GUST_H1_HEAD_KEEP_ALIVE;
  h->head_flags = fl;
  return 0;
}

__attribute__((noinline)) static int finish_head(gust_h1 *h, const uint8_t *p) {
  int rc =
      h->role == GUST_H1_SERVER ? finish_request(h, p) : finish_response(h);
  if (rc != 0)
    return rc;
  build_fields(h, p);
  return 0;
}

int gust__h1_finish_head(gust_h1 *h, const uint8_t *p) {
  int kind = h->m_kind;
  if (h->role == GUST_H1_SERVER && !h->framing && kind != M_CONNECT &&
      p[h->t_off] == '/' && (h->minor == 0 || h->n_host != 0)) {
    /* a request in origin-form without a field of framing meaning (as
     * finish_request() decides it): no body, persistence by version */
    int keep = h->minor == 1 && !(h->cfg.flags & GUST_H1_NO_KEEP_ALIVE);
    h->content_length = 0;
    h->msg_keep_alive = keep;
    h->head_flags =
        GUST_H1_HEAD_HAS_LENGTH | (keep ? GUST_H1_HEAD_KEEP_ALIVE : 0);
    h->req_seen = 1;
    h->req_minor = h->minor;
    h->req_head = kind == M_HEAD;
    h->req_connect = h->req_upgrade = h->req_expect_100 = 0;
    build_fields(h, p);
    return 0;
  }
  return finish_head(h, p);
}
