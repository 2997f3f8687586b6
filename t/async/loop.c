/* Tests of the event loop front end and whichever backend the build
 * selected: ordering, timers, cancellation, thread-safe wakeups, fd and
 * signal handlers, run/stop, teardown. Timing checks use lower bounds and
 * generous upper bounds only. */
#include "config.h"

#include <gust/loop.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../tap.h"

#define WATCHDOG 20.0 /* seconds before a stuck run gives up */

static void stop_cb(gust_loop *loop, void *ud) {
  int *fired = ud;
  if (fired != NULL)
    *fired = 1;
  gust_loop_stop(loop);
}

static int flag_set(gust_loop *loop, void *ud) {
  (void)loop;
  return *(int *)ud != 0;
}

/* Runs until *flag is set, with a watchdog; returns 0 on success. */
static int run_until_flag(gust_loop *loop, int *flag) {
  gust_timer wd;
  int rc, fired = 0;
  gust_loop_call_later(loop, WATCHDOG, stop_cb, &fired, &wd);
  rc = gust_loop_run_until(loop, flag_set, flag);
  gust_loop_cancel(loop, wd);
  return fired ? -1 : rc;
}

/* ------------------------------------------------------------------ */

typedef struct order {
  int seq[64];
  int n;
  int done;
  int iteration_of[64];
  int iteration;
} order;

static order g_order;

#define ORDER_CB(k)                                                            \
  static void order_cb##k(gust_loop *loop, void *ud) {                         \
    order *o = ud;                                                             \
    (void)loop;                                                                \
    o->seq[o->n++] = k;                                                        \
  }
ORDER_CB(1)
ORDER_CB(2)
ORDER_CB(3)
ORDER_CB(4)
ORDER_CB(5)

static void order_resched(gust_loop *loop, void *ud) {
  order *o = ud;
  o->seq[o->n++] = 10;
  gust_loop_call_soon(loop, order_cb5, o);
}

static int order_all_ran(gust_loop *loop, void *ud) {
  (void)loop;
  return ((order *)ud)->n >= 6;
}

static void test_call_soon_order(void) {
  gust_loop *loop;
  order *o = &g_order;
  int rc;
  memset(o, 0, sizeof(*o));
  is_int(gust_loop_new(&loop, NULL), 0, "call_soon: loop created");
  gust_loop_call_soon(loop, order_cb1, o);
  gust_loop_call_soon(loop, order_resched, o);
  gust_loop_call_soon(loop, order_cb2, o);
  gust_loop_call_soon(loop, order_cb3, o);
  gust_loop_call_later(loop, 0, order_cb4, o, NULL);
  /* Stop on the count, not on a timer: under valgrind a short timer could
   * already be due in the first iteration. */
  rc = gust_loop_run_until(loop, order_all_ran, o);
  is_int(rc, 0, "call_soon: run_until returns 0 when the condition holds");
  is_int(o->n, 6, "call_soon: six callbacks ran");
  ok(o->seq[0] == 1 && o->seq[1] == 10 && o->seq[2] == 2 && o->seq[3] == 3,
     "call_soon: FIFO order");
  ok(o->seq[4] == 4 && o->seq[5] == 5,
     "call_soon: a callback scheduled from a callback runs in a later "
     "iteration, after timers already due");
  is_int(gust_loop_call_soon(loop, NULL, NULL), GUST_EINVAL,
         "call_soon: NULL callback rejected");
  gust_loop_free(loop);
}

/* ------------------------------------------------------------------ */

typedef struct tstate {
  gust_loop *loop;
  int seq[16];
  int n;
  double fired_at[16];
  gust_timer handles[16];
  int done;
} tstate;

static tstate g_ts;

#define T_CB(k)                                                                \
  static void t_cb##k(gust_loop *loop, void *ud) {                             \
    tstate *s = ud;                                                            \
    s->fired_at[k] = gust_loop_now(loop);                                      \
    s->seq[s->n++] = k;                                                        \
  }
T_CB(0)
T_CB(1)
T_CB(2)
T_CB(3)
T_CB(4)

static void t_cancel_other(gust_loop *loop, void *ud) {
  tstate *s = ud;
  s->seq[s->n++] = 9;
  is_int(gust_loop_cancel(loop, s->handles[3]), 0,
         "timers: a timer due in the same iteration can be cancelled");
}

static void t_done(gust_loop *loop, void *ud) {
  tstate *s = ud;
  (void)loop;
  s->done = 1;
}

