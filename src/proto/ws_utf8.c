/* Incremental, fail-fast UTF-8 validation: a table-driven DFA (one
 * predictable branch per byte, so mixed text has no misprediction cliff)
 * behind a vector-wide ASCII fast path. */
#include "base/base_int.h"

#include <gust/ws.h>

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

int gust_utf8_feed(gust_utf8 *v, const uint8_t *data, size_t len,
                   size_t *bad_off) {
  unsigned st;
  size_t i = 0;

  if (v->state == STATE_REJECT || v->state >= S_COUNT) {
    if (bad_off != NULL)
      *bad_off = 0;
    return GUST_EWS_UTF8;
  }
  if (!tables_ready)
    build_tables();
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
