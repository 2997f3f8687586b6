/* The contract between the loop front end and the loop backends
 * (backends/loop-libev.c, backends/loop-libuv.c). Not installed.
 *
 * The front end (src/async/loop.c) owns the scheduling state: the FIFO of
 * deferred callbacks, the thread-safe queue, the timer heap, the fd handler
 * table. A backend supplies a handful of native primitives: one wakeup
 * (thread-safe), one timer armed at the earliest deadline, a "ready" switch
 * that keeps the next poll from blocking, a hook that calls
 * gust__loop_dispatch() once per iteration (after that iteration's I/O
 * callbacks, before the next blocking poll), fd and signal watchers. */
#ifndef GUST_LOOP_INT_H
#define GUST_LOOP_INT_H

#include <gust/loop.h>

#include <pthread.h>
#include <sys/socket.h>

#include "base/base_int.h"

/* Which native loop a backend can wrap. */
enum { GUST__NATIVE_UV = 1, GUST__NATIVE_EV = 2 };

typedef struct gust__cbent {
  gust_loop_cb cb;
  void *ud;
} gust__cbent;

/* A FIFO of callbacks in a growable ring. */
typedef struct gust__cbring {
  gust__cbent *v;
  size_t cap, head, len;
} gust__cbring;

typedef struct gust__timer gust__timer;
typedef struct gust_work gust__work;

/* An fd handler. `be` is the backend's watcher for it. */
typedef struct gust__fdw {
  int fd;
  int events;
  gust_loop_fd_cb cb;
  void *ud;
  void *be;
} gust__fdw;

/* A signal handler. */
typedef struct gust__sigw {
  struct gust__sigw *next;
  int signum;
  gust_loop_signal_cb cb;
  void *ud;
  void *be;
} gust__sigw;

/* A queued write: the copied vector array, advanced as bytes go out. */
typedef struct gust__wreq {
  struct gust__wreq *next;
  gust_vec *vec; /* first vector not fully written */
  size_t n;      /* vectors left from vec */
  size_t left;   /* bytes left */
  gust_tcp_write_cb cb;
  void *ud;
  void *be; /* backend request (libuv: uv_write_t) */
  gust_vec vecs[1];
} gust__wreq;

enum {
  GUST__TCP_NEW = 0,
  GUST__TCP_LISTENING,
  GUST__TCP_CONNECTING,
  GUST__TCP_CONNECTED
};

/* Every open connection holds one of these (plus the backend's record),
 * so it is kept small: the flags are bit-fields, and the fields that only
 * one kind of handle uses share storage (see the union below). */
struct gust_tcp {
  gust_loop *loop;
  const gust_mem *mem;
  void *be; /* backend handle */
  int fd;
  unsigned family : 4;    /* 4 or 6 */
  unsigned state : 2;     /* GUST__TCP_* */
  unsigned closing : 1;   /* gust_tcp_close() was called */
  unsigned orphan : 1;    /* the loop is gone: release silently */
  unsigned reading : 1;   /* a read is started */
  unsigned shut : 1;      /* shutdown requested */
  unsigned wrote_eof : 1; /* shutdown done */
  void *ud;
  gust_tcp *prev, *next; /* the loop's list of handles */
  gust_tcp *close_next;  /* the loop's closing list (backends that use it) */
  /* One member per kind of handle, told apart by `state`. A listener never
   * connects (gust_tcp_connect*() make new handles) nor reads (that needs
   * GUST__TCP_CONNECTED); a client's connect fields are cleared before it
   * becomes GUST__TCP_CONNECTED, after which only the read callbacks are
   * used; an accepted connection is GUST__TCP_CONNECTED from the start. */
  union {
    /* Listeners: set before the backend listens (state NEW, then
     * LISTENING); read only when a connection arrives. */
    gust_tcp_accept_cb accept_cb;
    /* GUST__TCP_CONNECTING only (set as a client enters that state): the
     * pending connect. */
    struct {
      gust_tcp_connect_cb connect_cb;
      gust_timer connect_timer;
    };
    /* GUST__TCP_CONNECTED only (set by gust_tcp_read_start() and
     * gust__tcp_set_reader()). */
    struct {
      gust_tcp_alloc_cb alloc_cb;
      gust_tcp_read_cb read_cb;
    };
  };
  gust_tcp_shutdown_cb shutdown_cb;
  gust_tcp_close_cb close_cb;
  gust__wreq *wq_head, *wq_tail; /* writes not yet completed */
  size_t wq_bytes;
};

