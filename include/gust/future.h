/* gust futures: single-threaded, reference-counted results of asynchronous
 * operations, with Tornado's combinators (multi, with_timeout, sleep,
 * moment, wait iterator).
 *
 * Threading: a future belongs to the loop it was created for and every
 * function here must be called on that loop's thread. Nothing in this
 * header is thread-safe; to complete a future from another thread, send a
 * callback to the loop with gust_loop_call_soon_threadsafe() (or use the
 * executor of <gust/executor.h>) and complete it there.
 *
 * Done callbacks always run on a later loop iteration, never inside the
 * call that completed the future, even when added to a future that is
 * already done. A future must not outlive its loop; pending done callbacks
 * hold a reference, so run the loop until they ran before freeing it. */
#ifndef GUST_FUTURE_H
#define GUST_FUTURE_H

#include <gust/base.h>
#include <gust/loop.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A result that will be available later: pending, then done with a
 * value, an error code or cancelled (opaque, reference counted). */
typedef struct gust_future gust_future;

/* Releases a result value. */
typedef void (*gust_free_fn)(void *value);

/* A done callback: `f` is borrowed for the duration of the call. */
typedef void (*gust_future_cb)(gust_future *f, void *user_data);

/* ------------------------------------------------------------------ */
/* Timeouts: none, a relative duration, or an absolute deadline        */
/* ------------------------------------------------------------------ */

/* A timeout, as distinct values so that a duration is never mistaken for
 * a deadline. A zeroed struct means "no timeout". A duration of zero (or
 * a deadline already past) expires on the next loop iteration. */
typedef struct gust_timeout {
  int kind_;     /* 0 none, 1 duration, 2 deadline */
  double value_; /* seconds */
} gust_timeout;

/* No timeout: wait forever. */
GUST_EXTERN gust_timeout gust_timeout_none(void);

/* Expires `seconds` after the call that receives the timeout. */
GUST_EXTERN gust_timeout gust_timeout_in(double seconds);

/* Expires at `deadline` on the gust_loop_now() clock. */
GUST_EXTERN gust_timeout gust_timeout_at(double deadline);

/* ------------------------------------------------------------------ */
/* The future object                                                    */
/* ------------------------------------------------------------------ */

/* Creates a pending future on `loop` with one reference, owned by the
 * caller (release with gust_future_unref()). `mem` (NULL = default) is used
 * for all its allocations and must outlive it. Returns 0, GUST_EINVAL for a
 * NULL loop, or GUST_ENOMEM. */
GUST_EXTERN int gust_future_new(gust_future **out, gust_loop *loop,
                                const gust_mem *mem);

/* Adds a reference; returns `f`. */
GUST_EXTERN gust_future *gust_future_ref(gust_future *f);

/* Drops a reference; the last one frees the future, its result (through
 * the result's destructor) and its error message. NULL is a no-op. */
GUST_EXTERN void gust_future_unref(gust_future *f);

/* The loop the future belongs to. */
GUST_EXTERN gust_loop *gust_future_loop(const gust_future *f);

/* Completes the future with `value`. On success the future owns `value`
 * and calls `dtor(value)` (if not NULL) when it is freed. Returns 0,
 * GUST_ESTATE if the future is already done, or GUST_ENOMEM (the future is
 * unchanged); on failure `value` stays the caller's. */
GUST_EXTERN int gust_future_set_result(gust_future *f, void *value,
                                       gust_free_fn dtor);

/* As gust_future_set_result(), but a cancelled future is left as it is
 * and 0 returned (Tornado's future_set_result_unless_cancelled); then
 * `value` stays the caller's, which *taken (may be NULL) reports as 0. */
GUST_EXTERN int gust_future_set_result_unless_cancelled(gust_future *f,
                                                        void *value,
                                                        gust_free_fn dtor,
                                                        int *taken);

/* Fails the future with the negative code `code` and a message (copied;
 * NULL = gust_strerror(code)). Returns 0, GUST_EINVAL if `code` is not
 * negative, GUST_ESTATE if already done, or GUST_ENOMEM. */
GUST_EXTERN int gust_future_set_error(gust_future *f, int code,
                                      const char *msg);

/* Cancels a pending future: it fails with GUST_ECANCELLED. Returns 1 if it
 * was cancelled, 0 if it was already done (no effect), or GUST_ENOMEM
 * (still pending). */
GUST_EXTERN int gust_future_cancel(gust_future *f);

/* 1 once the future has a result or an error (cancelled included). */
GUST_EXTERN int gust_future_done(const gust_future *f);

/* 1 if the future was cancelled. */
GUST_EXTERN int gust_future_cancelled(const gust_future *f);

/* The error code: 0 while pending or after success, otherwise negative. */
GUST_EXTERN int gust_future_error(const gust_future *f);

/* The error message (borrowed, valid while the future lives), or NULL if
 * the future did not fail. */
GUST_EXTERN const char *gust_future_error_message(const gust_future *f);

/* The result value (borrowed, owned by the future), or NULL while pending
 * or after a failure. */
GUST_EXTERN void *gust_future_result(const gust_future *f);

/* Calls `cb(f, user_data)` on a later loop iteration once the future is
 * done (also when it is done already). Callbacks run in the order they
 * were added. A pending callback holds a reference to the future. Returns
 * 0, GUST_EINVAL for a NULL callback, or GUST_ENOMEM. */
GUST_EXTERN int gust_future_add_done_callback(gust_future *f, gust_future_cb cb,
                                              void *user_data);