static void test_timers(void) {
  gust_loop *loop;
  tstate *s = &g_ts;
  double start;
  int i, rc;
  gust_timer h;
  memset(s, 0, sizeof(*s));
  gust_loop_new(&loop, NULL);
  s->loop = loop;
  start = gust_loop_now(loop);
  /* Deadline order, ties in scheduling order. */
  gust_loop_call_later(loop, 0.06, t_cb2, s, &s->handles[2]);
  gust_loop_call_at_monotonic(loop, start + 0.03, t_cb0, s, &s->handles[0]);
  gust_loop_call_at_monotonic(loop, start + 0.03, t_cb1, s, &s->handles[1]);
  gust_loop_call_later(loop, 0.2, t_cb4, s, &s->handles[4]);
  gust_loop_call_later(loop, 0.25, t_done, s, NULL);
  is_int(gust_loop_cancel(loop, s->handles[4]), 0,
         "timers: cancel a pending timer");
  is_int(gust_loop_cancel(loop, s->handles[4]), GUST_ENOTFOUND,
         "timers: cancel twice is harmless");
  rc = run_until_flag(loop, &s->done);
  is_int(rc, 0, "timers: ran to the end");
  is_int(s->n, 3, "timers: three timers fired, the cancelled one did not");
  ok(s->seq[0] == 0 && s->seq[1] == 1 && s->seq[2] == 2,
     "timers: deadline order, ties in scheduling order");
  ok(s->fired_at[0] - start >= 0.029, "timers: 30 ms timer not early (%.4f)",
     s->fired_at[0] - start);
  ok(s->fired_at[2] - start >= 0.059, "timers: 60 ms timer not early (%.4f)",
     s->fired_at[2] - start);
  ok(s->fired_at[2] - start < 10.0, "timers: 60 ms timer fired (generously)");
  is_int(gust_loop_cancel(loop, s->handles[0]), GUST_ENOTFOUND,
         "timers: cancel after firing is harmless "
         "(test_remove_timeout_after_fire)");
  is_int(gust_loop_cancel(loop, (gust_timer){NULL, 0}), GUST_ENOTFOUND,
         "timers: cancel of a zeroed handle");

  /* A timer due in the same iteration cancelled by an earlier one. */
  memset(s, 0, sizeof(*s));
  start = gust_loop_now(loop);
  gust_loop_call_at_monotonic(loop, start + 0.02, t_cancel_other, s, NULL);
  gust_loop_call_at_monotonic(loop, start + 0.02, t_cb3, s, &s->handles[3]);
  gust_loop_call_later(loop, 0.1, t_done, s, NULL);
  /* Make both due together: sleep past their deadline before running. */
  usleep(40000);
  rc = run_until_flag(loop, &s->done);
  is_int(rc, 0, "timers: cancel-from-timer run ended");
  ok(s->n == 1 && s->seq[0] == 9,
     "timers: the cancelled timer did not run "
     "(test_remove_timeout_from_timeout; %d ran)",
     s->n);

  /* Wall-clock deadlines. */
  memset(s, 0, sizeof(*s));
  start = gust_loop_now(loop);
  is_int(gust_loop_call_at(loop, gust_loop_time(loop) + 0.05, t_cb0, s, NULL),
         0, "call_at: wall-clock deadline accepted");
  gust_loop_call_at(loop, gust_loop_time(loop) - 100, t_cb1, s, NULL);
  gust_loop_call_later(loop, 0.08, t_done, s, NULL);
  rc = run_until_flag(loop, &s->done);
  ok(rc == 0 && s->n == 2, "call_at: both ran");
  ok(s->seq[0] == 1, "call_at: a deadline in the past runs first");
  ok(s->fired_at[0] - start >= 0.045, "call_at: not early (%.4f)",
     s->fired_at[0] - start);
  ok(gust_loop_time(loop) > 1.5e9, "time: wall clock in epoch seconds");
  is_int(gust_loop_call_at(loop, 0.0 / 0.0, t_cb0, s, &h), GUST_EINVAL,
         "call_at: NaN rejected");

  /* Many add/remove pairs leave nothing behind. */
  for (i = 0; i < 2000; i++) {
    gust_loop_call_later(loop, 1000 + i, t_cb0, s, &h);
    if (gust_loop_cancel(loop, h) != 0)
      break;
  }
  is_int(i, 2000,
         "timers: 2000 add/cancel pairs (test_remove_timeout_cleanup)");
  gust_loop_free(loop);
}

