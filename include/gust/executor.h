/* gust executor: a pool of threads that runs blocking functions and
 * completes a future on the loop thread with their outcome (Tornado's
 * run_on_executor / IOLoop.run_in_executor).
 *
 * Threading: gust_executor_new(), gust_executor_submit() and
 * gust_executor_free() are called on the loop's thread. The submitted
 * function runs on a pool thread and must not touch the loop or any
 * future; its outcome travels back through gust_loop_call_soon_threadsafe()
 * and the future is completed on the loop thread. The future is never
 * shared between threads. */
#ifndef GUST_EXECUTOR_H
#define GUST_EXECUTOR_H

#include <gust/future.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A pool of worker threads bound to one loop (opaque). */
typedef struct gust_executor gust_executor;

/* Runs on a pool thread. Returns 0 with the result in *result (and, if
 * the result owns memory, its destructor in *result_free; both start
 * NULL), or a negative GUST_E* code to fail the future with it. */
typedef int (*gust_executor_fn)(void *user_data, void **result,
                                gust_free_fn *result_free);

/* Creates an executor with `threads` pool threads (1..256) started at
 * once, whose futures complete on `loop`. `mem` (NULL = default) is used
 * on the loop thread only. *out is owned by the caller (free it with
 * gust_executor_free() before the loop). Returns 0, GUST_EINVAL,
 * GUST_ENOMEM, or GUST_ESYS when a thread cannot be started. */
GUST_EXTERN int gust_executor_new(gust_executor **out, gust_loop *loop,
                                  unsigned threads, const gust_mem *mem);

/* Queues `fn(user_data)` to run on the pool (in submission order as
 * threads become free). *out receives a new reference to a future that is
 * completed on the loop thread, on a later iteration, with fn's result
 * (owned by the future from then on) or its error code. Cancelling the
 * future does not stop the function; its result is then released with its
 * destructor. Returns 0, GUST_EINVAL, GUST_ESTATE (executor shutting
 * down), or GUST_ENOMEM. */
GUST_EXTERN int gust_executor_submit(gust_executor *ex, gust_executor_fn fn,
                                     void *user_data, gust_future **out);

/* The number of pool threads. */
GUST_EXTERN unsigned gust_executor_threads(const gust_executor *ex);

/* Stops the executor: waits for the functions already running, completes
 * their futures, and cancels (GUST_ECANCELLED) the futures of functions
 * that never started. Must be called on the loop thread, not from inside
 * a submitted function. A completion already queued on the loop keeps a
 * small block alive until the loop runs it: run the loop once more before
 * freeing the loop. NULL is a no-op. */
GUST_EXTERN void gust_executor_free(gust_executor *ex);

#ifdef __cplusplus
}
#endif

#endif /* GUST_EXECUTOR_H */
