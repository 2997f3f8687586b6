/* Queue, LifoQueue, PriorityQueue: every test of Tornado's queues_test.py,
 * ported by name (the join tests run for all three kinds, as Tornado's
 * subclasses do). */
#include "config.h"

#include <gust/queues.h>

#include <stdint.h>

#include "async_tap.h"

#define P(v) ((void *)(intptr_t)(v))

static int int_cmp(const void *a, const void *b, void *ud) {
  long x = IV(a), y = IV(b);
  (void)ud;
  return x < y ? -1 : x > y;
}

static gust_queue_kind join_kind; /* the kind the join tests run for */

static gust_queue *mkq(gust_queue_kind kind, long maxsize) {
  gust_queue *q = NULL;
  if (gust_queue_new(&q, L, kind, maxsize, int_cmp, NULL, NULL) != 0)
    bail_out("cannot create a queue");
  return q;
}

static gust_future *put(gust_queue *q, long v, gust_timeout t) {
  gust_future *f = NULL;
  if (gust_queue_put(q, P(v), t, &f) != 0)
    bail_out("put failed");
  return f;
}

static gust_future *get(gust_queue *q, gust_timeout t) {
  gust_future *f = NULL;
  if (gust_queue_get(q, t, &f) != 0)
    bail_out("get failed");
  return f;
}

static long get_nowait(gust_queue *q) {
  void *item = P(-999);
  if (gust_queue_get_nowait(q, &item) != 0)
    return -999;
  return IV(item);
}

/* Waits for a get future and returns its item (-999 on error). */
static long await_item(gust_future *f) {
  long v = -999;
  if (t_wait(f) == 0 && gust_future_error(f) == 0)
    v = IV(gust_future_result(f));
  gust_future_unref(f);
  return v;
}

static void t_sleep(double s) {
  gust_future *f;
  gust_future_sleep(&f, L, s * TF, NULL);
  t_wait(f);
  gust_future_unref(f);
  /* As a coroutine resuming after the sleep: callbacks queued by timers
   * that fired in the same iteration as the sleep's have run. */
  t_spin(1);
}

static const gust_timeout NONE = {0, 0.0};

typedef struct qcall {
  gust_queue *q;
  long v;
} qcall;

static void put_nowait_cb(gust_loop *loop, void *ud) {
  qcall *c = ud;
  (void)loop;
  gust_queue_put_nowait(c->q, P(c->v));
}

static void get_discard_cb(gust_loop *loop, void *ud) {
  qcall *c = ud;
  (void)loop;
  gust_future_unref(get(c->q, NONE));
}

/* ------------------------------------------------------------------ */
/* QueueBasicTest                                                       */
/* ------------------------------------------------------------------ */

static void Basic_test_repr_and_str(void) {
  gust_queue *q = mkq(GUST_QUEUE_FIFO, 1);
  gust_future *g, *p[3];
  char buf[96];
  int i;
  g = get(q, NONE);
  gust_queue_describe(q, buf, sizeof(buf));
  CHECK(strncmp(buf, "<Queue", 6) == 0 && strstr(buf, "maxsize=1") &&
        strstr(buf, "getters[1]") && !strstr(buf, "putters") &&
        !strstr(buf, "tasks"));
  for (i = 0; i < 3; i++)
    p[i] = put(q, 0, NONE);
  /* Now the queue is full, the last putter blocks. */
  gust_queue_describe(q, buf, sizeof(buf));
  CHECK(!strstr(buf, "getters") && strstr(buf, "putters[1]") &&
        strstr(buf, "tasks=2"));
  CHECK(strcmp(buf, "<Queue maxsize=1 putters[1] tasks=2>") == 0);
  gust_future_unref(g);
  for (i = 0; i < 3; i++)
    gust_future_unref(p[i]);
  gust_queue_free(q);
}

