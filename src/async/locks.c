/* Condition, Event, Semaphore, BoundedSemaphore and Lock over a FIFO of
 * self-unlinking waiters. */
#include "config.h"

#include <gust/locks.h>

#include <stdio.h>
#include <string.h>

#include "../base/base_int.h"
#include "future_int.h"

/* ------------------------------------------------------------------ */
/* Waiter queue                                                         */
/* ------------------------------------------------------------------ */

void gust__waitq_init(gust__waitq *q, gust_loop *loop, const gust_mem *mem) {
  gust__list_init(&q->head);
  q->count = 0;
  q->loop = loop;
  q->mem = mem;
}

static void waiter_release(gust__waiter *w) {
  gust__waitq *q = w->q;
  gust__list_unlink(&w->link);
  q->count--;
  gust_loop_cancel(q->loop, w->timer);
  gust_future_unref(w->f);
  gust__free(q->mem, w);
}

static void waiter_done(gust_future *f, void *ud) {
  GUST__UNUSED(f);
  waiter_release(ud);
}

static void waiter_timeout(gust_loop *loop, void *ud) {
  gust__waiter *w = ud;
  int rc;
  GUST__UNUSED(loop);
  memset(&w->timer, 0, sizeof(w->timer));
  if (w->timeout_is_error)
    rc = gust_future_set_error(w->f, GUST_ETIMEDOUT, "Timeout");
  else
    rc = gust_future_set_result(w->f, NULL, NULL);
  if (rc < 0) {
    gust_log(GUST_LOG_GEN, GUST_LOG_ERROR, "cannot time out a waiter: %s",
             gust_strerror(rc));
    gust__future_off_done(w->f, waiter_done, w);
    waiter_release(w);
  }
}

int gust__waitq_add(gust__waitq *q, gust_timeout timeout, int timeout_is_error,
                    void *item, gust_future **out, gust__waiter **wout) {
  gust__waiter *w;
  int rc;
  w = gust__calloc(q->mem, 1, sizeof(*w));
  if (w == NULL)
    return GUST_ENOMEM;
  rc = gust_future_new(&w->f, q->loop, q->mem);
  if (rc < 0) {
    gust__free(q->mem, w);
    return rc;
  }
  w->q = q;
  w->timeout_is_error = timeout_is_error;
  w->item = item;
  rc = gust__future_on_done(w->f, waiter_done, w, NULL);
  if (rc == 0) {
    rc = gust__timeout_schedule(q->loop, timeout, waiter_timeout, w, &w->timer);
    if (rc < 0)
      gust__future_off_done(w->f, waiter_done, w);
  }
  if (rc < 0) {
    gust_future_unref(w->f);
    gust__free(q->mem, w);
    return rc;
  }
  gust__list_push(&q->head, &w->link);
  q->count++;
  *out = gust_future_ref(w->f);
  if (wout != NULL)
    *wout = w;
  return 0;
}

gust__waiter *gust__waitq_first(const gust__waitq *q) {
  if (gust__list_empty(&q->head))
    return NULL;
  return GUST__CONTAINER(q->head.next, gust__waiter, link);
}

int gust__waiter_wake(gust__waiter *w, void *value) {
  int rc = gust_future_set_result(w->f, value, NULL);
  if (rc < 0) {
    gust_log(GUST_LOG_GEN, GUST_LOG_ERROR, "cannot wake a waiter: %s",
             gust_strerror(rc));
    gust__future_off_done(w->f, waiter_done, w);
    waiter_release(w);
  }
  return rc;
}

void gust__waitq_cancel_all(gust__waitq *q) {
  gust__waiter *w;
  while ((w = gust__waitq_first(q)) != NULL) {
    if (gust_future_cancel(w->f) != 1) {
      gust__future_off_done(w->f, waiter_done, w);
      waiter_release(w);
    }
  }
}

/* ------------------------------------------------------------------ */
/* Condition                                                            */
/* ------------------------------------------------------------------ */

struct gust_condition {
  const gust_mem *mem;
  gust__waitq q;
};

