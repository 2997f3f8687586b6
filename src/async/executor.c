/* A thread pool whose jobs complete loop futures through
 * gust_loop_call_soon_threadsafe(). */
#include "config.h"

#include <gust/executor.h>

#include <pthread.h>
#include <string.h>

#include "../base/base_int.h"

typedef struct job {
  struct job *next;
  gust_executor_fn fn;
  void *ud;
  gust_future *f; /* touched on the loop thread only */
  int rc;
  void *result;
  gust_free_fn result_free;
} job;

/* The state shared with the pool threads. It outlives the executor while
 * a drain callback is queued on the loop (that callback holds a
 * reference), so freeing the executor never leaves the loop a dangling
 * pointer. */
typedef struct shared {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  job *todo, **todo_tail;
  job *done, **done_tail;
  int stopping;
  int drain_queued;
  int refs; /* the executor's + a queued drain's */
  gust_loop *loop;
  const gust_mem *mem;
} shared;

struct gust_executor {
  shared *s;
  pthread_t *threads;
  unsigned nthreads;
};

static void shared_unref_locked(shared *s, int *destroy) {
  *destroy = --s->refs == 0;
}

static void shared_destroy(shared *s) {
  pthread_cond_destroy(&s->cv);
  pthread_mutex_destroy(&s->mu);
  gust__free(s->mem, s);
}

static void complete(const gust_mem *mem, job *j) {
  int rc;
  if (j->rc < 0)
    rc = gust_future_set_error(j->f, j->rc, NULL);
  else
    rc = gust_future_set_result(j->f, j->result, j->result_free);
  if (rc < 0 && j->rc == 0 && j->result_free != NULL)
    j->result_free(j->result);
  if (rc < 0 && rc != GUST_ESTATE)
    gust_log(GUST_LOG_GEN, GUST_LOG_ERROR,
             "executor: cannot complete a future: %s", gust_strerror(rc));
  gust_future_unref(j->f);
  gust__free(mem, j);
}

/* Completes every finished job; runs on the loop thread. */
static void drain(gust_loop *loop, void *ud) {
  shared *s = ud;
  job *list, *next;
  int destroy;
  GUST__UNUSED(loop);
  pthread_mutex_lock(&s->mu);
  list = s->done;
  s->done = NULL;
  s->done_tail = &s->done;
  s->drain_queued = 0;
  shared_unref_locked(s, &destroy);
  pthread_mutex_unlock(&s->mu);
  for (; list != NULL; list = next) {
    next = list->next;
    complete(s->mem, list);
  }
  if (destroy)
    shared_destroy(s);
}

static void *worker(void *arg) {
  shared *s = arg;
  pthread_mutex_lock(&s->mu);
  for (;;) {
    job *j;
    while (!s->stopping && s->todo == NULL)
      pthread_cond_wait(&s->cv, &s->mu);
    if (s->stopping)
      break;
    j = s->todo;
    s->todo = j->next;
    if (s->todo == NULL)
      s->todo_tail = &s->todo;
    pthread_mutex_unlock(&s->mu);

    j->result = NULL;
    j->result_free = NULL;
    j->rc = j->fn(j->ud, &j->result, &j->result_free);
    if (j->rc > 0)
      j->rc = GUST_EINVAL;

    pthread_mutex_lock(&s->mu);
    j->next = NULL;
    *s->done_tail = j;
    s->done_tail = &j->next;
    /* One queued drain covers every job finished before it runs. If the
     * loop cannot take the callback now, the next finishing job (or
     * gust_executor_free()) tries again. */
    if (!s->drain_queued &&
        gust_loop_call_soon_threadsafe(s->loop, drain, s) == 0) {
      s->drain_queued = 1;
      s->refs++;
    }
  }
  pthread_mutex_unlock(&s->mu);
  return NULL;
}

