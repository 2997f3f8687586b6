/* The loop's thread pool (the same code on every backend) and
 * asynchronous getaddrinfo on top of it. Finished work is handed back to
 * the loop thread through the thread-safe wakeup. */
#include "config.h"

#include <gust/loop.h>

#include <netdb.h>
#include <string.h>

#include "loop_int.h"

#define POOL_DEFAULT 4
#define POOL_MAX     64

enum { WORK_QUEUED = 1, WORK_RUNNING, WORK_DONE };

struct gust_work {
  gust__work *next;
  gust_loop *loop;
  gust_work_fn fn;
  gust_work_done_cb done;
  void *ud;
  /* Frees what `ud` owns when the loop is freed before completion. */
  void (*release)(void *ud, const gust_mem *mem);
  int state;  /* guarded by pool_lock */
  int status; /* 0 or GUST_ECANCELLED */
};

int gust__pool_init(gust_loop *loop) {
  if (pthread_mutex_init(&loop->pool_lock, NULL) != 0)
    return GUST_ESYS;
  if (pthread_cond_init(&loop->pool_cond, NULL) != 0) {
    pthread_mutex_destroy(&loop->pool_lock);
    return GUST_ESYS;
  }
  loop->pool_size = POOL_DEFAULT;
  return 0;
}

/* Hands a finished item to the loop thread and wakes it. */
static void hand_back(gust_loop *loop, gust__work *w) {
  pthread_mutex_lock(&loop->ts_lock);
  w->next = loop->work_done;
  loop->work_done = w;
  if (!loop->ts_wake) {
    loop->ts_wake = 1;
    gust__loop_backend.wakeup(loop);
  }
  pthread_mutex_unlock(&loop->ts_lock);
}

static void *pool_main(void *arg) {
  gust_loop *loop = arg;
  pthread_mutex_lock(&loop->pool_lock);
  for (;;) {
    gust__work *w;
    while (loop->pool_head == NULL && !loop->pool_stop)
      pthread_cond_wait(&loop->pool_cond, &loop->pool_lock);
    if (loop->pool_stop)
      break;
    w = loop->pool_head;
    loop->pool_head = w->next;
    if (loop->pool_head == NULL)
      loop->pool_tail = NULL;
    w->state = WORK_RUNNING;
    pthread_mutex_unlock(&loop->pool_lock);
    w->fn(w->ud);
    pthread_mutex_lock(&loop->pool_lock);
    w->state = WORK_DONE;
    hand_back(loop, w);
  }
  pthread_mutex_unlock(&loop->pool_lock);
  return NULL;
}

static int pool_start(gust_loop *loop) {
  unsigned i;
  loop->pool_threads =
      gust__calloc(loop->mem, loop->pool_size, sizeof(*loop->pool_threads));
  if (loop->pool_threads == NULL)
    return GUST_ENOMEM;
  for (i = 0; i < loop->pool_size; i++) {
    if (pthread_create(&loop->pool_threads[i], NULL, pool_main, loop) != 0)
      break;
    loop->pool_started++;
  }
  if (loop->pool_started == 0) {
    gust__free(loop->mem, loop->pool_threads);
    loop->pool_threads = NULL;
    return GUST_ESYS;
  }
  return 0;
}

int gust_loop_set_pool_size(gust_loop *loop, unsigned threads) {
  if (loop == NULL || threads < 1 || threads > POOL_MAX)
    return GUST_EINVAL;
  if (loop->pool_started > 0)
    return GUST_ESTATE;
  loop->pool_size = threads;
  return 0;
}

static int queue(gust_loop *loop, gust_work_fn work, gust_work_done_cb done,
                 void *user_data, void (*release)(void *, const gust_mem *),
                 gust_work **handle) {
  gust__work *w;
  int rc;
  if (handle != NULL)
    *handle = NULL;
  if (loop == NULL || work == NULL || done == NULL)
    return GUST_EINVAL;
  if (loop->pool_started == 0) {
    rc = pool_start(loop);
    if (rc < 0)
      return rc;
  }
  w = gust__calloc(loop->mem, 1, sizeof(*w));
  if (w == NULL)
    return GUST_ENOMEM;
  w->loop = loop;
  w->fn = work;
  w->done = done;
  w->ud = user_data;
  w->release = release;
  w->state = WORK_QUEUED;
  if (loop->work_outstanding++ == 0)
    gust__loop_backend.hold(loop, 1);
  pthread_mutex_lock(&loop->pool_lock);
  if (loop->pool_tail != NULL)
    loop->pool_tail->next = w;
  else
    loop->pool_head = w;
  loop->pool_tail = w;
  pthread_cond_signal(&loop->pool_cond);
  pthread_mutex_unlock(&loop->pool_lock);
  if (handle != NULL)
    *handle = w;
  return 0;
}

int gust_loop_queue_work(gust_loop *loop, gust_work_fn work,
                         gust_work_done_cb done, void *user_data,
                         gust_work **handle) {
  return queue(loop, work, done, user_data, NULL, handle);
}

