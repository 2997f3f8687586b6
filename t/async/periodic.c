/* Periodic callbacks: Tornado's TestPeriodicCallbackMath vectors through a
 * simulated loop clock and an injected random source, then a few real
 * runs. */
#include "config.h"

#include <gust/loop.h>

#include <string.h>

#include "../tap.h"

typedef struct sim {
  double now; /* the simulated clock */
  const double *durations;
  int n, i;
  double calls[16];
  int called;
  const double *randoms;
  int nrandoms, r;
} sim;

static double sim_clock(void *ud) { return ((sim *)ud)->now; }

static double sim_random(void *ud) {
  sim *s = ud;
  return s->r < s->nrandoms ? s->randoms[s->r++] : 0.5;
}

static void sim_cb(gust_loop *loop, void *ud) {
  sim *s = ud;
  s->calls[s->i] = gust_loop_now(loop);
  /* The call "takes" this long (negative: the clock went backwards). */
  s->now += s->durations[s->i];
  s->i++;
  s->called = 1;
}

static int called(gust_loop *loop, void *ud) {
  (void)loop;
  return ((sim *)ud)->called;
}

/* Tornado's simulate_calls: the clock starts at 1000 and jumps to each
 * deadline; returns the times of the calls in s->calls. */
static int simulate(sim *s, double period, double jitter) {
  gust_loop *loop;
  gust_periodic *pc;
  int k, rc = 0;
  s->now = 1000;
  s->i = 0;
  gust_loop_new(&loop, NULL);
  gust_loop_set_clock(loop, sim_clock, s);
  gust_periodic_new(&pc, loop, period, sim_cb, s);
  if (jitter > 0) {
    gust_periodic_set_jitter(pc, jitter);
    gust_periodic_set_random(pc, sim_random, s);
  }
  gust_periodic_start(pc);
  for (k = 0; k < s->n && rc == 0; k++) {
    s->now = gust_periodic_next_time(pc);
    s->called = 0;
    rc = gust_loop_run_until(loop, called, s);
  }
  gust_periodic_free(pc);
  gust_loop_free(loop);
  return rc;
}

static int same(const double *got, const double *want, int n) {
  int i;
  for (i = 0; i < n; i++) {
    double d = got[i] - want[i];
    if (d > 1e-9 || d < -1e-9) {
      diag("call %d: got %.4f, want %.4f", i, got[i], want[i]);
      return 0;
    }
  }
  return 1;
}

static void test_math(void) {
  static const double basic_d[] = {0, 0, 0, 0, 0};
  static const double basic_w[] = {1010, 1020, 1030, 1040, 1050};
  static const double over_d[] = {9, 9, 10, 11, 20, 20, 35, 35, 0, 0, 0};
  static const double over_w[] = {1010, 1020, 1030, 1050, 1070, 1100,
                                  1130, 1170, 1210, 1220, 1230};
  static const double back_d[] = {-2, -1, -3, -2, 0};
  static const double back_w[] = {1010, 1020, 1030, 1040, 1050};
  static const double back2_d[] = {-100, 0, 0};
  static const double back2_w[] = {1010, 1020, 1030};
  static const double jit_d[] = {0, 0, 0, 0};
  static const double jit_r[] = {0.5, 1, 0, 0.75};
  static const double jit_w[] = {1010, 1022.5, 1030, 1041.25};
  static const double td_d[] = {0};
  static const double td_w[] = {1083};
  sim s;

  memset(&s, 0, sizeof(s));
  s.durations = basic_d;
  s.n = 5;
  is_int(simulate(&s, 10, 0), 0, "math: test_basic ran");
  ok(same(s.calls, basic_w, 5), "math: test_basic");

  memset(&s, 0, sizeof(s));
  s.durations = over_d;
  s.n = 11;
  is_int(simulate(&s, 10, 0), 0, "math: test_overrun ran");
  ok(same(s.calls, over_w, 11), "math: test_overrun skips missed calls");

  memset(&s, 0, sizeof(s));
  s.durations = back_d;
  s.n = 5;
  is_int(simulate(&s, 10, 0), 0, "math: test_clock_backwards ran");
  ok(same(s.calls, back_w, 5),
     "math: test_clock_backwards (small steps back are ignored)");

  memset(&s, 0, sizeof(s));
  s.durations = back2_d;
  s.n = 3;
  is_int(simulate(&s, 10, 0), 0, "math: large backwards jump ran");
  ok(same(s.calls, back2_w, 3),
     "math: test_clock_backwards (a large jump still advances one period)");

  memset(&s, 0, sizeof(s));
  s.durations = jit_d;
  s.n = 4;
  s.randoms = jit_r;
  s.nrandoms = 4;
  is_int(simulate(&s, 10, 0.5), 0, "math: test_jitter ran");
  ok(same(s.calls, jit_w, 4), "math: test_jitter");
  is_int(s.r, 4, "math: one random number per scheduling");

  /* test_timedelta: a period of one minute 23 seconds. */
  memset(&s, 0, sizeof(s));
  s.durations = td_d;
  s.n = 1;
  is_int(simulate(&s, 60 + 23, 0), 0, "math: test_timedelta ran");
  ok(same(s.calls, td_w, 1), "math: test_timedelta (83000 ms)");
}

