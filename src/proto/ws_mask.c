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

/* The key as a 32-bit word whose first byte in memory applies to the
 * first byte of a run; rotated by `r` bytes it applies to a run that
 * starts `r` bytes (mod 4) later. Rotations stay in registers: byte
 * stores read back by a wider load would stall store forwarding. */
static uint32_t key_rotate(uint32_t k4, unsigned r) {
  const uint16_t one = 1;
  uint8_t first;
  unsigned s = 8 * (r & 3);
  memcpy(&first, &one, 1);
  if (first == 1) /* little-endian: the first byte is the low one */
    return (k4 >> s) | (k4 << ((32 - s) & 31));
  return (k4 << s) | (k4 >> ((32 - s) & 31));
}

static uint64_t key_word(uint32_t k4) { return ((uint64_t)k4 << 32) | k4; }

/* Fewer than 16 bytes, common to every width: two overlapping 8- or
 * 4-byte words, else single bytes. */
static void mask_small(uint8_t *dst, const uint8_t *src, size_t len,
                       uint32_t k4) {
  if (len >= 8) {
    uint64_t a, b;
    memcpy(&a, src, 8);
    memcpy(&b, src + len - 8, 8);
    a ^= key_word(k4);
    b ^= key_word(key_rotate(k4, (unsigned)len));
    memcpy(dst, &a, 8);
    memcpy(dst + len - 8, &b, 8);
  } else if (len >= 4) {
    uint32_t a, b;
    memcpy(&a, src, 4);
    memcpy(&b, src + len - 4, 4);
    a ^= k4;
    b ^= key_rotate(k4, (unsigned)len);
    memcpy(dst, &a, 4);
    memcpy(dst + len - 4, &b, 4);
  } else {
    uint8_t k[4];
    size_t i;
    memcpy(k, &k4, 4);
    for (i = 0; i < len; i++)
      dst[i] = (uint8_t)(src[i] ^ k[i]);
  }
}

/* Defines NAME, masking `len` bytes with blocks of type T (W bytes, a
 * multiple of 4 so that every block boundary keeps the key phase) and
 * handing shorter runs to NARROWER. `(T){0} + w` spreads the 64-bit key
 * word over a block (a broadcast, built in registers). */
#define MASK_WIDTH(NAME, ATTR, T, W, NARROWER)                                 \
  ATTR static void NAME(uint8_t *dst, const uint8_t *src, size_t len,          \
                        uint32_t k4) {                                         \
    const T kv = (T){0} + key_word(k4);                                        \
    const T kt = (T){0} + key_word(key_rotate(k4, (unsigned)len));             \
    T h, h2, t0, t1, t2, t3;                                                   \
    size_t i;                                                                  \
    if (len < (W)) {                                                           \
      NARROWER(dst, src, len, k4);                                             \
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
      const T ka = (T){0} + key_word(key_rotate(k4, (unsigned)i));             \
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
                        uint32_t k4);

#ifdef MASK_VECTORS
static void mask_first(uint8_t *dst, const uint8_t *src, size_t len,
                       uint32_t k4);

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
                       uint32_t k4) {
  gust__ws_mask_set_level(-1);
  __atomic_load_n(&mask_impl, __ATOMIC_RELAXED)(dst, src, len, k4);
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

void gust_ws_mask_copy(uint8_t *dst, const uint8_t *src, size_t len,
                       const uint8_t *key, uint64_t offset) {
  uint32_t k4;
  memcpy(&k4, key, 4);
  k4 = key_rotate(k4, (unsigned)(offset & 3));
  if (len < 16)
    mask_small(dst, src, len, k4);
  else
#ifdef MASK_VECTORS
    __atomic_load_n(&mask_impl, __ATOMIC_RELAXED)(dst, src, len, k4);
#else
    mask_words(dst, src, len, k4);
#endif
}

void gust_ws_mask(uint8_t *data, size_t len, const uint8_t *key,
                  uint64_t offset) {
  gust_ws_mask_copy(data, data, len, key, offset);
}
