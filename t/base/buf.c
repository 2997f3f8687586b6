/* Tests of the growable byte buffer (gust_buf): contents, the invariants
 * listed in base.h after every call, growth, consumption, limits, aliasing
 * and every allocation failure in turn. */
#include <gust/base.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "../tap.h"

/* Checks the invariants of base.h; prints what is wrong. */
static int inv_ok(const gust_buf *b) {
  if (b->mem == NULL) {
    diag("invariant: mem is NULL");
    return 0;
  }
  if (b->cap == 0) {
    if (b->ptr != NULL || b->len != 0 || b->off != 0) {
      diag("invariant: cap 0 but ptr %p len %zu off %zu", (void *)b->ptr,
           b->len, b->off);
      return 0;
    }
    return 1;
  }
  if (b->ptr == NULL) {
    diag("invariant: cap %zu but ptr NULL", b->cap);
    return 0;
  }
  if (!(b->off + b->len < b->cap)) {
    diag("invariant: off %zu + len %zu >= cap %zu", b->off, b->len, b->cap);
    return 0;
  }
  if (b->ptr[b->len] != 0) {
    diag("invariant: ptr[len] is 0x%02x, not NUL", b->ptr[b->len]);
    return 0;
  }
  return 1;
}

#define INV(b, ...) ok(inv_ok(b), __VA_ARGS__)

/* Compares the live bytes with `want`; an empty buffer matches "". */
static int has(const gust_buf *b, const void *want, size_t n) {
  return b->len == n && (n == 0 || memcmp(b->ptr, want, n) == 0);
}

static int has_str(const gust_buf *b, const char *s) {
  return has(b, s, strlen(s));
}

static void fill_pattern(uint8_t *p, size_t n, unsigned seed) {
  size_t i;
  for (i = 0; i < n; i++)
    p[i] = (uint8_t)('a' + (i * 7 + seed) % 26);
}

static int vprintf_wrap(gust_buf *b, const char *fmt, ...) GUST_PRINTF(2, 3);
static int vprintf_wrap(gust_buf *b, const char *fmt, ...) {
  va_list ap;
  int rc;
  va_start(ap, fmt);
  rc = gust_buf_vprintf(b, fmt, ap);
  va_end(ap);
  return rc;
}

/* A parent allocator whose realloc always moves the block and poisons the
 * old one, so code that keeps a pointer across a reallocation reads
 * garbage (and valgrind reports the use after free). */
typedef struct mover_hdr {
  size_t size;
  max_align_t align_;
} mover_hdr;

static void *mover_malloc(size_t size, void *ud) {
  mover_hdr *h = malloc(sizeof(*h) + size);
  (void)ud;
  if (h == NULL)
    return NULL;
  h->size = size;
  memset(h + 1, 0xbe, size);
  return h + 1;
}

static void mover_free(void *p, void *ud) {
  mover_hdr *h;
  (void)ud;
  if (p == NULL)
    return;
  h = (mover_hdr *)p - 1;
  memset(p, 0xdd, h->size);
  free(h);
}

static void *mover_calloc(size_t nmemb, size_t size, void *ud) {
  void *p;
  if (size != 0 && nmemb > SIZE_MAX / size)
    return NULL;
  p = mover_malloc(nmemb * size, ud);
  if (p != NULL)
    memset(p, 0, nmemb * size);
  return p;
}

static void *mover_realloc(void *p, size_t size, void *ud) {
  void *n;
  size_t old;
  if (p == NULL)
    return mover_malloc(size, ud);
  n = mover_malloc(size, ud);
  if (n == NULL)
    return NULL;
  old = ((mover_hdr *)p - 1)->size;
  memcpy(n, p, old < size ? old : size);
  mover_free(p, ud);
  return n;
}

static const gust_mem mover = {mover_malloc, mover_calloc, mover_realloc,
                               mover_free, NULL};

/* A parent that refuses anything over 64 MiB, so absurd requests fail
 * quickly and quietly (also under valgrind). */
static void *capped_malloc(size_t size, void *ud) {
  (void)ud;
  return size > ((size_t)64 << 20) ? NULL : malloc(size);
}
static void *capped_calloc(size_t nmemb, size_t size, void *ud) {
  (void)ud;
  if (size != 0 && nmemb > ((size_t)64 << 20) / size)
    return NULL;
  return calloc(nmemb, size);
}
static void *capped_realloc(void *p, size_t size, void *ud) {
  (void)ud;
  return size > ((size_t)64 << 20) ? NULL : realloc(p, size);
}
static void capped_free(void *p, void *ud) {
  (void)ud;
  free(p);
}
static const gust_mem capped = {capped_malloc, capped_calloc, capped_realloc,
                                capped_free, NULL};

/* ---- the operation script used by the allocation-failure tests ---- */

#define NSTEPS 18

/* Runs step `i` on `b`; returns its result code (detach: 0 or
 * GUST_ENOMEM). A detached block is kept in *det for the caller to free. */