static void Basic_test_order(void) {
  gust_queue *q = mkq(GUST_QUEUE_FIFO, 0);
  gust_queue_put_nowait(q, P(1));
  gust_queue_put_nowait(q, P(3));
  gust_queue_put_nowait(q, P(2));
  CHECK(get_nowait(q) == 1);
  CHECK(get_nowait(q) == 3);
  CHECK(get_nowait(q) == 2);
  gust_queue_free(q);
}

static void Basic_test_maxsize(void) {
  gust_queue *q = NULL;
  gust_future *f, *put2;
  /* C has no None: only the negative case applies. */
  CHECK(gust_queue_new(&q, L, GUST_QUEUE_FIFO, -1, NULL, NULL, NULL) ==
        GUST_EINVAL);
  q = mkq(GUST_QUEUE_FIFO, 2);
  CHECK(gust_queue_empty(q) && !gust_queue_full(q));
  CHECK(gust_queue_maxsize(q) == 2);
  f = put(q, 0, NONE);
  CHECK(gust_future_done(f));
  gust_future_unref(f);
  f = put(q, 1, NONE);
  CHECK(gust_future_done(f));
  gust_future_unref(f);
  CHECK(!gust_queue_empty(q) && gust_queue_full(q));
  put2 = put(q, 2, NONE);
  CHECK(!gust_future_done(put2));
  CHECK(await_item(get(q, NONE)) == 0); /* make room */
  CHECK(gust_future_done(put2));
  CHECK(!gust_queue_empty(q) && gust_queue_full(q));
  gust_future_unref(put2);
  gust_queue_free(q);
}

/* ------------------------------------------------------------------ */
/* QueueGetTest                                                         */
/* ------------------------------------------------------------------ */

static void Get_test_blocking_get(void) {
  gust_queue *q = mkq(GUST_QUEUE_FIFO, 0);
  gust_queue_put_nowait(q, P(0));
  CHECK(await_item(get(q, NONE)) == 0);
  gust_queue_free(q);
}

static void Get_test_nonblocking_get(void) {
  gust_queue *q = mkq(GUST_QUEUE_FIFO, 0);
  gust_queue_put_nowait(q, P(0));
  CHECK(get_nowait(q) == 0);
  gust_queue_free(q);
}

static void Get_test_nonblocking_get_exception(void) {
  gust_queue *q = mkq(GUST_QUEUE_FIFO, 0);
  void *item;
  CHECK(gust_queue_get_nowait(q, &item) == GUST_EQUEUEEMPTY);
  gust_queue_free(q);
}

static void Get_test_get_with_putters(void) {
  gust_queue *q = mkq(GUST_QUEUE_FIFO, 1);
  gust_future *p;
  gust_queue_put_nowait(q, P(0));
  p = put(q, 1, NONE);
  CHECK(await_item(get(q, NONE)) == 0);
  CHECK(t_wait(p) == 0 && gust_future_error(p) == 0 &&
        gust_future_result(p) == NULL);
  gust_future_unref(p);
  gust_queue_free(q);
}

static void Get_test_blocking_get_wait(void) {
  gust_queue *q = mkq(GUST_QUEUE_FIFO, 0);
  qcall c1 = {NULL, 1}, c2 = {NULL, 2};
  c1.q = c2.q = q;
  gust_future_unref(put(q, 0, NONE));
  gust_loop_call_later(L, 0.01 * TF, put_nowait_cb, &c1, NULL);
  gust_loop_call_later(L, 0.02 * TF, put_nowait_cb, &c2, NULL);
  CHECK(await_item(get(q, gust_timeout_in(30))) == 0);
  CHECK(await_item(get(q, gust_timeout_in(30))) == 1);
  CHECK(await_item(get(q, gust_timeout_in(30))) == 2);
  gust_queue_free(q);
}

static void Get_test_get_timeout(void) {
  gust_queue *q = mkq(GUST_QUEUE_FIFO, 0);
  gust_future *gt = get(q, gust_timeout_in(0.01 * TF)), *g = get(q, NONE);
  t_wait(gt);
  CHECK(gust_future_error(gt) == GUST_ETIMEDOUT);
  /* The timed-out getter does not eat the item. */
  gust_queue_put_nowait(q, P(0));
  CHECK(await_item(g) == 0);
  gust_future_unref(gt);
  gust_queue_free(q);
}