struct gust_loop {
  const gust_mem *mem;
  void *be;        /* backend state */
  void *native;    /* uv_loop_t * or struct ev_loop * */
  int wrapped;     /* the native loop belongs to the application */
  int running;     /* inside gust_loop_run*() */
  int stop_asked;  /* gust_loop_stop() was called */
  int dispatching; /* inside gust__loop_dispatch() */
  gust_loop_cond_fn until_fn;
  void *until_ud;
  int until_met;

  gust_clock_fn clock_fn; /* NULL: CLOCK_MONOTONIC */
  void *clock_ud;

  gust__cbring soon; /* call_soon FIFO, loop thread only */

  pthread_mutex_t ts_lock; /* guards ts and ts_wake */
  gust__cbring ts;         /* call_soon_threadsafe queue */
  gust__cbring ts_run;     /* the batch being run (loop thread) */
  int ts_wake;             /* a wakeup is on its way */

  gust__timer **heap; /* min-heap of pending timers */
  size_t heap_len, heap_cap;
  gust__timer *timer_free; /* recycled timer records */
  gust__timer *timer_all;  /* every record, for teardown */
  uint64_t timer_seq;

  gust__fdw **fds; /* indexed by fd */
  size_t fds_cap;
  size_t fds_count;

  gust__sigw *sigs;

  /* Thread pool (src/async/work.c). */
  pthread_mutex_t pool_lock; /* guards the queue and pool_stop */
  pthread_cond_t pool_cond;
  gust__work *pool_head, *pool_tail; /* not started yet */
  pthread_t *pool_threads;
  unsigned pool_size, pool_started;
  int pool_stop;
  gust__work *work_done;   /* finished, under ts_lock, newest first */
  size_t work_outstanding; /* queued and not yet completed (loop thread) */

  gust_tcp *tcps;    /* open TCP handles */
  gust_tcp *closing; /* handles whose close completes next iteration */
  int freeing;       /* inside gust_loop_free() */

  /* Probes for <gust/testing.h> (gust_test_loop_*): dispatches run so
   * far, and the hook told about futures released with an error nobody
   * looked at (NULL: nothing is told). */
  uint64_t iterations;
  void (*unobserved_fn)(gust_loop *loop, int code, const char *message,
                        void *user_data);
  void *unobserved_ud;
};

typedef struct gust__loop_vtable {
  const char *name;             /* "libuv" or "libev" */
  const char *(*version)(void); /* the linked library's version */
  int native_kind;              /* GUST__NATIVE_UV or GUST__NATIVE_EV */

  /* Sets up loop->be and loop->native; `native` is NULL to create a native
   * loop, else the application's loop to wrap. Returns 0 or GUST_E*. */
  int (*init)(gust_loop *loop, void *native);
  /* Releases every backend resource (fd and signal watchers were removed
   * by the front end before) and, if it was created, the native loop. */
  void (*destroy)(gust_loop *loop);
  /* Runs the native loop until brk() is called. */
  int (*run)(gust_loop *loop);
  void (*brk)(gust_loop *loop);
  /* on: the next poll must not block and dispatch must run after it. */
  void (*set_ready)(gust_loop *loop, int on);
  /* Arms the wakeup timer `delay` seconds from now (< 0 disarms it); when
   * it fires the backend makes the loop ready. */
  void (*arm)(gust_loop *loop, double delay);
  /* Thread-safe: wakes the loop, whose backend then makes it ready. */
  void (*wakeup)(gust_loop *loop);
  /* Starts or changes the watcher of `w` to w->events (w->be is NULL the
   * first time). On readiness the backend calls w->cb. */
  int (*fd_set)(gust_loop *loop, gust__fdw *w);
  /* Stops and releases w->be; no callback for `w` happens afterwards. */
  void (*fd_close)(gust_loop *loop, gust__fdw *w);
  int (*sig_start)(gust_loop *loop, gust__sigw *s);
  void (*sig_close)(gust_loop *loop, gust__sigw *s);

  /* Keeps a wrapped native loop alive (on) or not, for outstanding pool
   * work. */
  void (*hold)(gust_loop *loop, int on);

  /* TCP. The front end creates, binds and configures sockets; the backend
   * adopts the fd (tcp_open) and does the I/O. */
  int (*tcp_open)(gust_tcp *t);
  int (*tcp_listen)(gust_tcp *t, int backlog);
  /* Accepts one connection of `server` into `conn` (filling conn->be and
   * conn->fd). Returns 0, GUST_EAGAIN when none is waiting, or GUST_E*. */
  int (*tcp_accept)(gust_tcp *server, gust_tcp *conn);
  int (*tcp_connect)(gust_tcp *t, const struct sockaddr *sa, socklen_t len);
  int (*tcp_read_start)(gust_tcp *t);
  void (*tcp_read_stop)(gust_tcp *t);
  /* `w` is already at the tail of t's write queue. */
  int (*tcp_write)(gust_tcp *t, gust__wreq *w);
  int (*tcp_shutdown)(gust_tcp *t);
  /* Starts closing; the backend later fails pending writes and the connect
   * with GUST_ECANCELLED and calls gust__tcp_on_close(). */
  void (*tcp_close)(gust_tcp *t);
} gust__loop_vtable;

