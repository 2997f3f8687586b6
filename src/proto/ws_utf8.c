/* Incremental, fail-fast UTF-8 validation: a table-driven DFA (one
 * predictable branch per byte, so mixed text has no misprediction cliff)
 * behind a vector-wide ASCII fast path. */
#include "base/base_int.h"

#include <gust/ws.h>

#include "ws_int.h"

/* Byte classes. */
enum {
  C_ASCII, /* 00..7F */
  C_C80,   /* 80..8F */
  C_C90,   /* 90..9F */
  C_CA0,   /* A0..BF */
  C_BAD,   /* C0 C1 F5..FF */
  C_L2,    /* C2..DF */
  C_E0,    /* E0: second byte A0..BF */
  C_L3,    /* E1..EC EE EF */
  C_ED,    /* ED: second byte 80..9F (no surrogates) */
  C_F0,    /* F0: second byte 90..BF */
  C_L4,    /* F1..F3 */
  C_F4,    /* F4: second byte 80..8F (nothing above U+10FFFF) */
  C_COUNT
};

/* States: what the next byte may be. */
enum {
  S_OK,  /* at a code point boundary */
  S_BAD, /* rejected */
  S_1,   /* one continuation byte to go */
  S_2,   /* two to go */
  S_E0,  /* after E0 */
  S_ED,  /* after ED */
  S_F0,  /* after F0 */
  S_3,   /* three to go (after F1..F3) */
  S_F4,  /* after F4 */
  S_COUNT
};

static uint8_t byte_class[256];
static uint8_t next_state[S_COUNT][C_COUNT];
/* next_state pre-multiplied by C_COUNT and flattened: the hot loop then
 * needs one add and one load per byte. */
static uint8_t trans[S_COUNT * C_COUNT];
static volatile int tables_ready;

/* The tables are small and computed once; the computation is idempotent,
 * so a race between two first callers only writes the same values. */
static void build_tables(void) {
  int b, s, c;
  for (b = 0; b < 256; b++) {
    uint8_t k;
    if (b < 0x80)
      k = C_ASCII;
    else if (b < 0x90)
      k = C_C80;
    else if (b < 0xA0)
      k = C_C90;
    else if (b < 0xC0)
      k = C_CA0;
    else if (b < 0xC2)
      k = C_BAD;
    else if (b < 0xE0)
      k = C_L2;
    else if (b == 0xE0)
      k = C_E0;
    else if (b == 0xED)
      k = C_ED;
    else if (b < 0xF0)
      k = C_L3;
    else if (b == 0xF0)
      k = C_F0;
    else if (b < 0xF4)
      k = C_L4;
    else if (b == 0xF4)
      k = C_F4;
    else
      k = C_BAD;
    byte_class[b] = k;
  }
  for (s = 0; s < S_COUNT; s++)
    for (c = 0; c < C_COUNT; c++)
      next_state[s][c] = S_BAD;
  next_state[S_OK][C_ASCII] = S_OK;
  next_state[S_OK][C_L2] = S_1;
  next_state[S_OK][C_E0] = S_E0;
  next_state[S_OK][C_L3] = S_2;
  next_state[S_OK][C_ED] = S_ED;
  next_state[S_OK][C_F0] = S_F0;
  next_state[S_OK][C_L4] = S_3;
  next_state[S_OK][C_F4] = S_F4;
  for (c = C_C80; c <= C_CA0; c++) {
    next_state[S_1][c] = S_OK;
    next_state[S_2][c] = S_1;
    next_state[S_3][c] = S_2;
  }
  next_state[S_E0][C_CA0] = S_1;
  next_state[S_ED][C_C80] = S_1;
  next_state[S_ED][C_C90] = S_1;
  next_state[S_F0][C_C90] = S_2;
  next_state[S_F0][C_CA0] = S_2;
  next_state[S_F4][C_C80] = S_2;
  for (s = 0; s < S_COUNT; s++)
    for (c = 0; c < C_COUNT; c++)
      trans[s * C_COUNT + c] = (uint8_t)(next_state[s][c] * C_COUNT);
  tables_ready = 1;
}

#define HIGH_BITS 0x8080808080808080ull