int gust_condition_new(gust_condition **out, gust_loop *loop,
                       const gust_mem *mem) {
  gust_condition *c;
  if (out == NULL || loop == NULL)
    return GUST_EINVAL;
  mem = gust__mem(mem);
  c = gust__calloc(mem, 1, sizeof(*c));
  if (c == NULL)
    return GUST_ENOMEM;
  c->mem = mem;
  gust__waitq_init(&c->q, loop, mem);
  *out = c;
  return 0;
}

void gust_condition_free(gust_condition *c) {
  if (c == NULL)
    return;
  gust__waitq_cancel_all(&c->q);
  gust__free(c->mem, c);
}

int gust_condition_wait(gust_condition *c, gust_timeout timeout,
                        gust_future **out) {
  if (c == NULL || out == NULL)
    return GUST_EINVAL;
  return gust__waitq_add(&c->q, timeout, 0, NULL, out, NULL);
}

size_t gust_condition_notify(gust_condition *c, size_t n) {
  size_t woken = 0;
  gust__waiter *w;
  while (woken < n && (w = gust__waitq_first(&c->q)) != NULL) {
    if (gust__waiter_wake(w, (void *)1) == 0)
      woken++;
  }
  return woken;
}

size_t gust_condition_notify_all(gust_condition *c) {
  return gust_condition_notify(c, c->q.count);
}

size_t gust_condition_waiters(const gust_condition *c) { return c->q.count; }

int gust_condition_describe(const gust_condition *c, char *buf, size_t size) {
  if (c->q.count == 0)
    return snprintf(buf, size, "<Condition>");
  return snprintf(buf, size, "<Condition waiters[%zu]>", c->q.count);
}

/* ------------------------------------------------------------------ */
/* Event                                                                */
/* ------------------------------------------------------------------ */

struct gust_event {
  const gust_mem *mem;
  gust_loop *loop;
  int set;
  gust__waitq q;
};

int gust_event_new(gust_event **out, gust_loop *loop, const gust_mem *mem) {
  gust_event *e;
  if (out == NULL || loop == NULL)
    return GUST_EINVAL;
  mem = gust__mem(mem);
  e = gust__calloc(mem, 1, sizeof(*e));
  if (e == NULL)
    return GUST_ENOMEM;
  e->mem = mem;
  e->loop = loop;
  gust__waitq_init(&e->q, loop, mem);
  *out = e;
  return 0;
}

void gust_event_free(gust_event *e) {
  if (e == NULL)
    return;
  gust__waitq_cancel_all(&e->q);
  gust__free(e->mem, e);
}

void gust_event_set(gust_event *e) {
  gust__waiter *w;
  if (e->set)
    return;
  e->set = 1;
  while ((w = gust__waitq_first(&e->q)) != NULL)
    gust__waiter_wake(w, NULL);
}

void gust_event_clear(gust_event *e) { e->set = 0; }

int gust_event_is_set(const gust_event *e) { return e->set; }

int gust_event_wait(gust_event *e, gust_timeout timeout, gust_future **out) {
  gust_future *f;
  int rc;
  if (e == NULL || out == NULL)
    return GUST_EINVAL;
  if (e->set) {
    rc = gust_future_new(&f, e->loop, e->mem);
    if (rc < 0)
      return rc;
    rc = gust_future_set_result(f, NULL, NULL);
    if (rc < 0) {
      gust_future_unref(f);
      return rc;
    }
    *out = f;
    return 0;
  }
  return gust__waitq_add(&e->q, timeout, 1, NULL, out, NULL);
}

size_t gust_event_waiters(const gust_event *e) { return e->q.count; }

int gust_event_describe(const gust_event *e, char *buf, size_t size) {
  return snprintf(buf, size, "<Event %s>", e->set ? "set" : "clear");
}

/* ------------------------------------------------------------------ */
/* Semaphore                                                            */
/* ------------------------------------------------------------------ */

struct gust_semaphore {
  const gust_mem *mem;
  gust_loop *loop;
  long value;
  long initial;
  int bounded;
  gust__waitq q;
};

static int sem_new(gust_semaphore **out, gust_loop *loop, long value,
                   int bounded, const gust_mem *mem) {
  gust_semaphore *s;
  if (out == NULL || loop == NULL || value < 0)
    return GUST_EINVAL;
  mem = gust__mem(mem);
  s = gust__calloc(mem, 1, sizeof(*s));
  if (s == NULL)
    return GUST_ENOMEM;
  s->mem = mem;
  s->loop = loop;
  s->value = s->initial = value;
  s->bounded = bounded;
  gust__waitq_init(&s->q, loop, mem);
  *out = s;
  return 0;
}

