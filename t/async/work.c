/* Thread pool work and asynchronous getaddrinfo, on whichever backend the
 * build selected. Concurrency is checked with rendezvous between jobs, not
 * with timing. */
#include "config.h"

#include <gust/loop.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "../tap.h"

#define WATCHDOG 30.0

static void watchdog_cb(gust_loop *loop, void *ud) {
  *(int *)ud = 1;
  gust_loop_stop(loop);
}

static int flag_set(gust_loop *loop, void *ud) {
  (void)loop;
  return *(int *)ud != 0;
}

static int run_until_flag(gust_loop *loop, int *flag) {
  gust_timer wd;
  int rc, fired = 0;
  gust_loop_call_later(loop, WATCHDOG, watchdog_cb, &fired, &wd);
  rc = gust_loop_run_until(loop, flag_set, flag);
  gust_loop_cancel(loop, wd);
  return fired ? -1 : rc;
}

/* A one-shot event between threads, waited for with a generous timeout. */
typedef struct event {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  int set;
} event;

static void event_init(event *e) {
  pthread_mutex_init(&e->mu, NULL);
  pthread_cond_init(&e->cv, NULL);
  e->set = 0;
}

static void event_destroy(event *e) {
  pthread_cond_destroy(&e->cv);
  pthread_mutex_destroy(&e->mu);
}

static void event_set(event *e) {
  pthread_mutex_lock(&e->mu);
  e->set = 1;
  pthread_cond_broadcast(&e->cv);
  pthread_mutex_unlock(&e->mu);
}

/* Returns 1 if set within `secs`. */
static int event_wait(event *e, int secs) {
  struct timespec ts;
  int rc = 0;
  clock_gettime(CLOCK_REALTIME, &ts);
  ts.tv_sec += secs;
  pthread_mutex_lock(&e->mu);
  while (!e->set && rc != ETIMEDOUT)
    rc = pthread_cond_timedwait(&e->cv, &e->mu, &ts);
  rc = e->set;
  pthread_mutex_unlock(&e->mu);
  return rc;
}

/* ------------------------------------------------------------------ */

typedef struct pstate {
  pthread_t loop_thread;
  event a_started, b_started;
  int a_saw_b, b_saw_a;
  int on_loop_thread; /* work functions that ran on the loop thread */
  int done_calls, done_wrong_thread, done_status_bad;
  int done;
} pstate;

static pstate g_p;

static void job_a(void *ud) {
  pstate *p = ud;
  if (pthread_equal(pthread_self(), p->loop_thread))
    p->on_loop_thread++;
  event_set(&p->a_started);
  p->a_saw_b = event_wait(&p->b_started, 10);
}

static void job_b(void *ud) {
  pstate *p = ud;
  if (pthread_equal(pthread_self(), p->loop_thread))
    p->on_loop_thread++;
  event_set(&p->b_started);
  p->b_saw_a = event_wait(&p->a_started, 10);
}

static void job_done(gust_loop *loop, int status, void *ud) {
  pstate *p = ud;
  (void)loop;
  if (!pthread_equal(pthread_self(), p->loop_thread))
    p->done_wrong_thread++;
  if (status != 0)
    p->done_status_bad++;
  if (++p->done_calls == 2)
    p->done = 1;
}

static void test_parallel(void) {
  gust_loop *loop;
  pstate *p = &g_p;
  gust_work *h = NULL;
  int rc;
  memset(p, 0, sizeof(*p));
  event_init(&p->a_started);
  event_init(&p->b_started);
  p->loop_thread = pthread_self();
  gust_loop_new(&loop, NULL);
  is_int(gust_loop_set_pool_size(loop, 0), GUST_EINVAL, "pool: size 0 refused");
  is_int(gust_loop_set_pool_size(loop, 2), 0, "pool: size set");
  is_int(gust_loop_queue_work(loop, job_a, job_done, p, &h), 0,
         "pool: job queued");
  ok(h != NULL, "pool: handle returned");
  is_int(gust_loop_queue_work(loop, job_b, job_done, p, NULL), 0,
         "pool: second job queued");
  is_int(gust_loop_set_pool_size(loop, 3), GUST_ESTATE,
         "pool: size fixed once started");
  is_int(gust_loop_queue_work(loop, NULL, job_done, p, NULL), GUST_EINVAL,
         "pool: NULL work refused");
  rc = run_until_flag(loop, &p->done);
  is_int(rc, 0, "pool: both completions delivered");
  ok(p->a_saw_b && p->b_saw_a,
     "pool: two blocking jobs ran in parallel (test_run_in_executor_gen)");
  is_int(p->on_loop_thread, 0, "pool: work ran off the loop thread");
  is_int(p->done_wrong_thread, 0,
         "pool: completions ran on the loop thread (test_add_future_threads)");
  is_int(p->done_status_bad, 0, "pool: completions reported success");
  gust_loop_free(loop);
  event_destroy(&p->a_started);
  event_destroy(&p->b_started);
}

/* ------------------------------------------------------------------ */

typedef struct cstate {
  event started, release;
  int blocker_status, other_status;
  int calls;
  int order[2];
  int done;
} cstate;

static void blocker(void *ud) {
  cstate *c = ud;
  event_set(&c->started);
  event_wait(&c->release, 20);
}

static void never(void *ud) { (void)ud; }

static void blocker_done(gust_loop *loop, int status, void *ud) {
  cstate *c = ud;
  (void)loop;
  c->blocker_status = status;
  c->order[c->calls++ & 1] = 1;
  if (c->calls == 2)
    c->done = 1;
}

static void other_done(gust_loop *loop, int status, void *ud) {
  cstate *c = ud;
  (void)loop;
  c->other_status = status;
  c->order[c->calls++ & 1] = 2;
  /* The blocker may finish now. */
  event_set(&c->release);
  if (c->calls == 2)
    c->done = 1;
}

