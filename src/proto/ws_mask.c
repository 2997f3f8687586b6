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
mask_avx2(uint8_t *dst, const uint8_t *src, size_t len, uint64_t kw) {
  /* Built from a register (a broadcast), not through memory: narrow
   * stores read back as one wide load would stall store forwarding. */
  const mask_v32 kv = {kw, kw, kw, kw};
  size_t i = 0;
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

typedef uint64_t mask_v64 __attribute__((vector_size(64)));

/* The same with 64-byte registers, where glibc's memcpy uses them too. */
__attribute__((target("avx512f"))) static size_t
mask_avx512(uint8_t *dst, const uint8_t *src, size_t len, uint64_t kw) {
  const mask_v64 kv = {kw, kw, kw, kw, kw, kw, kw, kw};
  size_t i = 0;
  for (; i + 256 <= len; i += 256) {
    mask_v64 a, b, c, d;
    memcpy(&a, src + i, 64);
    memcpy(&b, src + i + 64, 64);
    memcpy(&c, src + i + 128, 64);
    memcpy(&d, src + i + 192, 64);
    a ^= kv;
    b ^= kv;
    c ^= kv;
    d ^= kv;
    memcpy(dst + i, &a, 64);
    memcpy(dst + i + 64, &b, 64);
    memcpy(dst + i + 128, &c, 64);
    memcpy(dst + i + 192, &d, 64);
  }
  for (; i + 64 <= len; i += 64) {
    mask_v64 a;
    memcpy(&a, src + i, 64);
    a ^= kv;
    memcpy(dst + i, &a, 64);
  }
  return i;
}

/* 0 = baseline, 1 = AVX2, 2 = AVX-512F; probed once (an idempotent
 * store, so concurrent first calls are harmless). */
static int simd_level(void) {
  static volatile int cached = -1;
  if (cached < 0) {
    __builtin_cpu_init();
    cached = __builtin_cpu_supports("avx512f") ? 2
             : __builtin_cpu_supports("avx2")  ? 1
                                               : 0;
  }
  return cached;
}
#endif

static int little_endian(void) {
  const uint16_t one = 1;
  uint8_t first;
  memcpy(&first, &one, 1);
  return first == 1;
}

void gust_ws_mask_copy(uint8_t *dst, const uint8_t *src, size_t len,
                       const uint8_t *key, uint64_t offset) {
  uint8_t k[4];
  uint32_t k4;
  uint64_t kw;
  size_t i = 0;
  unsigned r = (unsigned)(offset & 3);

  /* Rotate the key so that its first byte in memory applies to src[0];
   * every later block starts at a multiple of 4 and uses the same
   * pattern. Computed in registers: byte stores read back by a wider load
   * would stall store forwarding. */
  memcpy(&k4, key, 4);
  if (r != 0)
    k4 = little_endian() ? (k4 >> (8 * r)) | (k4 << (32 - 8 * r))
                         : (k4 << (8 * r)) | (k4 >> (32 - 8 * r));
  kw = ((uint64_t)k4 << 32) | k4;
  memcpy(k, &k4, 4);
#ifdef GUST__WS_AVX2
  if (len >= 64) {
    int level = simd_level();
    if (level == 2 && len >= 256)
      i = mask_avx512(dst, src, len, kw);
    else if (level >= 1)
      i = mask_avx2(dst, src, len, kw);
  }
#endif
#ifdef GUST__WS_VECTORS
  if (len - i >= 16) {
    const mask_v16 kv = {kw, kw};
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
    uint32_t a;
    memcpy(&a, src + i, 4);
    a ^= k4;
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
