/* The backend-independent front end of the event loop abstraction:
 * deferred callbacks, the thread-safe queue, the timer heap, fd and signal
 * handler bookkeeping, run/stop. */
#include "config.h"

#include <gust/loop.h>
#include <gust/testing.h>

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <time.h>

#include "loop_int.h"

const char *gust_loop_backend_name(void) { return gust__loop_backend.name; }

const char *gust_loop_backend_version(void) {
  return gust__loop_backend.version();
}

int gust__errno_code(int err) {
  switch (err) {
  case 0:
    return 0;
  case ENOMEM:
  case ENOBUFS:
    return GUST_ENOMEM;
  case EAGAIN:
#if EWOULDBLOCK != EAGAIN
  case EWOULDBLOCK:
#endif
    return GUST_EAGAIN;
  case EINVAL:
    return GUST_EINVAL;
  case EADDRINUSE:
    return GUST_EADDRINUSE;
  case EADDRNOTAVAIL:
    return GUST_EADDRNOTAVAIL;
  case ECONNREFUSED:
    return GUST_ECONNREFUSED;
  case ECONNRESET:
  case EPIPE:
  case ECONNABORTED:
    return GUST_ECONNRESET;
  case ENETUNREACH:
  case EHOSTUNREACH:
  case ENETDOWN:
    return GUST_ENETUNREACH;
  case ETIMEDOUT:
    return GUST_ETIMEDOUT;
  case EMFILE:
  case ENFILE:
    return GUST_EMFILE;
  case ECANCELED:
    return GUST_ECANCELLED;
  case ENOTCONN:
    return GUST_ESTATE;
  case EAFNOSUPPORT:
  case EOPNOTSUPP:
    return GUST_ENOTSUP;
  default:
    return GUST_ESYS;
  }
}

/* ------------------------------------------------------------------ */
/* Callback rings                                                       */
/* ------------------------------------------------------------------ */

static int ring_push(const gust_mem *mem, gust__cbring *r, gust_loop_cb cb,
                     void *ud) {
  if (r->len == r->cap) {
    size_t ncap = r->cap != 0 ? r->cap * 2 : 16, i;
    gust__cbent *nv;
    if (ncap > SIZE_MAX / sizeof(*nv))
      return GUST_ENOMEM;
    nv = gust__malloc(mem, ncap * sizeof(*nv));
    if (nv == NULL)
      return GUST_ENOMEM;
    for (i = 0; i < r->len; i++)
      nv[i] = r->v[(r->head + i) % r->cap];
    gust__free(mem, r->v);
    r->v = nv;
    r->cap = ncap;
    r->head = 0;
  }
  r->v[(r->head + r->len) % r->cap] = (gust__cbent){cb, ud};
  r->len++;
  return 0;
}

static gust__cbent ring_pop(gust__cbring *r) {
  gust__cbent e = r->v[r->head];
  r->head = (r->head + 1) % r->cap;
  r->len--;
  return e;
}

static void ring_free(const gust_mem *mem, gust__cbring *r) {
  gust__free(mem, r->v);
  *r = (gust__cbring){NULL, 0, 0, 0};
}

/* ------------------------------------------------------------------ */
/* Clocks                                                               */
/* ------------------------------------------------------------------ */

