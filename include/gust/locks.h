/* gust synchronisation primitives for tasks on one loop: Condition, Event,
 * Semaphore, BoundedSemaphore and Lock, with Tornado's semantics.
 *
 * Threading: these are not thread locks. Each object belongs to one loop
 * and every function must be called on that loop's thread.
 *
 * Waiting returns a future (a new reference, owned by the caller). Waiters
 * are served first come, first served; a wake-up completes the waiter's
 * future at once and its done callbacks run on a later loop iteration, so
 * a waiter never re-enters the primitive that woke it. A waiter that times
 * out, or whose future is cancelled, leaves the queue at once (O(1)).
 * Freeing a primitive cancels the futures of its remaining waiters. */
#ifndef GUST_LOCKS_H
#define GUST_LOCKS_H

#include <gust/future.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------ */
/* Condition                                                            */
/* ------------------------------------------------------------------ */

/* Lets tasks wait until notified (Tornado's Condition; opaque). */
typedef struct gust_condition gust_condition;

/* Creates a condition on `loop`; *out is owned by the caller (release with
 * gust_condition_free()). Returns 0, GUST_EINVAL, or GUST_ENOMEM. */
GUST_EXTERN int gust_condition_new(gust_condition **out, gust_loop *loop,
                                   const gust_mem *mem);

/* Frees the condition; remaining waiters are cancelled. NULL is a no-op. */
GUST_EXTERN void gust_condition_free(gust_condition *c);

/* Waits for a notification. The future resolves with (void *)1 when
 * notified, or with NULL when `timeout` expires first (never an error).
 * Returns 0, GUST_EINVAL, or GUST_ENOMEM. */
GUST_EXTERN int gust_condition_wait(gust_condition *c, gust_timeout timeout,
                                    gust_future **out);

/* Wakes up to `n` waiters, oldest first. Returns the number woken. */
GUST_EXTERN size_t gust_condition_notify(gust_condition *c, size_t n);

/* Wakes every waiter, oldest first. Returns the number woken. */
GUST_EXTERN size_t gust_condition_notify_all(gust_condition *c);

/* The number of waiters. */
GUST_EXTERN size_t gust_condition_waiters(const gust_condition *c);

/* Writes Tornado's repr, "<Condition>" or "<Condition waiters[N]>", as a
 * NUL-terminated string into buf (truncated to size). Returns the length
 * of the full text. */
GUST_EXTERN int gust_condition_describe(const gust_condition *c, char *buf,
                                        size_t size);

/* ------------------------------------------------------------------ */
/* Event                                                                */
/* ------------------------------------------------------------------ */

/* A flag tasks can wait on until it is set (Tornado's Event; opaque). */
typedef struct gust_event gust_event;

/* Creates a clear event. Returns 0, GUST_EINVAL, or GUST_ENOMEM. */
GUST_EXTERN int gust_event_new(gust_event **out, gust_loop *loop,
                               const gust_mem *mem);

/* Frees the event; remaining waiters are cancelled. NULL is a no-op. */
GUST_EXTERN void gust_event_free(gust_event *e);

/* Sets the event, waking every waiter (idempotent). */
GUST_EXTERN void gust_event_set(gust_event *e);

/* Clears the event: later waits block until the next set. */
GUST_EXTERN void gust_event_clear(gust_event *e);

/* 1 if set. */
GUST_EXTERN int gust_event_is_set(const gust_event *e);

/* Waits until the event is set: the future is resolved (NULL) at once if
 * it is, and fails with GUST_ETIMEDOUT ("Timeout") if `timeout` expires
 * first. Returns 0, GUST_EINVAL, or GUST_ENOMEM. */
GUST_EXTERN int gust_event_wait(gust_event *e, gust_timeout timeout,
                                gust_future **out);

/* The number of waiters. */
GUST_EXTERN size_t gust_event_waiters(const gust_event *e);

/* Writes "<Event set>" or "<Event clear>"; as gust_condition_describe(). */
GUST_EXTERN int gust_event_describe(const gust_event *e, char *buf,
                                    size_t size);

