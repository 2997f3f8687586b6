/* IOStream over loopback TCP, plain and TLS, on whichever loop and TLS
 * backends the build selected: every read mode at every split point,
 * max_bytes edges, back-pressure, the write and read buffer limits,
 * start_tls, closes during pending reads, resets, streaming
 * read_until_close and allocation-failure injection. Each group is a
 * gust_test (t_run_group()): a wait that hangs fails with what was pending
 * on the loop, and the group ends with "NAME: nothing left behind". */
#include "config.h"

#include <gust/iostream.h>
#include <gust/testing.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "tcp_common.h"
#include "../proto/tls_common.h"

/* The loop of the group that is running (t_run_group()). */
static gust_loop *L;
static gust_tls_ctx *SCTX, *CCTX, *OTHERCTX;
static int g_warnings, g_infos;
static char g_lastlog[512];

static void t_log(gust_log_category c, gust_log_level lv, const char *msg,
                  void *ud) {
  (void)c;
  (void)ud;
  if (lv >= GUST_LOG_WARNING)
    g_warnings++;
  else
    g_infos++;
  snprintf(g_lastlog, sizeof(g_lastlog), "%s", msg);
}

/* ------------------------------------------------------------------ */
/* Driving the loop                                                     */
/* ------------------------------------------------------------------ */

/* Runs the loop until fn(loop, ud) holds; 0, or -1 when the wait failed
 * (the group has then failed, naming `fn` and what was pending). */