static double clock_seconds(clockid_t id) {
  struct timespec ts;
  clock_gettime(id, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

double gust_loop_now(const gust_loop *loop) {
  if (loop != NULL && loop->clock_fn != NULL)
    return loop->clock_fn(loop->clock_ud);
  return clock_seconds(CLOCK_MONOTONIC);
}

void gust_loop_set_clock(gust_loop *loop, gust_clock_fn fn, void *user_data) {
  if (loop == NULL)
    return;
  loop->clock_fn = fn;
  loop->clock_ud = fn != NULL ? user_data : NULL;
}

double gust_loop_time(const gust_loop *loop) {
  GUST__UNUSED(loop);
  return clock_seconds(CLOCK_REALTIME);
}

/* ------------------------------------------------------------------ */
/* Timers                                                               */
/* ------------------------------------------------------------------ */

enum { TIMER_FREE = 0, TIMER_PENDING, TIMER_DUE, TIMER_CANCELLED };

struct gust__timer {
  double when;  /* monotonic deadline */
  uint64_t id;  /* scheduling order; changes on reuse */
  size_t index; /* position in the heap while pending */
  int state;
  gust_loop_cb cb;
  void *ud;
  gust__timer *next; /* free list or due list */
  gust__timer *all;  /* every record */
};

static int timer_before(const gust__timer *a, const gust__timer *b) {
  return a->when < b->when || (a->when == b->when && a->id < b->id);
}

static void heap_set(gust_loop *loop, size_t i, gust__timer *t) {
  loop->heap[i] = t;
  t->index = i;
}

static void heap_up(gust_loop *loop, size_t i) {
  gust__timer *t = loop->heap[i];
  while (i > 0) {
    size_t parent = (i - 1) / 2;
    if (!timer_before(t, loop->heap[parent]))
      break;
    heap_set(loop, i, loop->heap[parent]);
    i = parent;
  }
  heap_set(loop, i, t);
}

static void heap_down(gust_loop *loop, size_t i) {
  gust__timer *t = loop->heap[i];
  for (;;) {
    size_t c = 2 * i + 1;
    if (c >= loop->heap_len)
      break;
    if (c + 1 < loop->heap_len &&
        timer_before(loop->heap[c + 1], loop->heap[c]))
      c++;
    if (!timer_before(loop->heap[c], t))
      break;
    heap_set(loop, i, loop->heap[c]);
    i = c;
  }
  heap_set(loop, i, t);
}

static void heap_remove(gust_loop *loop, gust__timer *t) {
  size_t i = t->index;
  gust__timer *last = loop->heap[--loop->heap_len];
  if (i < loop->heap_len) {
    heap_set(loop, i, last);
    heap_down(loop, i);
    heap_up(loop, last->index);
  }
}

static void timer_recycle(gust_loop *loop, gust__timer *t) {
  t->state = TIMER_FREE;
  t->cb = NULL;
  t->ud = NULL;
  t->next = loop->timer_free;
  loop->timer_free = t;
}

/* Arms the backend for the next thing to do. */
static void rearm(gust_loop *loop) {
  int ts_pending;
  if (loop->dispatching)
    return;
  /* A thread-safe callback queued from the loop thread itself must keep
   * the loop going even where the wakeup handle holds no reference. */
  pthread_mutex_lock(&loop->ts_lock);
  ts_pending = loop->ts.len > 0 || loop->work_done != NULL;
  pthread_mutex_unlock(&loop->ts_lock);
  /* A stop asked while not running waits for the next run: an
   * application running a wrapped native loop must not spin on it. */
  gust__loop_backend.set_ready(loop, loop->soon.len > 0 ||
                                         (loop->stop_asked && loop->running) ||
                                         ts_pending || loop->closing != NULL);
  if (loop->heap_len > 0) {
    double delay = loop->heap[0]->when - gust_loop_now(loop);
    gust__loop_backend.arm(loop, delay > 0 ? delay : 0);
  } else {
    gust__loop_backend.arm(loop, -1);
  }
}

int gust_loop_call_at_monotonic(gust_loop *loop, double when, gust_loop_cb cb,
                                void *user_data, gust_timer *handle) {
  gust__timer *t;
  if (handle != NULL)
    *handle = (gust_timer){NULL, 0};
  if (loop == NULL || cb == NULL || isnan(when))
    return GUST_EINVAL;
  if (loop->heap_len == loop->heap_cap) {
    size_t ncap = loop->heap_cap != 0 ? loop->heap_cap * 2 : 16;
    gust__timer **nh;
    if (ncap > SIZE_MAX / sizeof(*nh))
      return GUST_ENOMEM;
    nh = gust__realloc(loop->mem, loop->heap, ncap * sizeof(*nh));
    if (nh == NULL)
      return GUST_ENOMEM;
    loop->heap = nh;
    loop->heap_cap = ncap;
  }
  if (loop->timer_free != NULL) {
    t = loop->timer_free;
    loop->timer_free = t->next;
  } else {
    t = gust__calloc(loop->mem, 1, sizeof(*t));
    if (t == NULL)
      return GUST_ENOMEM;
    t->all = loop->timer_all;
    loop->timer_all = t;
  }
  t->when = when;
  t->id = ++loop->timer_seq;
  t->state = TIMER_PENDING;
  t->cb = cb;
  t->ud = user_data;
  t->next = NULL;
  loop->heap[loop->heap_len] = t;
  t->index = loop->heap_len++;
  heap_up(loop, t->index);
  if (handle != NULL)
    *handle = (gust_timer){t, t->id};
  if (loop->heap[0] == t)
    rearm(loop);
  return 0;
}

int gust_loop_call_at(gust_loop *loop, double when, gust_loop_cb cb,
                      void *user_data, gust_timer *handle) {
  double mono;
  if (loop == NULL || isnan(when)) {
    if (handle != NULL)
      *handle = (gust_timer){NULL, 0};
    return GUST_EINVAL;
  }
  mono = gust_loop_now(loop) + (when - gust_loop_time(loop));
  return gust_loop_call_at_monotonic(loop, mono, cb, user_data, handle);
}

int gust_loop_call_later(gust_loop *loop, double delay, gust_loop_cb cb,
                         void *user_data, gust_timer *handle) {
  if (loop == NULL || isnan(delay)) {
    if (handle != NULL)
      *handle = (gust_timer){NULL, 0};
    return GUST_EINVAL;
  }
  if (delay < 0)
    delay = 0;
  return gust_loop_call_at_monotonic(loop, gust_loop_now(loop) + delay, cb,
                                     user_data, handle);
}

int gust_loop_cancel(gust_loop *loop, gust_timer handle) {
  gust__timer *t = handle.ptr_;
  if (loop == NULL || t == NULL || t->id != handle.id_)
    return GUST_ENOTFOUND;
  if (t->state == TIMER_PENDING) {
    int was_first = loop->heap[0] == t;
    heap_remove(loop, t);
    timer_recycle(loop, t);
    if (was_first)
      rearm(loop);
    return 0;
  }
  if (t->state == TIMER_DUE) {
    t->state = TIMER_CANCELLED;
    return 0;
  }
  return GUST_ENOTFOUND;
}

/* ------------------------------------------------------------------ */
/* Deferred callbacks                                                   */
/* ------------------------------------------------------------------ */

int gust_loop_call_soon(gust_loop *loop, gust_loop_cb cb, void *user_data) {
  int rc;
  if (loop == NULL || cb == NULL)
    return GUST_EINVAL;
  rc = ring_push(loop->mem, &loop->soon, cb, user_data);
  if (rc == 0 && loop->soon.len == 1 && !loop->dispatching)
    gust__loop_backend.set_ready(loop, 1);
  return rc;
}

int gust_loop_call_soon_threadsafe(gust_loop *loop, gust_loop_cb cb,
                                   void *user_data) {
  int rc, wake = 0;
  if (loop == NULL || cb == NULL)
    return GUST_EINVAL;
  pthread_mutex_lock(&loop->ts_lock);
  rc = ring_push(loop->mem, &loop->ts, cb, user_data);
  if (rc == 0 && !loop->ts_wake) {
    loop->ts_wake = 1;
    wake = 1;
  }
  /* The wakeup is sent under the lock so that gust_loop_free(), which
   * takes the lock, cannot release the backend while it is being used. */
  if (wake)
    gust__loop_backend.wakeup(loop);
  pthread_mutex_unlock(&loop->ts_lock);
  return rc;
}

/* ------------------------------------------------------------------ */
/* Dispatch                                                             */
/* ------------------------------------------------------------------ */

void gust__loop_dispatch(gust_loop *loop) {
  size_t n;
  gust__cbring tmp;
  gust__timer *due = NULL, **tail = &due;
  gust__work *work_done;
  double now;

  loop->dispatching = 1;
  loop->iterations++;

  /* Closes asked for in the previous iteration complete first. */
  gust__tcp_run_closing(loop);

  /* Take the whole thread-safe batch: swap the queue with the (empty)
   * spare ring so that no allocation happens under the lock. */
  pthread_mutex_lock(&loop->ts_lock);
  tmp = loop->ts_run;
  loop->ts_run = loop->ts;
  loop->ts = tmp;
  loop->ts_wake = 0;
  work_done = loop->work_done;
  loop->work_done = NULL;
  pthread_mutex_unlock(&loop->ts_lock);

  /* Timers due now are collected before any callback runs, as asyncio
   * does; a callback cancelling one of them still prevents it. */
  now = gust_loop_now(loop);
  while (loop->heap_len > 0 && loop->heap[0]->when <= now) {
    gust__timer *t = loop->heap[0];
    heap_remove(loop, t);
    t->state = TIMER_DUE;
    t->next = NULL;
    *tail = t;
    tail = &t->next;
  }

  /* Only the callbacks queued before this iteration. */
  n = loop->soon.len;
  while (n-- > 0 && loop->soon.len > 0) {
    gust__cbent e = ring_pop(&loop->soon);
    e.cb(loop, e.ud);
  }
  while (loop->ts_run.len > 0) {
    gust__cbent e = ring_pop(&loop->ts_run);
    e.cb(loop, e.ud);
  }
  gust__pool_complete(loop, work_done);
  while (due != NULL) {
    gust__timer *t = due;
    due = t->next;
    if (t->state == TIMER_DUE) {
      gust_loop_cb cb = t->cb;
      void *ud = t->ud;
      timer_recycle(loop, t);
      cb(loop, ud);
    } else {
      timer_recycle(loop, t);
    }
  }

  loop->dispatching = 0;

  if (loop->until_fn != NULL && !loop->until_met &&
      loop->until_fn(loop, loop->until_ud))
    loop->until_met = 1;
  if (loop->running && (loop->stop_asked || loop->until_met))
    gust__loop_backend.brk(loop);
  rearm(loop);
}

void gust__loop_before_poll(gust_loop *loop) {
  if (loop->dispatching || loop->until_fn == NULL || loop->until_met)
    return;
  if (loop->until_fn(loop, loop->until_ud)) {
    loop->until_met = 1;
    /* Poll without blocking; the dispatch after it ends the run. */
    gust__loop_backend.set_ready(loop, 1);
  }
}

/* ------------------------------------------------------------------ */
/* Life cycle                                                           */
/* ------------------------------------------------------------------ */

/* Which loop watches each signal: libev aborts when two loops watch one
 * signal, so the rule is enforced here, the same on both backends. */
static pthread_mutex_t signal_lock = PTHREAD_MUTEX_INITIALIZER;
static const gust_loop *signal_owner[NSIG];

static int signal_claim(const gust_loop *loop, int signum) {
  int rc = 0;
  pthread_mutex_lock(&signal_lock);
  if (signal_owner[signum] == loop)
    rc = GUST_EEXIST;
  else if (signal_owner[signum] != NULL)
    rc = GUST_EBUSY;
  else
    signal_owner[signum] = loop;
  pthread_mutex_unlock(&signal_lock);
  return rc;
}

static void signal_release(int signum) {
  pthread_mutex_lock(&signal_lock);
  signal_owner[signum] = NULL;
  pthread_mutex_unlock(&signal_lock);
}

/* Native loops already wrapped, so that one cannot be wrapped twice. */
static pthread_mutex_t wrapped_lock = PTHREAD_MUTEX_INITIALIZER;
static gust_loop *wrapped_list[64];

static int wrapped_claim(gust_loop *loop, void *native) {
  size_t i, slot = GUST__ARRAY_SIZE(wrapped_list);
  int rc = 0;
  pthread_mutex_lock(&wrapped_lock);
  for (i = 0; i < GUST__ARRAY_SIZE(wrapped_list); i++) {
    if (wrapped_list[i] == NULL) {
      if (slot == GUST__ARRAY_SIZE(wrapped_list))
        slot = i;
    } else if (wrapped_list[i]->native == native) {
      rc = GUST_EEXIST;
    }
  }
  if (rc == 0 && slot == GUST__ARRAY_SIZE(wrapped_list))
    rc = GUST_ELIMIT;
  if (rc == 0)
    wrapped_list[slot] = loop;
  pthread_mutex_unlock(&wrapped_lock);
  return rc;
}

static void wrapped_release(gust_loop *loop) {
  size_t i;
  pthread_mutex_lock(&wrapped_lock);
  for (i = 0; i < GUST__ARRAY_SIZE(wrapped_list); i++)
    if (wrapped_list[i] == loop)
      wrapped_list[i] = NULL;
  pthread_mutex_unlock(&wrapped_lock);
}

static int loop_create(gust_loop **out, void *native, const gust_mem *mem) {
  gust_loop *loop;
  int rc;
  if (out == NULL)
    return GUST_EINVAL;
  *out = NULL;
  mem = gust__mem(mem);
  loop = gust__calloc(mem, 1, sizeof(*loop));
  if (loop == NULL)
    return GUST_ENOMEM;
  loop->mem = mem;
  if (pthread_mutex_init(&loop->ts_lock, NULL) != 0) {
    gust__free(mem, loop);
    return GUST_ESYS;
  }
  if (gust__pool_init(loop) < 0) {
    pthread_mutex_destroy(&loop->ts_lock);
    gust__free(mem, loop);
    return GUST_ESYS;
  }
  if (native != NULL) {
    loop->native = native;
    loop->wrapped = 1;
    rc = wrapped_claim(loop, native);
    if (rc < 0) {
      gust__pool_destroy(loop);
      pthread_mutex_destroy(&loop->ts_lock);
      gust__free(mem, loop);
      return rc;
    }
  }
  rc = gust__loop_backend.init(loop, native);
  if (rc < 0) {
    if (native != NULL)
      wrapped_release(loop);
    gust__pool_destroy(loop);
    pthread_mutex_destroy(&loop->ts_lock);
    gust__free(mem, loop);
    return rc;
  }
  *out = loop;
  return 0;
}

int gust_loop_new(gust_loop **out, const gust_mem *mem) {
  return loop_create(out, NULL, mem);
}

static int loop_wrap(gust_loop **out, int kind, void *native,
                     const gust_mem *mem) {
  if (out != NULL)
    *out = NULL;
  if (gust__loop_backend.native_kind != kind)
    return GUST_ENOTSUP;
  if (native == NULL || out == NULL)
    return GUST_EINVAL;
  return loop_create(out, native, mem);
}

int gust_loop_wrap_uv(gust_loop **out, void *uv_loop, const gust_mem *mem) {
  return loop_wrap(out, GUST__NATIVE_UV, uv_loop, mem);
}

int gust_loop_wrap_ev(gust_loop **out, void *ev_loop, const gust_mem *mem) {
  return loop_wrap(out, GUST__NATIVE_EV, ev_loop, mem);
}

void *gust_loop_native(gust_loop *loop) {
  return loop != NULL ? loop->native : NULL;
}

void gust_loop_free(gust_loop *loop) {
  const gust_mem *mem;
  gust__timer *t;
  size_t i;
  if (loop == NULL)
    return;
  mem = loop->mem;
  loop->freeing = 1;
  gust__tcp_orphan_all(loop);
  gust__tcp_run_closing(loop);
  for (i = 0; i < loop->fds_cap; i++) {
    if (loop->fds[i] != NULL) {
      gust__loop_backend.fd_close(loop, loop->fds[i]);
      gust__free(mem, loop->fds[i]);
    }
  }
  gust__free(mem, loop->fds);
  while (loop->sigs != NULL) {
    gust__sigw *s = loop->sigs;
    loop->sigs = s->next;
    gust__loop_backend.sig_close(loop, s);
    signal_release(s->signum);
    gust__free(mem, s);
  }
  /* Pool threads hand work back through the backend's wakeup. */
  gust__pool_destroy(loop);
  /* Another thread may be inside call_soon_threadsafe(): wait for it. */
  pthread_mutex_lock(&loop->ts_lock);
  gust__loop_backend.destroy(loop);
  pthread_mutex_unlock(&loop->ts_lock);
  if (loop->wrapped)
    wrapped_release(loop);
  while ((t = loop->timer_all) != NULL) {
    loop->timer_all = t->all;
    gust__free(mem, t);
  }
  gust__free(mem, loop->heap);
  ring_free(mem, &loop->soon);
  ring_free(mem, &loop->ts);
  ring_free(mem, &loop->ts_run);
  pthread_mutex_destroy(&loop->ts_lock);
  gust__free(mem, loop);
}

/* ------------------------------------------------------------------ */
/* Running                                                              */
/* ------------------------------------------------------------------ */

static int loop_run(gust_loop *loop, gust_loop_cond_fn fn, void *ud) {
  int rc;
  if (loop == NULL)
    return GUST_EINVAL;
  if (loop->running || loop->dispatching)
    return GUST_EBUSY;
  loop->until_fn = fn;
  loop->until_ud = ud;
  loop->until_met = fn != NULL && fn(loop, ud);
  if (loop->until_met) {
    loop->until_fn = NULL;
    return 0;
  }
  loop->running = 1;
  rearm(loop);
  rc = gust__loop_backend.run(loop);
  loop->running = 0;
  loop->until_fn = NULL;
  if (rc < 0)
    return rc;
  if (fn != NULL && !loop->until_met) {
    loop->stop_asked = 0;
    return GUST_ELOOPSTOPPED;
  }
  loop->stop_asked = 0;
  return 0;
}

int gust_loop_run(gust_loop *loop) { return loop_run(loop, NULL, NULL); }

int gust_loop_run_until(gust_loop *loop, gust_loop_cond_fn done,
                        void *user_data) {
  if (done == NULL)
    return GUST_EINVAL;
  return loop_run(loop, done, user_data);
}

void gust_loop_stop(gust_loop *loop) {
  if (loop == NULL)
    return;
  loop->stop_asked = 1;
  if (!loop->dispatching && loop->running)
    gust__loop_backend.set_ready(loop, 1);
}

/* ------------------------------------------------------------------ */
/* fd handlers                                                          */
/* ------------------------------------------------------------------ */

static gust__fdw *fd_find(gust_loop *loop, int fd) {
  if (fd < 0 || (size_t)fd >= loop->fds_cap)
    return NULL;
  return loop->fds[fd];
}

int gust_loop_add_handler(gust_loop *loop, int fd, int events,
                          gust_loop_fd_cb cb, void *user_data) {
  gust__fdw *w;
  int rc;
  if (loop == NULL || fd < 0 || cb == NULL ||
      (events & ~(GUST_LOOP_READ | GUST_LOOP_WRITE)) != 0)
    return GUST_EINVAL;
  if (fd_find(loop, fd) != NULL)
    return GUST_EEXIST;
  if ((size_t)fd >= loop->fds_cap) {
    size_t ncap = loop->fds_cap != 0 ? loop->fds_cap : 64, i;
    gust__fdw **nf;
    while (ncap <= (size_t)fd)
      ncap *= 2;
    nf = gust__realloc(loop->mem, loop->fds, ncap * sizeof(*nf));
    if (nf == NULL)
      return GUST_ENOMEM;
    for (i = loop->fds_cap; i < ncap; i++)
      nf[i] = NULL;
    loop->fds = nf;
    loop->fds_cap = ncap;
  }
  w = gust__calloc(loop->mem, 1, sizeof(*w));
  if (w == NULL)
    return GUST_ENOMEM;
  w->fd = fd;
  w->events = events;
  w->cb = cb;
  w->ud = user_data;
  rc = gust__loop_backend.fd_set(loop, w);
  if (rc < 0) {
    if (w->be != NULL)
      gust__loop_backend.fd_close(loop, w);
    gust__free(loop->mem, w);
    return rc;
  }
  loop->fds[fd] = w;
  loop->fds_count++;
  return 0;
}

int gust_loop_update_handler(gust_loop *loop, int fd, int events) {
  gust__fdw *w;
  int old;
  if (loop == NULL || (events & ~(GUST_LOOP_READ | GUST_LOOP_WRITE)) != 0)
    return GUST_EINVAL;
  w = fd_find(loop, fd);
  if (w == NULL)
    return GUST_ENOTFOUND;
  if (w->events == events)
    return 0;
  old = w->events;
  w->events = events;
  if (gust__loop_backend.fd_set(loop, w) < 0) {
    w->events = old;
    return GUST_ESYS;
  }
  return 0;
}

int gust_loop_remove_handler(gust_loop *loop, int fd) {
  gust__fdw *w;
  if (loop == NULL)
    return GUST_EINVAL;
  w = fd_find(loop, fd);
  if (w == NULL)
    return GUST_ENOTFOUND;
  loop->fds[fd] = NULL;
  loop->fds_count--;
  gust__loop_backend.fd_close(loop, w);
  gust__free(loop->mem, w);
  return 0;
}

/* ------------------------------------------------------------------ */
/* Signals                                                              */
/* ------------------------------------------------------------------ */

int gust_loop_add_signal_handler(gust_loop *loop, int signum,
                                 gust_loop_signal_cb cb, void *user_data) {
  gust__sigw *s;
  int rc;
  if (loop == NULL || cb == NULL || signum <= 0 || signum >= NSIG ||
      signum == SIGKILL || signum == SIGSTOP)
    return GUST_EINVAL;
  rc = signal_claim(loop, signum);
  if (rc < 0)
    return rc;
  s = gust__calloc(loop->mem, 1, sizeof(*s));
  if (s == NULL) {
    signal_release(signum);
    return GUST_ENOMEM;
  }
  s->signum = signum;
  s->cb = cb;
  s->ud = user_data;
  rc = gust__loop_backend.sig_start(loop, s);
  if (rc < 0) {
    signal_release(signum);
    gust__free(loop->mem, s);
    return rc;
  }
  s->next = loop->sigs;
  loop->sigs = s;
  return 0;
}

int gust_loop_remove_signal_handler(gust_loop *loop, int signum) {
  gust__sigw **pp;
  if (loop == NULL)
    return GUST_EINVAL;
  for (pp = &loop->sigs; *pp != NULL; pp = &(*pp)->next) {
    gust__sigw *s = *pp;
    if (s->signum == signum) {
      *pp = s->next;
      gust__loop_backend.sig_close(loop, s);
      signal_release(signum);
      gust__free(loop->mem, s);
      return 0;
    }
  }
  return GUST_ENOTFOUND;
}

/* ------------------------------------------------------------------ */
/* Probes for <gust/testing.h>                                          */
/* ------------------------------------------------------------------ */

static void pending_init(gust_test_pending *p, gust_test_pending_kind kind) {
  memset(p, 0, sizeof(*p));
  p->kind = kind;
  p->fd = -1;
  p->count = 1;
}

static size_t pending_ring(const gust__cbring *r, gust_test_pending_kind kind,
                           gust_test_pending_fn fn, void *ud) {
  size_t i;
  for (i = 0; fn != NULL && i < r->len; i++) {
    const gust__cbent *e = &r->v[(r->head + i) % r->cap];
    gust_test_pending p;
    pending_init(&p, kind);
    p.fn = (void (*)(void))e->cb;
    p.user_data = e->ud;
    fn(&p, ud);
  }
  return r->len;
}

static int timer_cmp(const void *a, const void *b) {
  const gust__timer *x = *(const gust__timer *const *)a;
  const gust__timer *y = *(const gust__timer *const *)b;
  return timer_before(x, y) ? -1 : timer_before(y, x) ? 1 : 0;
}

size_t gust_test_loop_pending(gust_loop *loop, gust_test_pending_fn fn,
                              void *user_data) {
  gust_test_pending p;
  size_t n = 0, i;
  gust__sigw *s;
  gust_tcp *t;
  if (loop == NULL)
    return 0;
  n += pending_ring(&loop->soon, GUST_TEST_PENDING_CALLBACK, fn, user_data);
  /* The thread-safe queue is copied out under its lock so that `fn` runs
   * without it (another thread may be queueing). */
  pthread_mutex_lock(&loop->ts_lock);
  {
    size_t len = loop->ts.len + loop->ts_run.len, k = 0;
    gust__cbent *copy = fn != NULL && len > 0
                            ? gust__malloc(loop->mem, len * sizeof(*copy))
                            : NULL;
    for (i = 0; copy != NULL && i < loop->ts_run.len; i++)
      copy[k++] = loop->ts_run.v[(loop->ts_run.head + i) % loop->ts_run.cap];
    for (i = 0; copy != NULL && i < loop->ts.len; i++)
      copy[k++] = loop->ts.v[(loop->ts.head + i) % loop->ts.cap];
    pthread_mutex_unlock(&loop->ts_lock);
    for (i = 0; i < k; i++) {
      pending_init(&p, GUST_TEST_PENDING_THREADSAFE);
      p.fn = (void (*)(void))copy[i].cb;
      p.user_data = copy[i].ud;
      fn(&p, user_data);
    }
    gust__free(loop->mem, copy);
    n += len;
  }
  if (fn != NULL && loop->heap_len > 0) {
    /* Timers in due order: a sorted copy of the heap (unsorted when the
     * copy cannot be made). */
    gust__timer **order =
        gust__malloc(loop->mem, loop->heap_len * sizeof(*order));
    double now = gust_loop_now(loop);
    if (order != NULL) {
      memcpy(order, loop->heap, loop->heap_len * sizeof(*order));
      qsort(order, loop->heap_len, sizeof(*order), timer_cmp);
    }
    for (i = 0; i < loop->heap_len; i++) {
      const gust__timer *tm = order != NULL ? order[i] : loop->heap[i];
      pending_init(&p, GUST_TEST_PENDING_TIMER);
      p.fn = (void (*)(void))tm->cb;
      p.user_data = tm->ud;
      p.due_in = tm->when - now;
      fn(&p, user_data);
    }
    gust__free(loop->mem, order);
  }
  n += loop->heap_len;
  for (i = 0; i < loop->fds_cap; i++) {
    const gust__fdw *w = loop->fds[i];
    if (w == NULL)
      continue;
    n++;
    if (fn == NULL)
      continue;
    pending_init(&p, GUST_TEST_PENDING_FD);
    p.fn = (void (*)(void))w->cb;
    p.user_data = w->ud;
    p.fd = w->fd;
    p.events = w->events;
    fn(&p, user_data);
  }
  for (s = loop->sigs; s != NULL; s = s->next) {
    n++;
    if (fn == NULL)
      continue;
    pending_init(&p, GUST_TEST_PENDING_SIGNAL);
    p.fn = (void (*)(void))s->cb;
    p.user_data = s->ud;
    p.signum = s->signum;
    fn(&p, user_data);
  }
  for (t = loop->tcps; t != NULL; t = t->next) {
    n++;
    if (fn == NULL)
      continue;
    pending_init(&p, GUST_TEST_PENDING_TCP);
    p.user_data = t->ud;
    p.fd = t->fd;
    p.tcp = t;
    p.tcp_listener = t->state == GUST__TCP_LISTENING;
    p.tcp_closing = t->closing;
    fn(&p, user_data);
  }
  if (loop->work_outstanding > 0) {
    n++;
    if (fn != NULL) {
      pending_init(&p, GUST_TEST_PENDING_WORK);
      p.count = loop->work_outstanding;
      fn(&p, user_data);
    }
  }
  return n;
}

uint64_t gust_test_loop_iterations(const gust_loop *loop) {
  return loop != NULL ? loop->iterations : 0;
}

void gust_test_loop_set_unobserved_hook(gust_loop *loop,
                                        gust_test_unobserved_fn fn,
                                        void *user_data) {
  if (loop == NULL)
    return;
  loop->unobserved_fn = fn;
  loop->unobserved_ud = fn != NULL ? user_data : NULL;
}

void gust__loop_unobserved(gust_loop *loop, int code, const char *message) {
  if (loop != NULL && loop->unobserved_fn != NULL)
    loop->unobserved_fn(loop, code, message, loop->unobserved_ud);
}