int gust_semaphore_new(gust_semaphore **out, gust_loop *loop, long value,
                       const gust_mem *mem) {
  return sem_new(out, loop, value, 0, mem);
}

int gust_semaphore_new_bounded(gust_semaphore **out, gust_loop *loop,
                               long value, const gust_mem *mem) {
  return sem_new(out, loop, value, 1, mem);
}

void gust_semaphore_free(gust_semaphore *s) {
  if (s == NULL)
    return;
  gust__waitq_cancel_all(&s->q);
  gust__free(s->mem, s);
}

int gust_semaphore_acquire(gust_semaphore *s, gust_timeout timeout,
                           gust_future **out) {
  gust_future *f;
  int rc;
  if (s == NULL || out == NULL)
    return GUST_EINVAL;
  if (s->value > 0) {
    rc = gust_future_new(&f, s->loop, s->mem);
    if (rc < 0)
      return rc;
    rc = gust_future_set_result(f, NULL, NULL);
    if (rc < 0) {
      gust_future_unref(f);
      return rc;
    }
    s->value--;
    *out = f;
    return 0;
  }
  return gust__waitq_add(&s->q, timeout, 1, NULL, out, NULL);
}

int gust_semaphore_release(gust_semaphore *s) {
  gust__waiter *w;
  if (s->bounded && s->value >= s->initial)
    return GUST_ERANGE;
  s->value++;
  while ((w = gust__waitq_first(&s->q)) != NULL) {
    s->value--;
    if (gust__waiter_wake(w, NULL) == 0)
      break;
    s->value++;
  }
  return 0;
}

long gust_semaphore_value(const gust_semaphore *s) { return s->value; }

size_t gust_semaphore_waiters(const gust_semaphore *s) { return s->q.count; }

int gust_semaphore_describe(const gust_semaphore *s, char *buf, size_t size) {
  const char *name = s->bounded ? "BoundedSemaphore" : "Semaphore";
  if (s->value > 0)
    return snprintf(buf, size, "<%s [unlocked,value:%ld]>", name, s->value);
  if (s->q.count == 0)
    return snprintf(buf, size, "<%s [locked]>", name);
  return snprintf(buf, size, "<%s [locked,waiters:%zu]>", name, s->q.count);
}

/* ------------------------------------------------------------------ */
/* Lock                                                                 */
/* ------------------------------------------------------------------ */

struct gust_lock {
  const gust_mem *mem;
  gust_semaphore *block;
};

int gust_lock_new(gust_lock **out, gust_loop *loop, const gust_mem *mem) {
  gust_lock *l;
  int rc;
  if (out == NULL || loop == NULL)
    return GUST_EINVAL;
  mem = gust__mem(mem);
  l = gust__calloc(mem, 1, sizeof(*l));
  if (l == NULL)
    return GUST_ENOMEM;
  l->mem = mem;
  rc = gust_semaphore_new_bounded(&l->block, loop, 1, mem);
  if (rc < 0) {
    gust__free(mem, l);
    return rc;
  }
  *out = l;
  return 0;
}

void gust_lock_free(gust_lock *l) {
  if (l == NULL)
    return;
  gust_semaphore_free(l->block);
  gust__free(l->mem, l);
}

int gust_lock_acquire(gust_lock *l, gust_timeout timeout, gust_future **out) {
  if (l == NULL)
    return GUST_EINVAL;
  return gust_semaphore_acquire(l->block, timeout, out);
}

int gust_lock_release(gust_lock *l) {
  return gust_semaphore_release(l->block) == GUST_ERANGE ? GUST_ESTATE : 0;
}

int gust_lock_locked(const gust_lock *l) { return l->block->value == 0; }

int gust_lock_describe(const gust_lock *l, char *buf, size_t size) {
  char inner[96];
  gust_semaphore_describe(l->block, inner, sizeof(inner));
  return snprintf(buf, size, "<Lock _block=%s>", inner);
}
