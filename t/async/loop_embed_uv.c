/* Embedding: a gust loop over a uv_loop_t that the test owns and runs
 * itself with uv_run(). Built only with the libuv backend. */
#include "config.h"

#include <gust/loop.h>

#include <uv.h>

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
  int soon, timer, native_timer, ts;
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

static void native_timer_cb(uv_timer_t *t) {
  embed *e = t->data;
  e->native_timer++;
}

static void stop_cb(gust_loop *loop, void *ud) {
  (void)ud;
  gust_loop_stop(loop);
}

int main(void) {
  uv_loop_t uv;
  uv_timer_t native;
  gust_loop *loop = NULL, *again = NULL;
  embed e = {0, 0, 0, 0};
  gust_failmem fm;

  gust_failmem_init(&fm, NULL);
  if (uv_loop_init(&uv) != 0)
    bail_out("uv_loop_init failed");
  is_int(gust_loop_wrap_uv(&loop, &uv, &fm.mem), 0, "embed uv: wrapped");
  ok(gust_loop_native(loop) == &uv, "embed uv: native loop is the caller's");
  is_int(gust_loop_wrap_uv(&again, &uv, NULL), GUST_EEXIST,
         "embed uv: wrapping one native loop twice is refused "
         "(test_explicit_asyncio_loop)");
  ok(again == NULL, "embed uv: no second loop was created");
  is_int(gust_loop_wrap_ev(&again, &uv, NULL), GUST_ENOTSUP,
         "embed uv: the libev wrapper is not supported here");

  uv_timer_init(&uv, &native);
  native.data = &e;
  uv_timer_start(&native, native_timer_cb, 5, 0);
  gust_loop_call_soon(loop, soon_cb, &e);
  gust_loop_call_later(loop, 0.02, timer_cb, &e, NULL);

  /* The application's own uv_run returns once nothing is left: gust's
   * internal handles do not keep the loop alive, pending work does. */
  /* A stop asked outside gust_loop_run() waits for the next run and must
   * not keep the application's loop busy. */
  gust_loop_stop(loop);
  uv_run(&uv, UV_RUN_DEFAULT);
  is_int(e.native_timer, 1, "embed uv: the application's timer ran");
  is_int(e.timer, 1, "embed uv: a gust timer ran inside uv_run");
  is_int(e.soon, 2, "embed uv: deferred and thread-safe callbacks ran");

  /* Outstanding pool work keeps the native loop running until its
   * completion was delivered. */
  {
    int wd = 0;
    gust_loop_queue_work(loop, slow_work, work_done, &wd, NULL);
    uv_run(&uv, UV_RUN_DEFAULT);
    is_int(wd, 1, "embed uv: pool work kept the native loop alive");
  }

  /* gust_loop_run() drives the same native loop. */
  gust_loop_call_later(loop, 0.01, stop_cb, NULL, NULL);
  is_int(gust_loop_run(loop), 0, "embed uv: gust_loop_run on a wrapped loop");

  gust_loop_call_later(loop, 100, soon_cb, &e, NULL);
  gust_loop_free(loop);
  uv_close((uv_handle_t *)&native, NULL);
  uv_run(&uv, UV_RUN_DEFAULT);
  is_int(fm.live_blocks, 0,
         "embed uv: everything released once the native loop ran again");
  is_int(uv_loop_close(&uv), 0,
         "embed uv: no handle of gust's is left on the native loop");
  return done_testing();
}