static void test_cancel(void) {
  static cstate c;
  gust_loop *loop;
  gust_work *hb, *ho;
  int rc;
  memset(&c, 0, sizeof(c));
  event_init(&c.started);
  event_init(&c.release);
  c.blocker_status = c.other_status = 1;
  gust_loop_new(&loop, NULL);
  gust_loop_set_pool_size(loop, 1);
  gust_loop_queue_work(loop, blocker, blocker_done, &c, &hb);
  gust_loop_queue_work(loop, never, other_done, &c, &ho);
  ok(event_wait(&c.started, 20), "cancel: the blocker started");
  is_int(gust_loop_cancel_work(loop, hb), GUST_EBUSY,
         "cancel: running work cannot be cancelled");
  is_int(gust_loop_cancel_work(loop, ho), 0, "cancel: queued work cancelled");
  is_int(c.calls, 0, "cancel: no completion inside the cancel call");
  rc = run_until_flag(loop, &c.done);
  is_int(rc, 0, "cancel: both completions delivered");
  is_int(c.other_status, GUST_ECANCELLED,
         "cancel: the cancelled work reports GUST_ECANCELLED");
  is_int(c.blocker_status, 0, "cancel: the running work completed");
  ok(c.order[0] == 2 && c.order[1] == 1,
     "cancel: the cancellation completed first");
  gust_loop_free(loop);
  event_destroy(&c.started);
  event_destroy(&c.release);
}

/* ------------------------------------------------------------------ */

typedef struct gstate {
  int status;
  int family;
  int port;
  int count;
  int done;
} gstate;

static void gai_cb(gust_loop *loop, int status, const struct addrinfo *res,
                   void *ud) {
  gstate *g = ud;
  (void)loop;
  g->status = status;
  for (; res != NULL; res = res->ai_next) {
    g->count++;
    g->family = res->ai_family;
    if (res->ai_family == AF_INET)
      g->port = ntohs(((const struct sockaddr_in *)res->ai_addr)->sin_port);
    else if (res->ai_family == AF_INET6)
      g->port = ntohs(((const struct sockaddr_in6 *)res->ai_addr)->sin6_port);
  }
  g->done = 1;
}

static void test_getaddrinfo(void) {
  gust_loop *loop;
  gstate g;
  int rc;
  gust_loop_new(&loop, NULL);

  memset(&g, 0, sizeof(g));
  g.status = 1;
  rc = gust_loop_getaddrinfo(loop, "127.0.0.1", "8080", 4, gai_cb, &g, NULL);
  is_int(rc, 0, "getaddrinfo: numeric request queued");
  is_int(g.done, 0, "getaddrinfo: no callback inside the call");
  run_until_flag(loop, &g.done);
  is_int(g.status, 0, "getaddrinfo: numeric address resolved");
  ok(g.count >= 1 && g.family == AF_INET && g.port == 8080,
     "getaddrinfo: IPv4 address with the port");

  memset(&g, 0, sizeof(g));
  g.status = 1;
  gust_loop_getaddrinfo(loop, "localhost", "80", 0, gai_cb, &g, NULL);
  run_until_flag(loop, &g.done);
  is_int(g.status, 0, "getaddrinfo: localhost resolved");
  ok(g.count >= 1 && g.port == 80, "getaddrinfo: localhost has addresses");

  memset(&g, 0, sizeof(g));
  g.status = 1;
  gust_loop_getaddrinfo(loop, "no.such.host.invalid", "80", 0, gai_cb, &g,
                        NULL);
  run_until_flag(loop, &g.done);
  is_int(g.status, GUST_ERESOLVE, "getaddrinfo: unknown name reported");
  is_int(g.count, 0, "getaddrinfo: no list with an error");

  is_int(gust_loop_getaddrinfo(loop, NULL, NULL, 0, gai_cb, &g, NULL),
         GUST_EINVAL, "getaddrinfo: host and service both NULL refused");
  is_int(gust_loop_getaddrinfo(loop, "x", "1", 5, gai_cb, &g, NULL),
         GUST_EINVAL, "getaddrinfo: bad family refused");
  gust_loop_free(loop);
}

/* ------------------------------------------------------------------ */

static void sleeper(void *ud) {
  (void)ud;
  usleep(30000);
}

static void must_not_run(gust_loop *loop, int status, void *ud) {
  (void)loop;
  (void)status;
  ++*(int *)ud;
}

static void must_not_resolve(gust_loop *loop, int status,
                             const struct addrinfo *res, void *ud) {
  (void)loop;
  (void)status;
  (void)res;
  ++*(int *)ud;
}

static void test_teardown(void) {
  gust_failmem fm;
  gust_loop *loop;
  int calls = 0;
  gust_failmem_init(&fm, NULL);
  gust_loop_new(&loop, &fm.mem);
  gust_loop_set_pool_size(loop, 1);
  gust_loop_queue_work(loop, sleeper, must_not_run, &calls, NULL);
  gust_loop_queue_work(loop, sleeper, must_not_run, &calls, NULL);
  gust_loop_getaddrinfo(loop, "127.0.0.1", "1", 0, must_not_resolve, &calls,
                        NULL);
  gust_loop_free(loop);
  is_int(calls, 0, "teardown: completions are dropped at free");
  is_int(fm.live_blocks, 0, "teardown: outstanding work leaks nothing");
}

int main(void) {
  note("loop backend: %s", gust_loop_backend_name());
  if (tap_group("parallel"))
    test_parallel();
  if (tap_group("cancel"))
    test_cancel();
  if (tap_group("getaddrinfo"))
    test_getaddrinfo();
  if (tap_group("teardown"))
    test_teardown();
  return done_testing();
}