int gust_loop_cancel_work(gust_loop *loop, gust_work *handle) {
  gust__work **pp, *prev = NULL;
  if (loop == NULL || handle == NULL)
    return GUST_EINVAL;
  pthread_mutex_lock(&loop->pool_lock);
  if (handle->state != WORK_QUEUED) {
    pthread_mutex_unlock(&loop->pool_lock);
    return GUST_EBUSY;
  }
  for (pp = &loop->pool_head; *pp != handle; pp = &(*pp)->next)
    prev = *pp;
  *pp = handle->next;
  if (loop->pool_tail == handle)
    loop->pool_tail = prev;
  handle->state = WORK_DONE;
  handle->status = GUST_ECANCELLED;
  pthread_mutex_unlock(&loop->pool_lock);
  hand_back(loop, handle);
  return 0;
}

void gust__pool_complete(gust_loop *loop, gust__work *done) {
  gust__work *order = NULL;
  /* The list arrives newest first: complete in finishing order. */
  while (done != NULL) {
    gust__work *w = done;
    done = w->next;
    w->next = order;
    order = w;
  }
  while (order != NULL) {
    gust__work *w = order;
    order = w->next;
    w->done(loop, w->status, w->ud);
    gust__free(loop->mem, w);
    if (--loop->work_outstanding == 0)
      gust__loop_backend.hold(loop, 0);
  }
}

void gust__pool_destroy(gust_loop *loop) {
  unsigned i;
  gust__work *w;
  pthread_mutex_lock(&loop->pool_lock);
  loop->pool_stop = 1;
  pthread_cond_broadcast(&loop->pool_cond);
  pthread_mutex_unlock(&loop->pool_lock);
  for (i = 0; i < loop->pool_started; i++)
    pthread_join(loop->pool_threads[i], NULL);
  gust__free(loop->mem, loop->pool_threads);
  /* Completions are dropped; only what the requests own is released. */
  while ((w = loop->pool_head) != NULL) {
    loop->pool_head = w->next;
    if (w->release != NULL)
      w->release(w->ud, loop->mem);
    gust__free(loop->mem, w);
  }
  while ((w = loop->work_done) != NULL) {
    loop->work_done = w->next;
    if (w->release != NULL)
      w->release(w->ud, loop->mem);
    gust__free(loop->mem, w);
  }
  pthread_cond_destroy(&loop->pool_cond);
  pthread_mutex_destroy(&loop->pool_lock);
}

/* ------------------------------------------------------------------ */
/* getaddrinfo                                                          */
/* ------------------------------------------------------------------ */

typedef struct gai_req {
  char *host, *service;
  int family;
  int rc;
  struct addrinfo *res;
  gust_getaddrinfo_cb cb;
  void *ud;
} gai_req;

static void gai_release(void *ud, const gust_mem *mem) {
  gai_req *r = ud;
  if (r->res != NULL)
    freeaddrinfo(r->res);
  gust__free(mem, r->host);
  gust__free(mem, r->service);
  gust__free(mem, r);
}

static void gai_work(void *ud) {
  gai_req *r = ud;
  struct addrinfo hints;
  memset(&hints, 0, sizeof(hints));
  hints.ai_family = r->family == 4   ? AF_INET
                    : r->family == 6 ? AF_INET6
                                     : AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_ADDRCONFIG;
  if (r->host == NULL)
    hints.ai_flags |= AI_PASSIVE;
  r->rc = getaddrinfo(r->host, r->service, &hints, &r->res);
  if (r->rc != 0)
    r->res = NULL;
}

static void gai_done(gust_loop *loop, int status, void *ud) {
  gai_req *r = ud;
  if (status == 0 && r->rc != 0)
    status = r->rc == EAI_MEMORY ? GUST_ENOMEM : GUST_ERESOLVE;
  r->cb(loop, status, status == 0 ? r->res : NULL, r->ud);
  gai_release(r, loop->mem);
}

static char *dup_opt(const gust_mem *mem, const char *s, int *failed) {
  char *p;
  if (s == NULL)
    return NULL;
  p = gust__strndup(mem, s, strlen(s));
  if (p == NULL)
    *failed = 1;
  return p;
}

int gust_loop_getaddrinfo(gust_loop *loop, const char *host,
                          const char *service, int family,
                          gust_getaddrinfo_cb cb, void *user_data,
                          gust_work **handle) {
  gai_req *r;
  int failed = 0, rc;
  if (handle != NULL)
    *handle = NULL;
  if (loop == NULL || cb == NULL || (host == NULL && service == NULL) ||
      (family != 0 && family != 4 && family != 6))
    return GUST_EINVAL;
  r = gust__calloc(loop->mem, 1, sizeof(*r));
  if (r == NULL)
    return GUST_ENOMEM;
  r->host = dup_opt(loop->mem, host, &failed);
  r->service = dup_opt(loop->mem, service, &failed);
  r->family = family;
  r->cb = cb;
  r->ud = user_data;
  if (failed) {
    gai_release(r, loop->mem);
    return GUST_ENOMEM;
  }
  rc = queue(loop, gai_work, gai_done, r, gai_release, handle);
  if (rc < 0)
    gai_release(r, loop->mem);
  return rc;
}