/* ------------------------------------------------------------------ */
/* Semaphore and BoundedSemaphore                                       */
/* ------------------------------------------------------------------ */

/* A counter that tasks acquire and release (Tornado's Semaphore and
 * BoundedSemaphore; opaque). */
typedef struct gust_semaphore gust_semaphore;

/* Creates a semaphore with the counter at `value`. Returns 0, GUST_EINVAL
 * for a negative value ("semaphore initial value must be >= 0"), or
 * GUST_ENOMEM. */
GUST_EXTERN int gust_semaphore_new(gust_semaphore **out, gust_loop *loop,
                                   long value, const gust_mem *mem);

/* As gust_semaphore_new(), for a BoundedSemaphore: releasing past the
 * initial value is an error. */
GUST_EXTERN int gust_semaphore_new_bounded(gust_semaphore **out,
                                           gust_loop *loop, long value,
                                           const gust_mem *mem);

/* Frees the semaphore; remaining waiters are cancelled. NULL is a no-op. */
GUST_EXTERN void gust_semaphore_free(gust_semaphore *s);

/* Decrements the counter, waiting while it is zero. The future resolves
 * (NULL) once acquired, at once if the counter was positive, or fails with
 * GUST_ETIMEDOUT if `timeout` expires first (nothing acquired). Pair every
 * successful acquire with gust_semaphore_release(). Returns 0,
 * GUST_EINVAL, or GUST_ENOMEM. */
GUST_EXTERN int gust_semaphore_acquire(gust_semaphore *s, gust_timeout timeout,
                                       gust_future **out);

/* Increments the counter and hands the unit to the oldest waiter, if any.
 * Returns 0, or GUST_ERANGE for a bounded semaphore already at its initial
 * value ("Semaphore released too many times"; nothing changes). */
GUST_EXTERN int gust_semaphore_release(gust_semaphore *s);

/* The counter. */
GUST_EXTERN long gust_semaphore_value(const gust_semaphore *s);

/* The number of waiters. */
GUST_EXTERN size_t gust_semaphore_waiters(const gust_semaphore *s);

/* Writes "<Semaphore [unlocked,value:N]>", "<Semaphore [locked]>" or
 * "<Semaphore [locked,waiters:N]>" ("BoundedSemaphore" when bounded); as
 * gust_condition_describe(). */
GUST_EXTERN int gust_semaphore_describe(const gust_semaphore *s, char *buf,
                                        size_t size);

/* ------------------------------------------------------------------ */
/* Lock                                                                 */
/* ------------------------------------------------------------------ */

/* A lock for tasks on one loop (Tornado's Lock; opaque). */
typedef struct gust_lock gust_lock;

/* Creates an unlocked lock. Returns 0, GUST_EINVAL, or GUST_ENOMEM. */
GUST_EXTERN int gust_lock_new(gust_lock **out, gust_loop *loop,
                              const gust_mem *mem);

/* Frees the lock; remaining waiters are cancelled. NULL is a no-op. */
GUST_EXTERN void gust_lock_free(gust_lock *l);

/* Acquires the lock, waiting in FIFO order. The future resolves (NULL)
 * once the caller holds the lock, or fails with GUST_ETIMEDOUT. Returns 0,
 * GUST_EINVAL, or GUST_ENOMEM. */
GUST_EXTERN int gust_lock_acquire(gust_lock *l, gust_timeout timeout,
                                  gust_future **out);

/* Releases the lock, handing it to the oldest waiter. Returns 0, or
 * GUST_ESTATE if the lock is not locked ("release unlocked lock"). */
GUST_EXTERN int gust_lock_release(gust_lock *l);

/* 1 if locked. */
GUST_EXTERN int gust_lock_locked(const gust_lock *l);

/* Writes "<Lock _block=<BoundedSemaphore [...]>>"; as
 * gust_condition_describe(). */
GUST_EXTERN int gust_lock_describe(const gust_lock *l, char *buf, size_t size);

#ifdef __cplusplus
}
#endif

#endif /* GUST_LOCKS_H */
