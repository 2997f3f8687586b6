/* The executor: Tornado's executor-related cases of gen_test,
 * concurrent_test and ioloop_test, plus a thread-pool stress test.
 * Parallelism is checked with rendezvous between jobs, never with timing. */
#include "config.h"

#include <gust/executor.h>

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <time.h>
#include <unistd.h>

#include "async_tap.h"

static pthread_t main_thread;

/* A one-shot event between threads, waited for with a generous bound. */
typedef struct tevent {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  int set;
} tevent;

static void tevent_init(tevent *e) {
  pthread_mutex_init(&e->mu, NULL);
  pthread_cond_init(&e->cv, NULL);
  e->set = 0;
}

static void tevent_destroy(tevent *e) {
  pthread_cond_destroy(&e->cv);
  pthread_mutex_destroy(&e->mu);
}

static void tevent_set(tevent *e) {
  pthread_mutex_lock(&e->mu);
  e->set = 1;
  pthread_cond_broadcast(&e->cv);
  pthread_mutex_unlock(&e->mu);
}

/* Returns 1 if set within 30 s. */
static int tevent_wait(tevent *e) {
  struct timespec ts;
  int rc = 0;
  clock_gettime(CLOCK_REALTIME, &ts);
  ts.tv_sec += 30;
  pthread_mutex_lock(&e->mu);
  while (!e->set && rc != ETIMEDOUT)
    rc = pthread_cond_timedwait(&e->cv, &e->mu, &ts);
  rc = e->set;
  pthread_mutex_unlock(&e->mu);
  return rc;
}

static void nap(double s) {
  struct timespec ts;
  ts.tv_sec = (time_t)s;
  ts.tv_nsec = (long)((s - (double)ts.tv_sec) * 1e9);
  nanosleep(&ts, NULL);
}

static gust_executor *mkex(unsigned n) {
  gust_executor *ex = NULL;
  if (gust_executor_new(&ex, L, n, NULL) != 0)
    bail_out("cannot create an executor");
  return ex;
}

static gust_future *submit(gust_executor *ex, gust_executor_fn fn, void *ud) {
  gust_future *f = NULL;
  if (gust_executor_submit(ex, fn, ud, &f) != 0)
    bail_out("submit failed");
  return f;
}

static int fn_42(void *ud, void **result, gust_free_fn *dtor) {
  (void)ud;
  (void)dtor;
  *result = (void *)42;
  return 0;
}

static int fn_none(void *ud, void **result, gust_free_fn *dtor) {
  (void)ud;
  (void)result;
  (void)dtor;
  return 0;
}

static int fn_sleep(void *ud, void **result, gust_free_fn *dtor) {
  (void)result;
  (void)dtor;
  nap(*(double *)ud);
  return 0;
}

static int fn_fail(void *ud, void **result, gust_free_fn *dtor) {
  (void)ud;
  (void)result;
  (void)dtor;
  return GUST_EIO;
}

/* ------------------------------------------------------------------ */
/* WithTimeoutTest with executor futures                                */
/* ------------------------------------------------------------------ */

static void WithTimeout_test_timeout_concurrent_future(void) {
  gust_executor *ex = mkex(1);
  double d = 0.1;
  gust_future *f = submit(ex, fn_sleep, &d), *w;
  CHECK(gust_future_with_timeout(&w, gust_timeout_at(gust_loop_now(L)), f, NULL,
                                 0) == 0);
  t_wait(w);
  CHECK(gust_future_error(w) == GUST_ETIMEDOUT);
  t_wait(f);
  gust_future_unref(w);
  gust_future_unref(f);
  gust_executor_free(ex);
}

static void WithTimeout_test_completed_concurrent_future(void) {
  gust_executor *ex = mkex(1);
  gust_future *f = submit(ex, fn_none, NULL), *w;
  t_wait(f); /* wait for completion */
  CHECK(gust_future_with_timeout(&w, gust_timeout_in(3600), f, NULL, 0) == 0);
  CHECK(gust_future_done(w) && gust_future_error(w) == 0);
  gust_future_unref(w);
  gust_future_unref(f);
  gust_executor_free(ex);
}

static void WithTimeout_test_normal_concurrent_future(void) {
  gust_executor *ex = mkex(1);
  double d = 0.01;
  gust_future *f = submit(ex, fn_sleep, &d), *w;
  CHECK(gust_future_with_timeout(&w, gust_timeout_in(3600), f, NULL, 0) == 0);
  t_wait(w);
  CHECK(gust_future_error(w) == 0);
  gust_future_unref(w);
  gust_future_unref(f);
  gust_executor_free(ex);
}

/* ------------------------------------------------------------------ */
/* concurrent_test: ChainFutureTest, RunOnExecutorTest                  */
/* ------------------------------------------------------------------ */

static void ChainFuture_test_concurrent_futures(void) {
  gust_executor *ex = mkex(1);
  gust_future *f = submit(ex, fn_42, NULL), *g = t_future();
  CHECK(gust_future_chain(f, g) == 0);
  t_wait(g);
  CHECK(IV(gust_future_result(g)) == 42);
  gust_future_unref(f);
  gust_future_unref(g);
  gust_executor_free(ex);
}

