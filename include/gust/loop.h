/* gust event loop abstraction: one interface over the libev and libuv
 * backends chosen at configure time.
 *
 * Threading: a gust_loop belongs to the thread that runs it. Every function
 * here must be called on that thread, except gust_loop_call_soon_threadsafe()
 * (any thread, at any time while the loop exists) and the two
 * backend-information functions. Callbacks always run on the loop thread,
 * from inside gust_loop_run() (or the native loop's run function when the
 * loop wraps an application-owned native loop). */
#ifndef GUST_LOOP_H
#define GUST_LOOP_H

#include <gust/base.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Returns the name of the loop backend this library was built with:
 * "libuv" or "libev". */
GUST_EXTERN const char *gust_loop_backend_name(void);

/* Returns the version of the loop library linked at run time, e.g. "1.44.2"
 * or "4.33". */
GUST_EXTERN const char *gust_loop_backend_version(void);

/* ------------------------------------------------------------------ */
/* The loop object                                                      */
/* ------------------------------------------------------------------ */

/* An event loop (Tornado's IOLoop; opaque). */
typedef struct gust_loop gust_loop;

/* A deferred callback or timer callback. */
typedef void (*gust_loop_cb)(gust_loop *loop, void *user_data);

/* A run-until condition: returns non-zero once the loop may stop. */
typedef int (*gust_loop_cond_fn)(gust_loop *loop, void *user_data);

/* Creates a loop with its own native loop (a new uv_loop_t or struct
 * ev_loop). `mem` (NULL = default) is used for every allocation the loop
 * makes and must outlive it; it must be thread-safe if
 * gust_loop_call_soon_threadsafe() is used. On success *out owns the new
 * loop (release with gust_loop_free()). Returns 0, GUST_ENOMEM, or
 * GUST_ESYS when the native loop cannot be created. */
GUST_EXTERN int gust_loop_new(gust_loop **out, const gust_mem *mem);

/* Creates a loop over an existing libuv loop (`uv_loop` is a uv_loop_t *)
 * owned by the application, which keeps running it with uv_run() or
 * gust_loop_run(). gust's internal handles do not keep the native loop
 * alive on their own; pending callbacks and timers, fd handlers, open
 * sockets and outstanding pool work do. The native loop
 * must outlive the gust loop; after gust_loop_free() the native loop must
 * run once more (libuv closes handles in a later iteration) before
 * uv_loop_close(). Returns 0, GUST_EINVAL for a NULL loop, GUST_EEXIST if a
 * gust loop already wraps this native loop, GUST_ELIMIT when 64 native
 * loops are already wrapped, GUST_ENOMEM, or GUST_ENOTSUP when this library
 * was built with the libev backend. */
GUST_EXTERN int gust_loop_wrap_uv(gust_loop **out, void *uv_loop,
                                  const gust_mem *mem);

/* Creates a loop over an existing libev loop (`ev_loop` is a struct
 * ev_loop *) owned by the application, as gust_loop_wrap_uv() does for
 * libuv. The native loop must outlive the gust loop; nothing needs to run
 * after gust_loop_free(). Returns 0, GUST_EINVAL, GUST_EEXIST, GUST_ELIMIT,
 * GUST_ENOMEM, or GUST_ENOTSUP when this library was built with the libuv
 * backend. */
GUST_EXTERN int gust_loop_wrap_ev(gust_loop **out, void *ev_loop,
                                  const gust_mem *mem);

/* Returns the native loop (uv_loop_t * or struct ev_loop *), borrowed. */
GUST_EXTERN void *gust_loop_native(gust_loop *loop);

/* Destroys the loop: pending callbacks and timers are dropped without being
 * called, fd handlers and signal handlers are removed (the fds themselves
 * are not closed), and the native loop is destroyed if the loop created it.
 * Must not be called from inside a callback of this loop. NULL is a no-op. */
GUST_EXTERN void gust_loop_free(gust_loop *loop);

/* Runs the loop until gust_loop_stop() is called (Tornado's start()): the
 * loop keeps waiting even when nothing is scheduled. Returns 0 after a
 * stop, GUST_EBUSY if the loop is already running (run inside run), or
 * GUST_ESYS if the native loop failed. */
GUST_EXTERN int gust_loop_run(gust_loop *loop);

/* Runs the loop until `done(loop, user_data)` returns non-zero; the
 * condition is checked once before waiting and then after every loop
 * iteration. A future's done state is one such condition. Returns 0 when
 * the condition was met, GUST_ELOOPSTOPPED if gust_loop_stop() ended the
 * run first, GUST_EBUSY if the loop is already running, GUST_EINVAL for a
 * NULL condition. */