int gust_executor_new(gust_executor **out, gust_loop *loop, unsigned threads,
                      const gust_mem *mem) {
  gust_executor *ex;
  shared *s;
  unsigned i;
  if (out == NULL || loop == NULL || threads == 0 || threads > 256)
    return GUST_EINVAL;
  mem = gust__mem(mem);
  ex = gust__calloc(mem, 1, sizeof(*ex));
  s = gust__calloc(mem, 1, sizeof(*s));
  if (ex != NULL)
    ex->threads = gust__calloc(mem, threads, sizeof(pthread_t));
  if (ex == NULL || s == NULL || ex->threads == NULL) {
    if (ex != NULL)
      gust__free(mem, ex->threads);
    gust__free(mem, ex);
    gust__free(mem, s);
    return GUST_ENOMEM;
  }
  if (pthread_mutex_init(&s->mu, NULL) != 0) {
    gust__free(mem, ex->threads);
    gust__free(mem, ex);
    gust__free(mem, s);
    return GUST_ESYS;
  }
  if (pthread_cond_init(&s->cv, NULL) != 0) {
    pthread_mutex_destroy(&s->mu);
    gust__free(mem, ex->threads);
    gust__free(mem, ex);
    gust__free(mem, s);
    return GUST_ESYS;
  }
  s->todo_tail = &s->todo;
  s->done_tail = &s->done;
  s->refs = 1;
  s->loop = loop;
  s->mem = mem;
  ex->s = s;
  for (i = 0; i < threads; i++) {
    if (pthread_create(&ex->threads[i], NULL, worker, s) != 0)
      break;
    ex->nthreads = i + 1;
  }
  if (ex->nthreads != threads) {
    gust_executor_free(ex);
    return GUST_ESYS;
  }
  *out = ex;
  return 0;
}

unsigned gust_executor_threads(const gust_executor *ex) { return ex->nthreads; }

int gust_executor_submit(gust_executor *ex, gust_executor_fn fn,
                         void *user_data, gust_future **out) {
  shared *s;
  job *j;
  int rc;
  if (ex == NULL || fn == NULL || out == NULL)
    return GUST_EINVAL;
  s = ex->s;
  j = gust__calloc(s->mem, 1, sizeof(*j));
  if (j == NULL)
    return GUST_ENOMEM;
  rc = gust_future_new(&j->f, s->loop, s->mem);
  if (rc < 0) {
    gust__free(s->mem, j);
    return rc;
  }
  j->fn = fn;
  j->ud = user_data;
  *out = gust_future_ref(j->f);
  pthread_mutex_lock(&s->mu);
  *s->todo_tail = j;
  s->todo_tail = &j->next;
  pthread_cond_signal(&s->cv);
  pthread_mutex_unlock(&s->mu);
  return 0;
}

void gust_executor_free(gust_executor *ex) {
  shared *s;
  job *todo, *done, *next;
  unsigned i;
  int destroy;
  if (ex == NULL)
    return;
  s = ex->s;
  pthread_mutex_lock(&s->mu);
  s->stopping = 1;
  pthread_cond_broadcast(&s->cv);
  pthread_mutex_unlock(&s->mu);
  for (i = 0; i < ex->nthreads; i++)
    pthread_join(ex->threads[i], NULL);
  /* No thread runs now: finish what finished, cancel what never ran. */
  pthread_mutex_lock(&s->mu);
  todo = s->todo;
  s->todo = NULL;
  s->todo_tail = &s->todo;
  done = s->done;
  s->done = NULL;
  s->done_tail = &s->done;
  shared_unref_locked(s, &destroy);
  pthread_mutex_unlock(&s->mu);
  for (; done != NULL; done = next) {
    next = done->next;
    complete(s->mem, done);
  }
  for (; todo != NULL; todo = next) {
    next = todo->next;
    todo->rc = GUST_ECANCELLED;
    complete(s->mem, todo);
  }
  gust__free(s->mem, ex->threads);
  gust__free(s->mem, ex);
  if (destroy)
    shared_destroy(s);
}