static int run_step(gust_buf *b, int i, uint8_t **det, size_t *det_len) {
  static uint8_t big[700];
  fill_pattern(big, sizeof(big), 3);
  switch (i) {
  case 0:
    return gust_buf_append_str(b, "hello, ");
  case 1:
    return gust_buf_append(b, big, 200); /* grows past the first block */
  case 2:
    return gust_buf_printf(b, "%d:%s:%0300d", 42, "x", 7);
  case 3:
    gust_buf_consume(b, 150);
    return 0;
  case 4:
    return gust_buf_append(b, b->ptr, b->len); /* aliasing, off != 0 */
  case 5:
    return gust_buf_append_byte(b, '!');
  case 6:
    return gust_buf_reserve(b, 5000);
  case 7:
    return gust_buf_printf(b, "%s", "tail");
  case 8:
    gust_buf_truncate(b, 100);
    return 0;
  case 9:
    return gust_buf_append(b, big, sizeof(big));
  case 10: {
    uint8_t *p = gust_buf_detach(b, det_len);
    if (p == NULL)
      return GUST_ENOMEM;
    *det = p;
    return 0;
  }
  case 11: {
    uint8_t *p = gust_buf_detach(b, NULL); /* empty: allocates "" */
    if (p == NULL)
      return GUST_ENOMEM;
    b->mem->free(p, b->mem->user_data);
    return 0;
  }
  case 12:
    return vprintf_wrap(b, "%s-%05d", "v", 12);
  case 13:
    gust_buf_clear(b);
    return 0;
  case 14:
    return gust_buf_append(b, big, 100);
  case 15:
    gust_buf_consume(b, 90);
    return 0;
  case 16:
    return gust_buf_append(b, big, 600); /* compacts into a fresh block */
  default:
    return gust_buf_append_str(b, "end");
  }
}

/* Runs the whole script with failures scheduled by `fm`. Checks that each
 * failing step returned GUST_ENOMEM and left the contents unchanged.
 * Returns the number of problems found. */
static int run_script(gust_failmem *fm, int stop_at_failure, gust_buf *out,
                      int *failed_steps) {
  gust_buf b;
  uint8_t *det = NULL;
  size_t det_len = 0;
  int i, problems = 0;
  *failed_steps = 0;
  gust_buf_init(&b, &fm->mem);
  for (i = 0; i < NSTEPS; i++) {
    uint8_t *snap = NULL;
    size_t snap_len = b.len;
    int rc;
    if (b.len != 0) {
      snap = malloc(b.len);
      memcpy(snap, b.ptr, b.len);
    }
    rc = run_step(&b, i, &det, &det_len);
    if (!inv_ok(&b)) {
      diag("fail_at %lu: invariants broken after step %d (rc %d)", fm->fail_at,
           i, rc);
      problems++;
    }
    if (rc != 0) {
      (*failed_steps)++;
      if (rc != GUST_ENOMEM) {
        diag("fail_at %lu: step %d returned %s, not GUST_ENOMEM", fm->fail_at,
             i, gust_errname(rc));
        problems++;
      }
      if (!has(&b, snap, snap_len)) {
        diag("fail_at %lu: step %d changed the contents on failure",
             fm->fail_at, i);
        problems++;
      }
    }
    free(snap);
    if (rc != 0 && stop_at_failure)
      break;
  }
  if (det != NULL) {
    if (det[det_len] != 0) {
      diag("fail_at %lu: detached block not NUL-terminated", fm->fail_at);
      problems++;
    }
    b.mem->free(det, b.mem->user_data);
  }
  if (out != NULL) {
    gust_buf_init(out, NULL);
    if (gust_buf_append(out, b.ptr, b.len) != 0)
      problems++;
  }
  gust_buf_free(&b);
  if (fm->live_blocks != 0 || fm->live_bytes != 0) {
    diag("fail_at %lu: %zu blocks (%zu bytes) leaked", fm->fail_at,
         fm->live_blocks, fm->live_bytes);
    problems++;
  }
  return problems;
}