GUST_EXTERN int gust_loop_run_until(gust_loop *loop, gust_loop_cond_fn done,
                                    void *user_data);

/* Asks the loop to stop: the current iteration completes (callbacks already
 * due still run) and gust_loop_run() returns. Called while the loop is not
 * running, it makes the next run return after one iteration. */
GUST_EXTERN void gust_loop_stop(gust_loop *loop);

/* Returns the monotonic clock in seconds (arbitrary origin). Use it for
 * durations and for gust_loop_call_at_monotonic() deadlines. */
GUST_EXTERN double gust_loop_now(const gust_loop *loop);

/* A clock: returns seconds on a monotonic scale. */
typedef double (*gust_clock_fn)(void *user_data);

/* Replaces the loop's monotonic clock (gust_loop_now() and every timer
 * deadline) with `fn(user_data)`; NULL restores the system's monotonic
 * clock. Meant for tests that simulate time: the loop still waits in real
 * time for the difference between a deadline and the clock's value, so a
 * simulated clock should be moved to the deadline it wants to reach. Set it
 * while no timer is pending. */
GUST_EXTERN void gust_loop_set_clock(gust_loop *loop, gust_clock_fn fn,
                                     void *user_data);

/* Returns the wall clock in seconds since the Unix epoch: Tornado's
 * IOLoop.time(), the scale of gust_loop_call_at() deadlines. */
GUST_EXTERN double gust_loop_time(const gust_loop *loop);

/* Schedules `cb` to run on the next loop iteration (Tornado's
 * add_callback). Callbacks run in the order they were scheduled; one
 * scheduled by a callback runs in the following iteration, so a callback
 * that reschedules itself never starves I/O. Returns 0, GUST_EINVAL for a
 * NULL callback, or GUST_ENOMEM (then `cb` will not be called). */
GUST_EXTERN int gust_loop_call_soon(gust_loop *loop, gust_loop_cb cb,
                                    void *user_data);

/* As gust_loop_call_soon(), callable from any thread (including from
 * inside the loop's own callbacks). Wakes the loop if it is waiting; many
 * calls before the loop wakes cost one wakeup, and every callback queued
 * before the wakeup is handled runs in that iteration, in queue order.
 * Returns 0, GUST_EINVAL for a NULL callback, or GUST_ENOMEM. */
GUST_EXTERN int gust_loop_call_soon_threadsafe(gust_loop *loop, gust_loop_cb cb,
                                               void *user_data);

/* A timer handle. Treat it as opaque; it is a small value that may be
 * copied. Cancelling a handle whose timer already ran or was cancelled is
 * harmless. A zeroed handle refers to no timer. */
typedef struct gust_timer {
  void *ptr_;
  uint64_t id_;
} gust_timer;

/* Schedules `cb` at the wall-clock deadline `when` (seconds since the epoch,
 * the scale of gust_loop_time(); Tornado's call_at). The deadline is
 * converted to the monotonic clock when the call is made, so later wall
 * clock steps do not move it. A deadline in the past runs on the next
 * iteration. Timers due in the same iteration run in deadline order, ties in
 * scheduling order. `handle` (may be NULL) receives a handle for
 * gust_loop_cancel(). Returns 0, GUST_EINVAL for a NaN deadline or NULL
 * callback, or GUST_ENOMEM. */
GUST_EXTERN int gust_loop_call_at(gust_loop *loop, double when, gust_loop_cb cb,
                                  void *user_data, gust_timer *handle);

/* As gust_loop_call_at() with a deadline on the gust_loop_now() clock. */
GUST_EXTERN int gust_loop_call_at_monotonic(gust_loop *loop, double when,
                                            gust_loop_cb cb, void *user_data,
                                            gust_timer *handle);

/* Schedules `cb` after `delay` seconds (negative counts as 0). As
 * gust_loop_call_at() otherwise. */
GUST_EXTERN int gust_loop_call_later(gust_loop *loop, double delay,
                                     gust_loop_cb cb, void *user_data,
                                     gust_timer *handle);

/* Cancels a timer so that its callback never runs, even if it is due in
 * the iteration that is running. Returns 0 when a pending timer was
 * cancelled, GUST_ENOTFOUND when the handle's timer already ran, was already
 * cancelled or is zeroed (no effect). */
GUST_EXTERN int gust_loop_cancel(gust_loop *loop, gust_timer handle);