/* The object with an executor field that run_on_executor uses. */
typedef struct object {
  gust_executor *executor;
  gust_executor *other;
} object;

static gust_future *object_f(object *o, int use_other) {
  return submit(use_other ? o->other : o->executor, fn_42, NULL);
}

static void run_on_executor(int use_other) {
  object o;
  gust_future *f;
  o.executor = mkex(1);
  o.other = mkex(1);
  f = object_f(&o, use_other);
  t_wait(f);
  CHECK(gust_future_error(f) == 0 && IV(gust_future_result(f)) == 42);
  gust_future_unref(f);
  gust_executor_free(o.executor);
  gust_executor_free(o.other);
}

static void RunOnExecutor_test_no_calling(void) { run_on_executor(0); }
static void RunOnExecutor_test_call_with_no_args(void) { run_on_executor(0); }
static void RunOnExecutor_test_call_with_executor(void) { run_on_executor(1); }
static void RunOnExecutor_test_async_await(void) { run_on_executor(0); }

/* ------------------------------------------------------------------ */
/* ioloop_test: TestIOLoopFutures                                       */
/* ------------------------------------------------------------------ */

static int cb_on_loop_thread = -1;
static void thread_cb(gust_future *f, void *ud) {
  (void)f;
  (void)ud;
  cb_on_loop_thread = pthread_equal(pthread_self(), main_thread) != 0;
}

static void Futures_test_add_future_threads(void) {
  gust_executor *ex = mkex(1);
  gust_future *f = submit(ex, fn_none, NULL);
  cb_on_loop_thread = -1;
  gust_future_add_done_callback(f, thread_cb, NULL);
  t_wait(f);
  t_spin(1);
  CHECK(gust_future_done(f) && gust_future_result(f) == NULL);
  CHECK(cb_on_loop_thread == 1);
  gust_future_unref(f);
  gust_executor_free(ex);
}

typedef struct pair {
  tevent *self, *other;
} pair;

static int fn_rendezvous(void *ud, void **result, gust_free_fn *dtor) {
  pair *p = ud;
  (void)dtor;
  tevent_set(p->self);
  /* Deadlocks (then fails after 30 s) unless both run in parallel. */
  if (!tevent_wait(p->other))
    return GUST_ETIMEDOUT;
  *result = p->self;
  return 0;
}

static void run_in_executor_parallel(void) {
  gust_executor *ex = mkex(2);
  tevent e1, e2;
  pair p1, p2;
  gust_future *k[2], *m;
  const gust_multi_result *r;
  tevent_init(&e1);
  tevent_init(&e2);
  p1.self = &e1;
  p1.other = &e2;
  p2.self = &e2;
  p2.other = &e1;
  k[0] = submit(ex, fn_rendezvous, &p1);
  k[1] = submit(ex, fn_rendezvous, &p2);
  gust_future_multi(&m, L, k, 2, NULL, 0, NULL);
  t_wait(m);
  r = gust_future_result(m);
  CHECK(r != NULL && r->n == 2 && r->values[0] == &e1 && r->values[1] == &e2);
  gust_future_unref(m);
  gust_future_unref(k[0]);
  gust_future_unref(k[1]);
  gust_executor_free(ex);
  tevent_destroy(&e1);
  tevent_destroy(&e2);
}

static void Futures_test_run_in_executor_gen(void) {
  run_in_executor_parallel();
}
static void Futures_test_run_in_executor_native(void) {
  run_in_executor_parallel();
}

static int fn_count_thread(void *ud, void **result, gust_free_fn *dtor) {
  (void)result;
  (void)dtor;
  *(int *)ud = pthread_equal(pthread_self(), main_thread) ? 2 : 1;
  return 0;
}

static void Futures_test_set_default_executor(void) {
  /* gust has no per-loop default executor: the executor chosen by the
   * caller is the one that runs the function, on one of its threads. */
  gust_executor *ex = mkex(1);
  int ran = 0;
  gust_future *f = submit(ex, fn_count_thread, &ran);
  t_wait(f);
  CHECK(ran == 1);
  gust_future_unref(f);
  gust_executor_free(ex);
}

/* ------------------------------------------------------------------ */
/* C-specific                                                           */
/* ------------------------------------------------------------------ */

static void t_errors_and_args(void) {
  gust_executor *ex = NULL;
  gust_future *f;
  CHECK(gust_executor_new(&ex, L, 0, NULL) == GUST_EINVAL);
  CHECK(gust_executor_new(&ex, L, 257, NULL) == GUST_EINVAL);
  ex = mkex(3);
  CHECK(gust_executor_threads(ex) == 3);
  CHECK(gust_executor_submit(ex, NULL, NULL, &f) == GUST_EINVAL);
  f = submit(ex, fn_fail, NULL);
  t_wait(f);
  CHECK(gust_future_error(f) == GUST_EIO);
  gust_future_unref(f);
  gust_executor_free(ex);
}