#if defined(__GNUC__) || defined(__clang__)
typedef uint64_t utf8_v16 __attribute__((vector_size(16)));
#endif

/* Returns the index of the first non-ASCII byte at or after i (or len),
 * scanning 64 bytes at a step while it can. */
static size_t skip_ascii(const uint8_t *data, size_t i, size_t len) {
#if defined(__GNUC__) || defined(__clang__)
  const utf8_v16 high = {HIGH_BITS, HIGH_BITS};
  while (i + 64 <= len) {
    utf8_v16 a, b, c, d;
    memcpy(&a, data + i, 16);
    memcpy(&b, data + i + 16, 16);
    memcpy(&c, data + i + 32, 16);
    memcpy(&d, data + i + 48, 16);
    a = (a | b | c | d) & high;
    if ((a[0] | a[1]) != 0)
      break;
    i += 64;
  }
#endif
  while (i + 8 <= len) {
    uint64_t a;
    memcpy(&a, data + i, 8);
    if (a & HIGH_BITS)
      break;
    i += 8;
  }
  while (i < len && data[i] < 0x80)
    i++;
  return i;
}

/* gust_utf8.state holds the DFA state; S_BAD is stored as this value. */
#define STATE_REJECT 0xFFFFFFFFu

/* Runs the DFA over n bytes from state `st` (pre-multiplied) with no
 * branch inside the loop: rejection is absorbing, so it is tested once at
 * the end. */
static unsigned run_block(unsigned st, const uint8_t *p, size_t n) {
  size_t j;
  for (j = 0; j < n; j++)
    st = trans[st + byte_class[p[j]]];
  return st;
}

/* Finds the offset at which the DFA rejects, starting from `st`. */
static size_t find_reject(unsigned st, const uint8_t *p) {
  size_t j = 0;
  for (;; j++) {
    st = trans[st + byte_class[p[j]]];
    if (st == S_BAD * C_COUNT)
      return j;
  }
}

/* Vector validation of multibyte text, after the "lookup" method of Keiser
 * and Lemire (2021). Each byte is judged with the byte before it: three
 * 16-entry tables, indexed by the high and low nibble of the previous byte
 * and the high nibble of the current one, give a bit per kind of error;
 * the AND of the three lookups is non-zero only where a rule is broken.
 * Bit 0x80 marks "continuation after continuation", which is right exactly
 * where the byte two or three back opens a 3- or 4-byte sequence; that
 * expectation is XORed in. The vector code only says whether a 64-byte
 * group holds an error: the DFA then finds its exact offset. */
#if (defined(__GNUC__) || defined(__clang__)) && defined(__x86_64__) &&        \
    (defined(__clang__) || __GNUC__ >= 6)
#define UTF8_X86 1
#include <immintrin.h>

enum {
  E_SHORT = 0x01,     /* lead not followed by a continuation */
  E_LONG = 0x02,      /* continuation after ASCII */
  E_OVER3 = 0x04,     /* E0 80..9F */
  E_LARGE = 0x08,     /* F4 90..BF, F5..FF 90..BF */
  E_SURR = 0x10,      /* ED A0..BF */
  E_OVER2 = 0x20,     /* C0, C1 */
  E_OVER4_BIG = 0x40, /* F0 80..8F, F5..FF 80..8F */
  E_CONT2 = 0x80      /* continuation after continuation */
};
#define E_ANY (E_SHORT | E_LONG | E_CONT2)

/* Indexed by the high nibble of the previous byte. */
#define TAB_PREV_HI                                                            \
  E_LONG, E_LONG, E_LONG, E_LONG, E_LONG, E_LONG, E_LONG, E_LONG, E_CONT2,     \
      E_CONT2, E_CONT2, E_CONT2, E_SHORT | E_OVER2, E_SHORT,                   \
      E_SHORT | E_OVER3 | E_SURR, E_SHORT | E_LARGE | E_OVER4_BIG