static void Get_test_get_zero_timeout(void) {
  gust_queue *q = mkq(GUST_QUEUE_FIFO, 0);
  gust_future *g = get(q, gust_timeout_in(0));
  t_wait(g);
  CHECK(gust_future_error(g) == GUST_ETIMEDOUT);
  gust_future_unref(g);
  /* With an item available a zero timeout still gets it at once. */
  gust_queue_put_nowait(q, P(5));
  g = get(q, gust_timeout_in(0));
  CHECK(gust_future_done(g) && IV(gust_future_result(g)) == 5);
  gust_future_unref(g);
  gust_queue_free(q);
}

static void Get_test_get_timeout_preempted(void) {
  gust_queue *q = mkq(GUST_QUEUE_FIFO, 0);
  gust_future *g = get(q, gust_timeout_in(0.01 * TF));
  gust_future_unref(put(q, 0, NONE));
  t_sleep(0.02);
  CHECK(await_item(g) == 0);
  gust_queue_free(q);
}

static void Get_test_get_clears_timed_out_putters(void) {
  gust_queue *q = mkq(GUST_QUEUE_FIFO, 1);
  gust_future *putters[10], *p10, *p11;
  int i;
  /* The first putter succeeds, the rest block then expire. */
  for (i = 0; i < 10; i++)
    putters[i] = put(q, i, gust_timeout_in(0.01 * TF));
  p10 = put(q, 10, NONE);
  CHECK(gust_queue_putters(q) == 10);
  t_sleep(0.02);
  CHECK(!gust_future_done(p10)); /* the final waiter is still active */
  p11 = put(q, 11, NONE);
  CHECK(await_item(get(q, NONE)) == 0);
  CHECK(gust_queue_putters(q) == 1);
  CHECK(gust_future_done(p10) && !gust_future_done(p11));
  for (i = 1; i < 10; i++)
    CHECK(gust_future_error(putters[i]) == GUST_ETIMEDOUT);
  for (i = 0; i < 10; i++)
    gust_future_unref(putters[i]);
  gust_future_unref(p10);
  gust_future_unref(p11);
  gust_queue_free(q);
}

static void Get_test_get_clears_timed_out_getters(void) {
  gust_queue *q = mkq(GUST_QUEUE_FIFO, 0);
  gust_future *getters[10], *g, *g2;
  int i;
  for (i = 0; i < 10; i++)
    getters[i] = get(q, gust_timeout_in(0.01 * TF));
  g = get(q, NONE);
  CHECK(gust_queue_getters(q) == 11);
  t_sleep(0.02);
  CHECK(!gust_future_done(g));
  g2 = get(q, NONE);
  CHECK(gust_queue_getters(q) == 2);
  for (i = 0; i < 10; i++) {
    CHECK(gust_future_error(getters[i]) == GUST_ETIMEDOUT);
    gust_future_unref(getters[i]);
  }
  gust_future_unref(g);
  gust_future_unref(g2);
  gust_queue_free(q);
}

static void Get_test_async_for(void) {
  gust_queue *q = mkq(GUST_QUEUE_FIFO, 0);
  long i, got[5];
  for (i = 0; i < 5; i++)
    gust_future_unref(put(q, i, NONE));
  for (i = 0; i < 5; i++)
    got[i] = await_item(get(q, NONE));
  for (i = 0; i < 5; i++)
    CHECK(got[i] == i);
  gust_queue_free(q);
}

/* ------------------------------------------------------------------ */
/* QueuePutTest                                                         */
/* ------------------------------------------------------------------ */

static void Put_test_blocking_put(void) {
  gust_queue *q = mkq(GUST_QUEUE_FIFO, 0);
  gust_future_unref(put(q, 0, NONE));
  CHECK(get_nowait(q) == 0);
  gust_queue_free(q);
}

