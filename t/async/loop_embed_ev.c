/* Embedding: a gust loop over a struct ev_loop that the test owns and runs
 * itself with ev_run(). Built only with the libev backend. */
#include "config.h"

#include <gust/loop.h>

#include <ev.h>

#include <unistd.h>

#include "../tap.h"

static void slow_work(void *ud) {
  (void)ud;
  usleep(20000);
}

static void work_done(gust_loop *loop, int status, void *ud) {
  (void)loop;
  *(int *)ud = status == 0 ? 1 : -1;
}

typedef struct embed {
  int soon, timer, native_timer;
} embed;

static void soon_cb(gust_loop *loop, void *ud) {
  (void)loop;
  ((embed *)ud)->soon++;
}

static void timer_cb(gust_loop *loop, void *ud) {
  embed *e = ud;
  e->timer++;
  gust_loop_call_soon_threadsafe(loop, soon_cb, e);
}

static void native_timer_cb(struct ev_loop *ev, ev_timer *t, int revents) {
  embed *e = t->data;
  (void)ev;
  (void)revents;
  e->native_timer++;
}

static void stop_cb(gust_loop *loop, void *ud) {
  (void)ud;
  gust_loop_stop(loop);
}

int main(void) {
  struct ev_loop *ev = ev_loop_new(EVFLAG_AUTO);
  ev_timer native;
  gust_loop *loop = NULL, *again = NULL;
  embed e = {0, 0, 0};
  gust_failmem fm;

  gust_failmem_init(&fm, NULL);
  if (ev == NULL)
    bail_out("ev_loop_new failed");
  is_int(gust_loop_wrap_ev(&loop, ev, &fm.mem), 0, "embed ev: wrapped");
  ok(gust_loop_native(loop) == ev, "embed ev: native loop is the caller's");
  is_int(gust_loop_wrap_ev(&again, ev, NULL), GUST_EEXIST,
         "embed ev: wrapping one native loop twice is refused "
         "(test_explicit_asyncio_loop)");
  ok(again == NULL, "embed ev: no second loop was created");
  is_int(gust_loop_wrap_uv(&again, ev, NULL), GUST_ENOTSUP,
         "embed ev: the libuv wrapper is not supported here");

  ev_timer_init(&native, native_timer_cb, 0.005, 0.);
  native.data = &e;
  ev_timer_start(ev, &native);
  gust_loop_call_soon(loop, soon_cb, &e);
  gust_loop_call_later(loop, 0.02, timer_cb, &e, NULL);

  /* The application's own ev_run returns once nothing is left: gust's
   * internal watchers do not keep the loop alive, pending work does. */
  /* A stop asked outside gust_loop_run() waits for the next run and must
   * not keep the application's loop busy. */
  gust_loop_stop(loop);
  ev_run(ev, 0);
  is_int(e.native_timer, 1, "embed ev: the application's timer ran");
  is_int(e.timer, 1, "embed ev: a gust timer ran inside ev_run");
  is_int(e.soon, 2, "embed ev: deferred and thread-safe callbacks ran");

  /* Outstanding pool work keeps the native loop running until its
   * completion was delivered. */
  {
    int wd = 0;
    gust_loop_queue_work(loop, slow_work, work_done, &wd, NULL);
    ev_run(ev, 0);
    is_int(wd, 1, "embed ev: pool work kept the native loop alive");
  }

  gust_loop_call_later(loop, 0.01, stop_cb, NULL, NULL);
  is_int(gust_loop_run(loop), 0, "embed ev: gust_loop_run on a wrapped loop");

  gust_loop_call_later(loop, 100, soon_cb, &e, NULL);
  gust_loop_free(loop);
  is_int(fm.live_blocks, 0, "embed ev: everything released at free");
  ev_run(ev, EVRUN_NOWAIT);
  ev_loop_destroy(ev);
  return done_testing();
}