/* Indexed by the low nibble of the previous byte. */
#define TAB_PREV_LO                                                            \
  E_ANY | E_OVER3 | E_OVER2 | E_OVER4_BIG, E_ANY | E_OVER2, E_ANY, E_ANY,      \
      E_ANY | E_LARGE, E_ANY | E_LARGE | E_OVER4_BIG,                          \
      E_ANY | E_LARGE | E_OVER4_BIG, E_ANY | E_LARGE | E_OVER4_BIG,            \
      E_ANY | E_LARGE | E_OVER4_BIG, E_ANY | E_LARGE | E_OVER4_BIG,            \
      E_ANY | E_LARGE | E_OVER4_BIG, E_ANY | E_LARGE | E_OVER4_BIG,            \
      E_ANY | E_LARGE | E_OVER4_BIG, E_ANY | E_LARGE | E_OVER4_BIG | E_SURR,   \
      E_ANY | E_LARGE | E_OVER4_BIG, E_ANY | E_LARGE | E_OVER4_BIG
/* Indexed by the high nibble of the current byte. */
#define TAB_CUR_HI                                                             \
  E_SHORT, E_SHORT, E_SHORT, E_SHORT, E_SHORT, E_SHORT, E_SHORT, E_SHORT,      \
      E_LONG | E_OVER2 | E_CONT2 | E_OVER3 | E_OVER4_BIG,                      \
      E_LONG | E_OVER2 | E_CONT2 | E_OVER3 | E_LARGE,                          \
      E_LONG | E_OVER2 | E_CONT2 | E_SURR | E_LARGE,                           \
      E_LONG | E_OVER2 | E_CONT2 | E_SURR | E_LARGE, E_SHORT, E_SHORT,         \
      E_SHORT, E_SHORT

static const uint8_t tab_prev_hi[16] = {TAB_PREV_HI};
static const uint8_t tab_prev_lo[16] = {TAB_PREV_LO};
static const uint8_t tab_cur_hi[16] = {TAB_CUR_HI};

/* Returns the offset of a code point boundary at or just before i in a
 * valid prefix p[0..i): the last lead byte among the final three, if any. */
static size_t back_to_boundary(const uint8_t *p, size_t i) {
  size_t j;
  for (j = 1; j <= 3 && j <= i; j++) {
    if (p[i - j] >= 0xC0)
      return i - j;
    if (p[i - j] < 0x80)
      break;
  }
  return i;
}

__attribute__((target("ssse3"))) static __m128i check16(__m128i cur,
                                                        __m128i prev) {
  const __m128i t_prev_hi =
      _mm_loadu_si128((const __m128i *)(const void *)tab_prev_hi);
  const __m128i t_prev_lo =
      _mm_loadu_si128((const __m128i *)(const void *)tab_prev_lo);
  const __m128i t_cur_hi =
      _mm_loadu_si128((const __m128i *)(const void *)tab_cur_hi);
  const __m128i nib = _mm_set1_epi8(0x0F);
  __m128i p1 = _mm_alignr_epi8(cur, prev, 15);
  __m128i p2 = _mm_alignr_epi8(cur, prev, 14);
  __m128i p3 = _mm_alignr_epi8(cur, prev, 13);
  __m128i e = _mm_and_si128(
      _mm_and_si128(_mm_shuffle_epi8(t_prev_hi,
                                     _mm_and_si128(_mm_srli_epi16(p1, 4), nib)),
                    _mm_shuffle_epi8(t_prev_lo, _mm_and_si128(p1, nib))),
      _mm_shuffle_epi8(t_cur_hi, _mm_and_si128(_mm_srli_epi16(cur, 4), nib)));
  /* Non-zero where p2 >= E0 or p3 >= F0 (at most 0x3F: positive). */
  __m128i want = _mm_or_si128(_mm_subs_epu8(p2, _mm_set1_epi8((char)0xDF)),
                              _mm_subs_epu8(p3, _mm_set1_epi8((char)0xEF)));
  want = _mm_and_si128(_mm_cmpgt_epi8(want, _mm_setzero_si128()),
                       _mm_set1_epi8((char)0x80));
  return _mm_xor_si128(e, want);
}

/* Non-zero bytes where the block ends inside a sequence. */
__attribute__((target("ssse3"))) static __m128i incomplete16(__m128i v) {
  const __m128i lim = _mm_setr_epi8(-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
                                    -1, -1, (char)0xEF, (char)0xDF, (char)0xBF);
  return _mm_subs_epu8(v, lim);
}

