/* Queue, LifoQueue and PriorityQueue with Tornado's hand-off rules. */
#include "config.h"

#include <gust/locks.h>
#include <gust/queues.h>

#include <stdio.h>
#include <string.h>

#include "../base/base_int.h"
#include "future_int.h"

typedef struct qent {
  void *item;
  uint64_t seq;
} qent;

struct gust_queue {
  const gust_mem *mem;
  gust_loop *loop;
  gust_queue_kind kind;
  long maxsize;
  gust_queue_cmp cmp;
  void *cmp_data;
  qent *buf; /* ring: logical index i lives at (head + i) % cap */
  size_t cap, head, n;
  uint64_t seq;
  gust__waitq getters, putters;
  size_t unfinished;
  gust_event *finished;
};

int gust_queue_new(gust_queue **out, gust_loop *loop, gust_queue_kind kind,
                   long maxsize, gust_queue_cmp cmp, void *cmp_data,
                   const gust_mem *mem) {
  gust_queue *q;
  int rc;
  if (out == NULL || loop == NULL || maxsize < 0 ||
      (kind != GUST_QUEUE_FIFO && kind != GUST_QUEUE_LIFO &&
       kind != GUST_QUEUE_PRIORITY) ||
      (kind == GUST_QUEUE_PRIORITY && cmp == NULL))
    return GUST_EINVAL;
  mem = gust__mem(mem);
  q = gust__calloc(mem, 1, sizeof(*q));
  if (q == NULL)
    return GUST_ENOMEM;
  q->mem = mem;
  q->loop = loop;
  q->kind = kind;
  q->maxsize = maxsize;
  q->cmp = cmp;
  q->cmp_data = cmp_data;
  gust__waitq_init(&q->getters, loop, mem);
  gust__waitq_init(&q->putters, loop, mem);
  rc = gust_event_new(&q->finished, loop, mem);
  if (rc < 0) {
    gust__free(mem, q);
    return rc;
  }
  gust_event_set(q->finished);
  *out = q;
  return 0;
}

void gust_queue_free(gust_queue *q) {
  if (q == NULL)
    return;
  gust__waitq_cancel_all(&q->getters);
  gust__waitq_cancel_all(&q->putters);
  gust_event_free(q->finished);
  gust__free(q->mem, q->buf);
  gust__free(q->mem, q);
}

/* ------------------------------------------------------------------ */
/* Storage                                                              */
/* ------------------------------------------------------------------ */

static qent *at(gust_queue *q, size_t i) {
  return &q->buf[(q->head + i) % q->cap];
}

/* Makes room for one more item so that the insert that follows cannot
 * fail. */
static int reserve(gust_queue *q) {
  qent *nb;
  size_t ncap, i;
  if (q->n < q->cap)
    return 0;
  ncap = q->cap != 0 ? q->cap * 2 : 8;
  if (ncap < q->cap || ncap > SIZE_MAX / sizeof(qent))
    return GUST_ENOMEM;
  nb = gust__malloc(q->mem, ncap * sizeof(qent));
  if (nb == NULL)
    return GUST_ENOMEM;
  for (i = 0; i < q->n; i++)
    nb[i] = *at(q, i);
  gust__free(q->mem, q->buf);
  q->buf = nb;
  q->cap = ncap;
  q->head = 0;
  return 0;
}

static int before(gust_queue *q, const qent *a, const qent *b) {
  int c = q->cmp(a->item, b->item, q->cmp_data);
  return c < 0 || (c == 0 && a->seq < b->seq);
}

static void swap(qent *a, qent *b) {
  qent t = *a;
  *a = *b;
  *b = t;
}

/* Inserts into reserved room (Tornado's __put_internal). */
static void put_internal(gust_queue *q, void *item) {
  size_t i;
  q->unfinished++;
  gust_event_clear(q->finished);
  i = q->n++;
  at(q, i)->item = item;
  at(q, i)->seq = q->seq++;
  if (q->kind != GUST_QUEUE_PRIORITY)
    return;
  while (i > 0) {
    size_t parent = (i - 1) / 2;
    if (!before(q, at(q, i), at(q, parent)))
      break;
    swap(at(q, i), at(q, parent));
    i = parent;
  }
}

static void *take(gust_queue *q) {
  void *item;
  size_t i = 0;
  if (q->kind == GUST_QUEUE_FIFO) {
    item = at(q, 0)->item;
    q->head = (q->head + 1) % q->cap;
    q->n--;
    return item;
  }
  if (q->kind == GUST_QUEUE_LIFO)
    return at(q, --q->n)->item;
  item = at(q, 0)->item;
  *at(q, 0) = *at(q, --q->n);
  for (;;) {
    size_t l = 2 * i + 1, r = l + 1, m = i;
    if (l < q->n && before(q, at(q, l), at(q, m)))
      m = l;
    if (r < q->n && before(q, at(q, r), at(q, m)))
      m = r;
    if (m == i)
      break;
    swap(at(q, i), at(q, m));
    i = m;
  }
  return item;
}

