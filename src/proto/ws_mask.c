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
typedef uint32_t mask_v16 __attribute__((vector_size(16)));
#if defined(__x86_64__) && (defined(__clang__) || __GNUC__ >= 6)
#define MASK_X86 1
typedef uint32_t mask_v32 __attribute__((vector_size(32)));
typedef uint32_t mask_v64 __attribute__((vector_size(64)));
#endif
#endif

/* Where the toolchain has GNU indirect functions, the dynamic linker asks
 * the resolvers below once, at load time, which width the public
 * functions are: a call then goes straight to the width (a jump through a
 * pointer costs a short run a tenth of its time). Elsewhere, and in the
 * tests' copy (which needs the level hook), a pointer set at first use. */
#if defined(MASK_X86) && defined(__ELF__) && defined(__GLIBC__) &&             \
    !defined(GUST__WS_MASK_HOOK)
#define MASK_IFUNC 1
#endif

/* The key as a 32-bit word `k` whose first byte in memory applies to
 * some payload byte, turned into the word for the byte `n` places later:
 * a rotation by 8n bits mod 32 (one rotate instruction). Built in
 * registers: byte stores read back by a wider load would stall store
 * forwarding. */
static uint32_t key_skip(uint32_t k, uint64_t n) {
  const uint16_t one = 1;
  uint8_t first;
  unsigned s = 8u * (unsigned)n;
  memcpy(&first, &one, 1);
  if (first == 1) /* little-endian: the first byte is the low one */
    return (k >> (s & 31)) | (k << (-s & 31));
  return (k << (s & 31)) | (k >> (-s & 31));
}

/* The key word for the byte at payload offset `offset`. */
static uint32_t key_at(const uint8_t *key, uint64_t offset) {
  uint32_t k;
  memcpy(&k, key, 4);
  return key_skip(k, offset);
}

static uint64_t key_double(uint32_t k) { return ((uint64_t)k << 32) | k; }

/* Fewer than 16 bytes, common to every width: two overlapping 8- or
 * 4-byte words, else single bytes. */
static void mask_small(uint8_t *dst, const uint8_t *src, size_t len,
                       const uint8_t *key, uint64_t offset) {
  if (len >= 8) {
    uint64_t a, b;
    memcpy(&a, src, 8);
    memcpy(&b, src + len - 8, 8);
    a ^= key_double(key_at(key, offset));
    b ^= key_double(key_at(key, offset + len));
    memcpy(dst, &a, 8);
    memcpy(dst + len - 8, &b, 8);
  } else if (len >= 4) {
    uint32_t a, b;
    memcpy(&a, src, 4);
    memcpy(&b, src + len - 4, 4);
    a ^= key_at(key, offset);
    b ^= key_at(key, offset + len);
    memcpy(dst, &a, 4);
    memcpy(dst + len - 4, &b, 4);
  } else {
    size_t i;
    for (i = 0; i < len; i++)
      dst[i] = (uint8_t)(src[i] ^ key[(offset + i) & 3]);
  }
}

/* Spreads a key word over a block: a broadcast for vectors of 32-bit
 * lanes, the word twice for a 64-bit word. */
#define SPLAT_VEC(T, k)  ((T){0} + (k))
#define SPLAT_WORD(T, k) ((T)key_double(k))

/* Defines NAME, masking `len` bytes with blocks of type T (W bytes, a
 * multiple of 4 so that every block boundary keeps the key phase) and
 * handing shorter runs to NARROWER. */