static void Put_test_nonblocking_put_exception(void) {
  gust_queue *q = mkq(GUST_QUEUE_FIFO, 1);
  gust_future_unref(put(q, 0, NONE));
  CHECK(gust_queue_put_nowait(q, P(1)) == GUST_EQUEUEFULL);
  gust_queue_free(q);
}

static void Put_test_put_with_getters(void) {
  gust_queue *q = mkq(GUST_QUEUE_FIFO, 0);
  gust_future *g0 = get(q, NONE), *g1 = get(q, NONE), *p;
  p = put(q, 0, NONE);
  t_wait(p);
  gust_future_unref(p);
  CHECK(await_item(g0) == 0);
  p = put(q, 1, NONE);
  t_wait(p);
  gust_future_unref(p);
  CHECK(await_item(g1) == 1);
  gust_queue_free(q);
}

static int cont_ran;
static void cont_cb(gust_future *f, void *ud) {
  (void)f;
  (void)ud;
  cont_ran++;
}

static void Put_test_nonblocking_put_with_getters(void) {
  gust_queue *q = mkq(GUST_QUEUE_FIFO, 0);
  gust_future *g0 = get(q, NONE), *g1 = get(q, NONE), *m;
  cont_ran = 0;
  gust_future_add_done_callback(g0, cont_cb, NULL);
  gust_queue_put_nowait(q, P(0));
  /* put_nowait does not run the getter's continuation at once. */
  CHECK(cont_ran == 0);
  gust_future_moment(&m, L, NULL);
  t_wait(m);
  gust_future_unref(m);
  CHECK(cont_ran == 1);
  CHECK(await_item(g0) == 0);
  gust_queue_put_nowait(q, P(1));
  CHECK(await_item(g1) == 1);
  gust_queue_free(q);
}

static void Put_test_blocking_put_wait(void) {
  gust_queue *q = mkq(GUST_QUEUE_FIFO, 1);
  qcall c = {NULL, 0};
  gust_future *k[2], *m;
  c.q = q;
  gust_queue_put_nowait(q, P(0));
  gust_loop_call_later(L, 0.01 * TF, get_discard_cb, &c, NULL);
  gust_loop_call_later(L, 0.02 * TF, get_discard_cb, &c, NULL);
  k[0] = put(q, 0, NONE);
  k[1] = put(q, 1, NONE);
  CHECK(!gust_future_done(k[0]) && !gust_future_done(k[1]));
  gust_future_multi(&m, L, k, 2, NULL, 0, NULL);
  t_wait(m);
  CHECK(gust_future_error(m) == 0);
  gust_future_unref(m);
  gust_future_unref(k[0]);
  gust_future_unref(k[1]);
  gust_queue_free(q);
}

static void Put_test_put_timeout(void) {
  gust_queue *q = mkq(GUST_QUEUE_FIFO, 1);
  gust_future *pt, *p;
  gust_queue_put_nowait(q, P(0)); /* now it is full */
  pt = put(q, 1, gust_timeout_in(0.01 * TF));
  p = put(q, 2, NONE);
  t_wait(pt);
  CHECK(gust_future_error(pt) == GUST_ETIMEDOUT);
  CHECK(get_nowait(q) == 0);
  /* 1 never entered the queue. */
  CHECK(await_item(get(q, NONE)) == 2);
  /* The final get unblocked this putter. */
  CHECK(t_wait(p) == 0 && gust_future_error(p) == 0);
  gust_future_unref(pt);
  gust_future_unref(p);
  gust_queue_free(q);
}

static void Put_test_put_timeout_preempted(void) {
  gust_queue *q = mkq(GUST_QUEUE_FIFO, 1);
  gust_future *p;
  gust_queue_put_nowait(q, P(0));
  p = put(q, 1, gust_timeout_in(0.01 * TF));
  gust_future_unref(get(q, NONE));
  t_sleep(0.02);
  CHECK(gust_future_done(p) && gust_future_error(p) == 0);
  gust_future_unref(p);
  gust_queue_free(q);
}