/* ------------------------------------------------------------------ */

static int g_reentrant_rc = 1;

static void reentrant_cb(gust_loop *loop, void *ud) {
  (void)ud;
  g_reentrant_rc = gust_loop_run(loop);
  gust_loop_stop(loop);
}

static void count_cb(gust_loop *loop, void *ud) {
  (void)loop;
  ++*(int *)ud;
}

static void test_run_stop(void) {
  gust_loop *loop;
  int count = 0, never = 0, rc;
  gust_loop_new(&loop, NULL);

  gust_loop_call_soon(loop, reentrant_cb, NULL);
  rc = gust_loop_run(loop);
  is_int(rc, 0, "run: returns 0 after stop");
  is_int(g_reentrant_rc, GUST_EBUSY,
         "run: run inside run is refused (test_reentrant)");

  gust_loop_stop(loop);
  gust_loop_call_soon(loop, count_cb, &count);
  rc = gust_loop_run(loop);
  is_int(rc, 0, "stop before run: the next run returns");
  is_int(count, 1, "stop before run: the iteration still ran callbacks");

  gust_loop_call_later(loop, 0.01, stop_cb, NULL, NULL);
  rc = gust_loop_run_until(loop, flag_set, &never);
  is_int(rc, GUST_ELOOPSTOPPED,
         "run_until: a stop before the condition is reported");
  never = 1;
  is_int(gust_loop_run_until(loop, flag_set, &never), 0,
         "run_until: a condition already true returns at once");
  is_int(gust_loop_run_until(loop, NULL, NULL), GUST_EINVAL,
         "run_until: NULL condition rejected");
  ok(gust_loop_native(loop) != NULL, "native: the native loop is exposed");
  gust_loop_free(loop);
}

/* ------------------------------------------------------------------ */

#define TS_THREADS 4
#define TS_PER     2000

typedef struct tsstate {
  gust_loop *loop;
  pthread_t loop_thread;
  int count;
  int wrong_thread;
  int done;
  int order_ok[TS_THREADS];
  int last[TS_THREADS];
} tsstate;

typedef struct tsmsg {
  tsstate *s;
  int thread;
  int k;
} tsmsg;

static tsmsg g_msgs[TS_THREADS][TS_PER];

static void ts_cb(gust_loop *loop, void *ud) {
  tsmsg *m = ud;
  tsstate *s = m->s;
  (void)loop;
  if (!pthread_equal(pthread_self(), s->loop_thread))
    s->wrong_thread++;
  if (m->k != s->last[m->thread] + 1)
    s->order_ok[m->thread] = 0;
  s->last[m->thread] = m->k;
  if (++s->count == TS_THREADS * TS_PER)
    s->done = 1;
}

static void *ts_thread(void *arg) {
  tsmsg *row = arg;
  int k;
  for (k = 0; k < TS_PER; k++) {
    while (gust_loop_call_soon_threadsafe(row[k].s->loop, ts_cb, &row[k]) != 0)
      ;
    if (k % 500 == 0)
      usleep(1000);
  }
  return NULL;
}

static void test_threadsafe(void) {
  static tsstate s;
  pthread_t th[TS_THREADS];
  int i, k, rc, all_order = 1;
  memset(&s, 0, sizeof(s));
  gust_loop_new(&s.loop, NULL);
  s.loop_thread = pthread_self();
  for (i = 0; i < TS_THREADS; i++) {
    s.order_ok[i] = 1;
    s.last[i] = -1;
    for (k = 0; k < TS_PER; k++)
      g_msgs[i][k] = (tsmsg){&s, i, k};
  }
  for (i = 0; i < TS_THREADS; i++)
    pthread_create(&th[i], NULL, ts_thread, g_msgs[i]);
  rc = run_until_flag(s.loop, &s.done);
  for (i = 0; i < TS_THREADS; i++)
    pthread_join(th[i], NULL);
  is_int(rc, 0, "threadsafe: the loop woke for every batch");
  is_int(s.count, TS_THREADS * TS_PER,
         "threadsafe: every callback from %d threads ran once", TS_THREADS);
  is_int(s.wrong_thread, 0, "threadsafe: callbacks ran on the loop thread");
  for (i = 0; i < TS_THREADS; i++)
    all_order &= s.order_ok[i];
  ok(all_order, "threadsafe: each thread's callbacks ran in its order");
  gust_loop_free(s.loop);
}