/* ------------------------------------------------------------------ */
/* Operations                                                           */
/* ------------------------------------------------------------------ */

int gust_queue_full(const gust_queue *q) {
  return q->maxsize > 0 && q->n >= (size_t)q->maxsize;
}

int gust_queue_empty(const gust_queue *q) { return q->n == 0; }

size_t gust_queue_qsize(const gust_queue *q) { return q->n; }

long gust_queue_maxsize(const gust_queue *q) { return q->maxsize; }

size_t gust_queue_getters(const gust_queue *q) { return q->getters.count; }

size_t gust_queue_putters(const gust_queue *q) { return q->putters.count; }

size_t gust_queue_unfinished(const gust_queue *q) { return q->unfinished; }

int gust_queue_put_nowait(gust_queue *q, void *item) {
  gust__waiter *g;
  int rc;
  if (q == NULL)
    return GUST_EINVAL;
  g = gust__waitq_first(&q->getters);
  if (g != NULL) {
    /* The queue is empty while getters wait: the item passes through it
     * to the oldest getter. */
    rc = reserve(q);
    if (rc < 0)
      return rc;
    put_internal(q, item);
    gust__waiter_wake(g, take(q));
    return 0;
  }
  if (gust_queue_full(q))
    return GUST_EQUEUEFULL;
  rc = reserve(q);
  if (rc < 0)
    return rc;
  put_internal(q, item);
  return 0;
}

int gust_queue_put(gust_queue *q, void *item, gust_timeout timeout,
                   gust_future **out) {
  gust_future *f;
  int rc;
  if (q == NULL || out == NULL)
    return GUST_EINVAL;
  rc = gust_future_new(&f, q->loop, q->mem);
  if (rc < 0)
    return rc;
  rc = gust_queue_put_nowait(q, item);
  if (rc == GUST_EQUEUEFULL) {
    gust_future_unref(f);
    return gust__waitq_add(&q->putters, timeout, 1, item, out, NULL);
  }
  if (rc == 0)
    rc = gust_future_set_result(f, NULL, NULL);
  /* set_result without callbacks cannot fail: nothing to schedule. */
  if (rc < 0) {
    gust_future_unref(f);
    return rc;
  }
  *out = f;
  return 0;
}

int gust_queue_get_nowait(gust_queue *q, void **item) {
  gust__waiter *p;
  int rc;
  if (q == NULL || item == NULL)
    return GUST_EINVAL;
  p = gust__waitq_first(&q->putters);
  if (p != NULL) {
    /* Putters wait only while the queue is full: the oldest one's item
     * goes in first, then the queue's own order decides. */
    rc = reserve(q);
    if (rc < 0)
      return rc;
    put_internal(q, p->item);
    gust__waiter_wake(p, NULL);
    *item = take(q);
    return 0;
  }
  if (q->n == 0)
    return GUST_EQUEUEEMPTY;
  *item = take(q);
  return 0;
}

int gust_queue_get(gust_queue *q, gust_timeout timeout, gust_future **out) {
  gust_future *f;
  void *item;
  int rc;
  if (q == NULL || out == NULL)
    return GUST_EINVAL;
  if (q->n == 0 && gust__waitq_first(&q->putters) == NULL)
    return gust__waitq_add(&q->getters, timeout, 1, NULL, out, NULL);
  rc = gust_future_new(&f, q->loop, q->mem);
  if (rc < 0)
    return rc;
  rc = gust_queue_get_nowait(q, &item);
  if (rc == 0)
    rc = gust_future_set_result(f, item, NULL);
  if (rc < 0) {
    gust_future_unref(f);
    return rc;
  }
  *out = f;
  return 0;
}

int gust_queue_task_done(gust_queue *q) {
  if (q->unfinished == 0)
    return GUST_EUNDERFLOW;
  if (--q->unfinished == 0)
    gust_event_set(q->finished);
  return 0;
}

int gust_queue_join(gust_queue *q, gust_timeout timeout, gust_future **out) {
  if (q == NULL || out == NULL)
    return GUST_EINVAL;
  return gust_event_wait(q->finished, timeout, out);
}

int gust_queue_describe(const gust_queue *q, char *buf, size_t size) {
  static const char *const names[] = {"Queue", "LifoQueue", "PriorityQueue"};
  char getters[32] = "", putters[32] = "", tasks[32] = "";
  if (q->getters.count != 0)
    snprintf(getters, sizeof(getters), " getters[%zu]", q->getters.count);
  if (q->putters.count != 0)
    snprintf(putters, sizeof(putters), " putters[%zu]", q->putters.count);
  if (q->unfinished != 0)
    snprintf(tasks, sizeof(tasks), " tasks=%zu", q->unfinished);
  return snprintf(buf, size, "<%s maxsize=%ld%s%s%s>", names[q->kind],
                  q->maxsize, getters, putters, tasks);
}