static int freed;
static void free_result(void *p) {
  (void)p;
  __atomic_add_fetch(&freed, 1, __ATOMIC_SEQ_CST);
}

static int fn_owned(void *ud, void **result, gust_free_fn *dtor) {
  (void)ud;
  *result = (void *)1;
  *dtor = free_result;
  return 0;
}

static void t_cancel_and_free(void) {
  gust_executor *ex = mkex(1);
  tevent gate;
  pair p;
  gust_future *block, *owned, *never;
  tevent other;
  freed = 0;
  tevent_init(&gate);
  tevent_init(&other);
  /* A cancelled future: the result is released with its destructor. */
  owned = submit(ex, fn_owned, NULL);
  gust_future_cancel(owned);
  /* A job never started when the executor is freed is cancelled. */
  p.self = &gate;
  p.other = &other;
  block = submit(ex, fn_rendezvous, &p);
  never = submit(ex, fn_none, NULL);
  CHECK(tevent_wait(&gate)); /* the pool thread is inside `block` */
  tevent_set(&other);
  gust_executor_free(ex);
  CHECK(gust_future_done(block) && gust_future_error(block) == 0);
  /* `never` was cancelled, unless the pool thread took it in the instant
   * between the release of `block` and the free: done either way. */
  CHECK(gust_future_done(never) &&
        (gust_future_cancelled(never) || gust_future_error(never) == 0));
  CHECK(freed == 1);
  gust_future_unref(owned);
  gust_future_unref(block);
  gust_future_unref(never);
  tevent_destroy(&gate);
  tevent_destroy(&other);
}

static int fn_square(void *ud, void **result, gust_free_fn *dtor) {
  long v = IV(ud);
  (void)dtor;
  if (v % 97 == 0)
    nap(0.0005);
  *result = (void *)(intptr_t)(v * v);
  return 0;
}

static void t_stress(void) {
  enum { N = 2000 };
  static gust_future *k[N];
  gust_executor *ex = mkex(8);
  gust_future *m;
  const gust_multi_result *r;
  long i;
  int good = 1;
  for (i = 0; i < N; i++)
    k[i] = submit(ex, fn_square, (void *)(intptr_t)i);
  gust_future_multi(&m, L, k, N, NULL, 0, NULL);
  t_wait(m);
  r = gust_future_result(m);
  CHECK(r != NULL && r->n == N);
  for (i = 0; r != NULL && i < N; i++)
    good &= IV(r->values[i]) == i * i;
  CHECK(good);
  gust_future_unref(m);
  for (i = 0; i < N; i++)
    gust_future_unref(k[i]);
  gust_executor_free(ex);
}

static void t_free_with_queued_work(void) {
  /* Free while many jobs are queued or running: every future ends up
   * done, nothing leaks, no completion arrives after the free. */
  enum { N = 200 };
  static gust_future *k[N];
  gust_executor *ex = mkex(4);
  long i;
  int all = 1;
  for (i = 0; i < N; i++)
    k[i] = submit(ex, fn_square, (void *)(intptr_t)i);
  gust_executor_free(ex);
  for (i = 0; i < N; i++) {
    all &= gust_future_done(k[i]);
    gust_future_unref(k[i]);
  }
  CHECK(all);
}

int main(void) {
  main_thread = pthread_self();
  t_run("WithTimeoutTest.test_timeout_concurrent_future",
        WithTimeout_test_timeout_concurrent_future);
  t_run("WithTimeoutTest.test_completed_concurrent_future",
        WithTimeout_test_completed_concurrent_future);
  t_run("WithTimeoutTest.test_normal_concurrent_future",
        WithTimeout_test_normal_concurrent_future);
  t_run("ChainFutureTest.test_concurrent_futures",
        ChainFuture_test_concurrent_futures);
  t_run("RunOnExecutorTest.test_no_calling", RunOnExecutor_test_no_calling);
  t_run("RunOnExecutorTest.test_call_with_no_args",
        RunOnExecutor_test_call_with_no_args);
  t_run("RunOnExecutorTest.test_call_with_executor",
        RunOnExecutor_test_call_with_executor);
  t_run("RunOnExecutorTest.test_async_await", RunOnExecutor_test_async_await);
  t_run("TestIOLoopFutures.test_add_future_threads",
        Futures_test_add_future_threads);
  t_run("TestIOLoopFutures.test_run_in_executor_gen",
        Futures_test_run_in_executor_gen);
  t_run("TestIOLoopFutures.test_run_in_executor_native",
        Futures_test_run_in_executor_native);
  t_run("TestIOLoopFutures.test_set_default_executor",
        Futures_test_set_default_executor);
  t_run("executor: argument checks and failing functions", t_errors_and_args);
  t_run("executor: cancelled futures and free with pending work",
        t_cancel_and_free);
  t_run("executor: 2000 jobs on 8 threads, results in order", t_stress);
  t_run("executor: free with queued work completes or cancels every future",
        t_free_with_queued_work);
  return done_testing();
}
