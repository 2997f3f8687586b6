/* WebSocket payload masking (RFC 6455 5.3) at memory speed: 16-byte
 * vectors where the compiler offers them (GCC and clang vector extensions,
 * plain SSE2/NEON code), 64-bit words otherwise, with memcpy loads and
 * stores so that any alignment is fine. */
#include "base/base_int.h"

#include <gust/ws.h>

#if defined(__GNUC__) || defined(__clang__)
#define GUST__WS_VECTORS 1
typedef uint64_t mask_v16 __attribute__((vector_size(16)));
#endif

#if defined(GUST__WS_VECTORS) && defined(__x86_64__) &&                        \
    (defined(__clang__) || __GNUC__ >= 6)
#define GUST__WS_AVX2 1
typedef uint64_t mask_v32 __attribute__((vector_size(32)));

/* The 32-byte body for CPUs with AVX2, chosen at run time: the library is
 * built for the x86-64 baseline, where glibc's memcpy already uses AVX. */
__attribute__((target("avx2"))) static size_t
mask_avx2(uint8_t *dst, const uint8_t *src, size_t len, const uint8_t *k16) {
  mask_v32 kv;
  size_t i = 0;
  memcpy(&kv, k16, 16);
  memcpy((uint8_t *)&kv + 16, k16, 16);
  for (; i + 128 <= len; i += 128) {
    mask_v32 a, b, c, d;
    memcpy(&a, src + i, 32);
    memcpy(&b, src + i + 32, 32);
    memcpy(&c, src + i + 64, 32);
    memcpy(&d, src + i + 96, 32);
    a ^= kv;
    b ^= kv;
    c ^= kv;
    d ^= kv;
    memcpy(dst + i, &a, 32);
    memcpy(dst + i + 32, &b, 32);
    memcpy(dst + i + 64, &c, 32);
    memcpy(dst + i + 96, &d, 32);
  }
  for (; i + 32 <= len; i += 32) {
    mask_v32 a;
    memcpy(&a, src + i, 32);
    a ^= kv;
    memcpy(dst + i, &a, 32);
  }
  return i;
}

static int have_avx2(void) {
  static int cached = -1;
  if (cached < 0) {
    __builtin_cpu_init();
    cached = __builtin_cpu_supports("avx2") ? 1 : 0;
  }
  return cached;
}
#endif

void gust_ws_mask_copy(uint8_t *dst, const uint8_t *src, size_t len,
                       const uint8_t *key, uint64_t offset) {
  uint8_t k[16];
  uint64_t kw;
  size_t i = 0;
  unsigned r = (unsigned)(offset & 3);

  /* Rotate the key so that k[0] applies to src[0]; every later block then
   * starts at a multiple of 4 and uses the same pattern. */
  k[0] = key[r];
  k[1] = key[(r + 1) & 3];
  k[2] = key[(r + 2) & 3];
  k[3] = key[(r + 3) & 3];
  memcpy(k + 4, k, 4);
  memcpy(k + 8, k, 8);
  memcpy(&kw, k, 8);
#ifdef GUST__WS_AVX2
  if (len >= 64 && have_avx2())
    i = mask_avx2(dst, src, len, k);
#endif
#ifdef GUST__WS_VECTORS
  if (len - i >= 16) {
    mask_v16 kv;
    memcpy(&kv, k, 16);
    for (; i + 64 <= len; i += 64) {
      mask_v16 a, b, c, d;
      memcpy(&a, src + i, 16);
      memcpy(&b, src + i + 16, 16);
      memcpy(&c, src + i + 32, 16);
      memcpy(&d, src + i + 48, 16);
      a ^= kv;
      b ^= kv;
      c ^= kv;
      d ^= kv;
      memcpy(dst + i, &a, 16);
      memcpy(dst + i + 16, &b, 16);
      memcpy(dst + i + 32, &c, 16);
      memcpy(dst + i + 48, &d, 16);
    }
    for (; i + 16 <= len; i += 16) {
      mask_v16 a;
      memcpy(&a, src + i, 16);
      a ^= kv;
      memcpy(dst + i, &a, 16);
    }
  }
#else
  for (; i + 16 <= len; i += 16) {
    uint64_t a, b;
    memcpy(&a, src + i, 8);
    memcpy(&b, src + i + 8, 8);
    a ^= kw;
    b ^= kw;
    memcpy(dst + i, &a, 8);
    memcpy(dst + i + 8, &b, 8);
  }
#endif
  if (i + 8 <= len) {
    uint64_t a;
    memcpy(&a, src + i, 8);
    a ^= kw;
    memcpy(dst + i, &a, 8);
    i += 8;
  }
  if (i + 4 <= len) {
    uint32_t a, kk;
    memcpy(&a, src + i, 4);
    memcpy(&kk, k, 4);
    a ^= kk;
    memcpy(dst + i, &a, 4);
    i += 4;
  }
  for (; i < len; i++)
    dst[i] = (uint8_t)(src[i] ^ k[i & 3]);
}

void gust_ws_mask(uint8_t *data, size_t len, const uint8_t *key,
                  uint64_t offset) {
  gust_ws_mask_copy(data, data, len, key, offset);
}