/* ------------------------------------------------------------------ */

typedef struct live {
  gust_periodic *pc;
  int calls;
  double first, last;
  int done;
  int free_in_cb;
} live;

static void live_cb(gust_loop *loop, void *ud) {
  live *l = ud;
  double now = gust_loop_now(loop);
  if (l->calls++ == 0)
    l->first = now;
  l->last = now;
  if (l->calls == 3) {
    if (l->free_in_cb) {
      gust_periodic_free(l->pc);
      l->pc = NULL;
    } else {
      gust_periodic_stop(l->pc);
    }
  }
}

static int flag_is_set(gust_loop *loop, void *ud) {
  (void)loop;
  return *(int *)ud;
}

static void end_cb(gust_loop *loop, void *ud) {
  (void)loop;
  *(int *)ud = 1;
}

/* Until three runs happened, or a generous watchdog. */
static int three_or_end(gust_loop *loop, void *ud) {
  live *l = ud;
  (void)loop;
  return l->calls >= 3 || l->done;
}

static void test_live(void) {
  gust_loop *loop;
  live l;
  gust_periodic *bad;
  double start;
  int end = 0;
  gust_timer wd;
  gust_loop_new(&loop, NULL);
  is_int(gust_periodic_new(&bad, loop, 0, live_cb, NULL), GUST_EINVAL,
         "periodic: period 0 refused");
  is_int(gust_periodic_new(&bad, loop, -1, live_cb, NULL), GUST_EINVAL,
         "periodic: negative period refused");
  ok(bad == NULL, "periodic: nothing created");

  memset(&l, 0, sizeof(l));
  is_int(gust_periodic_new(&l.pc, loop, 0.01, live_cb, &l), 0,
         "periodic: created");
  is_int(gust_periodic_is_running(l.pc), 0, "periodic: created stopped");
  is_int(gust_periodic_set_jitter(l.pc, -1), GUST_EINVAL,
         "periodic: negative jitter refused");
  start = gust_loop_now(loop);
  gust_periodic_start(l.pc);
  ok(gust_periodic_is_running(l.pc), "periodic: running after start");
  gust_loop_call_later(loop, 20, end_cb, &l.done, &wd);
  gust_loop_run_until(loop, three_or_end, &l);
  /* A little longer, to see that no fourth run comes. */
  gust_loop_call_later(loop, 0.05, end_cb, &end, NULL);
  gust_loop_run_until(loop, flag_is_set, &end);
  gust_loop_cancel(loop, wd);
  is_int(l.calls, 3, "periodic: three runs, then stopped from the callback");
  ok(l.first - start >= 0.0099, "periodic: first run one period after start");
  ok(l.last - start >= 0.0299, "periodic: the third run on the third period");
  ok(!gust_periodic_is_running(l.pc), "periodic: stopped");
  gust_periodic_free(l.pc);

  memset(&l, 0, sizeof(l));
  end = 0;
  l.free_in_cb = 1;
  gust_periodic_new(&l.pc, loop, 0.01, live_cb, &l);
  gust_periodic_set_jitter(l.pc, 0.5);
  gust_periodic_start(l.pc);
  gust_loop_call_later(loop, 20, end_cb, &l.done, &wd);
  gust_loop_run_until(loop, three_or_end, &l);
  gust_loop_call_later(loop, 0.05, end_cb, &end, NULL);
  gust_loop_run_until(loop, flag_is_set, &end);
  gust_loop_cancel(loop, wd);
  is_int(l.calls, 3, "periodic: freed from its own callback, with jitter");
  gust_loop_free(loop);
}

int main(void) {
  if (tap_group("math"))
    test_math();
  if (tap_group("live"))
    test_live();
  return done_testing();
}