/* Validates p[0..n) from a code point boundary, 64 bytes at a step. Returns
 * the offset of a boundary up to which the text is valid; if a group holds
 * an error, *stop is set to the end of that group (else left alone) and
 * the DFA must take over from the returned offset. */
__attribute__((target("ssse3"))) static size_t
scan_ssse3(const uint8_t *p, size_t n, size_t *stop) {
  __m128i prev = _mm_setzero_si128(), pend = _mm_setzero_si128();
  size_t i = 0;
  for (; i + 64 <= n; i += 64) {
    __m128i a = _mm_loadu_si128((const __m128i *)(const void *)(p + i));
    __m128i b = _mm_loadu_si128((const __m128i *)(const void *)(p + i + 16));
    __m128i c = _mm_loadu_si128((const __m128i *)(const void *)(p + i + 32));
    __m128i d = _mm_loadu_si128((const __m128i *)(const void *)(p + i + 48));
    __m128i err;
    if (_mm_movemask_epi8(
            _mm_or_si128(_mm_or_si128(a, b), _mm_or_si128(c, d))) == 0) {
      err = pend;
      pend = _mm_setzero_si128();
    } else {
      err = _mm_or_si128(_mm_or_si128(check16(a, prev), check16(b, a)),
                         _mm_or_si128(check16(c, b), check16(d, c)));
      pend = incomplete16(d);
    }
    prev = d;
    if (_mm_movemask_epi8(_mm_cmpeq_epi8(err, _mm_setzero_si128())) != 0xFFFF) {
      *stop = i + 64;
      return back_to_boundary(p, i);
    }
  }
  return back_to_boundary(p, i);
}

/* prev's last bytes followed by cur's, shifted by k (1..3) within lanes. */
#define ALIGN32(cur, prev, k)                                                  \
  _mm256_alignr_epi8((cur), _mm256_permute2x128_si256((prev), (cur), 0x21),    \
                     16 - (k))

__attribute__((target("avx2"))) static __m256i check32(__m256i cur,
                                                       __m256i prev) {
  const __m256i t_prev_hi = _mm256_broadcastsi128_si256(
      _mm_loadu_si128((const __m128i *)(const void *)tab_prev_hi));
  const __m256i t_prev_lo = _mm256_broadcastsi128_si256(
      _mm_loadu_si128((const __m128i *)(const void *)tab_prev_lo));
  const __m256i t_cur_hi = _mm256_broadcastsi128_si256(
      _mm_loadu_si128((const __m128i *)(const void *)tab_cur_hi));
  const __m256i nib = _mm256_set1_epi8(0x0F);
  __m256i p1 = ALIGN32(cur, prev, 1);
  __m256i p2 = ALIGN32(cur, prev, 2);
  __m256i p3 = ALIGN32(cur, prev, 3);
  __m256i e = _mm256_and_si256(
      _mm256_and_si256(
          _mm256_shuffle_epi8(t_prev_hi,
                              _mm256_and_si256(_mm256_srli_epi16(p1, 4), nib)),
          _mm256_shuffle_epi8(t_prev_lo, _mm256_and_si256(p1, nib))),
      _mm256_shuffle_epi8(t_cur_hi,
                          _mm256_and_si256(_mm256_srli_epi16(cur, 4), nib)));
  __m256i want =
      _mm256_or_si256(_mm256_subs_epu8(p2, _mm256_set1_epi8((char)0xDF)),
                      _mm256_subs_epu8(p3, _mm256_set1_epi8((char)0xEF)));
  want = _mm256_and_si256(_mm256_cmpgt_epi8(want, _mm256_setzero_si256()),
                          _mm256_set1_epi8((char)0x80));
  return _mm256_xor_si256(e, want);
}

