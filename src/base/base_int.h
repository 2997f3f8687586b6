/* Internal helpers shared by the library's source files (never installed).
 * Everything here is static inline so that libgust can use it without
 * libgust-proto exporting anything beyond its public gust_* API. */
#ifndef GUST_BASE_INT_H
#define GUST_BASE_INT_H

#include <gust/base.h>

#include <string.h>

#define GUST__UNUSED(x)     ((void)(x))
#define GUST__ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#if defined(__GNUC__) || defined(__clang__)
#define GUST__LIKELY(x)   __builtin_expect(!!(x), 1)
#define GUST__UNLIKELY(x) __builtin_expect(!!(x), 0)
#else
#define GUST__LIKELY(x)   (x)
#define GUST__UNLIKELY(x) (x)
#endif

/* Resolves an object's allocator: NULL means the process-wide default. */
/* RFC 9110 tchar: 1 for the bytes of a token (header names, methods,
 * parameter names), 0 otherwise. Defined in headers.c. */
extern const uint8_t gust__tchar[256];

static inline const gust_mem *gust__mem(const gust_mem *mem) {
  return mem != NULL ? mem : gust_mem_default();
}

static inline void *gust__malloc(const gust_mem *mem, size_t size) {
  return mem->malloc(size != 0 ? size : 1, mem->user_data);
}

static inline void *gust__calloc(const gust_mem *mem, size_t nmemb,
                                 size_t size) {
  if (nmemb == 0 || size == 0)
    nmemb = size = 1;
  return mem->calloc(nmemb, size, mem->user_data);
}

static inline void *gust__realloc(const gust_mem *mem, void *ptr, size_t size) {
  return mem->realloc(ptr, size != 0 ? size : 1, mem->user_data);
}

static inline void gust__free(const gust_mem *mem, void *ptr) {
  if (ptr != NULL)
    mem->free(ptr, mem->user_data);
}

/* Returns a NUL-terminated copy of n bytes, or NULL on out of memory. */
static inline char *gust__strndup(const gust_mem *mem, const char *s,
                                  size_t n) {
  char *p = (char *)gust__malloc(mem, n + 1);
  if (p != NULL) {
    if (n != 0)
      memcpy(p, s, n);
    p[n] = '\0';
  }
  return p;
}

/* Writes `v` in decimal at `out` (room for 20 digits), no NUL; returns
 * the digit count. For hot paths where snprintf costs more than the rest
 * of the work. */
static inline size_t gust__u64_dec(char *out, uint64_t v) {
  char tmp[20];
  size_t n = 0, i;
  do {
    tmp[n++] = (char)('0' + v % 10);
    v /= 10;
  } while (v != 0);
  for (i = 0; i < n; i++)
    out[i] = tmp[n - 1 - i];
  return n;
}

/* The same in lowercase hexadecimal (room for 16 digits). */
static inline size_t gust__u64_hex(char *out, uint64_t v) {
  char tmp[16];
  size_t n = 0, i;
  do {
    tmp[n++] = "0123456789abcdef"[v & 15];
    v >>= 4;
  } while (v != 0);
  for (i = 0; i < n; i++)
    out[i] = tmp[n - 1 - i];
  return n;
}

static inline uint8_t gust__lower(uint8_t c) {
  return (uint8_t)((c >= 'A' && c <= 'Z') ? c + 32 : c);
}

#endif /* GUST_BASE_INT_H */
