/* WebSocket payload masking (RFC 6455 5.3), a word at a time. */
#include "base/base_int.h"

#include <gust/ws.h>

void gust_ws_mask_copy(uint8_t *dst, const uint8_t *src, size_t len,
                       const uint8_t *key, uint64_t offset) {
  uint8_t k[4];
  size_t i = 0;
  unsigned r = (unsigned)(offset & 3);

  /* Rotate the key so that k[0] applies to src[0]; the loop below then
   * needs no per-byte index arithmetic. */
  k[0] = key[r & 3];
  k[1] = key[(r + 1) & 3];
  k[2] = key[(r + 2) & 3];
  k[3] = key[(r + 3) & 3];
  if (len >= 16) {
    uint64_t kw;
    uint8_t k8[8];
    memcpy(k8, k, 4);
    memcpy(k8 + 4, k, 4);
    memcpy(&kw, k8, 8);
    /* memcpy loads and stores compile to plain unaligned moves; the
     * compiler is free to vectorise the two-word body. */
    for (; i + 16 <= len; i += 16) {
      uint64_t a, b;
      memcpy(&a, src + i, 8);
      memcpy(&b, src + i + 8, 8);
      a ^= kw;
      b ^= kw;
      memcpy(dst + i, &a, 8);
      memcpy(dst + i + 8, &b, 8);
    }
    if (i + 8 <= len) {
      uint64_t a;
      memcpy(&a, src + i, 8);
      a ^= kw;
      memcpy(dst + i, &a, 8);
      i += 8;
    }
  }
  for (; i < len; i++)
    dst[i] = (uint8_t)(src[i] ^ k[i & 3]);
}

void gust_ws_mask(uint8_t *data, size_t len, const uint8_t *key,
                  uint64_t offset) {
  gust_ws_mask_copy(data, data, len, key, offset);
}
