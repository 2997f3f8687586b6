/* Incremental, fail-fast UTF-8 validation with an ASCII fast path. */
#include "base/base_int.h"

#include <gust/ws.h>

/* State layout: 0 = at a boundary; otherwise bits 16..17 hold how many
 * continuation bytes are still needed, bits 8..15 the lowest and bits 0..7
 * the highest value the next byte may take (this is what excludes
 * overlongs, surrogates and code points above U+10FFFF). */
#define ST(need, lo, hi) (((uint32_t)(need) << 16) | ((lo) << 8) | (hi))
#define ST_REJECT        0xFFFFFFFFu

static uint32_t lead_state(uint8_t b) {
  if (b >= 0xC2 && b <= 0xDF)
    return ST(1, 0x80, 0xBF);
  if (b == 0xE0)
    return ST(2, 0xA0, 0xBF);
  if (b == 0xED)
    return ST(2, 0x80, 0x9F);
  if (b >= 0xE1 && b <= 0xEF)
    return ST(2, 0x80, 0xBF);
  if (b == 0xF0)
    return ST(3, 0x90, 0xBF);
  if (b >= 0xF1 && b <= 0xF3)
    return ST(3, 0x80, 0xBF);
  if (b == 0xF4)
    return ST(3, 0x80, 0x8F);
  return ST_REJECT; /* continuation without lead, C0, C1, F5..FF */
}

#define HIGH_BITS 0x8080808080808080ull

int gust_utf8_feed(gust_utf8 *v, const uint8_t *data, size_t len,
                   size_t *bad_off) {
  uint32_t st = v->state;
  size_t i = 0;

  if (st == ST_REJECT) {
    if (bad_off != NULL)
      *bad_off = 0;
    return GUST_EWS_UTF8;
  }
  while (i < len) {
    if (st == 0) {
      /* ASCII fast path: two words per step while no high bit shows. */
      while (i + 16 <= len) {
        uint64_t a, b;
        memcpy(&a, data + i, 8);
        memcpy(&b, data + i + 8, 8);
        if ((a | b) & HIGH_BITS)
          break;
        i += 16;
      }
      while (i < len && data[i] < 0x80)
        i++;
      if (i == len)
        break;
      st = lead_state(data[i]);
      if (st == ST_REJECT)
        goto reject;
      i++;
      continue;
    }
    {
      uint8_t b = data[i];
      uint32_t need = st >> 16;
      if (b < ((st >> 8) & 0xFF) || b > (st & 0xFF))
        goto reject;
      i++;
      st = need == 1 ? 0 : ST(need - 1, 0x80, 0xBF);
    }
  }
  v->state = st;
  return 0;
reject:
  v->state = ST_REJECT;
  if (bad_off != NULL)
    *bad_off = i;
  return GUST_EWS_UTF8;
}

int gust_utf8_complete(const gust_utf8 *v) { return v->state == 0; }

int gust_utf8_valid(const uint8_t *data, size_t len) {
  gust_utf8 v = {0};
  return gust_utf8_feed(&v, data, len, NULL) == 0 && gust_utf8_complete(&v);
}