static void Put_test_put_clears_timed_out_putters(void) {
  gust_queue *q = mkq(GUST_QUEUE_FIFO, 1);
  gust_future *putters[10], *p10, *p11;
  int i;
  for (i = 0; i < 10; i++)
    putters[i] = put(q, i, gust_timeout_in(0.01 * TF));
  p10 = put(q, 10, NONE);
  CHECK(gust_queue_putters(q) == 10);
  t_sleep(0.02);
  CHECK(!gust_future_done(p10));
  p11 = put(q, 11, NONE);
  CHECK(gust_queue_putters(q) == 2);
  for (i = 1; i < 10; i++)
    CHECK(gust_future_error(putters[i]) == GUST_ETIMEDOUT);
  for (i = 0; i < 10; i++)
    gust_future_unref(putters[i]);
  gust_future_unref(p10);
  gust_future_unref(p11);
  gust_queue_free(q);
}

static void Put_test_put_clears_timed_out_getters(void) {
  gust_queue *q = mkq(GUST_QUEUE_FIFO, 0);
  gust_future *getters[10], *g, *g2;
  int i;
  for (i = 0; i < 10; i++)
    getters[i] = get(q, gust_timeout_in(0.01 * TF));
  g = get(q, NONE);
  g2 = get(q, NONE);
  CHECK(gust_queue_getters(q) == 12);
  t_sleep(0.02);
  CHECK(!gust_future_done(g));
  gust_future_unref(put(q, 0, NONE));
  CHECK(gust_queue_getters(q) == 1);
  CHECK(await_item(g) == 0);
  for (i = 0; i < 10; i++) {
    CHECK(gust_future_error(getters[i]) == GUST_ETIMEDOUT);
    gust_future_unref(getters[i]);
  }
  gust_future_unref(g2);
  gust_queue_free(q);
}

static void Put_test_float_maxsize(void) {
  /* Tornado's maxsize 1.3 acts as 2; a C maxsize is integral. */
  gust_queue *q = mkq(GUST_QUEUE_FIFO, 2);
  gust_future *p;
  CHECK(gust_queue_empty(q) && !gust_queue_full(q));
  gust_queue_put_nowait(q, P(0));
  gust_queue_put_nowait(q, P(1));
  CHECK(!gust_queue_empty(q) && gust_queue_full(q));
  CHECK(gust_queue_put_nowait(q, P(2)) == GUST_EQUEUEFULL);
  CHECK(get_nowait(q) == 0 && get_nowait(q) == 1);
  CHECK(gust_queue_empty(q));
  p = put(q, 0, NONE);
  CHECK(gust_future_done(p));
  gust_future_unref(p);
  gust_future_unref(put(q, 1, NONE));
  p = put(q, 2, NONE);
  CHECK(!gust_future_done(p));
  CHECK(get_nowait(q) == 0);
  CHECK(gust_future_done(p));
  gust_future_unref(p);
  gust_queue_free(q);
}

/* ------------------------------------------------------------------ */
/* QueueJoinTest (for each kind)                                        */
/* ------------------------------------------------------------------ */

static void Join_test_task_done_underflow(void) {
  gust_queue *q = mkq(join_kind, 0);
  CHECK(gust_queue_task_done(q) == GUST_EUNDERFLOW);
  gust_queue_free(q);
}

typedef struct worker {
  gust_queue *q;
  long *acc;
  int n;
} worker;

static void worker_step(gust_future *f, void *ud);

static void worker_next(worker *w) {
  gust_future *g = get(w->q, NONE);
  gust_future_add_done_callback(g, worker_step, w);
  gust_future_unref(g);
}

static int sleeping; /* worker sleeps in flight */

static void worker_slept(gust_future *f, void *ud) {
  (void)f;
  sleeping--;
  worker_next(ud);
}

static void worker_step(gust_future *f, void *ud) {
  worker *w = ud;
  gust_future *s;
  if (gust_future_error(f) != 0)
    return; /* cancelled when the queue is freed */
  *w->acc += IV(gust_future_result(f));
  gust_queue_task_done(w->q);
  /* Tornado sleeps random() * 0.01; here a varying, bounded sleep. */
  gust_future_sleep(&s, L, 0.001 * (w->n++ % 3), NULL);
  sleeping++;
  gust_future_add_done_callback(s, worker_slept, w);
  gust_future_unref(s);
}

