/* WebSocket payload masking (RFC 6455 5.3) at memory speed.
 *
 * One algorithm at four block widths: 8-byte words (portable), 16-byte
 * vectors (SSE2 / NEON through the GCC and clang vector extensions),
 * 32-byte AVX2 and 64-byte AVX-512F vectors, the last two chosen at run
 * time (the library is built for the x86-64 baseline). For a block width W:
 *
 * - fewer than W bytes go to the next narrower width;
 * - up to 4W bytes are two or four blocks, the last ones placed flush
 *   with the end (overlapping the first ones) and masked with the key
 *   rotated for their start;
 * - longer runs mask a first block unaligned, then 4W bytes at a time
 *   with stores aligned on W in the destination (unaligned stores that
 *   split cache lines cost more than the XOR), and the last 4W bytes
 *   flush with the end.
 *
 * Every block that overlaps another is loaded before anything is stored,
 * so masking in place (dst == src) never masks a byte twice. Loads and
 * stores go through memcpy: any alignment, one move once optimised. */
#include "base/base_int.h"
#include "ws_int.h"

#include <gust/ws.h>

#if defined(__GNUC__) || defined(__clang__)
#define MASK_VECTORS 1
typedef uint64_t mask_v16 __attribute__((vector_size(16)));
#if defined(__x86_64__) && (defined(__clang__) || __GNUC__ >= 6)
#define MASK_X86 1
typedef uint64_t mask_v32 __attribute__((vector_size(32)));
typedef uint64_t mask_v64 __attribute__((vector_size(64)));
#endif
#endif

/* The key as a 64-bit word (the 4 bytes twice) whose first byte in
 * memory applies to the byte at payload offset `at`. Built in registers
 * (a load and a rotation): byte stores read back by a wider load would
 * stall store forwarding. Both halves are always equal, so the low 32
 * bits are the key for a 4-byte word on either byte order. */
static uint64_t key_at(const uint8_t *key, uint64_t at) {
  const uint16_t one = 1;
  uint8_t first;
  uint32_t k4;
  uint64_t k8;
  unsigned s = 8 * (unsigned)(at & 3);
  memcpy(&k4, key, 4);
  k8 = ((uint64_t)k4 << 32) | k4;
  memcpy(&first, &one, 1);
  if (first == 1) /* little-endian: the first byte is the low one */
    return (k8 >> s) | (k8 << ((64 - s) & 63));
  return (k8 << s) | (k8 >> ((64 - s) & 63));
}

/* Fewer than 16 bytes, common to every width: two overlapping 8- or
 * 4-byte words, else single bytes. */
static void mask_small(uint8_t *dst, const uint8_t *src, size_t len,
                       const uint8_t *key, uint64_t offset) {
  if (len >= 8) {
    uint64_t a, b;
    memcpy(&a, src, 8);
    memcpy(&b, src + len - 8, 8);
    a ^= key_at(key, offset);
    b ^= key_at(key, offset + len);
    memcpy(dst, &a, 8);
    memcpy(dst + len - 8, &b, 8);
  } else if (len >= 4) {
    uint32_t a, b;
    memcpy(&a, src, 4);
    memcpy(&b, src + len - 4, 4);
    a ^= (uint32_t)key_at(key, offset);
    b ^= (uint32_t)key_at(key, offset + len);
    memcpy(dst, &a, 4);
    memcpy(dst + len - 4, &b, 4);
  } else {
    size_t i;
    for (i = 0; i < len; i++)
      dst[i] = (uint8_t)(src[i] ^ key[(offset + i) & 3]);
  }
}

/* Defines NAME, masking `len` bytes with blocks of type T (W bytes, a
 * multiple of 4 so that every block boundary keeps the key phase) and
 * handing shorter runs to NARROWER. `(T){0} + w` spreads the 64-bit key
 * word over a block (a broadcast, built in registers). */