int main(void) {
  if (tap_group("buf: init and free")) {
    gust_failmem fm;
    gust_buf b;
    gust_slice s;
    gust_failmem_init(&fm, NULL);
    memset(&b, 0x5a, sizeof(b));
    gust_buf_init(&b, &fm.mem);
    ok(b.ptr == NULL && b.len == 0 && b.off == 0 && b.cap == 0,
       "buf: init gives an empty buffer holding no memory");
    is_int(b.max, 0, "buf: init sets no growth limit");
    ok(b.mem == &fm.mem, "buf: init records the allocator");
    is_int(fm.count, 0, "buf: init allocates nothing");
    INV(&b, "buf: invariants after init");
    s = gust_buf_slice(&b);
    ok(s.len == 0, "buf: slice of an empty buffer is empty");
    gust_buf_free(&b);
    INV(&b, "buf: free of a buffer that never allocated is fine");
    gust_buf_init(&b, NULL);
    ok(b.mem == gust_mem_default(), "buf: init with NULL uses the default");
    gust_buf_free(&b);
    gust_buf_init(&b, &fm.mem);
    ok(gust_buf_append_str(&b, "x") == 0, "buf: first append");
    is_int(fm.live_blocks, 1, "buf: the first append allocates one block");
    gust_buf_free(&b);
    is_int(fm.live_blocks, 0, "buf: free releases the block");
    INV(&b, "buf: invariants after free");
    ok(b.len == 0 && b.cap == 0 && b.mem == &fm.mem,
       "buf: free leaves the buffer empty, keeping its allocator");
    gust_buf_free(&b);
    ok(b.cap == 0, "buf: a second free is harmless");
    ok(gust_buf_append_str(&b, "again") == 0 && has_str(&b, "again"),
       "buf: the buffer is reusable after free");
    gust_buf_free(&b);
    is_int(fm.live_blocks, 0, "buf: nothing leaked");
  }

  if (tap_group("buf: append")) {
    gust_failmem fm;
    gust_buf b;
    gust_slice s;
    gust_failmem_init(&fm, NULL);
    gust_buf_init(&b, &fm.mem);
    is_int(gust_buf_append(&b, NULL, 0), 0,
           "append: zero bytes from NULL succeeds");
    ok(b.len == 0, "append: zero bytes adds nothing");
    INV(&b, "append: invariants after empty append");
    is_int(gust_buf_append(&b, "hello", 5), 0, "append: 5 bytes");
    ok(has_str(&b, "hello"), "append: contents are the bytes");
    INV(&b, "append: NUL follows the live bytes");
    is_int(gust_buf_append_byte(&b, ' '), 0, "append_byte: ' '");
    ok(has_str(&b, "hello "), "append_byte: contents");
    INV(&b, "append_byte: NUL follows the live bytes");
    is_int(gust_buf_append_str(&b, "world"), 0, "append_str: 'world'");
    ok(has_str(&b, "hello world"), "append_str: contents");
    INV(&b, "append_str: NUL follows the live bytes");
    is_int(gust_buf_append_str(&b, ""), 0, "append_str: empty string");
    ok(has_str(&b, "hello world"), "append_str: empty string adds nothing");
    is_int(gust_buf_append_byte(&b, 0), 0, "append_byte: a NUL byte");
    ok(b.len == 12 && b.ptr[11] == 0, "append_byte: NUL counted as data");
    is_int(gust_buf_append(&b, "a\0b", 3), 0, "append: embedded NUL");
    ok(has(&b, "hello world\0a\0b", 15), "append: binary-safe contents");
    INV(&b, "append: invariants after binary append");
    s = gust_buf_slice(&b);
    ok(s.ptr == b.ptr && s.len == b.len, "slice: views the live bytes");
    gust_buf_free(&b);
    is_int(fm.live_blocks, 0, "append: nothing leaked");
  }

  if (tap_group("buf: growth")) {
    gust_failmem fm;
    gust_buf b;
    static uint8_t want[10000];
    size_t i;
    int bad_inv = 0;
    gust_failmem_init(&fm, NULL);
    gust_buf_init(&b, &fm.mem);
    fill_pattern(want, sizeof(want), 0);
    for (i = 0; i < sizeof(want); i++) {
      if (gust_buf_append_byte(&b, want[i]) != 0)
        break;
      if (!inv_ok(&b))
        bad_inv++;
    }
    is_int(i, sizeof(want), "growth: 10000 single-byte appends succeed");
    is_int(bad_inv, 0, "growth: invariants hold after every append");
    cmp_mem(b.ptr, b.len, want, sizeof(want), "growth: contents intact");
    ok(fm.count <= 20, "growth: geometric (%lu allocations for 10000 bytes)",
       fm.count);
    is_int(fm.live_blocks, 1, "growth: one block held");
    ok(b.cap >= 10001 && b.cap <= 4 * 10001,
       "growth: capacity %zu is within 4x of the need", b.cap);
    gust_buf_free(&b);

    gust_buf_init(&b, &fm.mem);
    is_int(gust_buf_append(&b, want, sizeof(want)), 0,
           "growth: one large append");
    cmp_mem(b.ptr, b.len, want, sizeof(want), "growth: large append contents");
    INV(&b, "growth: invariants after a large append");
    gust_buf_free(&b);
    is_int(fm.live_blocks, 0, "growth: nothing leaked");
  }

  if (tap_group("buf: printf")) {
    gust_failmem fm;
    gust_buf b;
    static char big[5001];
    size_t before;
    gust_failmem_init(&fm, NULL);
    gust_buf_init(&b, &fm.mem);
    is_int(gust_buf_printf(&b, "%d-%s-%c", 42, "abc", 'z'), 0,
           "printf: into an empty buffer");
    ok(has_str(&b, "42-abc-z"), "printf: formatted text");
    INV(&b, "printf: invariants");
    is_int(gust_buf_printf(&b, "[%5.2f]", 3.14159), 0, "printf: appends");
    ok(has_str(&b, "42-abc-z[ 3.14]"), "printf: appended after the old text");
    is_int(gust_buf_printf(&b, "%s", ""), 0, "printf: empty output");
    ok(has_str(&b, "42-abc-z[ 3.14]"), "printf: empty output adds nothing");
    INV(&b, "printf: invariants after empty output");
    memset(big, 'L', 5000);
    big[5000] = 0;
    is_int(gust_buf_printf(&b, "<%s>", big), 0, "printf: 5002-byte output");
    ok(b.len == 15 + 5002 && b.ptr[15] == '<' && b.ptr[16] == 'L' &&
           b.ptr[15 + 5000] == 'L' && b.ptr[15 + 5001] == '>',
       "printf: long output forcing growth is complete");
    INV(&b, "printf: invariants after growth");
    is_int(vprintf_wrap(&b, "|%03d|", 7), 0, "vprintf: through a va_list");
    ok(b.len == 15 + 5002 + 5 && memcmp(b.ptr + b.len - 5, "|007|", 5) == 0,
       "vprintf: formatted text appended");
    gust_buf_free(&b);

    /* An empty buffer printing nothing keeps its invariants. */
    gust_buf_init(&b, &fm.mem);
    is_int(gust_buf_printf(&b, "%s", ""), 0, "printf: '' into empty buffer");
    ok(b.len == 0, "printf: still empty");
    INV(&b, "printf: invariants after '' into empty buffer");
    gust_buf_free(&b);

    /* Format errors: a wide character the C locale cannot encode. */
    {
      wchar_t bad[2] = {(wchar_t)0x100, 0};
      gust_buf_init(&b, &fm.mem);
      is_int(gust_buf_printf(&b, "%ls", bad), GUST_EINVAL,
             "printf: encoding error on an empty buffer is GUST_EINVAL");
      INV(&b, "printf: invariants after a format error (no memory)");
      ok(gust_buf_append_str(&b, "keep") == 0, "printf: setup");
      before = fm.count;
      is_int(gust_buf_printf(&b, "abc%ls", bad), GUST_EINVAL,
             "printf: encoding error with room is GUST_EINVAL");
      ok(has_str(&b, "keep"), "printf: contents unchanged after the error");
      INV(&b, "printf: NUL restored after a failed partial write");
      is_int(fm.count, before, "printf: a format error allocates nothing");
      gust_buf_free(&b);
    }
    is_int(fm.live_blocks, 0, "printf: nothing leaked");
  }

  if (tap_group("buf: printf at capacity boundaries")) {
    gust_failmem fm;
    gust_buf b;
    int delta, consumed;
    gust_failmem_init(&fm, NULL);
    for (consumed = 0; consumed <= 1; consumed++) {
      for (delta = -2; delta <= 2; delta++) {
        size_t room, want_len, i;
        unsigned long before;
        int w, good;
        gust_buf_init(&b, &fm.mem);
        gust_buf_append_str(&b, "0123456789");
        if (consumed)
          gust_buf_consume(&b, 4); /* off != 0: room shrinks */
        /* bytes that fit before the NUL without growing */
        room = b.cap - b.off - b.len - 1;
        w = (int)room + delta;
        before = fm.count;
        is_int(gust_buf_printf(&b, "%*d", w, 5), 0,
               "printf boundary: %s, width room%+d",
               consumed ? "off" : "no off", delta);
        want_len = (consumed ? 6 : 10) + (size_t)w;
        good = b.len == want_len && b.ptr[b.len - 1] == '5';
        for (i = (consumed ? 6 : 10); i + 1 < b.len; i++)
          if (b.ptr[i] != ' ')
            good = 0;
        ok(good && memcmp(b.ptr, consumed ? "456789" : "0123456789",
                          consumed ? 6 : 10) == 0,
           "printf boundary: %s, width room%+d: contents",
           consumed ? "off" : "no off", delta);
        INV(&b, "printf boundary: %s, width room%+d: invariants",
            consumed ? "off" : "no off", delta);
        if (delta <= 0)
          is_int(fm.count, before,
                 "printf boundary: %s, width room%+d: no allocation",
                 consumed ? "off" : "no off", delta);
        gust_buf_free(&b);
      }
    }
    is_int(fm.live_blocks, 0, "printf boundary: nothing leaked");
  }

  if (tap_group("buf: consume")) {
    gust_failmem fm;
    gust_buf b;
    gust_failmem_init(&fm, NULL);
    gust_buf_init(&b, &fm.mem);
    gust_buf_consume(&b, 5);
    INV(&b, "consume: on an unallocated buffer is harmless");
    gust_buf_append_str(&b, "hello world");
    gust_buf_consume(&b, 0);
    ok(has_str(&b, "hello world") && b.off == 0, "consume: 0 is a no-op");
    gust_buf_consume(&b, 6);
    ok(has_str(&b, "world"), "consume: partial drops the front");
    is_int(b.off, 6, "consume: partial moves no bytes (off advances)");
    INV(&b, "consume: invariants after partial consume");
    is_int(gust_buf_append_str(&b, "!"), 0, "consume: append after consume");
    ok(has_str(&b, "world!"), "consume: appended after the remaining bytes");
    INV(&b, "consume: append after consume keeps the NUL terminator");
    gust_buf_consume(&b, b.len);
    ok(b.len == 0 && b.off == 0, "consume: all rewinds off to 0");
    ok(b.cap != 0 && b.ptr != NULL, "consume: all keeps the memory");
    INV(&b, "consume: invariants after consuming everything");
    gust_buf_append_str(&b, "abc");
    gust_buf_consume(&b, 1000);
    ok(b.len == 0 && b.off == 0, "consume: more than len empties, off 0");
    INV(&b, "consume: invariants after over-consuming");
    gust_buf_free(&b);
    is_int(fm.live_blocks, 0, "consume: nothing leaked");
  }

  if (tap_group("buf: consume then append reuses space")) {
    gust_failmem fm;
    gust_buf b;
    uint8_t pat[64];
    unsigned long before;
    size_t cap, i;
    int ok_all = 1;
    gust_failmem_init(&fm, NULL);
    gust_buf_init(&b, &fm.mem);
    fill_pattern(pat, sizeof(pat), 1);
    gust_buf_append(&b, pat, 60);
    cap = b.cap;
    before = fm.count;
    gust_buf_consume(&b, 60);
    gust_buf_append(&b, pat, 60);
    ok(fm.count == before && b.cap == cap,
       "reuse: consume all then append needs no allocation");
    cmp_mem(b.ptr, b.len, pat, 60, "reuse: contents after refill");

    /* Most of the block consumed: the live bytes slide to the front. */
    gust_buf_consume(&b, 40);
    is_int(gust_buf_append(&b, pat, 30), 0, "reuse: append after consume 40");
    ok(fm.count == before && b.cap == cap,
       "reuse: consumed front reclaimed without allocating");
    ok(b.len == 50 && memcmp(b.ptr, pat + 40, 20) == 0 &&
           memcmp(b.ptr + 20, pat, 30) == 0,
       "reuse: contents after the slide");
    INV(&b, "reuse: invariants after the slide");

    /* A steady producer/consumer keeps using the same block: 7 bytes in,
     * 5 out, and every fifth round the consumer catches up. */
    gust_buf_clear(&b);
    for (i = 0; i < 5000; i++) {
      if (gust_buf_append(&b, pat, 7) != 0 || !inv_ok(&b))
        ok_all = 0;
      gust_buf_consume(&b, i % 5 == 4 ? b.len : 5);
    }
    ok(ok_all, "reuse: 5000 append/consume rounds keep the invariants");
    is_int(fm.count, before, "reuse: a bounded working set never allocates");
    gust_buf_free(&b);

    /* A queue that slowly grows (7 in, 6 out) grows geometrically: every
     * allocation at least doubles the block. */
    gust_buf_init(&b, &fm.mem);
    gust_buf_append(&b, pat, 1);
    before = fm.count;
    cap = b.cap;
    ok_all = 1;
    for (i = 0; i < 20000; i++) {
      unsigned long c0 = fm.count;
      size_t cap0 = b.cap;
      if (gust_buf_append(&b, pat, 7) != 0 || !inv_ok(&b))
        ok_all = 0;
      if (fm.count != c0 && b.cap < 2 * cap0) {
        if (ok_all)
          diag("round %zu: allocated a %zu-byte block to replace %zu bytes "
               "(len %zu)",
               i, b.cap, cap0, b.len);
        ok_all = 0;
      }
      gust_buf_consume(&b, 6);
    }
    ok(ok_all, "reuse: every allocation of a growing queue doubles the block");
    ok(b.len == 20001, "reuse: the growing queue holds 20001 bytes");
    ok(fm.count - before <= 10,
       "reuse: %lu allocations while growing %zu -> %zu bytes",
       fm.count - before, cap, b.cap);
    gust_buf_free(&b);

    /* Regression: with less than half the block consumed and the live
     * bytes fitting the block, reserve() allocated a block of the same
     * size (an allocation that gained nothing and could fail). */
    gust_buf_init(&b, &fm.mem);
    gust_buf_append(&b, pat, 40);
    cap = b.cap;
    gust_buf_consume(&b, 10);
    before = fm.count;
    is_int(gust_buf_append(&b, pat, 30), 0,
           "reuse: append needing the consumed front");
    ok(fm.count == before || b.cap > cap,
       "reuse: no same-size reallocation (cap %zu -> %zu, %lu allocations)",
       cap, b.cap, fm.count - before);
    ok(b.len == 60 && memcmp(b.ptr, pat + 10, 30) == 0 &&
           memcmp(b.ptr + 30, pat, 30) == 0,
       "reuse: contents right after it");
    gust_buf_free(&b);
    is_int(fm.live_blocks, 0, "reuse: nothing leaked");
  }

  if (tap_group("buf: reserve, tail, commit")) {
    gust_failmem fm;
    gust_buf b;
    uint8_t *t;
    size_t avail, i;
    unsigned long before;
    gust_failmem_init(&fm, &capped);
    gust_buf_init(&b, &fm.mem);
    is_int(gust_buf_commit(&b, 0), 0, "commit: 0 on an empty buffer");
    is_int(gust_buf_commit(&b, 1), GUST_EINVAL,
           "commit: beyond reserved on a buffer with no memory is EINVAL");
    INV(&b, "commit: invariants after a refused commit");
    gust_buf_append_str(&b, "ab");
    is_int(gust_buf_reserve(&b, 100), 0, "reserve: 100 bytes");
    ok(b.cap - b.off - b.len - 1 >= 100, "reserve: at least 100 bytes free");
    ok(has_str(&b, "ab"), "reserve: contents unchanged");
    INV(&b, "reserve: invariants");
    t = gust_buf_tail(&b);
    ok(t == b.ptr + b.len, "tail: right after the live bytes");
    before = fm.count;
    memset(t, 'z', 100);
    is_int(gust_buf_commit(&b, 100), 0, "commit: 100 written bytes");
    ok(b.len == 102 && b.ptr[0] == 'a' && b.ptr[2] == 'z' && b.ptr[101] == 'z',
       "commit: the written bytes are live");
    INV(&b, "commit: NUL written after the committed bytes");
    is_int(fm.count, before, "commit: allocates nothing");
    avail = b.cap - b.off - b.len - 1;
    is_int(gust_buf_commit(&b, avail + 1), GUST_EINVAL,
           "commit: one byte beyond the space is GUST_EINVAL");
    is_int(b.len, 102, "commit: a refused commit changes nothing");
    INV(&b, "commit: invariants after refused commit");
    is_int(gust_buf_commit(&b, SIZE_MAX), GUST_EINVAL,
           "commit: SIZE_MAX is GUST_EINVAL");
    /* The caller fills the whole tail (over the NUL), then over-commits. */
    avail = b.cap - b.off - b.len - 1;
    memset(gust_buf_tail(&b), 'w', avail + 1);
    is_int(gust_buf_commit(&b, avail + 1), GUST_EINVAL,
           "commit: over-commit after writing the whole tail is EINVAL");
    is_int(b.len, 102, "commit: the refused commit adds nothing");
    INV(&b, "commit: a refused commit restores the NUL the caller overwrote");

    /* Reserve guarantees the space: small appends make no allocation. */
    is_int(gust_buf_reserve(&b, 1000), 0, "reserve: 1000 bytes");
    before = fm.count;
    for (i = 0; i < 1000; i++)
      gust_buf_append_byte(&b, 'r');
    is_int(fm.count, before, "reserve: 1000 appends fit without allocation");
    is_int(b.len, 1102, "reserve: and are all there");
    gust_buf_consume(&b, 1100);
    is_int(gust_buf_reserve(&b, 500), 0, "reserve: after consume");
    ok(b.cap - b.off - b.len - 1 >= 500, "reserve: room after consume");
    ok(has_str(&b, "rr"), "reserve: contents kept after consume + reserve");
    is_int(gust_buf_reserve(&b, 0), 0, "reserve: 0 bytes");

    /* Requests that cannot be met. */
    is_int(gust_buf_reserve(&b, SIZE_MAX), GUST_EOVERFLOW,
           "reserve: SIZE_MAX overflows");
    is_int(gust_buf_reserve(&b, SIZE_MAX - b.len), GUST_EOVERFLOW,
           "reserve: len + extra + NUL overflowing is GUST_EOVERFLOW");
    is_int(gust_buf_reserve(&b, SIZE_MAX / 2), GUST_ENOMEM,
           "reserve: an impossible size is GUST_ENOMEM");
    ok(has_str(&b, "rr"), "reserve: contents unchanged after failures");
    INV(&b, "reserve: invariants after failures");
    gust_buf_free(&b);

    gust_buf_init(&b, &fm.mem);
    ok(gust_buf_reserve(&b, 63) == 0 && gust_buf_tail(&b) != NULL,
       "tail: non-NULL after the first reserve");
    INV(&b, "reserve: the first reserve writes the NUL");
    avail = b.cap - b.off - b.len - 1;
    is_int(gust_buf_commit(&b, avail + 1), GUST_EINVAL,
           "commit: beyond the reserved space of a fresh block is EINVAL");
    gust_buf_free(&b);
    is_int(fm.live_blocks, 0, "reserve: nothing leaked");
  }

  if (tap_group("buf: truncate and clear")) {
    gust_failmem fm;
    gust_buf b;
    size_t cap;
    unsigned long before;
    gust_failmem_init(&fm, NULL);
    gust_buf_init(&b, &fm.mem);
    gust_buf_truncate(&b, 0);
    INV(&b, "truncate: on an unallocated buffer is harmless");
    gust_buf_clear(&b);
    INV(&b, "clear: on an unallocated buffer is harmless");
    is_int(fm.count, 0, "clear: allocates nothing");
    gust_buf_append_str(&b, "hello world");
    gust_buf_truncate(&b, 5);
    ok(has_str(&b, "hello"), "truncate: shortens to 5");
    INV(&b, "truncate: NUL written at the new end");
    gust_buf_truncate(&b, 5);
    ok(has_str(&b, "hello"), "truncate: to the current length is a no-op");
    gust_buf_truncate(&b, 50);
    ok(has_str(&b, "hello"), "truncate: beyond the length is a no-op");
    INV(&b, "truncate: invariants after a no-op");
    gust_buf_consume(&b, 1);
    gust_buf_truncate(&b, 2);
    ok(has_str(&b, "el"), "truncate: counts from the live bytes after consume");
    INV(&b, "truncate: invariants after consume + truncate");
    gust_buf_truncate(&b, 0);
    ok(b.len == 0 && b.cap != 0, "truncate: to 0 empties, keeps memory");
    INV(&b, "truncate: invariants after truncate to 0");
    gust_buf_append_str(&b, "some text");
    gust_buf_consume(&b, 3);
    cap = b.cap;
    before = fm.count;
    gust_buf_clear(&b);
    ok(b.len == 0 && b.cap == cap && b.ptr != NULL,
       "clear: empties and keeps the memory");
    is_int(b.off, 0, "clear: rewinds to the start of the block");
    is_int(fm.live_blocks, 1, "clear: the block is still held");
    INV(&b, "clear: invariants");
    gust_buf_append_str(&b, "reuse");
    ok(has_str(&b, "reuse") && fm.count == before,
       "clear: appending after clear allocates nothing");
    gust_buf_free(&b);
    is_int(fm.live_blocks, 0, "clear: nothing leaked");
  }

  if (tap_group("buf: detach")) {
    gust_failmem fm;
    gust_buf b;
    uint8_t *p;
    size_t n = 12345;
    gust_failmem_init(&fm, NULL);
    gust_buf_init(&b, &fm.mem);
    p = gust_buf_detach(&b, &n);
    ok(p != NULL && p[0] == 0, "detach: an empty buffer gives a \"\" block");
    is_int(n, 0, "detach: empty gives length 0");
    is_int(fm.live_blocks, 1, "detach: the \"\" block is freshly allocated");
    b.mem->free(p, b.mem->user_data);
    is_int(fm.live_blocks, 0, "detach: the caller frees with buf.mem->free");

    gust_buf_append_str(&b, "hello world");
    gust_buf_consume(&b, 6);
    p = gust_buf_detach(&b, &n);
    ok(p != NULL, "detach: after consume");
    is_int(n, 5, "detach: length excludes the consumed bytes and NUL");
    ok(p != NULL && memcmp(p, "world", 6) == 0,
       "detach: the right bytes, NUL-terminated");
    ok(b.ptr == NULL && b.len == 0 && b.cap == 0 && b.off == 0,
       "detach: the buffer is left empty");
    INV(&b, "detach: invariants after detach");
    is_int(fm.live_blocks, 1, "detach: the block now belongs to the caller");
    ok(gust_buf_append_str(&b, "new") == 0 && has_str(&b, "new"),
       "detach: the buffer is reusable");
    is_int(fm.live_blocks, 2, "detach: the reused buffer has its own block");
    b.mem->free(p, b.mem->user_data);
    p = gust_buf_detach(&b, NULL);
    ok(p != NULL && strcmp((char *)p, "new") == 0,
       "detach: len_out may be NULL");
    b.mem->free(p, b.mem->user_data);

    gust_buf_append_str(&b, "x");
    gust_buf_clear(&b);
    p = gust_buf_detach(&b, &n);
    ok(p != NULL && n == 0 && p[0] == 0,
       "detach: a cleared buffer with memory gives \"\"");
    ok(b.cap == 0, "detach: the cleared buffer's memory went with it");
    b.mem->free(p, b.mem->user_data);

    fm.fail_at = fm.count + 1;
    n = 777;
    p = gust_buf_detach(&b, &n);
    ok(p == NULL, "detach: out of memory on an empty buffer gives NULL");
    ok(b.cap == 0 && b.len == 0, "detach: the buffer is unchanged");
    INV(&b, "detach: invariants after a failed detach");
    fm.fail_at = 0;
    gust_buf_free(&b);
    is_int(fm.live_blocks, 0, "detach: nothing leaked");
  }

  if (tap_group("buf: appending the buffer's own bytes")) {
    gust_failmem fm;
    gust_buf b;
    uint8_t want[256];
    size_t cap;
    unsigned long before;
    gust_failmem_init(&fm, &mover);
    gust_buf_init(&b, &fm.mem);
    fill_pattern(want, sizeof(want), 5);
    gust_buf_append(&b, want, 60);
    cap = b.cap;
    before = fm.count;
    is_int(gust_buf_append(&b, b.ptr, b.len), 0,
           "alias: append the whole live bytes to themselves");
    ok(b.cap > cap && fm.count > before,
       "alias: the append reallocated (and the block moved)");
    ok(b.len == 120 && memcmp(b.ptr, want, 60) == 0 &&
           memcmp(b.ptr + 60, want, 60) == 0,
       "alias: contents doubled correctly across the reallocation");
    INV(&b, "alias: invariants");
    gust_buf_free(&b);

    /* Aliasing through the slide path (most of the block consumed). */
    gust_buf_init(&b, &fm.mem);
    gust_buf_append(&b, want, 60);
    gust_buf_consume(&b, 40);
    before = fm.count;
    is_int(gust_buf_append(&b, b.ptr + 5, 15), 0,
           "alias: append from the middle while sliding");
    is_int(fm.count, before, "alias: the slide path allocated nothing");
    ok(b.len == 35 && memcmp(b.ptr, want + 40, 20) == 0 &&
           memcmp(b.ptr + 20, want + 45, 15) == 0,
       "alias: slide keeps the source bytes right");
    gust_buf_free(&b);

    /* Aliasing through the compaction into a fresh block (off != 0). */
    gust_buf_init(&b, &fm.mem);
    gust_buf_append(&b, want, 60);
    gust_buf_consume(&b, 10);
    is_int(gust_buf_append(&b, b.ptr, 50), 0,
           "alias: append while compacting into a fresh block");
    ok(b.len == 100 && memcmp(b.ptr, want + 10, 50) == 0 &&
           memcmp(b.ptr + 50, want + 10, 50) == 0,
       "alias: compaction keeps the source bytes right");
    INV(&b, "alias: invariants after compaction");
    is_int(gust_buf_append(&b, b.ptr + b.len - 1, 1), 0,
           "alias: append the last live byte");
    ok(b.len == 101 && b.ptr[100] == want[59], "alias: last byte repeated");
    gust_buf_free(&b);
    is_int(fm.live_blocks, 0, "alias: nothing leaked");
  }

  if (tap_group("buf: max limit")) {
    gust_failmem fm;
    gust_buf b;
    gust_failmem_init(&fm, NULL);
    gust_buf_init(&b, &fm.mem);
    b.max = 10;
    is_int(gust_buf_append(&b, "0123456789x", 11), GUST_EBUFFERFULL,
           "max: appending limit+1 bytes is GUST_EBUFFERFULL");
    ok(b.len == 0, "max: nothing appended on failure");
    INV(&b, "max: invariants after a refused append");
    is_int(gust_buf_append(&b, "01234", 5), 0, "max: 5 of 10");
    is_int(gust_buf_append(&b, "56789", 5), 0, "max: exactly the limit is ok");
    ok(has_str(&b, "0123456789"), "max: contents at the limit");
    is_int(gust_buf_append_byte(&b, 'x'), GUST_EBUFFERFULL,
           "max: append_byte at the limit is GUST_EBUFFERFULL");
    is_int(gust_buf_append_str(&b, "x"), GUST_EBUFFERFULL,
           "max: append_str at the limit is GUST_EBUFFERFULL");
    is_int(gust_buf_reserve(&b, 1), GUST_EBUFFERFULL,
           "max: reserve past the limit is GUST_EBUFFERFULL");
    is_int(gust_buf_reserve(&b, 0), 0, "max: reserve 0 at the limit is ok");
    is_int(gust_buf_printf(&b, "%d", 1), GUST_EBUFFERFULL,
           "max: printf past the limit (room available) is EBUFFERFULL");
    ok(has_str(&b, "0123456789"), "max: contents unchanged after failures");
    INV(&b, "max: invariants after refused calls");
    is_int(gust_buf_append(&b, b.ptr, 1), GUST_EBUFFERFULL,
           "max: aliasing append past the limit is GUST_EBUFFERFULL");
    gust_buf_consume(&b, 3);
    is_int(gust_buf_append(&b, "abc", 3), 0, "max: consume makes room again");
    ok(has_str(&b, "3456789abc"), "max: contents after refill");
    is_int(gust_buf_append(&b, "d", 1), GUST_EBUFFERFULL,
           "max: the limit counts live bytes only");
    gust_buf_truncate(&b, 2);
    is_int(gust_buf_printf(&b, "%08d", 12), 0,
           "max: printf to exactly the limit is ok");
    ok(has_str(&b, "3400000012"), "max: printf contents at the limit");
    gust_buf_truncate(&b, 2);
    is_int(gust_buf_printf(&b, "%09d", 12), GUST_EBUFFERFULL,
           "max: printf one byte past the limit is GUST_EBUFFERFULL");
    ok(has_str(&b, "34"), "max: contents unchanged after printf failure");
    INV(&b, "max: NUL restored after a printf refused by the limit");
    gust_buf_free(&b);

    /* printf past the limit on a buffer with no memory (growth path). */
    gust_buf_init(&b, &fm.mem);
    b.max = 4;
    is_int(gust_buf_printf(&b, "%s", "abcde"), GUST_EBUFFERFULL,
           "max: printf past the limit with no memory is EBUFFERFULL");
    INV(&b, "max: invariants after it");
    is_int(gust_buf_printf(&b, "%s", "abcd"), 0, "max: printf to the limit");

    /* commit cannot smuggle bytes past the limit: reserve never grants
     * space beyond it, so such a commit exceeds the reserved space. */
    gust_buf_truncate(&b, 0);
    ok(gust_buf_reserve(&b, 4) == 0 && b.cap - b.off - b.len - 1 > 4,
       "max: reserve(4) gives a block larger than the limit");
    memset(gust_buf_tail(&b), 'q', 5);
    is_int(gust_buf_commit(&b, 5), GUST_EINVAL,
           "max: commit past the limit is GUST_EINVAL");
    ok(b.len <= b.max, "max: len (%zu) never exceeds max (%zu)", b.len, b.max);
    ok(b.len == 0, "max: a refused commit changes nothing");
    INV(&b, "max: invariants after the refused commit");
    gust_buf_free(&b);
    is_int(fm.live_blocks, 0, "max: nothing leaked");
  }

  if (tap_group("buf: every allocation failure")) {
    gust_failmem fm;
    gust_buf ref, got;
    unsigned long k, n_alloc;
    int problems = 0, failed_steps, once_each = 1;
    /* Reference run: no failure. */
    gust_failmem_init(&fm, NULL);
    problems += run_script(&fm, 0, &ref, &failed_steps);
    n_alloc = fm.count;
    is_int(failed_steps, 0, "failmem: the script runs cleanly without faults");
    ok(n_alloc >= 8, "failmem: the script makes %lu allocations", n_alloc);
    for (k = 1; k <= n_alloc + 1; k++) {
      gust_failmem_init(&fm, NULL);
      fm.fail_at = k;
      problems += run_script(&fm, 1, NULL, &failed_steps);
      if (k <= n_alloc && (fm.failures != 1 || failed_steps != 1)) {
        diag("fail_at %lu: %lu failures, %d failed steps", k, fm.failures,
             failed_steps);
        once_each = 0;
      }
    }
    is_int(problems, 0,
           "failmem: each of %lu injected failures gives GUST_ENOMEM, "
           "unchanged contents and no leak",
           n_alloc);
    ok(once_each, "failmem: each scheduled failure hit exactly one step");

    /* With fail_after the script runs to its end, every allocating step
     * failing; failures must still be clean. */
    problems = 0;
    for (k = 1; k <= n_alloc; k++) {
      gust_failmem_init(&fm, NULL);
      fm.fail_at = k;
      fm.fail_after = 1;
      problems += run_script(&fm, 0, NULL, &failed_steps);
    }
    is_int(problems, 0,
           "failmem: failing every allocation from the k-th on is clean");

    /* Beyond the last allocation nothing fails and the result matches. */
    gust_failmem_init(&fm, NULL);
    fm.fail_at = n_alloc + 1;
    problems = run_script(&fm, 0, &got, &failed_steps);
    ok(problems == 0 && failed_steps == 0 && fm.failures == 0,
       "failmem: fail_at past the last allocation changes nothing");
    cmp_mem(got.ptr, got.len, ref.ptr, ref.len,
            "failmem: the result equals the reference run");
    gust_buf_free(&got);
    gust_buf_free(&ref);
  }

  return done_testing();
}
