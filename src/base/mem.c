/* The default allocator (the only place in src/ that calls the C library's
 * allocator) and the allocation-failure injector used by torture tests. */
#include "config.h"

#include <gust/base.h>

#include <stdlib.h>
#include <string.h>

#include "base_int.h"

static void *libc_malloc(size_t size, void *ud) {
  GUST__UNUSED(ud);
  return malloc(size);
}

static void *libc_calloc(size_t nmemb, size_t size, void *ud) {
  GUST__UNUSED(ud);
  return calloc(nmemb, size);
}

static void *libc_realloc(void *ptr, size_t size, void *ud) {
  GUST__UNUSED(ud);
  return realloc(ptr, size);
}

static void libc_free(void *ptr, void *ud) {
  GUST__UNUSED(ud);
  free(ptr);
}

static const gust_mem libc_mem = {
    .malloc = libc_malloc,
    .calloc = libc_calloc,
    .realloc = libc_realloc,
    .free = libc_free,
    .user_data = NULL,
};

static const gust_mem *default_mem = &libc_mem;

const gust_mem *gust_mem_default(void) { return default_mem; }

void gust_mem_set_default(const gust_mem *mem) {
  default_mem = mem != NULL ? mem : &libc_mem;
}

/* Each block handed out by the injector is preceded by a header holding its
 * size, padded so the user part keeps the strictest fundamental alignment. */
typedef union failmem_hdr {
  size_t size;
  max_align_t align_;
} failmem_hdr;

/* Counts one attempt and decides whether it must fail. */
static int failmem_should_fail(gust_failmem *fm) {
  fm->count++;
  if (fm->fail_at != 0 && (fm->count == fm->fail_at ||
                           (fm->fail_after && fm->count > fm->fail_at))) {
    fm->failures++;
    return 1;
  }
  return 0;
}

static void failmem_track(gust_failmem *fm, size_t add, size_t sub) {
  fm->live_bytes = fm->live_bytes - sub + add;
  if (fm->live_bytes > fm->peak_bytes)
    fm->peak_bytes = fm->live_bytes;
}

static void *failmem_malloc(size_t size, void *ud) {
  gust_failmem *fm = ud;
  failmem_hdr *h;
  if (failmem_should_fail(fm) || size > SIZE_MAX - sizeof(*h))
    return NULL;
  h = fm->parent->malloc(sizeof(*h) + size, fm->parent->user_data);
  if (h == NULL)
    return NULL;
  h->size = size;
  fm->live_blocks++;
  failmem_track(fm, size, 0);
  return h + 1;
}

static void *failmem_calloc(size_t nmemb, size_t size, void *ud) {
  void *p;
  if (size != 0 && nmemb > SIZE_MAX / size) {
    ((gust_failmem *)ud)->count++;
    return NULL;
  }
  p = failmem_malloc(nmemb * size, ud);
  if (p != NULL)
    memset(p, 0, nmemb * size);
  return p;
}

static void *failmem_realloc(void *ptr, size_t size, void *ud) {
  gust_failmem *fm = ud;
  failmem_hdr *h, *n;
  size_t old;
  if (ptr == NULL)
    return failmem_malloc(size, ud);
  if (failmem_should_fail(fm) || size > SIZE_MAX - sizeof(*h))
    return NULL;
  h = (failmem_hdr *)ptr - 1;
  old = h->size;
  n = fm->parent->realloc(h, sizeof(*n) + size, fm->parent->user_data);
  if (n == NULL)
    return NULL;
  n->size = size;
  failmem_track(fm, size, old);
  return n + 1;
}

static void failmem_free(void *ptr, void *ud) {
  gust_failmem *fm = ud;
  failmem_hdr *h;
  if (ptr == NULL)
    return;
  h = (failmem_hdr *)ptr - 1;
  fm->live_blocks--;
  failmem_track(fm, 0, h->size);
  fm->parent->free(h, fm->parent->user_data);
}

void gust_failmem_init(gust_failmem *fm, const gust_mem *parent) {
  memset(fm, 0, sizeof(*fm));
  fm->mem.malloc = failmem_malloc;
  fm->mem.calloc = failmem_calloc;
  fm->mem.realloc = failmem_realloc;
  fm->mem.free = failmem_free;
  fm->mem.user_data = fm;
  fm->parent = gust__mem(parent);
}

void gust_failmem_reset(gust_failmem *fm, unsigned long fail_at) {
  fm->fail_at = fail_at;
  fm->count = 0;
  fm->failures = 0;
  fm->peak_bytes = fm->live_bytes;
}