#define MASK_WIDTH(NAME, ATTR, T, W, NARROWER)                                 \
  ATTR static void NAME(uint8_t *dst, const uint8_t *src, size_t len,          \
                        const uint8_t *key, uint64_t offset) {                 \
    const T kv = (T){0} + key_at(key, offset);                                 \
    const T kt = (T){0} + key_at(key, offset + len);                           \
    T h, h2, t0, t1, t2, t3;                                                   \
    size_t i;                                                                  \
    if (len < (W)) {                                                           \
      NARROWER(dst, src, len, key, offset);                                    \
      return;                                                                  \
    }                                                                          \
    if (len <= 2 * (W)) {                                                      \
      memcpy(&h, src, W);                                                      \
      memcpy(&t3, src + len - (W), W);                                         \
      h ^= kv;                                                                 \
      t3 ^= kt;                                                                \
      memcpy(dst, &h, W);                                                      \
      memcpy(dst + len - (W), &t3, W);                                         \
      return;                                                                  \
    }                                                                          \
    if (len <= 4 * (W)) {                                                      \
      memcpy(&h, src, W);                                                      \
      memcpy(&h2, src + (W), W);                                               \
      memcpy(&t2, src + len - 2 * (W), W);                                     \
      memcpy(&t3, src + len - (W), W);                                         \
      h ^= kv;                                                                 \
      h2 ^= kv;                                                                \
      t2 ^= kt;                                                                \
      t3 ^= kt;                                                                \
      memcpy(dst, &h, W);                                                      \
      memcpy(dst + (W), &h2, W);                                               \
      memcpy(dst + len - 2 * (W), &t2, W);                                     \
      memcpy(dst + len - (W), &t3, W);                                         \
      return;                                                                  \
    }                                                                          \
    memcpy(&h, src, W);                                                        \
    memcpy(&t0, src + len - 4 * (W), W);                                       \
    memcpy(&t1, src + len - 3 * (W), W);                                       \
    memcpy(&t2, src + len - 2 * (W), W);                                       \
    memcpy(&t3, src + len - (W), W);                                           \
    i = (W) - ((uintptr_t)dst & ((W)-1));                                      \
    {                                                                          \
      const T ka = (T){0} + key_at(key, offset + i);                           \
      for (; len - i > 4 * (W); i += 4 * (W)) {                                \
        T a, b, c, d;                                                          \
        memcpy(&a, src + i, W);                                                \
        memcpy(&b, src + i + (W), W);                                          \
        memcpy(&c, src + i + 2 * (W), W);                                      \
        memcpy(&d, src + i + 3 * (W), W);                                      \
        a ^= ka;                                                               \
        b ^= ka;                                                               \
        c ^= ka;                                                               \
        d ^= ka;                                                               \
        memcpy(dst + i, &a, W);                                                \
        memcpy(dst + i + (W), &b, W);                                          \
        memcpy(dst + i + 2 * (W), &c, W);                                      \
        memcpy(dst + i + 3 * (W), &d, W);                                      \
      }                                                                        \
    }                                                                          \
    h ^= kv;                                                                   \
    t0 ^= kt;                                                                  \
    t1 ^= kt;                                                                  \
    t2 ^= kt;                                                                  \
    t3 ^= kt;                                                                  \
    memcpy(dst, &h, W);                                                        \
    memcpy(dst + len - 4 * (W), &t0, W);                                       \
    memcpy(dst + len - 3 * (W), &t1, W);                                       \
    memcpy(dst + len - 2 * (W), &t2, W);                                       \
    memcpy(dst + len - (W), &t3, W);                                           \
  }

#define MASK_PLAIN /* no target attribute */

MASK_WIDTH(mask_words, MASK_PLAIN, uint64_t, 8, mask_small)
#ifdef MASK_VECTORS
MASK_WIDTH(mask_vec16, MASK_PLAIN, mask_v16, 16, mask_small)
#endif
#ifdef MASK_X86
MASK_WIDTH(mask_avx2, __attribute__((target("avx2"))), mask_v32, 32, mask_vec16)
MASK_WIDTH(mask_avx512, __attribute__((target("avx2,avx512f"))), mask_v64, 64,
           mask_avx2)
#endif

typedef void (*mask_fn)(uint8_t *dst, const uint8_t *src, size_t len,
                        const uint8_t *key, uint64_t offset);

#ifdef MASK_VECTORS
static void mask_first(uint8_t *dst, const uint8_t *src, size_t len,
                       const uint8_t *key, uint64_t offset);

/* The width in use: mask_first until the CPU has been probed. Loaded
 * and stored atomically; concurrent first calls store the same value. */
static mask_fn mask_impl = mask_first;

static int best_level(void) {
#ifdef MASK_X86
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx2"))
    return __builtin_cpu_supports("avx512f") ? GUST__MASK_AVX512
                                             : GUST__MASK_AVX2;
#endif
  return GUST__MASK_VEC16;
}

static void mask_first(uint8_t *dst, const uint8_t *src, size_t len,
                       const uint8_t *key, uint64_t offset) {
  gust__ws_mask_set_level(-1);
  __atomic_load_n(&mask_impl, __ATOMIC_RELAXED)(dst, src, len, key, offset);
}
#endif

int gust__ws_mask_set_level(int level) {
#ifdef MASK_VECTORS
  static const mask_fn by_level[] = {mask_words, mask_vec16,
#ifdef MASK_X86
                                     mask_avx2, mask_avx512
#endif
  };
  int best = best_level();
  if (level < 0)
    level = best;
  if (level > best)
    return GUST_EINVAL;
  __atomic_store_n(&mask_impl, by_level[level], __ATOMIC_RELAXED);
  return level;
#else
  return level <= GUST__MASK_WORDS ? GUST__MASK_WORDS : GUST_EINVAL;
#endif
}

/* A jump through the pointer: the width does all the work (a frame
 * header's worth of bytes costs no more than the probe of a length). */
void gust_ws_mask_copy(uint8_t *dst, const uint8_t *src, size_t len,
                       const uint8_t *key, uint64_t offset) {
#ifdef MASK_VECTORS
  __atomic_load_n(&mask_impl, __ATOMIC_RELAXED)(dst, src, len, key, offset);
#else
  mask_words(dst, src, len, key, offset);
#endif
}

void gust_ws_mask(uint8_t *data, size_t len, const uint8_t *key,
                  uint64_t offset) {
  gust_ws_mask_copy(data, data, len, key, offset);
}