/* Exactly one backend file is compiled in; it defines this table. */
extern const gust__loop_vtable gust__loop_backend;

/* Called by the backend once per iteration: runs the deferred
 * callbacks, the thread-safe batch and the due timers, then re-arms. */
void gust__loop_dispatch(gust_loop *loop);

/* Called by a backend that runs I/O callbacks before its blocking poll
 * with no dispatch in between (libuv's pending phase): when a run_until
 * condition became true, keeps the poll from blocking so that the next
 * dispatch ends the run. */
void gust__loop_before_poll(gust_loop *loop);

/* Creates, binds and listens on one non-blocking socket per address of
 * `host` (Tornado's bind_sockets rules; see gust_tcp_listen()) with no
 * loop involved: up to `max` fds in `fds`, their families (4 or 6) in
 * `families` (may be NULL), their number in *count. On failure nothing is
 * left open. Shared by gust_tcp_listen() and gust_tcp_bind_sockets(). */
int gust__tcp_bind_fds(const char *host, int port,
                       const gust_tcp_listen_opts *opts, int *fds,
                       int *families, size_t max, size_t *count);

/* Backend → front end TCP events. */
/* The listener has a connection waiting (status 0) or failed; returns what
 * tcp_accept returned (GUST_EAGAIN: nothing more to accept). */
int gust__tcp_on_connection(gust_tcp *server, int status);
void gust__tcp_on_connect(gust_tcp *t, int status);
/* Completes the write at the head of t's queue. */
void gust__tcp_on_write(gust_tcp *t, int status);
void gust__tcp_on_shutdown(gust_tcp *t, int status);
/* The backend has released its handle: calls the close callback (unless
 * orphaned) and frees `t`. */
void gust__tcp_on_close(gust_tcp *t);
/* For backends without close callbacks: completes t's close in the next
 * iteration (pending writes and connect fail with GUST_ECANCELLED). */
void gust__tcp_close_later(gust_tcp *t);
/* Front end only: at gust_loop_free(), closes every open handle silently. */
void gust__tcp_orphan_all(gust_loop *loop);
/* Front end only: completes the closes queued by gust__tcp_close_later(). */
void gust__tcp_run_closing(gust_loop *loop);

/* Hands a connection that is reading over to another owner without
 * stopping the read (no read_stop/read_start, so no watcher changes): from
 * now on `alloc_cb` and `read_cb` receive t's reads, and `user_data`
 * becomes t's user data (gust_tcp_data()). The next read is delivered to
 * the new callbacks; no callback runs inside this call. Only valid while
 * t->reading (gust_tcp_read_start() succeeded and neither a read error,
 * the end of the stream, gust_tcp_read_stop() nor gust_tcp_close() has
 * ended the read); otherwise, or with a NULL callback, it does nothing.
 * It may be called from t's read callback (not its alloc callback, whose
 * buffer would go to the new read callback) or from outside any
 * callback. */
void gust__tcp_set_reader(gust_tcp *t, gust_tcp_alloc_cb alloc_cb,
                          gust_tcp_read_cb read_cb, void *user_data);

/* Thread pool hooks for loop.c. */
int gust__pool_init(gust_loop *loop);
/* Stops and joins the pool threads; drops unfinished work silently. */
void gust__pool_destroy(gust_loop *loop);
/* Runs the completions handed over from the pool (loop thread). */
void gust__pool_complete(gust_loop *loop, gust__work *done);

/* Called by a future released in the failed state when nothing ever
 * read its error (not for cancellations): hands the error to the hook of
 * gust_test_loop_set_unobserved_hook(), if any. */
void gust__loop_unobserved(gust_loop *loop, int code, const char *message);

/* Maps an errno value to a GUST_E* code. */
int gust__errno_code(int err);

#endif /* GUST_LOOP_INT_H */