/* A wakeup from another thread while the loop is idle arrives promptly. */
static void *wake_thread(void *arg) {
  gust_loop *loop = arg;
  usleep(20000);
  gust_loop_call_soon_threadsafe(loop, stop_cb, NULL);
  return NULL;
}

static void test_wakeup_idle(void) {
  gust_loop *loop;
  pthread_t th;
  double start;
  gust_timer wd;
  int fired = 0;
  gust_loop_new(&loop, NULL);
  gust_loop_call_later(loop, WATCHDOG, stop_cb, &fired, &wd);
  start = gust_loop_now(loop);
  pthread_create(&th, NULL, wake_thread, loop);
  is_int(gust_loop_run(loop), 0, "wakeup: run returned");
  pthread_join(th, NULL);
  ok(!fired && gust_loop_now(loop) - start < WATCHDOG / 2,
     "wakeup: an idle loop is woken from another thread "
     "(test_add_callback_wakeup_other_thread)");
  gust_loop_cancel(loop, wd);
  gust_loop_free(loop);
}

/* ------------------------------------------------------------------ */

typedef struct fdstate {
  int pfd[2];
  int reads, writes, errors;
  int other_events;
  char got[16];
  int done;
  int remove_in_cb;
} fdstate;

static void fd_read_cb(gust_loop *loop, int fd, int events, void *ud) {
  fdstate *s = ud;
  if (events & GUST_LOOP_WRITE)
    s->other_events++;
  if (events & GUST_LOOP_READ) {
    ssize_t n = read(fd, s->got, sizeof(s->got) - 1);
    if (n > 0)
      s->got[n] = 0;
    s->reads++;
  }
  if (s->remove_in_cb) {
    gust_loop_remove_handler(loop, fd);
    s->done = 1;
  } else if (s->reads >= 1) {
    s->done = 1;
  }
}

static void fd_write_cb(gust_loop *loop, int fd, int events, void *ud) {
  fdstate *s = ud;
  if (events & GUST_LOOP_WRITE) {
    s->writes++;
    if (write(fd, "ping", 4) == 4)
      gust_loop_update_handler(loop, fd, 0);
  }
}

static void test_fd_handlers(void) {
  gust_loop *loop;
  fdstate s;
  int rc;
  memset(&s, 0, sizeof(s));
  gust_loop_new(&loop, NULL);
  if (pipe(s.pfd) != 0)
    bail_out("pipe: %s", strerror(errno));
  fcntl(s.pfd[0], F_SETFL, O_NONBLOCK);
  fcntl(s.pfd[1], F_SETFL, O_NONBLOCK);
  is_int(gust_loop_add_handler(loop, s.pfd[0], GUST_LOOP_READ, fd_read_cb, &s),
         0, "fd: read handler added");
  is_int(gust_loop_add_handler(loop, s.pfd[0], GUST_LOOP_READ, fd_read_cb, &s),
         GUST_EEXIST,
         "fd: a second handler on one fd is refused (test_multiple_add)");
  is_int(gust_loop_add_handler(loop, s.pfd[1], 0, fd_write_cb, &s), 0,
         "fd: write-end handler added with no events");
  is_int(gust_loop_update_handler(loop, s.pfd[1], GUST_LOOP_WRITE), 0,
         "fd: handler updated to write readiness");
  is_int(gust_loop_add_handler(loop, -1, GUST_LOOP_READ, fd_read_cb, &s),
         GUST_EINVAL, "fd: negative fd refused");
  is_int(
      gust_loop_remove_handler(loop, 999), GUST_ENOTFOUND,
      "fd: remove without add is a harmless no-op (test_remove_without_add)");
  rc = run_until_flag(loop, &s.done);
  is_int(rc, 0, "fd: data crossed the pipe");
  is_int(s.writes, 1, "fd: one write readiness, then the handler was muted");
  is_str(s.got, "ping", "fd: the reader got the bytes");
  is_int(s.other_events, 0,
         "fd: a read-only handler gets no write events "
         "(test_read_while_writeable)");
  is_int(gust_loop_remove_handler(loop, s.pfd[1]), 0, "fd: writer removed");

  /* A handler that removes itself while more data is pending. */
  s.done = 0;
  s.reads = 0;
  s.remove_in_cb = 1;
  if (write(s.pfd[1], "abcd", 4) != 4)
    bail_out("write");
  rc = run_until_flag(loop, &s.done);
  ok(rc == 0 && s.reads == 1, "fd: handler removed itself from its callback "
                              "(test_remove_handler_from_handler)");
  is_int(gust_loop_remove_handler(loop, s.pfd[0]), GUST_ENOTFOUND,
         "fd: the handler is gone");
  /* Left registered on purpose: gust_loop_free() must release it. */
  gust_loop_add_handler(loop, s.pfd[0], GUST_LOOP_READ, fd_read_cb, &s);
  gust_loop_free(loop);
  close(s.pfd[0]);
  close(s.pfd[1]);
}