/* ------------------------------------------------------------------ */
/* File-descriptor handlers (Tornado's add_handler)                     */
/* ------------------------------------------------------------------ */

/* Readiness bits for fd handlers. ERROR is only delivered, never asked
 * for: it reports an error or hang-up condition on the fd. */
enum { GUST_LOOP_READ = 1, GUST_LOOP_WRITE = 2, GUST_LOOP_ERROR = 4 };

/* Receives the readiness `events` (GUST_LOOP_* bits) of `fd`. */
typedef void (*gust_loop_fd_cb)(gust_loop *loop, int fd, int events,
                                void *user_data);

/* Watches `fd` (owned by the caller, who keeps it open until the handler is
 * removed) for the readiness in `events` (READ and/or WRITE; 0 = watch
 * nothing for now). Readiness is level-triggered: the callback keeps being
 * called while the condition holds. Returns 0, GUST_EINVAL for a negative
 * fd, unknown bits or NULL callback, GUST_EEXIST if `fd` already has a
 * handler, GUST_ENOMEM, or GUST_ESYS if the backend cannot watch this fd
 * (e.g. a regular file). */
GUST_EXTERN int gust_loop_add_handler(gust_loop *loop, int fd, int events,
                                      gust_loop_fd_cb cb, void *user_data);

/* Changes the readiness watched for `fd`. Returns 0, GUST_EINVAL,
 * GUST_ENOTFOUND if `fd` has no handler, or GUST_ESYS. */
GUST_EXTERN int gust_loop_update_handler(gust_loop *loop, int fd, int events);

/* Stops watching `fd`; a readiness already detected for it is not
 * delivered. Safe from inside the handler's own callback. Returns 0, or
 * GUST_ENOTFOUND (no effect) if `fd` has no handler. */
GUST_EXTERN int gust_loop_remove_handler(gust_loop *loop, int fd);

/* ------------------------------------------------------------------ */
/* Signals                                                              */
/* ------------------------------------------------------------------ */

/* Receives a signal on the loop thread (not in signal context). */
typedef void (*gust_loop_signal_cb)(gust_loop *loop, int signum,
                                    void *user_data);

/* Calls `cb` on the loop thread whenever `signum` (typically SIGINT or
 * SIGTERM, for a graceful stop) is delivered to the process. While the
 * handler exists the signal's default action does not happen. Only one
 * loop in the process may watch a given signal. Returns 0, GUST_EINVAL for
 * a bad signal number or NULL callback, GUST_EEXIST if this loop already
 * watches `signum`, GUST_EBUSY if another loop does, GUST_ENOMEM, or
 * GUST_ESYS. */
GUST_EXTERN int gust_loop_add_signal_handler(gust_loop *loop, int signum,
                                             gust_loop_signal_cb cb,
                                             void *user_data);

/* Stops watching `signum`, restoring the default disposition. Returns 0,
 * or GUST_ENOTFOUND if this loop does not watch it. */
GUST_EXTERN int gust_loop_remove_signal_handler(gust_loop *loop, int signum);

/* ------------------------------------------------------------------ */
/* Periodic callbacks (Tornado's PeriodicCallback)                      */
/* ------------------------------------------------------------------ */

/* A callback run every period (opaque). */
typedef struct gust_periodic gust_periodic;

/* A source of uniform random numbers in [0, 1). */
typedef double (*gust_random_fn)(void *user_data);

/* Creates a stopped periodic callback that calls `cb(loop, user_data)`
 * every `period` seconds on `loop`. On success *out owns it (release with
 * gust_periodic_free()). Returns 0, GUST_EINVAL if `period` is not positive
 * (Tornado: "Periodic callback must have a positive callback_time") or
 * `cb` is NULL, or GUST_ENOMEM. */
GUST_EXTERN int gust_periodic_new(gust_periodic **out, gust_loop *loop,
                                  double period, gust_loop_cb cb,
                                  void *user_data);

/* Sets the jitter fraction: each period becomes
 * period * (1 + jitter * (random() - 0.5)). 0 (the default) disables it.
 * Returns 0, or GUST_EINVAL for a negative or NaN value. */
GUST_EXTERN int gust_periodic_set_jitter(gust_periodic *pc, double jitter);

/* Replaces the random source used for jitter (default: the crypto
 * backend's generator); NULL restores the default. */
GUST_EXTERN void gust_periodic_set_random(gust_periodic *pc, gust_random_fn fn,
                                          void *user_data);