static void Join_test_task_done(void) {
  gust_queue *q = mkq(join_kind, 0);
  long acc = 0, i;
  worker w1 = {NULL, NULL, 0}, w2 = {NULL, NULL, 1};
  gust_future *j;
  for (i = 0; i < 100; i++)
    gust_queue_put_nowait(q, P(i));
  w1.q = w2.q = q;
  w1.acc = w2.acc = &acc;
  worker_next(&w1);
  worker_next(&w2);
  gust_queue_join(q, NONE, &j);
  t_wait(j);
  CHECK(gust_future_error(j) == 0);
  CHECK(acc == 4950);
  gust_future_unref(j);
  while (sleeping > 0)
    t_sleep(0.005);
  gust_queue_free(q);
  t_spin(2);
}

static void Join_test_task_done_delay(void) {
  gust_queue *q = mkq(join_kind, 0);
  gust_future *j, *m;
  gust_queue_put_nowait(q, P(0));
  gust_queue_join(q, NONE, &j);
  CHECK(!gust_future_done(j));
  CHECK(await_item(get(q, NONE)) == 0);
  CHECK(!gust_future_done(j));
  gust_future_moment(&m, L, NULL);
  t_wait(m);
  gust_future_unref(m);
  CHECK(!gust_future_done(j));
  gust_queue_task_done(q);
  CHECK(gust_future_done(j));
  gust_future_unref(j);
  gust_queue_free(q);
}

static void Join_test_join_empty_queue(void) {
  gust_queue *q = mkq(join_kind, 0);
  gust_future *j;
  gust_queue_join(q, NONE, &j);
  CHECK(t_wait(j) == 0 && gust_future_error(j) == 0);
  gust_future_unref(j);
  gust_queue_join(q, NONE, &j);
  CHECK(t_wait(j) == 0 && gust_future_error(j) == 0);
  gust_future_unref(j);
  gust_queue_free(q);
}

static void Join_test_join_timeout(void) {
  gust_queue *q = mkq(join_kind, 0);
  gust_future *j;
  gust_future_unref(put(q, 0, NONE));
  gust_queue_join(q, gust_timeout_in(0.01 * TF), &j);
  t_wait(j);
  CHECK(gust_future_error(j) == GUST_ETIMEDOUT);
  gust_future_unref(j);
  gust_queue_free(q);
}

/* The vectors use a priority in the item's tens and an id in its units:
 * (1,a) = 11, (0,b) = 2, (3,c) = 33, (2,d) = 24. */
static int prio_cmp(const void *a, const void *b, void *ud) {
  long x = IV(a) / 10, y = IV(b) / 10;
  (void)ud;
  return x < y ? -1 : x > y;
}

static void PriorityJoin_test_order(void) {
  gust_queue *q = NULL;
  gust_future *p1, *p2;
  gust_queue_new(&q, L, GUST_QUEUE_PRIORITY, 2, prio_cmp, NULL, NULL);
  gust_queue_put_nowait(q, P(11));
  gust_queue_put_nowait(q, P(2));
  CHECK(gust_queue_full(q));
  p1 = put(q, 33, NONE);
  p2 = put(q, 24, NONE);
  CHECK(get_nowait(q) == 2);
  CHECK(await_item(get(q, NONE)) == 11);
  CHECK(get_nowait(q) == 24);
  CHECK(await_item(get(q, NONE)) == 33);
  CHECK(gust_queue_empty(q));
  gust_future_unref(p1);
  gust_future_unref(p2);
  gust_queue_free(q);
}

