/* Internal hooks shared by futures, locks, queues and the executor. */
#ifndef GUST_FUTURE_INT_H
#define GUST_FUTURE_INT_H

#include <gust/future.h>

#include <stddef.h>

/* Called synchronously when the future completes (or at once, inline, if
 * it is done already). */
typedef void (*gust__future_fn)(gust_future *f, void *user_data);

/* Called instead when the future is freed while still pending. */
typedef void (*gust__future_drop_fn)(void *user_data);

/* Registers an internal completion hook (Tornado's internal
 * future_add_done_callback: inline if already done). `drop` may be NULL.
 * Returns 0 or GUST_ENOMEM. */
int gust__future_on_done(gust_future *f, gust__future_fn fn, void *user_data,
                         gust__future_drop_fn drop);

/* Removes the first hook registered with this (fn, user_data); no effect
 * if there is none. */
void gust__future_off_done(gust_future *f, gust__future_fn fn, void *user_data);

/* Copies the outcome of done `src` to `dst` unless `dst` is done; a
 * result is shared (dst keeps a reference to src). Returns 0 or a code. */
int gust__future_copy(gust_future *src, gust_future *dst);

/* gust_future_set_error() that also attaches `value`, released with
 * `dtor` (may be NULL) when the future is freed, for an API that tells
 * more about a failure (the WebSocket client's refused handshake). On
 * failure `value` stays the caller's. */
int gust__future_set_error_value(gust_future *f, int code, const char *msg,
                                 void *value, gust_free_fn dtor);

/* The value of a done future: its result, or the value attached to its
 * error; NULL while pending. */
void *gust__future_value(const gust_future *f);

/* The allocator of the future. */
const gust_mem *gust__future_mem(const gust_future *f);

/* Schedules a timeout callback; returns 0 with a zeroed handle for "no
 * timeout". */
int gust__timeout_schedule(gust_loop *loop, gust_timeout t, gust_loop_cb cb,
                           void *user_data, gust_timer *handle);

/* 1 if `t` is a timeout (not "none"). */
int gust__timeout_is_set(gust_timeout t);

/* An intrusive doubly-linked list node / list head. */
typedef struct gust__link {
  struct gust__link *prev, *next;
} gust__link;

static inline void gust__list_init(gust__link *head) {
  head->prev = head->next = head;
}

static inline int gust__list_empty(const gust__link *head) {
  return head->next == head;
}

static inline void gust__list_push(gust__link *head, gust__link *n) {
  n->prev = head->prev;
  n->next = head;
  head->prev->next = n;
  head->prev = n;
}

static inline void gust__list_unlink(gust__link *n) {
  n->prev->next = n->next;
  n->next->prev = n->prev;
  n->prev = n->next = n;
}

#define GUST__CONTAINER(ptr, type, member)                                     \
  ((type *)(void *)((char *)(ptr)-offsetof(type, member)))

/* A FIFO of waiters, each with its own future and optional timer. When
 * the future completes for any reason (woken, timed out, cancelled by its
 * holder) the waiter unlinks and frees itself. */
typedef struct gust__waitq {
  gust__link head;
  size_t count;
  gust_loop *loop;
  const gust_mem *mem;
} gust__waitq;

typedef struct gust__waiter {
  gust__link link;
  gust__waitq *q;
  gust_future *f;
  gust_timer timer;
  int timeout_is_error; /* GUST_ETIMEDOUT, else resolve with NULL */
  void *item;           /* a queue putter's item */
} gust__waiter;

void gust__waitq_init(gust__waitq *q, gust_loop *loop, const gust_mem *mem);

/* Appends a waiter. On success *out is a new reference to its future for
 * the caller and *w (may be NULL) the waiter. Returns 0 or GUST_ENOMEM. */
int gust__waitq_add(gust__waitq *q, gust_timeout timeout, int timeout_is_error,
                    void *item, gust_future **out, gust__waiter **w);

/* The oldest waiter, or NULL. */
gust__waiter *gust__waitq_first(const gust__waitq *q);

/* Resolves the waiter's future with `value` (the waiter goes away). If
 * the future cannot be completed (out of memory) the waiter is dropped
 * all the same and GUST_ENOMEM returned. */
int gust__waiter_wake(gust__waiter *w, void *value);

/* Cancels every waiter (used when the primitive is freed). */
void gust__waitq_cancel_all(gust__waitq *q);

#endif /* GUST_FUTURE_INT_H */