/* Starts calling: the first call is one period after now. Schedule after
 * each call, with `now` read after the callback returned and `next` the
 * previous deadline: if next <= now, next moves forward by whole periods
 * past now (missed calls are skipped and the grid is kept); otherwise (the
 * clock went backwards) next moves forward by one period. Returns 0,
 * GUST_ENOMEM, or 0 with no effect if already running. */
GUST_EXTERN int gust_periodic_start(gust_periodic *pc);

/* Stops calling (no call happens after this returns). Safe inside the
 * callback. */
GUST_EXTERN void gust_periodic_stop(gust_periodic *pc);

/* Returns 1 while started, 0 otherwise. */
GUST_EXTERN int gust_periodic_is_running(const gust_periodic *pc);

/* Returns the deadline of the next call on the gust_loop_now() clock
 * (meaningful while running). */
GUST_EXTERN double gust_periodic_next_time(const gust_periodic *pc);

/* Stops and frees the periodic callback; safe inside its own callback.
 * Free it before its loop. NULL is a no-op. */
GUST_EXTERN void gust_periodic_free(gust_periodic *pc);

/* ------------------------------------------------------------------ */
/* Thread pool work and name resolution                                 */
/* ------------------------------------------------------------------ */

/* A queued piece of work. The handle is valid from a successful queueing
 * call until its completion callback has returned. */
typedef struct gust_work gust_work;

/* Runs on a pool thread: must not call into the loop except through
 * gust_loop_call_soon_threadsafe(). */
typedef void (*gust_work_fn)(void *user_data);

/* Runs on the loop thread after the work function returned (`status` 0),
 * or when the work was cancelled before it started (GUST_ECANCELLED). */
typedef void (*gust_work_done_cb)(gust_loop *loop, int status, void *user_data);

/* Sets the number of pool threads this loop starts on first use (default
 * 4, range 1..64). Returns 0, GUST_EINVAL, or GUST_ESTATE once the pool
 * has started. */
GUST_EXTERN int gust_loop_set_pool_size(gust_loop *loop, unsigned threads);

/* Runs `work(user_data)` on the loop's thread pool, then `done` on the loop
 * thread in a later iteration. Work items start in queue order. While work
 * is outstanding, a wrapped native loop is kept alive. `handle` may be
 * NULL. gust_loop_free() waits for running work and drops the completion
 * callbacks. Returns 0, GUST_EINVAL, GUST_ENOMEM or GUST_ESYS (no thread
 * could be started). */
GUST_EXTERN int gust_loop_queue_work(gust_loop *loop, gust_work_fn work,
                                     gust_work_done_cb done, void *user_data,
                                     gust_work **handle);

/* Cancels work that has not started: its `done` runs in a later iteration
 * with GUST_ECANCELLED. Returns 0, or GUST_EBUSY if it is running or has
 * finished (its `done` will report the outcome as usual). */
GUST_EXTERN int gust_loop_cancel_work(gust_loop *loop, gust_work *handle);

struct addrinfo;

/* Receives a resolution: `status` 0 with the list in `res` (owned by gust,
 * valid only during the call), GUST_ERESOLVE (no such name, or the
 * resolver failed), GUST_ENOMEM or GUST_ECANCELLED with `res` NULL. */
typedef void (*gust_getaddrinfo_cb)(gust_loop *loop, int status,
                                    const struct addrinfo *res,
                                    void *user_data);

/* Resolves `host` (a name or numeric address; NULL for the local/any
 * address) and `service` (a port number or service name; may be NULL) to
 * stream-socket addresses of `family` (0 = any, 4, 6), with getaddrinfo()
 * on the thread pool. Both strings are copied. `handle` (may be NULL) can
 * be passed to gust_loop_cancel_work(). Returns 0, GUST_EINVAL, GUST_ENOMEM
 * or GUST_ESYS; on success `cb` is always called. */
GUST_EXTERN int gust_loop_getaddrinfo(gust_loop *loop, const char *host,
                                      const char *service, int family,
                                      gust_getaddrinfo_cb cb, void *user_data,
                                      gust_work **handle);

/* ------------------------------------------------------------------ */
/* TCP                                                                  */
/* ------------------------------------------------------------------ */

/* A TCP listener or connection. Handles belong to one loop and are used on
 * its thread. Each carries one user-data pointer (gust_tcp_set_data()).
 * Callbacks: a function that returns an error never calls its callback;
 * otherwise the callback runs exactly once, on a later loop iteration or
 * from the readiness that completes the operation. */
typedef struct gust_tcp gust_tcp;