static void LifoJoin_test_order(void) {
  gust_queue *q = mkq(GUST_QUEUE_LIFO, 2);
  gust_future *p1, *p2;
  gust_queue_put_nowait(q, P(1));
  gust_queue_put_nowait(q, P(0));
  CHECK(gust_queue_full(q));
  p1 = put(q, 3, NONE);
  p2 = put(q, 2, NONE);
  CHECK(get_nowait(q) == 3);
  CHECK(await_item(get(q, NONE)) == 2);
  CHECK(get_nowait(q) == 0);
  CHECK(await_item(get(q, NONE)) == 1);
  CHECK(gust_queue_empty(q));
  gust_future_unref(p1);
  gust_future_unref(p2);
  gust_queue_free(q);
}

/* ------------------------------------------------------------------ */
/* ProducerConsumerTest                                                 */
/* ------------------------------------------------------------------ */

typedef struct pc {
  gust_queue *q;
  long history[16];
  int nh;
  long next;
  gust_future *produced;
} pc;

static void consumer_got(gust_future *f, void *ud);

static void consumer_next(pc *s) {
  gust_future *g = get(s->q, NONE);
  gust_future_add_done_callback(g, consumer_got, s);
  gust_future_unref(g);
}

static void consumer_got(gust_future *f, void *ud) {
  pc *s = ud;
  if (gust_future_error(f) != 0)
    return;
  s->history[s->nh++] = IV(gust_future_result(f));
  gust_queue_task_done(s->q);
  consumer_next(s);
}

static void producer_step(gust_future *f, void *ud) {
  pc *s = ud;
  gust_future *p;
  (void)f;
  if (s->next == 10) {
    gust_future_set_result(s->produced, NULL, NULL);
    return;
  }
  p = put(s->q, s->next++, NONE);
  gust_future_add_done_callback(p, producer_step, s);
  gust_future_unref(p);
}

static void ProducerConsumer_test_producer_consumer(void) {
  pc s;
  gust_future *j;
  int i, good = 1;
  memset(&s, 0, sizeof(s));
  s.q = mkq(GUST_QUEUE_FIFO, 3);
  s.produced = t_future();
  consumer_next(&s);
  producer_step(NULL, &s);
  t_wait(s.produced);
  gust_queue_join(s.q, NONE, &j);
  t_wait(j);
  CHECK(s.nh == 10);
  for (i = 0; i < s.nh; i++)
    good &= s.history[i] == i;
  CHECK(good);
  gust_future_unref(j);
  gust_future_unref(s.produced);
  gust_queue_free(s.q);
  t_spin(2);
}

/* ------------------------------------------------------------------ */
/* C-specific                                                           */
/* ------------------------------------------------------------------ */

static void t_priority_stable(void) {
  gust_queue *q = NULL;
  long i;
  int good = 1;
  /* Equal priorities come out in insertion order. */
  gust_queue_new(&q, L, GUST_QUEUE_PRIORITY, 0, prio_cmp, NULL, NULL);
  for (i = 0; i < 9; i++)
    gust_queue_put_nowait(q, P((2 - i % 3) * 10 + i));
  /* Priorities 2,1,0,2,1,0,...: the three 0s first (items 2, 5, 8 in
   * insertion order), then the 1s, then the 2s. */
  {
    static const long want[] = {2, 5, 8, 11, 14, 17, 20, 23, 26};
    for (i = 0; i < 9; i++)
      good &= get_nowait(q) == want[i];
  }
  CHECK(good);
  gust_queue_free(q);
}

static void t_failmem(void) {
  gust_failmem fm;
  unsigned long i;
  int done = 0;
  for (i = 1; i < 80 && !done; i++) {
    gust_queue *q = NULL;
    gust_future *g = NULL, *p = NULL;
    long k;
    int rc = 0;
    gust_failmem_init(&fm, NULL);
    gust_failmem_reset(&fm, i);
    if (gust_queue_new(&q, L, GUST_QUEUE_FIFO, 4, NULL, NULL, &fm.mem) != 0)
      continue;
    for (k = 0; k < 4 && rc == 0; k++)
      rc = gust_queue_put_nowait(q, P(k));
    if (rc == 0 && gust_queue_put(q, P(9), gust_timeout_in(30), &p) == 0 &&
        gust_queue_get(q, NONE, &g) == 0)
      done = 1;
    gust_queue_free(q);
    gust_future_unref(g);
    gust_future_unref(p);
  }
  CHECK(done);
}

