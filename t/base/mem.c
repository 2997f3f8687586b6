/* Tests of the allocator hooks: the process-wide default table and the
 * gust_failmem allocation-failure injector. */
#include <gust/base.h>

#include <stdalign.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../tap.h"

/* A parent allocator that counts the calls it forwards and hands out
 * memory full of garbage, so a test can tell whether calloc really zeroes
 * and whether the injector really forwards. */
typedef struct dirty_parent {
  gust_mem mem;
  unsigned long mallocs, callocs, reallocs, frees;
} dirty_parent;

static void *dirty_malloc(size_t size, void *ud) {
  dirty_parent *d = ud;
  void *p = malloc(size);
  d->mallocs++;
  if (p != NULL)
    memset(p, 0xa5, size);
  return p;
}

static void *dirty_calloc(size_t nmemb, size_t size, void *ud) {
  dirty_parent *d = ud;
  d->callocs++;
  return calloc(nmemb, size);
}

static void *dirty_realloc(void *ptr, size_t size, void *ud) {
  dirty_parent *d = ud;
  d->reallocs++;
  return realloc(ptr, size);
}

static void dirty_free(void *ptr, void *ud) {
  dirty_parent *d = ud;
  d->frees++;
  free(ptr);
}

static void dirty_init(dirty_parent *d) {
  memset(d, 0, sizeof(*d));
  d->mem.malloc = dirty_malloc;
  d->mem.calloc = dirty_calloc;
  d->mem.realloc = dirty_realloc;
  d->mem.free = dirty_free;
  d->mem.user_data = d;
}

static void *fm_malloc(gust_failmem *fm, size_t n) {
  return fm->mem.malloc(n, fm->mem.user_data);
}

static void *fm_calloc(gust_failmem *fm, size_t nmemb, size_t size) {
  return fm->mem.calloc(nmemb, size, fm->mem.user_data);
}

static void *fm_realloc(gust_failmem *fm, void *p, size_t n) {
  return fm->mem.realloc(p, n, fm->mem.user_data);
}

static void fm_free(gust_failmem *fm, void *p) {
  fm->mem.free(p, fm->mem.user_data);
}

static int all_bytes(const void *p, size_t n, uint8_t want) {
  const uint8_t *b = p;
  size_t i;
  for (i = 0; i < n; i++)
    if (b[i] != want)
      return 0;
  return 1;
}

static int is_aligned(const void *p) {
  return (uintptr_t)p % alignof(max_align_t) == 0;
}