__attribute__((target("avx2"))) static size_t
scan_avx2(const uint8_t *p, size_t n, size_t *stop) {
  const __m256i lim =
      _mm256_setr_epi8(-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
                       -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
                       -1, (char)0xEF, (char)0xDF, (char)0xBF);
  __m256i prev = _mm256_setzero_si256(), pend = _mm256_setzero_si256();
  size_t i = 0;
  for (; i + 64 <= n; i += 64) {
    __m256i a = _mm256_loadu_si256((const __m256i *)(const void *)(p + i));
    __m256i b = _mm256_loadu_si256((const __m256i *)(const void *)(p + i + 32));
    __m256i err;
    if (_mm256_movemask_epi8(_mm256_or_si256(a, b)) == 0) {
      err = pend;
      pend = _mm256_setzero_si256();
    } else {
      err = _mm256_or_si256(check32(a, prev), check32(b, a));
      pend = _mm256_subs_epu8(b, lim);
    }
    prev = b;
    if (!_mm256_testz_si256(err, err)) {
      *stop = i + 64;
      return back_to_boundary(p, i);
    }
  }
  return back_to_boundary(p, i);
}

typedef size_t (*scan_fn)(const uint8_t *p, size_t n, size_t *stop);

/* -1 = not probed yet; otherwise a GUST__UTF8_* level. */
static volatile int utf8_level = -1;

static int best_level(void) {
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx2"))
    return GUST__UTF8_AVX2;
  if (__builtin_cpu_supports("ssse3"))
    return GUST__UTF8_SSSE3;
  return GUST__UTF8_SCALAR;
}
#endif

int gust__utf8_set_level(int level) {
#ifdef UTF8_X86
  int best = best_level();
  if (level < 0)
    level = best;
  if (level > best)
    return GUST_EINVAL;
  utf8_level = level;
  return level;
#else
  return level <= GUST__UTF8_SCALAR ? GUST__UTF8_SCALAR : GUST_EINVAL;
#endif
}

int gust_utf8_feed(gust_utf8 *v, const uint8_t *data, size_t len,
                   size_t *bad_off) {
  unsigned st;
  size_t i = 0;
#ifdef UTF8_X86
  scan_fn scan = NULL;
  int level;
#endif

  if (v->state == STATE_REJECT || v->state >= S_COUNT) {
    if (bad_off != NULL)
      *bad_off = 0;
    return GUST_EWS_UTF8;
  }
  if (!tables_ready)
    build_tables();
#ifdef UTF8_X86
  level = utf8_level;
  if (level < 0)
    utf8_level = level = best_level();
  if (level == GUST__UTF8_AVX2)
    scan = scan_avx2;
  else if (level == GUST__UTF8_SSSE3)
    scan = scan_ssse3;
#endif
  st = v->state * C_COUNT;
  while (i < len) {
    size_t n = len - i < 16 ? len - i : 16;
    unsigned out;
    if (st == S_OK && n == 16) {
      uint64_t a, b;
      memcpy(&a, data + i, 8);
      memcpy(&b, data + i + 8, 8);
      if (((a | b) & HIGH_BITS) == 0) {
        i = skip_ascii(data, i + 16, len);
        continue;
      }
#ifdef UTF8_X86
      if (scan != NULL && len - i >= 64) {
        size_t stop = 0, from = i + scan(data + i, len - i, &stop);
        if (stop == 0) {
          i = from;
          n = len - i < 16 ? len - i : 16;
        } else {
          /* An error in the group: the DFA finds where, from a boundary
           * before it (and would go on, were the group valid). */
          stop += i;
          out = run_block(S_OK, data + from, stop - from);
          if (GUST__UNLIKELY(out == S_BAD * C_COUNT)) {
            v->state = STATE_REJECT;
            if (bad_off != NULL)
              *bad_off = from + find_reject(S_OK, data + from);
            return GUST_EWS_UTF8;
          }
          st = out;
          i = stop;
          continue;
        }
        if (n == 0)
          break;
      }
#endif
    }
    out = run_block(st, data + i, n);
    if (GUST__UNLIKELY(out == S_BAD * C_COUNT)) {
      v->state = STATE_REJECT;
      if (bad_off != NULL)
        *bad_off = i + find_reject(st, data + i);
      return GUST_EWS_UTF8;
    }
    st = out;
    i += n;
  }
  v->state = st / C_COUNT;
  return 0;
}

int gust_utf8_complete(const gust_utf8 *v) { return v->state == S_OK; }

int gust_utf8_valid(const uint8_t *data, size_t len) {
  gust_utf8 v = {0};
  return gust_utf8_feed(&v, data, len, NULL) == 0 && gust_utf8_complete(&v);
}