/* A new connection on a listener. On success `conn` is owned by the
 * callback's receiver, who must eventually gust_tcp_close() it; on failure
 * (`status` < 0, e.g. GUST_EMFILE) `conn` is NULL and the listener keeps
 * listening. */
typedef void (*gust_tcp_accept_cb)(gust_tcp *server, gust_tcp *conn,
                                   int status);

/* A connect finished: `status` is 0, GUST_ETIMEDOUT, GUST_ECONNREFUSED,
 * GUST_ECANCELLED (closed first) or another GUST_E* code. After a failure
 * the only useful call is gust_tcp_close(). */
typedef void (*gust_tcp_connect_cb)(gust_tcp *tcp, int status);

/* Asks the caller for a buffer to read into: set buf->base and buf->len
 * (at most `suggested` is needed; len 0 or base NULL makes the read report
 * GUST_ENOMEM). The caller owns the buffer. */
typedef void (*gust_tcp_alloc_cb)(gust_tcp *tcp, size_t suggested,
                                  gust_vec *buf);

/* Delivers a read into the buffer from the alloc callback: `nread` > 0
 * bytes at buf->base, 0 when nothing could be read after all, GUST_EEOF when
 * the peer closed its side, or another negative code (after GUST_EEOF or an
 * error, reading has stopped). `buf` is the one the alloc callback handed
 * out, returned so the caller can reuse or free it whatever `nread` is. */
typedef void (*gust_tcp_read_cb)(gust_tcp *tcp, gust_ssize nread,
                                 const gust_vec *buf);

/* A write completed (every byte handed to the kernel: `status` 0) or
 * failed (GUST_ECONNRESET, GUST_ECANCELLED when the handle was closed
 * first, ...). `user_data` is the write's own. */
typedef void (*gust_tcp_write_cb)(gust_tcp *tcp, int status, void *user_data);

/* The write side was shut down after every queued write (status 0), or
 * failed. */
typedef void (*gust_tcp_shutdown_cb)(gust_tcp *tcp, int status);

/* The handle is closed; its memory is released when this returns. */
typedef void (*gust_tcp_close_cb)(gust_tcp *tcp);

/* Listening options (all zero = defaults). */
typedef struct gust_tcp_listen_opts {
  int backlog;    /* listen() backlog; 0 = 128 */
  int reuse_port; /* non-zero: set SO_REUSEPORT (GUST_ENOTSUP where absent) */
  int family;     /* 0 = IPv4 and IPv6, 4 = IPv4 only, 6 = IPv6 only */
} gust_tcp_listen_opts;

/* Listens on `port` of `host` (a numeric address or a name resolved
 * synchronously; NULL or "" = every local address), one socket per
 * address family and address found, as Tornado's bind_sockets: IPv6
 * sockets are IPv6-only, SO_REUSEADDR is set, and with port 0 every socket
 * gets the port the first one was given. Each listener calls `cb` for every
 * connection (or accept failure). Up to `max` listeners (64 at most) are stored
 * in `out` (owned by the caller: close each), their number in *count; further
 * addresses are skipped. `opts`
 * may be NULL. Returns 0, GUST_EINVAL, GUST_EADDRINUSE, GUST_ERESOLVE,
 * GUST_ENOTSUP, GUST_EMFILE, GUST_ENOMEM or GUST_ESYS; on failure no
 * listener is left open. */
GUST_EXTERN int gust_tcp_listen(gust_loop *loop, const char *host, int port,
                                const gust_tcp_listen_opts *opts,
                                gust_tcp_accept_cb cb, void *user_data,
                                gust_tcp **out, size_t max, size_t *count);

/* Connects to the numeric address `ip` (IPv4 or IPv6 literal) and `port`.
 * `timeout` > 0 fails the connect with GUST_ETIMEDOUT after that many
 * seconds; 0 or less = no timeout. On success *out is the new connection
 * (owned by the caller, close it even if the connect fails) and `cb` will
 * be called. Returns 0, GUST_EINVAL (bad address), GUST_EMFILE,
 * GUST_ENOMEM or GUST_ESYS. */
GUST_EXTERN int gust_tcp_connect(gust_loop *loop, const char *ip, int port,
                                 double timeout, gust_tcp_connect_cb cb,
                                 void *user_data, gust_tcp **out);

/* As gust_tcp_connect() to a socket address (`addr` points to a struct
 * sockaddr_in or sockaddr_in6 of `addrlen` bytes, e.g. from
 * gust_loop_getaddrinfo()). */