int main(void) {
  const gust_mem *libc_default = gust_mem_default();

  if (tap_group("mem: default allocator")) {
    const gust_mem *m = gust_mem_default();
    uint8_t *p, *q;
    ok(m != NULL, "mem: gust_mem_default() is not NULL");
    ok(m != NULL && m->malloc != NULL && m->calloc != NULL &&
           m->realloc != NULL && m->free != NULL,
       "mem: the default table has all four functions");
    ok(gust_mem_default() == m, "mem: the default is stable between calls");
    p = m->malloc(32, m->user_data);
    ok(p != NULL, "mem: default malloc(32) succeeds");
    if (p != NULL) {
      memset(p, 'x', 32);
      q = m->realloc(p, 4096, m->user_data);
      ok(q != NULL && all_bytes(q, 32, 'x'),
         "mem: default realloc grows and keeps the bytes");
      m->free(q != NULL ? q : p, m->user_data);
    }
    p = m->calloc(16, 16, m->user_data);
    ok(p != NULL && all_bytes(p, 256, 0), "mem: default calloc zeroes");
    m->free(p, m->user_data);
    m->free(NULL, m->user_data);
    p = m->realloc(NULL, 10, m->user_data);
    ok(p != NULL,
       "mem: default free(NULL) is accepted; realloc(NULL, n) allocates");
    m->free(p, m->user_data);
  }

  if (tap_group("mem: gust_mem_set_default")) {
    gust_failmem fm;
    gust_buf b, b2;
    gust_failmem_init(&fm, NULL);
    ok(fm.parent == libc_default,
       "mem: failmem with a NULL parent forwards to the default");
    gust_mem_set_default(&fm.mem);
    ok(gust_mem_default() == &fm.mem, "mem: set_default replaces the default");
    gust_buf_init(&b, NULL);
    ok(b.mem == &fm.mem, "mem: a buffer made with NULL takes the new default");
    is_int(fm.count, 0, "mem: buf init through the default allocates nothing");
    ok(gust_buf_append_str(&b, "hello") == 0, "mem: append through default");
    is_int(fm.count, 1, "mem: the append allocated through the failmem");
    is_int(fm.live_blocks, 1, "mem: the failmem holds the buffer's block");
    fm.fail_at = fm.count + 1;
    gust_buf_init(&b2, NULL);
    is_int(gust_buf_append_str(&b2, "x"), GUST_ENOMEM,
           "mem: a failure injected into the default reaches the object");
    fm.fail_at = 0;
    gust_mem_set_default(NULL);
    ok(gust_mem_default() == libc_default,
       "mem: set_default(NULL) restores the C library allocator");
    gust_buf_free(&b);
    is_int(fm.live_blocks, 0,
           "mem: a buffer keeps its allocator after the default changes");
    gust_buf_init(&b2, NULL);
    ok(b2.mem == libc_default, "mem: new objects use the restored default");
    ok(gust_buf_append_str(&b2, "after") == 0, "mem: append after restore");
    is_int(fm.count, 2, "mem: the restored default bypasses the failmem");
    gust_buf_free(&b2);
  }

  if (tap_group("mem: failmem init")) {
    gust_failmem fm;
    dirty_parent d;
    memset(&fm, 0x5a, sizeof(fm));
    dirty_init(&d);
    gust_failmem_init(&fm, &d.mem);
    ok(fm.parent == &d.mem, "failmem: init records the parent");
    ok(fm.mem.user_data == &fm, "failmem: mem.user_data points to fm");
    ok(fm.mem.malloc && fm.mem.calloc && fm.mem.realloc && fm.mem.free,
       "failmem: the table has all four functions");
    ok(fm.fail_at == 0 && fm.fail_after == 0 && fm.count == 0 &&
           fm.failures == 0 && fm.live_blocks == 0 && fm.live_bytes == 0 &&
           fm.peak_bytes == 0,
       "failmem: init zeroes every counter and schedules no failure");
  }

  if (tap_group("mem: failmem forwarding and counting")) {
    gust_failmem fm;
    dirty_parent d;
    void *a, *b, *c;
    dirty_init(&d);
    gust_failmem_init(&fm, &d.mem);
    a = fm_malloc(&fm, 10);
    ok(a != NULL, "failmem: malloc succeeds");
    ok(is_aligned(a), "failmem: malloc result keeps max_align_t alignment");
    is_int(d.mallocs, 1, "failmem: malloc forwards to the parent");
    b = fm_calloc(&fm, 3, 5);
    ok(b != NULL, "failmem: calloc succeeds");
    ok(is_aligned(b), "failmem: calloc result is aligned");
    ok(b != NULL && all_bytes(b, 15, 0),
       "failmem: calloc zeroes memory even over a dirty parent");
    a = fm_realloc(&fm, a, 20);
    ok(a != NULL && is_aligned(a), "failmem: realloc succeeds, aligned");
    is_int(d.reallocs, 1, "failmem: realloc forwards to the parent");
    is_int(fm.count, 3, "failmem: malloc, calloc and realloc each count");
    is_int(fm.failures, 0, "failmem: nothing failed");
    is_int(fm.live_blocks, 2, "failmem: two blocks live");
    is_int(fm.live_bytes, 35, "failmem: live bytes are 20 + 15");
    c = fm_realloc(&fm, NULL, 7);
    ok(c != NULL, "failmem: realloc(NULL, 7) allocates");
    is_int(fm.live_blocks, 3, "failmem: realloc(NULL) adds a live block");
    is_int(fm.live_bytes, 42, "failmem: realloc(NULL, 7) adds 7 bytes");
    is_int(fm.count, 4, "failmem: realloc(NULL) counts as one allocation");
    fm_free(&fm, a);
    fm_free(&fm, b);
    fm_free(&fm, c);
    is_int(fm.count, 4, "failmem: free is not counted as an allocation");
    is_int(d.frees, 3, "failmem: free forwards to the parent");
    fm_free(&fm, NULL);
    is_int(d.frees, 3, "failmem: free(NULL) is accepted and not forwarded");
    ok(fm.live_blocks == 0 && fm.live_bytes == 0,
       "failmem: nothing live after freeing everything");
  }

  if (tap_group("mem: failmem fail_at")) {
    gust_failmem fm;
    void *p[6];
    int i, nulls = 0, which = 0;
    gust_failmem_init(&fm, NULL);
    fm.fail_at = 3;
    for (i = 0; i < 6; i++) {
      p[i] = fm_malloc(&fm, 8);
      if (p[i] == NULL) {
        nulls++;
        which = i + 1;
      }
    }
    is_int(nulls, 1, "failmem: fail_at=3 fails exactly one allocation");
    is_int(which, 3, "failmem: fail_at=3 fails the 3rd allocation");
    is_int(fm.failures, 1, "failmem: failures counts the refusal");
    is_int(fm.count, 6, "failmem: count includes the refused allocation");
    is_int(fm.live_blocks, 5, "failmem: the refused block is not live");
    is_int(fm.live_bytes, 40, "failmem: live_bytes excludes the refused one");
    for (i = 0; i < 6; i++)
      fm_free(&fm, p[i]);
    is_int(fm.live_blocks, 0, "failmem: all freed");

    /* fail_at applies to calloc and realloc as well. */
    gust_failmem_reset(&fm, 1);
    ok(fm_calloc(&fm, 2, 2) == NULL, "failmem: fail_at=1 fails a calloc");
    p[0] = fm_calloc(&fm, 2, 2);
    ok(p[0] != NULL, "failmem: the next calloc succeeds");
    gust_failmem_reset(&fm, 1);
    ok(fm_realloc(&fm, NULL, 4) == NULL,
       "failmem: fail_at=1 fails a realloc(NULL)");
    fm_free(&fm, p[0]);
    is_int(fm.failures, 1, "failmem: one failure since the reset");
  }

  if (tap_group("mem: failmem fail_after")) {
    gust_failmem fm;
    void *p[6];
    int i, nulls = 0, first_null = 0;
    gust_failmem_init(&fm, NULL);
    fm.fail_at = 2;
    fm.fail_after = 1;
    for (i = 0; i < 6; i++) {
      p[i] = fm_malloc(&fm, 8);
      if (p[i] == NULL && nulls++ == 0)
        first_null = i + 1;
    }
    is_int(first_null, 2, "failmem: fail_after starts failing at fail_at");
    is_int(nulls, 5, "failmem: fail_after fails every later allocation");
    is_int(fm.failures, 5, "failmem: failures counts all five refusals");
    ok(p[0] != NULL, "failmem: the allocation before fail_at succeeded");
    is_int(fm.live_blocks, 1, "failmem: only the first block is live");
    fm_free(&fm, p[0]);
    fm.fail_after = 1;
    fm.fail_at = 0;
    gust_failmem_reset(&fm, 0);
    p[0] = fm_malloc(&fm, 8);
    ok(p[0] != NULL, "failmem: fail_after has no effect when fail_at is 0");
    fm_free(&fm, p[0]);
    is_int(fm.live_blocks, 0, "failmem: nothing leaked");
  }

  if (tap_group("mem: failmem live and peak tracking")) {
    gust_failmem fm;
    uint8_t *a, *b, *c;
    gust_failmem_init(&fm, NULL);
    a = fm_malloc(&fm, 100);
    b = fm_malloc(&fm, 50);
    ok(a != NULL && b != NULL, "track: two mallocs");
    ok(fm.live_blocks == 2 && fm.live_bytes == 150,
       "track: 2 blocks, 150 bytes live");
    is_int(fm.peak_bytes, 150, "track: peak follows the live bytes");
    fm_free(&fm, a);
    ok(fm.live_blocks == 1 && fm.live_bytes == 50,
       "track: free(100) leaves 1 block of 50 bytes");
    is_int(fm.peak_bytes, 150, "track: peak stays at its highest");
    c = fm_calloc(&fm, 4, 10);
    ok(fm.live_blocks == 2 && fm.live_bytes == 90,
       "track: calloc(4, 10) adds 40 bytes");
    memset(b, 'b', 50);
    b = fm_realloc(&fm, b, 300);
    ok(b != NULL && all_bytes(b, 50, 'b'),
       "track: realloc grows and keeps the contents");
    ok(fm.live_blocks == 2 && fm.live_bytes == 340,
       "track: realloc 50 -> 300 adds 250 live bytes, no new block");
    is_int(fm.peak_bytes, 340, "track: peak rises with a growing realloc");
    b = fm_realloc(&fm, b, 5);
    ok(b != NULL && all_bytes(b, 5, 'b'), "track: realloc shrinks, keeps");
    is_int(fm.live_bytes, 45, "track: realloc 300 -> 5 gives the bytes back");
    is_int(fm.peak_bytes, 340, "track: shrinking does not lower the peak");

    /* A failed realloc leaves the old block live and intact. */
    memset(b, 'q', 5);
    gust_failmem_reset(&fm, 1);
    is_int(fm.peak_bytes, 45, "track: reset restarts the peak at live bytes");
    ok(fm_realloc(&fm, b, 1000) == NULL, "track: injected realloc failure");
    ok(fm.live_blocks == 2 && fm.live_bytes == 45,
       "track: a failed realloc changes no live counter");
    ok(all_bytes(b, 5, 'q'), "track: the old block is intact after failure");
    b = fm_realloc(&fm, b, 6);
    ok(b != NULL && all_bytes(b, 5, 'q'),
       "track: the old block is still usable after the failed realloc");

    /* Requests no allocator could satisfy. */
    gust_failmem_reset(&fm, 0);
    ok(fm_malloc(&fm, SIZE_MAX) == NULL, "track: malloc(SIZE_MAX) is NULL");
    ok(fm_realloc(&fm, b, SIZE_MAX) == NULL,
       "track: realloc(p, SIZE_MAX) is NULL");
    ok(all_bytes(b, 5, 'q'), "track: block intact after impossible realloc");
    ok(fm_calloc(&fm, SIZE_MAX / 2 + 2, 2) == NULL,
       "track: calloc whose nmemb * size overflows is NULL");
    ok(fm_calloc(&fm, 2, SIZE_MAX / 2 + 2) == NULL,
       "track: calloc overflow with the big factor second is NULL");
    ok(fm_calloc(&fm, (size_t)1 << (sizeof(size_t) * 4),
                 (size_t)1 << (sizeof(size_t) * 4)) == NULL,
       "track: calloc(2^(w/2), 2^(w/2)) (product wraps to 0) is NULL");
    is_int(fm.count, 5, "track: each impossible request counts as attempted");
    ok(fm.live_blocks == 2 && fm.live_bytes == 46,
       "track: impossible requests change no live counter");

    fm_free(&fm, b);
    fm_free(&fm, c);
    ok(fm.live_blocks == 0 && fm.live_bytes == 0, "track: nothing leaked");
    is_int(fm.peak_bytes, 46,
           "track: peak remembers the highest point since "
           "the reset");
  }

  if (tap_group("mem: gust_failmem_reset")) {
    gust_failmem fm;
    void *a, *b;
    gust_failmem_init(&fm, NULL);
    a = fm_malloc(&fm, 64);
    b = fm_malloc(&fm, 64);
    fm_free(&fm, b);
    fm.fail_at = 3;
    ok(fm_malloc(&fm, 1) == NULL, "reset: setup failure injected");
    ok(fm.count == 3 && fm.failures == 1 && fm.peak_bytes == 128,
       "reset: counters before the reset");
    gust_failmem_reset(&fm, 2);
    is_int(fm.count, 0, "reset: count goes back to 0");
    is_int(fm.failures, 0, "reset: failures go back to 0");
    is_int(fm.fail_at, 2, "reset: fail_at is the new schedule");
    is_int(fm.live_blocks, 1, "reset: live_blocks still describes held memory");
    is_int(fm.live_bytes, 64, "reset: live_bytes still describes held memory");
    is_int(fm.peak_bytes, 64, "reset: peak restarts from the live bytes");
    b = fm_malloc(&fm, 1);
    ok(b != NULL, "reset: 1st allocation after reset succeeds");
    ok(fm_malloc(&fm, 1) == NULL,
       "reset: ordinals restart, so the 2nd after reset fails");
    fm_free(&fm, b);
    gust_failmem_reset(&fm, 0);
    b = fm_malloc(&fm, 1);
    ok(b != NULL && fm.failures == 0, "reset: fail_at 0 schedules nothing");
    fm_free(&fm, b);
    fm_free(&fm, a);
    is_int(fm.live_blocks, 0, "reset: nothing leaked");
  }

  if (tap_group("mem: failmem over a failmem")) {
    gust_failmem outer, inner;
    void *p;
    gust_failmem_init(&outer, NULL);
    gust_failmem_init(&inner, &outer.mem);
    p = fm_malloc(&inner, 10);
    ok(p != NULL, "nested: allocation through two injectors");
    ok(inner.live_bytes == 10 && outer.live_blocks == 1 &&
           outer.live_bytes >= 10,
       "nested: both injectors see the block");
    outer.fail_at = outer.count + 1;
    ok(fm_realloc(&inner, p, 100) == NULL,
       "nested: the parent's failure propagates through realloc");
    is_int(inner.live_bytes, 10, "nested: inner block still counted live");
    fm_free(&inner, p);
    ok(inner.live_blocks == 0 && outer.live_blocks == 0,
       "nested: freeing through the inner releases the outer block");
  }

  return done_testing();
}