int main(void) {
  static const struct {
    const char *cls;
    gust_queue_kind kind;
  } kinds[] = {{"QueueJoinTest", GUST_QUEUE_FIFO},
               {"PriorityQueueJoinTest", GUST_QUEUE_PRIORITY},
               {"LifoQueueJoinTest", GUST_QUEUE_LIFO}};
  static const struct {
    const char *name;
    void (*fn)(void);
  } join_tests[] = {
      {"test_task_done_underflow", Join_test_task_done_underflow},
      {"test_task_done", Join_test_task_done},
      {"test_task_done_delay", Join_test_task_done_delay},
      {"test_join_empty_queue", Join_test_join_empty_queue},
      {"test_join_timeout", Join_test_join_timeout},
  };
  size_t i, j;
  char name[96];

  t_run("QueueBasicTest.test_repr_and_str", Basic_test_repr_and_str);
  t_run("QueueBasicTest.test_order", Basic_test_order);
  t_run("QueueBasicTest.test_maxsize", Basic_test_maxsize);
  t_run("QueueGetTest.test_blocking_get", Get_test_blocking_get);
  t_run("QueueGetTest.test_nonblocking_get", Get_test_nonblocking_get);
  t_run("QueueGetTest.test_nonblocking_get_exception",
        Get_test_nonblocking_get_exception);
  t_run("QueueGetTest.test_get_with_putters", Get_test_get_with_putters);
  t_run("QueueGetTest.test_blocking_get_wait", Get_test_blocking_get_wait);
  t_run("QueueGetTest.test_get_timeout", Get_test_get_timeout);
  t_run("QueueGetTest.test_get_zero_timeout", Get_test_get_zero_timeout);
  t_run("QueueGetTest.test_get_timeout_preempted",
        Get_test_get_timeout_preempted);
  t_run("QueueGetTest.test_get_clears_timed_out_putters",
        Get_test_get_clears_timed_out_putters);
  t_run("QueueGetTest.test_get_clears_timed_out_getters",
        Get_test_get_clears_timed_out_getters);
  t_run("QueueGetTest.test_async_for", Get_test_async_for);
  t_run("QueuePutTest.test_blocking_put", Put_test_blocking_put);
  t_run("QueuePutTest.test_nonblocking_put_exception",
        Put_test_nonblocking_put_exception);
  t_run("QueuePutTest.test_put_with_getters", Put_test_put_with_getters);
  t_run("QueuePutTest.test_nonblocking_put_with_getters",
        Put_test_nonblocking_put_with_getters);
  t_run("QueuePutTest.test_blocking_put_wait", Put_test_blocking_put_wait);
  t_run("QueuePutTest.test_put_timeout", Put_test_put_timeout);
  t_run("QueuePutTest.test_put_timeout_preempted",
        Put_test_put_timeout_preempted);
  t_run("QueuePutTest.test_put_clears_timed_out_putters",
        Put_test_put_clears_timed_out_putters);
  t_run("QueuePutTest.test_put_clears_timed_out_getters",
        Put_test_put_clears_timed_out_getters);
  t_run("QueuePutTest.test_float_maxsize", Put_test_float_maxsize);
  for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
    join_kind = kinds[i].kind;
    for (j = 0; j < sizeof(join_tests) / sizeof(join_tests[0]); j++) {
      snprintf(name, sizeof(name), "%s.%s", kinds[i].cls, join_tests[j].name);
      t_run(name, join_tests[j].fn);
    }
  }
  t_run("PriorityQueueJoinTest.test_order", PriorityJoin_test_order);
  t_run("LifoQueueJoinTest.test_order", LifoJoin_test_order);
  t_run("ProducerConsumerTest.test_producer_consumer",
        ProducerConsumer_test_producer_consumer);
  t_run("queues: priority ties come out in insertion order", t_priority_stable);
  t_run("queues: every allocation failing in turn", t_failmem);
  return done_testing();
}