/* A socket that got bytes and then a reset: the handler reads a little at
 * a time and must be called again and again (level-triggered), with the
 * error reported, until every byte is read (libuv stops a poll handle
 * after an error; the backend restarts it). */
typedef struct rststate {
  int got, calls, errors, done;
} rststate;

static void rst_cb(gust_loop *loop, int fd, int events, void *ud) {
  rststate *s = ud;
  char b[10];
  ssize_t n = read(fd, b, sizeof(b));
  s->calls++;
  if (events & GUST_LOOP_ERROR)
    s->errors++;
  if (n > 0) {
    s->got += (int)n;
  } else if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) {
    gust_loop_remove_handler(loop, fd);
    s->done = 1;
  }
}

static void test_fd_error_level(void) {
  struct sockaddr_in a;
  socklen_t al = sizeof(a);
  struct linger lg = {1, 0};
  char data[100];
  rststate s;
  gust_loop *loop;
  int l, c, p = -1;
  memset(&s, 0, sizeof(s));
  memset(&a, 0, sizeof(a));
  memset(data, 'x', sizeof(data));
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  l = socket(AF_INET, SOCK_STREAM, 0);
  c = socket(AF_INET, SOCK_STREAM, 0);
  if (l < 0 || c < 0 || bind(l, (struct sockaddr *)&a, sizeof(a)) != 0 ||
      listen(l, 1) != 0 || getsockname(l, (struct sockaddr *)&a, &al) != 0 ||
      connect(c, (struct sockaddr *)&a, sizeof(a)) != 0 ||
      (p = accept(l, NULL, NULL)) < 0)
    bail_out("socket pair: %s", strerror(errno));
  if (write(p, data, sizeof(data)) != (ssize_t)sizeof(data))
    bail_out("write");
  setsockopt(p, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
  close(p); /* a reset behind the bytes */
  usleep(20000);
  fcntl(c, F_SETFL, O_NONBLOCK);
  gust_loop_new(&loop, NULL);
  gust_loop_add_handler(loop, c, GUST_LOOP_READ, rst_cb, &s);
  is_int(run_until_flag(loop, &s.done), 0,
         "fd error: the handler is called until it is done");
  is_int(s.got, 100, "fd error: every byte before the reset was read");
  ok(s.calls >= 10, "fd error: level-triggered, %d calls", s.calls);
  gust_loop_free(loop);
  close(c);
  close(l);
}

/* ------------------------------------------------------------------ */

static int g_sig_seen;

static void sig_cb(gust_loop *loop, int signum, void *ud) {
  (void)ud;
  g_sig_seen = signum;
  gust_loop_stop(loop);
}

static void raise_cb(gust_loop *loop, void *ud) {
  (void)loop;
  (void)ud;
  kill(getpid(), SIGTERM);
}

static void test_signals(void) {
  gust_loop *loop;
  gust_timer wd;
  int fired = 0;
  gust_loop_new(&loop, NULL);
  is_int(gust_loop_add_signal_handler(loop, SIGTERM, sig_cb, NULL), 0,
         "signal: SIGTERM handler added");
  is_int(gust_loop_add_signal_handler(loop, SIGTERM, sig_cb, NULL), GUST_EEXIST,
         "signal: second handler refused");
  is_int(gust_loop_add_signal_handler(loop, SIGKILL, sig_cb, NULL), GUST_EINVAL,
         "signal: SIGKILL refused");
  {
    gust_loop *other;
    gust_loop_new(&other, NULL);
    is_int(gust_loop_add_signal_handler(other, SIGTERM, sig_cb, NULL),
           GUST_EBUSY, "signal: a second loop cannot watch the same signal");
    gust_loop_free(other);
  }
  gust_loop_call_later(loop, WATCHDOG, stop_cb, &fired, &wd);
  gust_loop_call_later(loop, 0.01, raise_cb, NULL, NULL);
  gust_loop_run(loop);
  ok(!fired && g_sig_seen == SIGTERM,
     "signal: SIGTERM delivered on the loop thread for a graceful stop");
  gust_loop_cancel(loop, wd);
  is_int(gust_loop_add_signal_handler(loop, SIGINT, sig_cb, NULL), 0,
         "signal: SIGINT handler added");
  is_int(gust_loop_remove_signal_handler(loop, SIGTERM), 0,
         "signal: SIGTERM handler removed");
  is_int(gust_loop_remove_signal_handler(loop, SIGTERM), GUST_ENOTFOUND,
         "signal: removing twice reports ENOTFOUND");
  /* SIGINT stays registered: gust_loop_free() removes it. */
  gust_loop_free(loop);
  gust_loop_new(&loop, NULL);
  is_int(gust_loop_add_signal_handler(loop, SIGINT, sig_cb, NULL), 0,
         "signal: a freed loop released its signals");
  gust_loop_free(loop);
}

/* ------------------------------------------------------------------ */

static void test_teardown_and_oom(void) {
  gust_failmem fm;
  gust_loop *loop = NULL;
  unsigned long n;
  int rc, failures_ok = 1;
  gust_failmem_init(&fm, NULL);
  rc = gust_loop_new(&loop, &fm.mem);
  is_int(rc, 0, "teardown: loop on a counting allocator");
  gust_loop_call_soon(loop, count_cb, NULL);
  gust_loop_call_soon_threadsafe(loop, count_cb, NULL);
  gust_loop_call_later(loop, 100, count_cb, NULL, NULL);
  gust_loop_free(loop);
  is_int(fm.live_blocks, 0,
         "teardown: pending callbacks and timers leave nothing allocated");
  for (n = 1; n < 20; n++) {
    gust_failmem_reset(&fm, n);
    loop = NULL;
    rc = gust_loop_new(&loop, &fm.mem);
    if (rc == 0) {
      rc = gust_loop_call_soon(loop, count_cb, NULL);
      if (rc == 0)
        rc = gust_loop_call_later(loop, 1, count_cb, NULL, NULL);
      if (rc != 0 && rc != GUST_ENOMEM)
        failures_ok = 0;
      gust_loop_free(loop);
    } else if (rc != GUST_ENOMEM || loop != NULL) {
      failures_ok = 0;
    }
    if (fm.live_blocks != 0)
      failures_ok = 0;
  }
  ok(failures_ok, "oom: every allocation failure is reported cleanly and "
                  "leaks nothing");
  is_int(gust_loop_wrap_uv(&loop, NULL, NULL),
         strcmp(gust_loop_backend_name(), "libuv") == 0 ? GUST_EINVAL
                                                        : GUST_ENOTSUP,
         "wrap: uv wrapper matches the backend");
  is_int(gust_loop_wrap_ev(&loop, NULL, NULL),
         strcmp(gust_loop_backend_name(), "libev") == 0 ? GUST_EINVAL
                                                        : GUST_ENOTSUP,
         "wrap: ev wrapper matches the backend");
}

/* Loops created and destroyed on two threads at once. */
static void *churn_thread(void *arg) {
  int i, *bad = arg;
  for (i = 0; i < 100; i++) {
    gust_loop *loop;
    if (gust_loop_new(&loop, NULL) != 0) {
      ++*bad;
      continue;
    }
    gust_loop_call_soon(loop, count_cb, &(int){0});
    gust_loop_free(loop);
  }
  return NULL;
}

static void test_init_close_race(void) {
  pthread_t a, b;
  int bad_a = 0, bad_b = 0;
  pthread_create(&a, NULL, churn_thread, &bad_a);
  pthread_create(&b, NULL, churn_thread, &bad_b);
  pthread_join(a, NULL);
  pthread_join(b, NULL);
  is_int(bad_a + bad_b, 0,
         "race: 200 loops created and freed on two threads "
         "(test_init_close_race)");
}

int main(void) {
  note("loop backend: %s %s", gust_loop_backend_name(),
       gust_loop_backend_version());
  if (tap_group("call_soon"))
    test_call_soon_order();
  if (tap_group("timers"))
    test_timers();
  if (tap_group("run"))
    test_run_stop();
  if (tap_group("threadsafe")) {
    test_threadsafe();
    test_wakeup_idle();
    test_init_close_race();
  }
  if (tap_group("fd")) {
    test_fd_handlers();
    test_fd_error_level();
  }
  if (tap_group("signal"))
    test_signals();
  if (tap_group("teardown"))
    test_teardown_and_oom();
  return done_testing();
}