GUST_EXTERN int gust_tcp_connect_addr(gust_loop *loop, const void *addr,
                                      size_t addrlen, double timeout,
                                      gust_tcp_connect_cb cb, void *user_data,
                                      gust_tcp **out);

/* Starts delivering reads: for each one `alloc_cb` supplies the buffer and
 * `read_cb` reports what arrived. Returns 0, GUST_EINVAL, GUST_ESTATE (not
 * connected, or closing) or GUST_EBUSY (already reading). */
GUST_EXTERN int gust_tcp_read_start(gust_tcp *tcp, gust_tcp_alloc_cb alloc_cb,
                                    gust_tcp_read_cb read_cb);

/* Stops delivering reads (no callback after this returns). Returns 0. */
GUST_EXTERN int gust_tcp_read_stop(gust_tcp *tcp);

/* Queues the `n` vectors for writing, after every earlier write. The vector
 * array is copied; the bytes it points to stay owned by the caller and must
 * stay valid and unchanged until `cb` runs. Partial writes are continued
 * internally; `cb` (may be NULL) reports the outcome. Returns 0, GUST_EINVAL,
 * GUST_ESTATE (not connected, shut down or closing), GUST_EOVERFLOW or
 * GUST_ENOMEM. */
GUST_EXTERN int gust_tcp_write(gust_tcp *tcp, const gust_vec *vec, size_t n,
                               gust_tcp_write_cb cb, void *user_data);

/* Writes what the kernel takes of the `n` vectors at once, without
 * queuing anything and without a callback (libuv's uv_try_write): returns
 * the bytes written (0 .. total; a short count leaves the rest to the
 * caller), GUST_EAGAIN when nothing can be written now (the socket buffer
 * is full, or writes queued by gust_tcp_write() are still pending, which
 * keeps the byte order), GUST_EINVAL, GUST_ESTATE (not connected, shut
 * down or closing) or the socket's error (GUST_ECONNRESET when the peer is
 * gone, ...).
 * Never raises SIGPIPE. */
GUST_EXTERN gust_ssize gust_tcp_try_write(gust_tcp *tcp, const gust_vec *vec,
                                          size_t n);

/* Bytes queued by gust_tcp_write() whose writes have not completed. */
GUST_EXTERN size_t gust_tcp_write_queue_size(const gust_tcp *tcp);

/* Shuts down the write side once every queued write has completed; reading
 * goes on. `cb` may be NULL. Returns 0, GUST_ESTATE (not connected, already
 * shut down, closing) or GUST_ENOMEM. */
GUST_EXTERN int gust_tcp_shutdown(gust_tcp *tcp, gust_tcp_shutdown_cb cb);

/* Closes the handle. Pending writes fail with GUST_ECANCELLED, a pending
 * connect with GUST_ECANCELLED, reading stops; then `cb` (may be NULL) runs
 * and the memory is released. All of this happens in a later loop
 * iteration, never inside this call. Closing twice is a no-op. */
GUST_EXTERN void gust_tcp_close(gust_tcp *tcp, gust_tcp_close_cb cb);

/* Sets TCP_NODELAY (on != 0) or clears it. Returns 0, GUST_ESTATE or
 * GUST_ESYS. */
GUST_EXTERN int gust_tcp_nodelay(gust_tcp *tcp, int on);

/* Enables TCP keepalive with the first probe after `delay` seconds (>= 1),
 * or disables it (on == 0). Returns 0, GUST_EINVAL, GUST_ESTATE or
 * GUST_ESYS. */
GUST_EXTERN int gust_tcp_keepalive(gust_tcp *tcp, int on, unsigned delay);

/* Returns the local port of the handle, or a negative GUST_E* code. */
GUST_EXTERN int gust_tcp_local_port(const gust_tcp *tcp);

/* Returns 4 or 6, the address family of the handle. */
GUST_EXTERN int gust_tcp_family(const gust_tcp *tcp);

/* Returns the socket fd (borrowed; do not close or read it). */
GUST_EXTERN int gust_tcp_fd(const gust_tcp *tcp);

/* The loop the handle belongs to. */
GUST_EXTERN gust_loop *gust_tcp_loop(const gust_tcp *tcp);

/* Sets and gets the handle's user-data pointer. */
GUST_EXTERN void gust_tcp_set_data(gust_tcp *tcp, void *user_data);
GUST_EXTERN void *gust_tcp_data(const gust_tcp *tcp);

#ifdef __cplusplus
}
#endif

#endif /* GUST_LOOP_H */