#define MASK_WIDTH(NAME, ATTR, T, W, SPLAT, NARROWER)                          \
  ATTR static void NAME(uint8_t *dst, const uint8_t *src, size_t len,          \
                        const uint8_t *key, uint64_t offset) {                 \
    const uint32_t k = key_at(key, offset);                                    \
    const T kv = SPLAT(T, k);                                                  \
    const T kt = SPLAT(T, key_skip(k, len));                                   \
    T h, h2, t0, t1, t2, t3;                                                   \
    size_t i;                                                                  \
    if (len - (W) <= (W)) { /* W to 2W bytes (wraps below W) */                \
      memcpy(&h, src, W);                                                      \
      memcpy(&t3, src + len - (W), W);                                         \
      h ^= kv;                                                                 \
      t3 ^= kt;                                                                \
      memcpy(dst, &h, W);                                                      \
      memcpy(dst + len - (W), &t3, W);                                         \
      return;                                                                  \
    }                                                                          \
    if (len < (W)) {                                                           \
      NARROWER(dst, src, len, key, offset);                                    \
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
      const T ka = SPLAT(T, key_skip(k, i));                                   \
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

#ifndef MASK_IFUNC /* the x86-64 baseline has 16-byte vectors */
MASK_WIDTH(mask_words, MASK_PLAIN, uint64_t, 8, SPLAT_WORD, mask_small)
#endif
#ifdef MASK_VECTORS
MASK_WIDTH(mask_vec16, MASK_PLAIN, mask_v16, 16, SPLAT_VEC, mask_small)
#endif
#ifdef MASK_X86
MASK_WIDTH(mask_avx2, __attribute__((target("avx2"))), mask_v32, 32, SPLAT_VEC,
           mask_vec16)
MASK_WIDTH(mask_avx512, __attribute__((target("avx2,avx512f"))), mask_v64, 64,
           SPLAT_VEC, mask_avx2)
#endif

typedef void (*mask_fn)(uint8_t *dst, const uint8_t *src, size_t len,
                        const uint8_t *key, uint64_t offset);

/* The resolvers and the CPU probe they call run while the library is
 * being relocated, before any sanitizer runtime is ready: no
 * instrumentation. */
#ifdef __clang__
#define MASK_RESOLVER                                                          \
  __attribute__((no_sanitize("address", "undefined", "coverage"), used))
#else
#define MASK_RESOLVER __attribute__((no_sanitize_address, used))
#endif

#ifdef MASK_VECTORS
MASK_RESOLVER static int best_level(void) {
#ifdef MASK_X86
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx2"))
    return __builtin_cpu_supports("avx512f") ? GUST__MASK_AVX512
                                             : GUST__MASK_AVX2;
#endif
  return GUST__MASK_VEC16;
}
#endif

#ifdef MASK_IFUNC
typedef void (*mask_in_place_fn)(uint8_t *data, size_t len, const uint8_t *key,
                                 uint64_t offset);

#define MASK_IN_PLACE(NAME, ATTR, COPY)                                        \
  ATTR static void NAME(uint8_t *data, size_t len, const uint8_t *key,         \
                        uint64_t offset) {                                     \
    COPY(data, data, len, key, offset);                                        \
  }
MASK_IN_PLACE(mask_in_place_vec16, MASK_PLAIN, mask_vec16)
MASK_IN_PLACE(mask_in_place_avx2, __attribute__((target("avx2"))), mask_avx2)
MASK_IN_PLACE(mask_in_place_avx512, __attribute__((target("avx2,avx512f"))),
              mask_avx512)

MASK_RESOLVER static mask_fn resolve_copy(void) {
  int level = best_level();
  return level == GUST__MASK_AVX512 ? mask_avx512
         : level == GUST__MASK_AVX2 ? mask_avx2
                                    : mask_vec16;
}

MASK_RESOLVER static mask_in_place_fn resolve_in_place(void) {
  int level = best_level();
  return level == GUST__MASK_AVX512 ? mask_in_place_avx512
         : level == GUST__MASK_AVX2 ? mask_in_place_avx2
                                    : mask_in_place_vec16;
}

void gust_ws_mask_copy(uint8_t *dst, const uint8_t *src, size_t len,
                       const uint8_t *key, uint64_t offset)
    __attribute__((ifunc("resolve_copy")));
void gust_ws_mask(uint8_t *data, size_t len, const uint8_t *key,
                  uint64_t offset) __attribute__((ifunc("resolve_in_place")));

#else /* !MASK_IFUNC */

#ifdef MASK_VECTORS
static void mask_first(uint8_t *dst, const uint8_t *src, size_t len,
                       const uint8_t *key, uint64_t offset);

/* The width in use: mask_first until the CPU has been probed. Loaded
 * and stored atomically; concurrent first calls store the same value. */
static mask_fn mask_impl = mask_first;

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
#endif /* MASK_IFUNC */