#define run_until(fn, ud)                                                      \
  (gust_test_run_until(t_current, (fn), (ud), #fn) == 0 ? 0 : -1)

/* Runs the loop until `f` is done; 0, or -1 as run_until(). */
static int wait_fut(gust_future *f) {
  return gust_test_wait(t_current, f) == 0 ? 0 : -1;
}

/* Runs the loop for `sec` seconds (only where nothing must happen). */
static void run_for(double sec) { gust_test_run_for(t_current, sec); }

/* ------------------------------------------------------------------ */
/* Connected pairs                                                      */
/* ------------------------------------------------------------------ */

static int g_closes; /* close callbacks run */

static void count_close(gust_iostream *s, void *ud) {
  (void)s;
  g_closes++;
  (*(int *)ud)++;
}

typedef struct accepted {
  gust_tcp *conn;
} accepted;

static void on_accept(gust_tcp *srv, gust_tcp *conn, int status) {
  accepted *a = gust_tcp_data(srv);
  if (status == 0 && a->conn == NULL)
    a->conn = conn;
  else if (conn != NULL)
    gust_tcp_close(conn, NULL);
}

static void on_connect(gust_tcp *t, int status) {
  int *p = gust_tcp_data(t);
  *p = status == 0 ? 1 : -1;
}

static int tcp_pair_ready(gust_loop *loop, void *ud) {
  void **p = ud;
  (void)loop;
  return ((accepted *)p[0])->conn != NULL && *(int *)p[1] != 0;
}

/* Two connected TCP handles over 127.0.0.1. */
static int tcp_pair(gust_tcp **server, gust_tcp **client) {
  gust_tcp *ls[2];
  size_t n = 0;
  accepted a = {NULL};
  int connected = 0, port;
  void *p[2] = {&a, &connected};
  if (gust_tcp_listen(L, "127.0.0.1", 0, NULL, on_accept, &a, ls, 2, &n) != 0 ||
      n != 1)
    bail_out("listen failed");
  port = gust_tcp_local_port(ls[0]);
  if (gust_tcp_connect(L, "127.0.0.1", port, 30.0, on_connect, &connected,
                       client) != 0)
    bail_out("connect failed");
  if (run_until(tcp_pair_ready, p) != 0 || connected != 1)
    bail_out("no connection");
  gust_tcp_close(ls[0], NULL);
  *server = a.conn;
  return 0;
}

typedef struct pair {
  gust_iostream *s; /* server side */
  gust_iostream *c; /* client side */
  gust_failmem fs, fc;
  int cs, cc; /* close callbacks run */
} pair;

/* A connected pair of streams (TLS when `tls`), each with its own failure
 * injector, close callbacks counted in g_closes. */
static void make_pair(pair *p, int tls, const gust_iostream_opts *so,
                      const gust_iostream_opts *co) {
  gust_tcp *ts, *tc;
  p->cs = p->cc = 0;
  gust_failmem_init(&p->fs, NULL);
  gust_failmem_init(&p->fc, NULL);
  tcp_pair(&ts, &tc);
  if (tls) {
    if (gust_iostream_new_tls(&p->s, ts, SCTX, NULL, so, &p->fs.mem) != 0 ||
        gust_iostream_new_tls(&p->c, tc, CCTX, "localhost", co, &p->fc.mem) !=
            0)
      bail_out("gust_iostream_new_tls failed");
  } else {
    if (gust_iostream_new(&p->s, ts, so, &p->fs.mem) != 0 ||
        gust_iostream_new(&p->c, tc, co, &p->fc.mem) != 0)
      bail_out("gust_iostream_new failed");
  }
  gust_iostream_set_close_callback(p->s, count_close, &p->cs);
  gust_iostream_set_close_callback(p->c, count_close, &p->cc);
}

static int both_closed(gust_loop *loop, void *ud) {
  pair *p = ud;
  (void)loop;
  return p->cs > 0 && p->cc > 0;
}

/* Drops both streams, waits for their close callbacks, and returns 1 when
 * neither leaked memory. */
static int free_pair(pair *p) {
  gust_iostream_unref(p->s);
  gust_iostream_unref(p->c);
  p->s = p->c = NULL;
  run_until(both_closed, p);
  if (p->fs.live_blocks != 0 || p->fc.live_blocks != 0)
    diag("leak: server %zu blocks, client %zu blocks", p->fs.live_blocks,
         p->fc.live_blocks);
  return p->fs.live_blocks == 0 && p->fc.live_blocks == 0;
}

static int client_close_ran(gust_loop *loop, void *ud) {
  (void)loop;
  return ((pair *)ud)->cc > 0;
}

typedef struct buffered_arg {
  gust_iostream *s;
  size_t n;
} buffered_arg;

static int has_buffered(gust_loop *loop, void *ud) {
  buffered_arg *b = ud;
  (void)loop;
  return gust_iostream_read_buffer_size(b->s) >= b->n ||
         gust_iostream_closed(b->s);
}

/* Failures are expected while allocations are being failed on purpose:
 * the details then go to TAP notes (stdout) instead of diagnostics. */
static int expect_failures;
#define explain(...)                                                           \
  do {                                                                         \
    if (expect_failures)                                                       \
      note(__VA_ARGS__);                                                       \
    else                                                                       \
      diag(__VA_ARGS__);                                                       \
  } while (0)

/* Writes `len` bytes on `s` and waits until they are sent. */
static int write_all(gust_iostream *s, const void *data, size_t len) {
  gust_future *f = NULL;
  int rc = gust_iostream_write(s, data, len, &f);
  if (rc != 0) {
    explain("write: %s", gust_errname(rc));
    return rc;
  }
  rc = wait_fut(f);
  if (rc == 0 && gust_future_error(f) != 0)
    rc = gust_future_error(f);
  gust_future_unref(f);
  return rc;
}

static int handshakes(pair *p) {
  gust_future *a = NULL, *b = NULL;
  int ok = gust_iostream_wait_for_handshake(p->s, &a) == 0 &&
           gust_iostream_wait_for_handshake(p->c, &b) == 0 &&
           wait_fut(a) == 0 && wait_fut(b) == 0 && gust_future_error(a) == 0 &&
           gust_future_error(b) == 0;
  gust_future_unref(a);
  gust_future_unref(b);
  return ok;
}

/* Waits for a read and compares its bytes. */
static int read_is(gust_future *f, const char *want) {
  gust_slice got;
  int ok;
  if (f == NULL || wait_fut(f) != 0) {
    gust_future_unref(f);
    return 0;
  }
  got = gust_iostream_result(f);
  ok = gust_future_error(f) == 0 && got.len == strlen(want) &&
       memcmp(got.ptr, want, got.len) == 0;
  if (!ok)
    diag("read: error %s, got %zu bytes '%.*s', want '%s'",
         gust_errname(gust_future_error(f)), got.len, (int)got.len,
         got.ptr != NULL ? (const char *)got.ptr : "", want);
  gust_future_unref(f);
  return ok;
}

/* ------------------------------------------------------------------ */
/* Every read mode at every split point                                 */
/* ------------------------------------------------------------------ */

static const char SPLIT_DATA[] =
    "line1\r\nABCDEFGHIJpart\r\n\r\nxyz12345tail-data";
#define SPLIT_LEN (sizeof(SPLIT_DATA) - 1)

typedef struct script {
  gust_iostream *r;
  int step;
  size_t delivered, want;
  int ok, finished;
  uint8_t into[3];
} script;

static void script_next(script *sc);

static void script_done(gust_future *f, void *ud) {
  script *sc = ud;
  static const size_t fixed[] = {7, 10, 8, 3, 0, 0};
  gust_slice d = gust_iostream_result(f);
  size_t n = gust_iostream_result_len(f);
  if (gust_future_error(f) != 0) {
    explain("step %d failed: %s (stream: %s)", sc->step,
            gust_future_error_message(f),
            gust_errname(gust_iostream_error(sc->r)));
    sc->ok = 0;
    sc->finished = 1;
    gust_future_unref(f);
    return;
  }
  if (sc->step == 3) { /* read_into: the bytes are in the caller's buffer */
    d.ptr = sc->into;
    d.len = n;
  }
  if (d.len != n || sc->delivered + n > SPLIT_LEN ||
      memcmp(d.ptr, SPLIT_DATA + sc->delivered, n) != 0 ||
      (fixed[sc->step] != 0 && n != fixed[sc->step]) ||
      (sc->step == 4 && (n < 1 || n > 5)) ||
      (sc->step == 5 && sc->delivered + n != SPLIT_LEN)) {
    explain("step %d: unexpected %zu bytes at offset %zu", sc->step, n,
            sc->delivered);
    sc->ok = 0;
  }
  sc->delivered += n;
  gust_future_unref(f);
  sc->step++;
  script_next(sc);
}

static void script_next(script *sc) {
  gust_future *f = NULL;
  int rc;
  switch (sc->step) {
  case 0:
    rc = gust_iostream_read_until(sc->r, "\r\n", 2, 0, &f);
    break;
  case 1:
    rc = gust_iostream_read_bytes(sc->r, 10, 0, &f);
    break;
  case 2:
    rc = gust_iostream_read_until_regex(sc->r, "\r\n\r\n", 4, 64, &f);
    break;
  case 3:
    rc = gust_iostream_read_into(sc->r, sc->into, 3, 0, &f);
    break;
  case 4:
    rc = gust_iostream_read_bytes(sc->r, 5, 1, &f);
    break;
  case 5:
    rc = gust_iostream_read_until_close(sc->r, NULL, NULL, &f);
    break;
  default:
    sc->finished = 1;
    return;
  }
  if (rc != 0 || gust_future_add_done_callback(f, script_done, sc) != 0) {
    explain("step %d: %s", sc->step, gust_errname(rc));
    sc->ok = 0;
    sc->finished = 1;
    gust_future_unref(f);
  }
}

static int reader_has(gust_loop *loop, void *ud) {
  script *sc = ud;
  (void)loop;
  return sc->finished ||
         sc->delivered + gust_iostream_read_buffer_size(sc->r) >= sc->want;
}

static int script_finished(gust_loop *loop, void *ud) {
  (void)loop;
  return ((script *)ud)->finished;
}

/* The writer sends SPLIT_DATA cut at `cuts` (ascending, the last one is
 * SPLIT_LEN), waiting until each piece reached the reader. */
static int run_cuts(int tls, const size_t *cuts, size_t ncuts) {
  pair p;
  script sc;
  size_t i, at = 0;
  int ok = 1;
  make_pair(&p, tls, NULL, NULL);
  if (tls && !handshakes(&p))
    ok = 0;
  memset(&sc, 0, sizeof(sc));
  sc.r = p.c;
  sc.ok = 1;
  script_next(&sc);
  for (i = 0; i < ncuts && ok; i++) {
    if (i + 1 == ncuts) {
      ok = write_all(p.s, SPLIT_DATA + at, cuts[i] - at) == 0;
    } else if (gust_iostream_write(p.s, SPLIT_DATA + at, cuts[i] - at, NULL) !=
               0) {
      ok = 0;
    }
    sc.want = cuts[i];
    if (run_until(reader_has, &sc) != 0)
      ok = 0;
    at = cuts[i];
  }
  gust_iostream_close(p.s);
  if (run_until(script_finished, &sc) != 0)
    ok = 0;
  ok = ok && sc.ok && sc.delivered == SPLIT_LEN;
  if (!free_pair(&p))
    ok = 0;
  return ok;
}

static void test_splits(int tls) {
  size_t cuts[SPLIT_LEN], k;
  int all = 1;
  cuts[0] = SPLIT_LEN;
  ok(run_cuts(tls, cuts, 1), "%s: every read mode, data whole",
     tls ? "tls" : "plain");
  for (k = 1; k < SPLIT_LEN; k++) {
    cuts[0] = k;
    cuts[1] = SPLIT_LEN;
    if (!run_cuts(tls, cuts, 2)) {
      diag("split at %zu failed", k);
      all = 0;
    }
  }
  ok(all, "%s: every read mode, data split at every point",
     tls ? "tls" : "plain");
  for (k = 0; k < SPLIT_LEN; k++)
    cuts[k] = k + 1;
  ok(run_cuts(tls, cuts, SPLIT_LEN), "%s: every read mode, one byte at a time",
     tls ? "tls" : "plain");
}

/* ------------------------------------------------------------------ */
/* max_bytes edges                                                      */
/* ------------------------------------------------------------------ */

typedef enum { M_UNTIL, M_REGEX } mode;

static gust_future *read_limited(gust_iostream *s, mode m, size_t max) {
  gust_future *f = NULL;
  int rc = m == M_UNTIL ? gust_iostream_read_until(s, "\r\n", 2, max, &f)
                        : gust_iostream_read_until_regex(s, "\r\n", 2, max, &f);
  if (rc != 0)
    diag("read: %s", gust_errname(rc));
  return f;
}

/* Sends `data` while a limited read is pending; returns the read's code
 * and checks the bytes when it succeeds. */
static int limited_case(int tls, mode m, const char *data, size_t max,
                        int issue_after_buffered, int *leak_ok) {
  pair p;
  gust_future *f = NULL;
  int code = 1;
  make_pair(&p, tls, NULL, NULL);
  if (tls && !handshakes(&p))
    goto out;
  if (!issue_after_buffered)
    f = read_limited(p.c, m, max);
  if (write_all(p.s, data, strlen(data)) != 0)
    goto out;
  if (issue_after_buffered) {
    /* Idle with a close callback: the stream reads one chunk to notice a
     * close, so the data is buffered before the read is issued. */
    buffered_arg b = {p.c, strlen(data)};
    run_until(has_buffered, &b);
    f = read_limited(p.c, m, max);
  }
  if (f == NULL || wait_fut(f) != 0)
    goto out;
  code = gust_future_error(f);
  if (code == 0 && (gust_iostream_result_len(f) != strlen(data) ||
                    memcmp(gust_iostream_result(f).ptr, data, strlen(data))))
    code = 1;
  if (code == GUST_ECLOSED) {
    /* Wait for the close callback, then look at the stream's error. */
    run_until(client_close_ran, &p);
  }
out:
  if (code == GUST_ECLOSED &&
      (gust_iostream_error(p.c) != GUST_ELIMIT || p.cc != 1))
    code = 2;
  gust_future_unref(f);
  *leak_ok = free_pair(&p);
  return code;
}

static void test_max_bytes(int tls) {
  const char *name = tls ? "tls" : "plain";
  int m, leak = 1, l, infos;
  for (m = M_UNTIL; m <= M_REGEX; m++) {
    const char *kind = m == M_UNTIL ? "read_until" : "read_until_regex";
    is_int(limited_case(tls, (mode)m, "12345678\r\n", 10, 0, &l), 0,
           "%s: %s: delimiter ending exactly at max_bytes", name, kind);
    leak &= l;
    infos = g_infos;
    is_int(limited_case(tls, (mode)m, "123456789\r\n", 10, 0, &l), GUST_ECLOSED,
           "%s: %s: delimiter one byte over max_bytes closes (ELIMIT)", name,
           kind);
    leak &= l;
    ok(g_infos > infos &&
           strstr(g_lastlog, "Unsatisfiable read, closing connection") != NULL,
       "%s: %s: unsatisfiable read logged (%s)", name, kind, g_lastlog);
    is_int(limited_case(tls, (mode)m, "1234567890ab\r\n", 10, 0, &l),
           GUST_ECLOSED,
           "%s: %s: delimiter after the limit in the same packet closes", name,
           kind);
    leak &= l;
    is_int(limited_case(tls, (mode)m, "1234567890abcdef", 10, 0, &l),
           GUST_ECLOSED, "%s: %s: no delimiter within max_bytes closes", name,
           kind);
    leak &= l;
    is_int(limited_case(tls, (mode)m, "123456789\r\n", 10, 1, &l), GUST_ECLOSED,
           "%s: %s: unsatisfiable from the buffer: a future, not a "
           "synchronous error",
           name, kind);
    leak &= l;
    is_int(limited_case(tls, (mode)m, "12345678\r\n", 10, 1, &l), 0,
           "%s: %s: satisfied from the buffer at once", name, kind);
    leak &= l;
  }
  ok(leak, "%s: max_bytes cases leak nothing", name);
  {
    /* The stream error message names the delimiter as Tornado does. */
    pair p;
    gust_future *f;
    make_pair(&p, tls, NULL, NULL);
    if (tls)
      handshakes(&p);
    f = read_limited(p.c, M_UNTIL, 4);
    write_all(p.s, "abcdef", 6);
    wait_fut(f);
    is_str(gust_iostream_error_message(p.c),
           "delimiter b'\\r\\n' not found within 4 bytes",
           "%s: error message of an unsatisfiable read", name);
    gust_future_unref(f);
    ok(free_pair(&p), "%s: no leak", name);
  }
}

/* ------------------------------------------------------------------ */
/* Back-pressure                                                        */
/* ------------------------------------------------------------------ */

#define BP_TOTAL ((size_t)8 << 20)
#define BP_WRITE ((size_t)1 << 20)
#define BP_READ  ((size_t)16384)

static uint8_t bp_byte(size_t i) {
  return (uint8_t)((i * 31u + (i >> 16)) % 251u);
}

typedef struct slow {
  gust_iostream *r;
  size_t got, maxbuf;
  int done, ok;
} slow;

static void slow_next(slow *sl);

static void slow_done(gust_future *f, void *ud) {
  slow *sl = ud;
  gust_slice d = gust_iostream_result(f);
  size_t i;
  if (gust_future_error(f) != 0 || d.len != BP_READ) {
    diag("slow read failed: %s", gust_errname(gust_future_error(f)));
    sl->ok = 0;
    sl->done = 1;
    gust_future_unref(f);
    return;
  }
  for (i = 0; i < d.len; i++)
    if (d.ptr[i] != bp_byte(sl->got + i)) {
      sl->ok = 0;
      break;
    }
  sl->got += d.len;
  gust_future_unref(f);
  if (sl->got >= BP_TOTAL)
    sl->done = 1;
  else
    slow_next(sl);
}

static void slow_next(slow *sl) {
  gust_future *f = NULL;
  size_t b = gust_iostream_read_buffer_size(sl->r);
  if (b > sl->maxbuf)
    sl->maxbuf = b;
  if (gust_iostream_read_bytes(sl->r, BP_READ, 0, &f) != 0 ||
      gust_future_add_done_callback(f, slow_done, sl) != 0) {
    sl->ok = 0;
    sl->done = 1;
    gust_future_unref(f);
  }
}

static int slow_finished(gust_loop *loop, void *ud) {
  (void)loop;
  return ((slow *)ud)->done;
}

static void test_back_pressure(int tls) {
  const char *name = tls ? "tls" : "plain";
  pair p;
  uint8_t *block = malloc(BP_WRITE);
  gust_future *last = NULL;
  slow sl;
  size_t i, base, idle_buf, unsent;
  int wok = 1;
  if (block == NULL)
    bail_out("out of memory");
  make_pair(&p, tls, NULL, NULL);
  if (tls)
    handshakes(&p);
  for (i = 0; i < BP_TOTAL; i += BP_WRITE) {
    size_t j;
    for (j = 0; j < BP_WRITE; j++)
      block[j] = bp_byte(i + j);
    gust_future_unref(last);
    last = NULL;
    if (gust_iostream_write(p.s, block, BP_WRITE, &last) != 0)
      wok = 0;
  }
  free(block);
  ok(wok, "%s: back-pressure: 8 MiB queued", name);
  /* Nobody reads: after a while the reader holds at most one chunk and
   * the writer still holds most of the data. */
  run_for(0.3);
  idle_buf = gust_iostream_read_buffer_size(p.c);
  unsent = gust_iostream_write_buffer_size(p.s);
  ok(idle_buf <= 65536, "%s: idle reader buffers at most one chunk (%zu)", name,
     idle_buf);
  ok(unsent > 0, "%s: idle reader pushes back on the writer (%zu unsent)", name,
     unsent);
  base = p.fc.live_bytes;
  p.fc.peak_bytes = base;
  memset(&sl, 0, sizeof(sl));
  sl.r = p.c;
  sl.ok = 1;
  slow_next(&sl);
  run_until(slow_finished, &sl);
  ok(sl.ok && sl.got == BP_TOTAL, "%s: slow reader got all 8 MiB intact", name);
  ok(sl.maxbuf <= 65536 + BP_READ,
     "%s: read buffer stays within one chunk + one read (max %zu)", name,
     sl.maxbuf);
  ok(p.fc.peak_bytes - base <= (size_t)(tls ? 1024 : 512) * 1024,
     "%s: reader memory stays bounded (peak +%zu bytes)", name,
     p.fc.peak_bytes - base);
  ok(wait_fut(last) == 0 && gust_future_error(last) == 0,
     "%s: the writer's last write future resolves", name);
  gust_future_unref(last);
  ok(free_pair(&p), "%s: back-pressure: no leak", name);
}

/* ------------------------------------------------------------------ */
/* Write buffer limit                                                   */
/* ------------------------------------------------------------------ */

/* Writes 64 KiB pieces of `byte` until the kernel stops taking them at
 * once (writes go straight to the socket while nothing is queued, as in
 * Tornado), so that the stream holds unsent bytes; nothing runs the loop
 * meanwhile. Returns the bytes written. */
static size_t fill_kernel(gust_iostream *s, int byte) {
  static uint8_t piece[65536];
  size_t total = 0;
  memset(piece, byte, sizeof(piece));
  while (gust_iostream_write_buffer_size(s) == 0 &&
         total < ((size_t)64 << 20)) {
    if (gust_iostream_write(s, piece, sizeof(piece), NULL) != 0)
      break;
    total += sizeof(piece);
  }
  return total;
}

static int wbuf_empty(gust_loop *loop, void *ud) {
  (void)loop;
  return gust_iostream_write_buffer_size(ud) == 0 || gust_iostream_closed(ud);
}

static void test_write_limit(int tls) {
  const char *name = tls ? "tls" : "plain";
  const size_t max = 1048576;
  gust_iostream_opts o = {0, 1048576, 0};
  pair p;
  uint8_t *big = calloc(1, max + 1);
  gust_future *f = NULL, *r = NULL;
  size_t filled, unsent, room;
  if (big == NULL)
    bail_out("out of memory");
  make_pair(&p, tls, &o, NULL);
  filled = fill_kernel(p.s, 0);
  unsent = gust_iostream_write_buffer_size(p.s);
  ok(unsent > 0 && unsent <= 65536,
     "%s: a full socket leaves bytes in the stream (%zu of %zu)", name, unsent,
     filled);
  room = max - unsent;
  /* Callbacks never run inside the call, so nothing drains meanwhile. */
  is_int(gust_iostream_write(p.s, big, room + 1, &f), GUST_EBUFFERFULL,
         "%s: write over max_write_buffer_size fails synchronously", name);
  ok(f == NULL, "%s: no future for the refused write", name);
  is_str(gust_iostream_call_error(p.s), "Reached maximum write buffer size",
         "%s: refused write's message", name);
  ok(!gust_iostream_closed(p.s), "%s: the stream stays open", name);
  is_int(gust_iostream_write(p.s, big, room, &f), 0,
         "%s: a write that fits exactly is accepted", name);
  is_int((long long)gust_iostream_write_buffer_size(p.s), (long long)max,
         "%s: write buffer size counts bytes not yet sent", name);
  gust_iostream_read_bytes(p.c, filled + room, 0, &r);
  ok(wait_fut(r) == 0 && gust_iostream_result_len(r) == filled + room,
     "%s: the peer reads everything", name);
  ok(wait_fut(f) == 0 && gust_future_error(f) == 0, "%s: write future resolves",
     name);
  is_int((long long)gust_iostream_write_buffer_size(p.s), 0,
         "%s: write buffer drained", name);
  is_int(gust_iostream_write(p.s, big, 500 * 1024, NULL), 0,
         "%s: after draining, the big write fits", name);
  gust_future_unref(f);
  gust_future_unref(r);
  free(big);
  ok(free_pair(&p), "%s: write limit: no leak", name);
}

/* ------------------------------------------------------------------ */
/* start_tls                                                            */
/* ------------------------------------------------------------------ */

static void test_start_tls(void) {
  static const char not_idle[] = "IOStream is not idle; cannot convert to SSL";
  pair p;
  gust_future *r = NULL, *fs = NULL, *fc = NULL;
  gust_iostream *ns, *nc;
  buffered_arg b;
  size_t filled;
  make_pair(&p, 0, NULL, NULL);
  gust_iostream_read_bytes(p.s, 1, 0, &r);
  is_int(gust_iostream_start_tls(p.s, SCTX, NULL, &fs), GUST_ESTATE,
         "start_tls: refused with a read pending");
  is_str(gust_iostream_call_error(p.s), not_idle, "start_tls: message");
  filled = fill_kernel(p.c, 'S');
  is_int(gust_iostream_start_tls(p.c, CCTX, "localhost", &fc), GUST_ESTATE,
         "start_tls: refused with a write pending");
  ok(read_is(r, "S"), "start_tls: plain data before");
  gust_iostream_read_bytes(p.s, filled - 1, 0, &r);
  ok(wait_fut(r) == 0 && gust_iostream_result_len(r) == filled - 1,
     "start_tls: the rest of it");
  gust_future_unref(r);
  run_until(wbuf_empty, p.c);
  write_all(p.c, "xy", 2);
  b.s = p.s;
  b.n = 2;
  run_until(has_buffered, &b);
  is_int(gust_iostream_start_tls(p.s, SCTX, NULL, &fs), GUST_ESTATE,
         "start_tls: refused with bytes buffered");
  gust_iostream_read_bytes(p.s, 2, 0, &r);
  ok(read_is(r, "xy"), "start_tls: buffered bytes still readable");
  is_int(gust_iostream_start_tls(p.s, SCTX, NULL, &fs), 0,
         "start_tls: server side when idle");
  is_int(gust_iostream_start_tls(p.c, CCTX, "localhost", &fc), 0,
         "start_tls: client side when idle");
  ok(gust_iostream_closed(p.s) && gust_iostream_tcp(p.s) == NULL,
     "start_tls: the plain stream is done with the connection");
  is_int(gust_iostream_write(p.s, "x", 1, NULL), GUST_ECLOSED,
         "start_tls: the plain stream refuses writes");
  ok(wait_fut(fs) == 0 && gust_future_error(fs) == 0 && wait_fut(fc) == 0 &&
         gust_future_error(fc) == 0,
     "start_tls: both futures resolve after the handshake");
  ns = gust_iostream_ref(gust_future_result(fs));
  nc = gust_iostream_ref(gust_future_result(fc));
  gust_future_unref(fs);
  gust_future_unref(fc);
  gust_iostream_unref(p.s);
  gust_iostream_unref(p.c);
  p.s = ns;
  p.c = nc;
  ok(gust_iostream_tls(ns) != NULL && gust_iostream_tls(nc) != NULL &&
         gust_tls_version_name(gust_iostream_tls(nc)) != NULL,
     "start_tls: the new streams speak TLS");
  write_all(nc, "hello", 5);
  gust_iostream_read_bytes(ns, 5, 0, &r);
  ok(read_is(r, "hello"), "start_tls: client to server over TLS");
  write_all(ns, "world", 5);
  gust_iostream_read_bytes(nc, 5, 0, &r);
  ok(read_is(r, "world"), "start_tls: server to client over TLS");
  is_int(gust_iostream_start_tls(ns, SCTX, NULL, &fs), GUST_ESTATE,
         "start_tls: refused on a TLS stream");
  ok(free_pair(&p), "start_tls: close callbacks moved along, no leak");
  ok(p.cs == 1 && p.cc == 1, "start_tls: each close callback ran once");
}

/* ------------------------------------------------------------------ */
/* Closing                                                              */
/* ------------------------------------------------------------------ */

static void test_close_pending(int tls) {
  const char *name = tls ? "tls" : "plain";
  pair p;
  gust_future *f = NULL, *g = NULL, *w = NULL;
  uint8_t *big;
  int rc;

  make_pair(&p, tls, NULL, NULL);
  gust_iostream_read_bytes(p.c, 100, 0, &f);
  rc = gust_iostream_read_bytes(p.c, 1, 0, &g);
  is_int(rc, GUST_EBUSY, "%s: a second read is refused", name);
  is_str(gust_iostream_call_error(p.c), "Already reading",
         "%s: second read message", name);
  gust_iostream_close(p.c);
  gust_iostream_close(p.c);
  ok(gust_iostream_closed(p.c), "%s: closed at once", name);
  ok(wait_fut(f) == 0 && gust_future_error(f) == GUST_ECLOSED &&
         strcmp(gust_future_error_message(f), "Stream is closed") == 0,
     "%s: close fails the pending read with ECLOSED", name);
  gust_future_unref(f);
  run_until(client_close_ran, &p);
  is_int(p.cc, 1, "%s: close callback ran once", name);
  is_int(gust_iostream_error(p.c), 0, "%s: no error after close()", name);
  is_int(gust_iostream_read_bytes(p.c, 1, 0, &f), GUST_ECLOSED,
         "%s: read on a closed stream fails synchronously", name);
  is_int(gust_iostream_write(p.c, "x", 1, NULL), GUST_ECLOSED,
         "%s: write on a closed stream fails synchronously", name);
  ok(free_pair(&p), "%s: no leak", name);

  /* The peer closes: the pending read fails, buffered bytes stay. */
  make_pair(&p, tls, NULL, NULL);
  if (tls)
    handshakes(&p);
  gust_iostream_read_bytes(p.c, 10, 0, &f);
  write_all(p.s, "abc", 3);
  gust_iostream_close(p.s);
  ok(wait_fut(f) == 0 && gust_future_error(f) == GUST_ECLOSED,
     "%s: peer close fails an unsatisfied read", name);
  gust_future_unref(f);
  ok(gust_iostream_closed(p.c), "%s: end of input closes the stream", name);
  gust_iostream_read_bytes(p.c, 2, 0, &f);
  ok(read_is(f, "ab"), "%s: buffered bytes readable after the close", name);
  gust_iostream_read_until_close(p.c, NULL, NULL, &f);
  ok(read_is(f, "c"), "%s: read_until_close after the close", name);
  is_int(gust_iostream_error(p.c), 0, "%s: end of input is no error", name);
  ok(free_pair(&p), "%s: no leak", name);

  /* read_until_close collects everything up to the peer's close. */
  make_pair(&p, tls, NULL, NULL);
  gust_iostream_read_until_close(p.c, NULL, NULL, &f);
  big = malloc(5000);
  memset(big, 'q', 5000);
  write_all(p.s, big, 5000);
  gust_iostream_close(p.s);
  ok(wait_fut(f) == 0 && gust_iostream_result_len(f) == 5000 &&
         gust_iostream_result(f).ptr[4999] == 'q',
     "%s: read_until_close returns every byte", name);
  gust_future_unref(f);
  ok(free_pair(&p), "%s: no leak", name);

  /* Close with writes pending: their futures fail. */
  make_pair(&p, tls, NULL, NULL);
  if (tls)
    handshakes(&p);
  fill_kernel(p.s, 'f'); /* else the write goes out at once */
  is_int(gust_iostream_write(p.s, big, 5000, &w), 0, "%s: write", name);
  gust_iostream_close(p.s);
  ok(wait_fut(w) == 0 && gust_future_error(w) == GUST_ECLOSED,
     "%s: close fails pending write futures", name);
  gust_future_unref(w);
  free(big);
  gust_iostream_read_bytes(p.c, 0, 0, &f);
  ok(f != NULL && gust_future_done(f) && gust_iostream_result_len(f) == 0,
     "%s: read_bytes(0) is done at once", name);
  gust_future_unref(f);
  ok(free_pair(&p), "%s: no leak", name);
}

static void test_reset(int tls) {
  const char *name = tls ? "tls" : "plain";
  struct linger lg = {1, 0};
  pair p;
  gust_future *f = NULL;
  int warnings;
  make_pair(&p, tls, NULL, NULL);
  if (tls)
    handshakes(&p);
  /* A round trip first, so that nothing (such as TLS session tickets) is
   * left unread when the reset arrives: Linux then reports the end of the
   * stream instead of the reset. */
  gust_iostream_read_bytes(p.c, 1, 0, &f);
  write_all(p.s, "x", 1);
  ok(read_is(f, "x"), "%s: round trip before the reset", name);
  gust_iostream_read_bytes(p.c, 10, 0, &f);
  if (setsockopt(gust_tcp_fd(gust_iostream_tcp(p.s)), SOL_SOCKET, SO_LINGER,
                 &lg, sizeof(lg)) != 0)
    diag("SO_LINGER failed");
  warnings = g_warnings;
  gust_iostream_close(p.s);
  ok(wait_fut(f) == 0 && gust_future_error(f) == GUST_ECLOSED,
     "%s: reset fails the pending read", name);
  gust_future_unref(f);
  run_until(client_close_ran, &p);
  is_int(gust_iostream_error(p.c), GUST_ECONNRESET,
         "%s: the stream error is ECONNRESET", name);
  is_int(g_warnings, warnings, "%s: a reset is not logged", name);
  ok(free_pair(&p), "%s: no leak", name);
}

static int stream_closed(gust_loop *loop, void *ud) {
  (void)loop;
  return gust_iostream_closed(ud);
}

/* Writing to a peer that reset never kills the process with SIGPIPE, even
 * with SIGPIPE at its default action: gust's writes use MSG_NOSIGNAL, and
 * the libuv backend (whose own writes cannot) ignores SIGPIPE left at its
 * default. */
static void test_sigpipe(void) {
  static uint8_t chunk[65536];
  struct sigaction old, dfl, cur;
  struct linger lg = {1, 0};
  gust_loop *l2;
  pair p;
  gust_future *f = NULL;
  memset(&dfl, 0, sizeof(dfl));
  dfl.sa_handler = SIG_DFL;
  sigemptyset(&dfl.sa_mask);
  sigaction(SIGPIPE, &dfl, &old);
  if (gust_loop_new(&l2, NULL) != 0)
    bail_out("cannot create a loop");
  sigaction(SIGPIPE, NULL, &cur);
  if (strcmp(gust_loop_backend_name(), "libuv") == 0)
    ok(cur.sa_handler == SIG_IGN,
       "sigpipe: the libuv backend ignores SIGPIPE left at its default");
  else
    ok(cur.sa_handler == SIG_DFL,
       "sigpipe: the libev backend leaves SIGPIPE alone");
  gust_loop_free(l2);
  sigaction(SIGPIPE, &dfl, NULL);
  make_pair(&p, 0, NULL, NULL);
  gust_iostream_read_bytes(p.s, 1, 0, &f);
  if (setsockopt(gust_tcp_fd(gust_iostream_tcp(p.c)), SOL_SOCKET, SO_LINGER,
                 &lg, sizeof(lg)) != 0)
    diag("SO_LINGER failed");
  gust_iostream_close(p.c);
  ok(wait_fut(f) == 0 && gust_future_error(f) == GUST_ECLOSED,
     "sigpipe: the server sees the reset");
  gust_future_unref(f);
  gust_iostream_write(p.s, chunk, sizeof(chunk), NULL);
  gust_iostream_write(p.s, chunk, sizeof(chunk), NULL);
  run_until(stream_closed, p.s);
  ok(gust_iostream_closed(p.s),
     "sigpipe: writing to the reset peer closed the stream, and we live");
  free_pair(&p);
  sigaction(SIGPIPE, &old, NULL);
}

static void test_max_buffer(int tls) {
  const char *name = tls ? "tls" : "plain";
  gust_iostream_opts o = {4096, 0, 0};
  pair p;
  gust_future *f = NULL;
  char data[10000];
  memset(data, 'a', sizeof(data));
  make_pair(&p, tls, NULL, &o);
  gust_iostream_read_until(p.c, "X", 1, 0, &f);
  write_all(p.s, data, sizeof(data));
  ok(wait_fut(f) == 0 && gust_future_error(f) == GUST_ECLOSED,
     "%s: read buffer over max_buffer_size closes", name);
  gust_future_unref(f);
  is_int(gust_iostream_error(p.c), GUST_EBUFFERFULL, "%s: error is EBUFFERFULL",
         name);
  is_str(gust_iostream_error_message(p.c), "Reached maximum read buffer size",
         "%s: error message", name);
  ok(free_pair(&p), "%s: no leak", name);
}

/* ------------------------------------------------------------------ */
/* Streaming read_until_close                                           */
/* ------------------------------------------------------------------ */

typedef struct stream_acc {
  size_t n;
  int bad;
  size_t close_at;
} stream_acc;

static void on_stream_data(gust_iostream *s, gust_slice d, void *ud) {
  stream_acc *a = ud;
  size_t i;
  for (i = 0; i < d.len; i++)
    if (d.ptr[i] != bp_byte(a->n + i))
      a->bad = 1;
  a->n += d.len;
  if (a->close_at != 0 && a->n >= a->close_at)
    gust_iostream_close(s);
}

static void test_streaming(int tls) {
  const char *name = tls ? "tls" : "plain";
  pair p;
  stream_acc a = {0, 0, 0};
  gust_future *f = NULL;
  uint8_t *block = malloc(BP_WRITE);
  size_t i;
  if (block == NULL)
    bail_out("out of memory");
  for (i = 0; i < BP_WRITE; i++)
    block[i] = bp_byte(i);
  make_pair(&p, tls, NULL, NULL);
  is_int(gust_iostream_read_until_close(p.c, on_stream_data, &a, &f), 0,
         "%s: streaming read_until_close", name);
  write_all(p.s, block, BP_WRITE);
  gust_iostream_close(p.s);
  ok(wait_fut(f) == 0 && gust_future_error(f) == 0 &&
         gust_iostream_result_len(f) == 0,
     "%s: streaming future resolves with no bytes", name);
  ok(a.n == BP_WRITE && !a.bad, "%s: callback saw every byte in order (%zu)",
     name, a.n);
  gust_future_unref(f);
  ok(free_pair(&p), "%s: no leak", name);

  make_pair(&p, tls, NULL, NULL);
  memset(&a, 0, sizeof(a));
  a.close_at = 1;
  gust_iostream_read_until_close(p.c, on_stream_data, &a, &f);
  write_all(p.s, block, 100);
  ok(wait_fut(f) == 0 && gust_future_error(f) == 0,
     "%s: closing from the streaming callback resolves the read", name);
  run_until(client_close_ran, &p);
  is_int(p.cc, 1, "%s: and runs the close callback", name);
  gust_future_unref(f);
  ok(free_pair(&p), "%s: no leak", name);
  free(block);
}

/* ------------------------------------------------------------------ */
/* TLS handshake failure                                                */
/* ------------------------------------------------------------------ */

static void test_tls_verify_fail(void) {
  gust_tcp *ts, *tc;
  pair p;
  gust_future *hc = NULL, *hs = NULL, *r = NULL;
  p.cs = p.cc = 0;
  gust_failmem_init(&p.fs, NULL);
  gust_failmem_init(&p.fc, NULL);
  tcp_pair(&ts, &tc);
  if (gust_iostream_new_tls(&p.s, ts, SCTX, NULL, NULL, &p.fs.mem) != 0 ||
      gust_iostream_new_tls(&p.c, tc, OTHERCTX, "localhost", NULL, &p.fc.mem) !=
          0)
    bail_out("gust_iostream_new_tls");
  gust_iostream_set_close_callback(p.s, count_close, &p.cs);
  gust_iostream_set_close_callback(p.c, count_close, &p.cc);
  gust_iostream_wait_for_handshake(p.c, &hc);
  gust_iostream_wait_for_handshake(p.s, &hs);
  is_int(gust_iostream_wait_for_handshake(p.c, &r), GUST_EBUSY,
         "tls: a second wait_for_handshake is refused");
  gust_iostream_read_bytes(p.c, 1, 0, &r);
  ok(wait_fut(hc) == 0 && gust_future_error(hc) == GUST_ETLS_VERIFY,
     "tls: untrusted server: handshake future fails with ETLS_VERIFY (%s)",
     gust_errname(gust_future_error(hc)));
  ok(wait_fut(hs) == 0 && gust_future_error(hs) != 0,
     "tls: the server's handshake fails too (%s)",
     gust_errname(gust_future_error(hs)));
  ok(wait_fut(r) == 0 && gust_future_error(r) == GUST_ECLOSED,
     "tls: a read pending during the handshake fails with ECLOSED");
  is_int(gust_iostream_error(p.c), GUST_ETLS_VERIFY,
         "tls: the stream error is the verification failure");
  gust_future_unref(hc);
  gust_future_unref(hs);
  gust_future_unref(r);
  ok(free_pair(&p), "tls: failed handshake: no leak");
}

/* ------------------------------------------------------------------ */
/* Allocation failures                                                  */
/* ------------------------------------------------------------------ */

/* Fails each allocation of the reading side in turn during the split
 * script: every run must end (completed or closed), and leak nothing. */
static void test_failmem(int tls) {
  const char *name = tls ? "tls" : "plain";
  unsigned long n;
  int all_ok = 1, runs = 0;
  for (n = 1; n < 1000; n++) {
    pair p;
    script sc;
    make_pair(&p, tls, NULL, NULL);
    if (tls && !handshakes(&p))
      all_ok = 0;
    gust_failmem_reset(&p.fc, n);
    memset(&sc, 0, sizeof(sc));
    sc.r = p.c;
    sc.ok = 1;
    script_next(&sc);
    gust_iostream_write(p.s, SPLIT_DATA, 10, NULL);
    run_for(0.01);
    if (write_all(p.s, SPLIT_DATA + 10, SPLIT_LEN - 10) != 0)
      explain("n=%lu: wbuf %zu tcpq %zu cbuf %zu server closed=%d err=%s cc=%d "
              "cs=%d",
              n, gust_iostream_write_buffer_size(p.s),
              gust_tcp_write_queue_size(gust_iostream_tcp(p.s)),
              gust_iostream_read_buffer_size(p.c), gust_iostream_closed(p.s),
              gust_errname(gust_iostream_error(p.s)), p.cc, p.cs);
    gust_iostream_close(p.s);
    if (run_until(script_finished, &sc) != 0)
      all_ok = 0;
    runs++;
    if (p.fc.failures == 0) {
      ok(sc.ok && sc.delivered == SPLIT_LEN,
         "%s: failure injection: the run without failure completes", name);
      if (!free_pair(&p))
        all_ok = 0;
      break;
    }
    if (!free_pair(&p)) {
      diag("leak with allocation %lu failing", n);
      all_ok = 0;
    }
  }
  ok(all_ok && runs > 1,
     "%s: each of %d allocations failing in turn: no hang, no leak", name,
     runs - 1);
  {
    /* The constructor: on failure the caller still owns the handle. */
    gust_tcp *ts, *tc;
    gust_failmem fm;
    gust_iostream *s = NULL;
    int rc;
    gust_failmem_init(&fm, NULL);
    tcp_pair(&ts, &tc);
    fm.fail_at = 1;
    rc = tls ? gust_iostream_new_tls(&s, ts, SCTX, NULL, NULL, &fm.mem)
             : gust_iostream_new(&s, ts, NULL, &fm.mem);
    ok(rc == GUST_ENOMEM && s == NULL && fm.live_blocks == 0,
       "%s: constructor out of memory leaves the handle to the caller", name);
    gust_tcp_close(ts, NULL);
    gust_tcp_close(tc, NULL);
    run_for(0.01);
  }
}

/* ------------------------------------------------------------------ */

static void group_splits(void) {
  test_splits(0);
  test_splits(1);
}

static void group_max_bytes(void) {
  test_max_bytes(0);
  test_max_bytes(1);
}

static void group_back_pressure(void) {
  test_back_pressure(0);
  test_back_pressure(1);
}

static void group_write_limit(void) {
  test_write_limit(0);
  test_write_limit(1);
}

static void group_close(void) {
  test_close_pending(0);
  test_close_pending(1);
  test_reset(0);
  test_reset(1);
}

static void group_max_buffer(void) {
  test_max_buffer(0);
  test_max_buffer(1);
}

static void group_streaming(void) {
  test_streaming(0);
  test_streaming(1);
}

static void group_failmem(void) {
  expect_failures = 1;
  test_failmem(0);
  test_failmem(1);
  expect_failures = 0;
}

int main(void) {
  tc_make_certs();
  SCTX = tc_server_ctx("server", GUST_TLS_CLIENT_AUTH_NONE, NULL, 0);
  CCTX = tc_client_ctx("ca.pem", NULL, NULL, 0);
  OTHERCTX = tc_client_ctx("other-ca.pem", NULL, NULL, 0);
  gust_log_set_handler(t_log, NULL);
  gust_log_set_level(GUST_LOG_GENERAL, GUST_LOG_INFO);

  t_run_group("splits", &L, group_splits);
  t_run_group("max_bytes", &L, group_max_bytes);
  t_run_group("back_pressure", &L, group_back_pressure);
  t_run_group("write_limit", &L, group_write_limit);
  t_run_group("start_tls", &L, test_start_tls);
  t_run_group("sigpipe", &L, test_sigpipe);
  t_run_group("close", &L, group_close);
  t_run_group("max_buffer", &L, group_max_buffer);
  t_run_group("streaming", &L, group_streaming);
  t_run_group("tls_fail", &L, test_tls_verify_fail);
  t_run_group("failmem", &L, group_failmem);

  gust_log_set_handler(NULL, NULL);
  gust_tls_ctx_free(SCTX);
  gust_tls_ctx_free(CCTX);
  gust_tls_ctx_free(OTHERCTX);
  tc_remove_certs();
  return done_testing();
}
