/* gust queues for tasks on one loop: Queue (FIFO), LifoQueue and
 * PriorityQueue, with Tornado's semantics (maxsize, blocking put/get with
 * timeouts, nowait forms, task_done/join).
 *
 * Threading: a queue belongs to one loop and every function must be
 * called on that loop's thread; it is not a queue between threads.
 *
 * Items are opaque pointers that the queue never dereferences or frees.
 * Waiting getters and putters are served first come, first served; a
 * waiter that times out or whose future is cancelled leaves at once, and a
 * timed-out putter's item never enters the queue. */
#ifndef GUST_QUEUES_H
#define GUST_QUEUES_H

#include <gust/future.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A queue of pointers between tasks on one loop (opaque). */
typedef struct gust_queue gust_queue;

/* The order in which a queue hands out its items. */
typedef enum gust_queue_kind {
  GUST_QUEUE_FIFO = 0,    /* Queue: first in, first out */
  GUST_QUEUE_LIFO = 1,    /* LifoQueue: last in, first out */
  GUST_QUEUE_PRIORITY = 2 /* PriorityQueue: smallest first, ties FIFO */
} gust_queue_kind;

/* Orders two items of a priority queue: negative if `a` comes out first,
 * positive if `b` does, 0 for equal priorities (then the earlier insert
 * comes out first). */
typedef int (*gust_queue_cmp)(const void *a, const void *b, void *user_data);

/* Creates a queue of `kind` holding at most `maxsize` items (0 = no
 * limit). A priority queue needs `cmp` (called with `cmp_data`); the other
 * kinds ignore it. *out is owned by the caller (gust_queue_free()).
 * Returns 0, GUST_EINVAL for a negative maxsize ("maxsize can't be
 * negative"), an unknown kind or a priority queue without `cmp`, or
 * GUST_ENOMEM. */
GUST_EXTERN int gust_queue_new(gust_queue **out, gust_loop *loop,
                               gust_queue_kind kind, long maxsize,
                               gust_queue_cmp cmp, void *cmp_data,
                               const gust_mem *mem);

/* Frees the queue. Waiting getters, putters and joiners are cancelled;
 * items still queued are not freed (drain with gust_queue_get_nowait()
 * first if they own memory). NULL is a no-op. */
GUST_EXTERN void gust_queue_free(gust_queue *q);

/* Puts `item`, waiting while the queue is full. The future resolves
 * (NULL) once the item is in, at once if there is room, or fails with
 * GUST_ETIMEDOUT when `timeout` expires first (the item never enters).
 * Returns 0, GUST_EINVAL, or GUST_ENOMEM. */
GUST_EXTERN int gust_queue_put(gust_queue *q, void *item, gust_timeout timeout,
                               gust_future **out);

/* Puts `item` without waiting; with a waiting getter the item goes to the
 * oldest one. Returns 0, GUST_EQUEUEFULL, or GUST_ENOMEM. */
GUST_EXTERN int gust_queue_put_nowait(gust_queue *q, void *item);

/* Gets an item, waiting while the queue is empty. The future resolves
 * with the item (the queue does not own it) or fails with GUST_ETIMEDOUT.
 * Returns 0, GUST_EINVAL, or GUST_ENOMEM. */
GUST_EXTERN int gust_queue_get(gust_queue *q, gust_timeout timeout,
                               gust_future **out);

/* Gets an item without waiting into *item. With a waiting putter (the
 * queue is full), the oldest putter's item is inserted first, so a LIFO or
 * priority queue may return it at once. Returns 0, GUST_EQUEUEEMPTY, or
 * GUST_ENOMEM. */
GUST_EXTERN int gust_queue_get_nowait(gust_queue *q, void **item);

/* Marks one item as processed. When every item put has been marked, join
 * futures resolve. Returns 0, or GUST_EUNDERFLOW ("task_done() called too
 * many times"). */
GUST_EXTERN int gust_queue_task_done(gust_queue *q);

/* Waits until every item put has been marked done (at once if none is
 * pending); fails with GUST_ETIMEDOUT when `timeout` expires first.
 * Returns 0, GUST_EINVAL, or GUST_ENOMEM. */
GUST_EXTERN int gust_queue_join(gust_queue *q, gust_timeout timeout,
                                gust_future **out);

/* Items in the queue. */
GUST_EXTERN size_t gust_queue_qsize(const gust_queue *q);

/* The maxsize given at creation. */
GUST_EXTERN long gust_queue_maxsize(const gust_queue *q);

/* 1 if the queue holds no item. */
GUST_EXTERN int gust_queue_empty(const gust_queue *q);

/* 1 if maxsize > 0 and qsize >= maxsize. */
GUST_EXTERN int gust_queue_full(const gust_queue *q);

/* Waiting getters and putters; unfinished tasks. */
GUST_EXTERN size_t gust_queue_getters(const gust_queue *q);
GUST_EXTERN size_t gust_queue_putters(const gust_queue *q);
GUST_EXTERN size_t gust_queue_unfinished(const gust_queue *q);

/* Writes Tornado's str(), e.g. "<Queue maxsize=1 getters[1]>" or
 * "<LifoQueue maxsize=2 putters[1] tasks=2>" (fields only when non-zero),
 * NUL-terminated and truncated to size. Returns the full length. */
GUST_EXTERN int gust_queue_describe(const gust_queue *q, char *buf,
                                    size_t size);

#ifdef __cplusplus
}
#endif

#endif /* GUST_QUEUES_H */