/* Copies the outcome of `a` to `b` once `a` is done, unless `b` is done by
 * then (Tornado's chain_future). A result is shared, not copied: `b` keeps
 * a reference to `a` until `b` is freed. Returns 0, GUST_EINVAL, or
 * GUST_ENOMEM. */
GUST_EXTERN int gust_future_chain(gust_future *a, gust_future *b);

/* Runs the loop until `f` is done (Tornado's run_sync). `timeout` > 0
 * bounds the run in seconds; 0 or less means no bound. Returns 0 when `f`
 * is done (look at its outcome), GUST_ETIMEDOUT when the bound expired
 * first (logged at debug level: "Operation timed out after %g seconds"),
 * GUST_ELOOPSTOPPED if gust_loop_stop() ended the run first ("Event loop
 * stopped before Future completed."), or GUST_EBUSY if the loop is
 * already running. `f` is left as it is in every case. */
GUST_EXTERN int gust_future_run(gust_future *f, double timeout);

/* ------------------------------------------------------------------ */
/* Combinators                                                          */
/* ------------------------------------------------------------------ */

/* The result of gust_future_multi(): values[i] is the result of the i-th
 * input (borrowed from it; the multi future keeps its inputs alive). */
typedef struct gust_multi_result {
  size_t n;
  void *const *values;
} gust_multi_result;

/* Creates a future that waits for all `n` futures of `futures` (the same
 * future may appear twice; n may be 0, then it is done at once). It
 * resolves with a gust_multi_result in input order, or fails with the
 * first failure in input order once every input is done. Each further
 * failure is logged "Multiple exceptions in yield list" (category gen,
 * level error) unless its code is one of the `n_quiet` codes of `quiet`.
 * Cancelling the result does not cancel the inputs. Returns 0, GUST_EINVAL,
 * or GUST_ENOMEM. */
GUST_EXTERN int gust_future_multi(gust_future **out, gust_loop *loop,
                                  gust_future *const *futures, size_t n,
                                  const int *quiet, size_t n_quiet,
                                  const gust_mem *mem);

/* Creates a future that mirrors `inner`, or fails with GUST_ETIMEDOUT
 * ("Timeout") when `timeout` expires first. `inner` is not cancelled; if
 * it fails after the timeout, the failure is logged "Exception in Future
 * %p after timeout" unless cancelled or its code is quiet. A done `inner`
 * is mirrored at once. Returns 0, GUST_EINVAL, or GUST_ENOMEM. */
GUST_EXTERN int gust_future_with_timeout(gust_future **out,
                                         gust_timeout timeout,
                                         gust_future *inner, const int *quiet,
                                         size_t n_quiet);

/* Creates a future resolved (with NULL) after `seconds` (Tornado's
 * gen.sleep). Returns 0, GUST_EINVAL, or GUST_ENOMEM. */
GUST_EXTERN int gust_future_sleep(gust_future **out, gust_loop *loop,
                                  double seconds, const gust_mem *mem);

/* Creates a future resolved (with NULL) on the next loop iteration
 * (Tornado's gen.moment): waiting on it yields one iteration. Returns 0,
 * GUST_EINVAL, or GUST_ENOMEM. */
GUST_EXTERN int gust_future_moment(gust_future **out, gust_loop *loop,
                                   const gust_mem *mem);

/* ------------------------------------------------------------------ */
/* Wait iterator (Tornado's WaitIterator)                               */
/* ------------------------------------------------------------------ */

/* Yields a set of futures in the order they complete (opaque). */
typedef struct gust_wait_iterator gust_wait_iterator;

/* Creates an iterator over `n` futures that yields them in completion
 * order (inputs already done come first, in input order). It keeps a
 * reference to each input. Returns 0, GUST_EINVAL, or GUST_ENOMEM. */
GUST_EXTERN int gust_wait_iterator_new(gust_wait_iterator **out,
                                       gust_loop *loop,
                                       gust_future *const *futures, size_t n,
                                       const gust_mem *mem);

/* 1 when every input has been handed out by gust_wait_iterator_next() and
 * the last next() future is done; then the current index and future are
 * cleared (Tornado's WaitIterator.done()). */
GUST_EXTERN int gust_wait_iterator_done(gust_wait_iterator *it);

/* Returns in *out (a new reference, owned by the caller) a future that
 * mirrors the next input to complete. When it is done,
 * gust_wait_iterator_current_index() and _current_future() name that
 * input. Returns 0, GUST_ESTATE when the iterator is exhausted or a
 * previous next() future is still pending, or GUST_ENOMEM. The returned
 * future keeps the iterator's inputs alive, not the iterator. */
GUST_EXTERN int gust_wait_iterator_next(gust_wait_iterator *it,
                                        gust_future **out);

/* The input index of the most recently delivered future, or -1 before
 * the first one and after the iterator is exhausted. */
GUST_EXTERN long gust_wait_iterator_current_index(const gust_wait_iterator *it);

/* The most recently delivered input (borrowed), or NULL as for the index. */
GUST_EXTERN gust_future *
gust_wait_iterator_current_future(const gust_wait_iterator *it);

/* Releases the iterator. A pending next() future still resolves: the
 * iterator lives on until it does. NULL is a no-op. */
GUST_EXTERN void gust_wait_iterator_free(gust_wait_iterator *it);

#ifdef __cplusplus
}
#endif

#endif /* GUST_FUTURE_H */
