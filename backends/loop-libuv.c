/* Event loop backend over libuv (uv_tcp_t streams, uv_timer_t, uv_async_t). */
#include "config.h"

#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <uv.h>

#include "../src/async/loop_int.h"

/* The backend's per-loop state. Allocated with the loop's allocator; for a
 * wrapped loop it outlives the gust loop until libuv has closed every
 * handle (the native loop runs on after gust_loop_free()). */
typedef struct uvb {
  const gust_mem *mem;
  uv_loop_t own;        /* the native loop when gust created it */
  uv_loop_t *uv;        /* the loop in use */
  gust_loop *loop;      /* NULL once the gust loop is gone */
  uv_async_t async;     /* thread-safe wakeup */
  uv_idle_t idle;       /* keeps the poll from blocking while ready */
  uv_check_t check;     /* runs dispatch after each poll */
  uv_prepare_t prepare; /* re-checks run_until before each poll */
  uv_timer_t timer;     /* the earliest deadline */
  int open_handles;     /* handles not yet closed */
  int ready;
  int wrapped;
  int running; /* inside gust_loop_run() */
  int hold;    /* outstanding pool work */
} uvb;

/* A watcher that libuv may still reference after the front end let go. */
typedef struct uvb_poll {
  uv_poll_t h;
  gust__fdw *w; /* NULL once removed */
  uvb *b;
} uvb_poll;

typedef struct uvb_sig {
  uv_signal_t h;
  gust__sigw *s;
  uvb *b;
} uvb_sig;

static const char *uvb_version(void) { return uv_version_string(); }

static int uvb_code(int uverr) {
  if (uverr >= 0)
    return 0;
  return gust__errno_code(-uverr);
}

static void uvb_on_check(uv_check_t *h) {
  uvb *b = h->data;
  if (b->loop != NULL)
    gust__loop_dispatch(b->loop);
}

/* libuv runs some I/O callbacks (completed writes, for one) before it
 * polls, where no dispatch follows until the poll returns. */
static void uvb_on_prepare(uv_prepare_t *h) {
  uvb *b = h->data;
  if (b->loop != NULL)
    gust__loop_before_poll(b->loop);
}

static void uvb_on_idle(uv_idle_t *h) { GUST__UNUSED(h); }

static void uvb_set_ready(gust_loop *loop, int on) {
  uvb *b = loop->be;
  if (on && !b->ready)
    uv_idle_start(&b->idle, uvb_on_idle);
  else if (!on && b->ready)
    uv_idle_stop(&b->idle);
  b->ready = on;
}

static void uvb_on_timer(uv_timer_t *h) {
  uvb *b = h->data;
  if (b->loop != NULL)
    uvb_set_ready(b->loop, 1);
}

static void uvb_on_async(uv_async_t *h) {
  uvb *b = h->data;
  if (b->loop != NULL)
    uvb_set_ready(b->loop, 1);
}

/* libuv writes with write(2)/writev(2), which raise SIGPIPE when the peer
 * is gone: a reset by any client would kill the process. gust's own writes
 * use MSG_NOSIGNAL, but libuv's (the rest of a partial write) cannot, so
 * SIGPIPE is ignored while it has its default action, as libuv-based
 * runtimes do; an application's own handler or SIG_IGN is left alone. */
static void uvb_ignore_sigpipe(void) {
  static pthread_mutex_t once = PTHREAD_MUTEX_INITIALIZER;
  struct sigaction sa;
  pthread_mutex_lock(&once);
  if (sigaction(SIGPIPE, NULL, &sa) == 0 && sa.sa_handler == SIG_DFL &&
      !(sa.sa_flags & SA_SIGINFO)) {
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = SIG_IGN;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGPIPE, &sa, NULL);
  }
  pthread_mutex_unlock(&once);
}

static int uvb_init(gust_loop *loop, void *native) {
  uvb *b = gust__calloc(loop->mem, 1, sizeof(*b));
  int rc;
  if (b == NULL)
    return GUST_ENOMEM;
  uvb_ignore_sigpipe();
  b->mem = loop->mem;
  b->loop = loop;
  if (native != NULL) {
    b->uv = native;
    b->wrapped = 1;
  } else {
    rc = uv_loop_init(&b->own);
    if (rc < 0) {
      gust__free(loop->mem, b);
      return uvb_code(rc);
    }
    b->uv = &b->own;
  }
  rc = uv_async_init(b->uv, &b->async, uvb_on_async);
  if (rc < 0) {
    if (!b->wrapped)
      uv_loop_close(&b->own);
    gust__free(loop->mem, b);
    return uvb_code(rc);
  }
  uv_idle_init(b->uv, &b->idle);
  uv_check_init(b->uv, &b->check);
  uv_prepare_init(b->uv, &b->prepare);
  uv_timer_init(b->uv, &b->timer);
  b->async.data = b->idle.data = b->check.data = b->timer.data = b;
  b->prepare.data = b;
  b->open_handles = 5;
  uv_check_start(&b->check, uvb_on_check);
  uv_prepare_start(&b->prepare, uvb_on_prepare);
  /* Internal handles alone never keep a native loop alive: an own loop is
   * run by gust_loop_run(), which refs the wakeup handle while it runs. */
  uv_unref((uv_handle_t *)&b->async);
  uv_unref((uv_handle_t *)&b->check);
  uv_unref((uv_handle_t *)&b->prepare);
  loop->be = b;
  loop->native = b->uv;
  return 0;
}

static void uvb_on_close(uv_handle_t *h) {
  uvb *b = h->data;
  if (--b->open_handles == 0 && b->wrapped)
    gust__free(b->mem, b);
}

static void uvb_destroy(gust_loop *loop) {
  uvb *b = loop->be;
  b->loop = NULL;
  uv_close((uv_handle_t *)&b->async, uvb_on_close);
  uv_close((uv_handle_t *)&b->idle, uvb_on_close);
  uv_close((uv_handle_t *)&b->check, uvb_on_close);
  uv_close((uv_handle_t *)&b->prepare, uvb_on_close);
  uv_close((uv_handle_t *)&b->timer, uvb_on_close);
  if (!b->wrapped) {
    /* Let libuv finish every close, then release the native loop. */
    while (b->open_handles > 0 || uv_loop_close(&b->own) == UV_EBUSY)
      uv_run(&b->own, UV_RUN_NOWAIT);
    gust__free(b->mem, b);
  }
  loop->be = NULL;
}

/* The wakeup handle keeps the native loop alive while gust_loop_run() runs
 * it or pool work is outstanding, and never otherwise. */
static void uvb_update_ref(uvb *b) {
  if (b->running || b->hold)
    uv_ref((uv_handle_t *)&b->async);
  else
    uv_unref((uv_handle_t *)&b->async);
}

static void uvb_hold(gust_loop *loop, int on) {
  uvb *b = loop->be;
  b->hold = on;
  uvb_update_ref(b);
}

static int uvb_run(gust_loop *loop) {
  uvb *b = loop->be;
  b->running = 1;
  uvb_update_ref(b);
  uv_run(b->uv, UV_RUN_DEFAULT);
  b->running = 0;
  uvb_update_ref(b);
  return 0;
}

static void uvb_brk(gust_loop *loop) {
  uvb *b = loop->be;
  uv_stop(b->uv);
}

static void uvb_arm(gust_loop *loop, double delay) {
  uvb *b = loop->be;
  uint64_t ms;
  if (delay < 0) {
    uv_timer_stop(&b->timer);
    return;
  }
  /* Round up: a timer that fires early only costs one more wakeup, but
   * rounding down to 0 early would spin. */
  ms = (uint64_t)(delay * 1000.0);
  if ((double)ms < delay * 1000.0)
    ms++;
  uv_update_time(b->uv);
  uv_timer_start(&b->timer, uvb_on_timer, ms, 0);
}

static void uvb_wakeup(gust_loop *loop) {
  uvb *b = loop->be;
  uv_async_send(&b->async);
}

/* ------------------------------------------------------------------ */
/* fd and signal watchers                                               */
/* ------------------------------------------------------------------ */

static int uvb_fd_set(gust_loop *loop, gust__fdw *w);

static void uvb_on_poll(uv_poll_t *h, int status, int events) {
  uvb_poll *p = h->data;
  int ev = 0;
  if (p->w == NULL || p->b->loop == NULL)
    return;
  if (status < 0)
    ev = GUST_LOOP_ERROR | (p->w->events & GUST_LOOP_READ);
  if (events & UV_READABLE)
    ev |= GUST_LOOP_READ;
  if (events & UV_WRITABLE)
    ev |= GUST_LOOP_WRITE;
  if (events & UV_DISCONNECT)
    ev |= GUST_LOOP_ERROR | (p->w->events & GUST_LOOP_READ);
  ev &= p->w->events | GUST_LOOP_ERROR;
  if (ev != 0)
    p->w->cb(p->b->loop, p->w->fd, ev, p->w->ud);
  /* libuv stops a poll handle that reported an error; gust's handlers are
   * level-triggered (as libev's): watch on while the handler is there */
  if (status < 0 && p->w != NULL && p->b->loop != NULL &&
      !uv_is_active((uv_handle_t *)&p->h) &&
      (p->w->events & (GUST_LOOP_READ | GUST_LOOP_WRITE)) != 0)
    uvb_fd_set(p->b->loop, p->w);
}

static int uvb_fd_set(gust_loop *loop, gust__fdw *w) {
  uvb *b = loop->be;
  uvb_poll *p = w->be;
  int uvev = 0, rc;
  if (p == NULL) {
    p = gust__calloc(loop->mem, 1, sizeof(*p));
    if (p == NULL)
      return GUST_ENOMEM;
    rc = uv_poll_init(b->uv, &p->h, w->fd);
    if (rc < 0) {
      gust__free(loop->mem, p);
      return rc == UV_ENOMEM ? GUST_ENOMEM : GUST_ESYS;
    }
    p->h.data = p;
    p->w = w;
    p->b = b;
    b->open_handles++;
    w->be = p;
  }
  if (w->events & GUST_LOOP_READ)
    uvev |= UV_READABLE | UV_DISCONNECT;
  if (w->events & GUST_LOOP_WRITE)
    uvev |= UV_WRITABLE;
  if (uvev == 0)
    rc = uv_poll_stop(&p->h);
  else
    rc = uv_poll_start(&p->h, uvev, uvb_on_poll);
  return rc < 0 ? GUST_ESYS : 0;
}

static void uvb_child_closed(uvb *b, void *rec) {
  gust__free(b->mem, rec);
  if (--b->open_handles == 0 && b->wrapped)
    gust__free(b->mem, b);
}

static void uvb_on_poll_close(uv_handle_t *h) {
  uvb_poll *p = h->data;
  uvb_child_closed(p->b, p);
}

static void uvb_on_sig_close(uv_handle_t *h) {
  uvb_sig *s = h->data;
  uvb_child_closed(s->b, s);
}

static void uvb_fd_close(gust_loop *loop, gust__fdw *w) {
  uvb_poll *p = w->be;
  GUST__UNUSED(loop);
  if (p == NULL)
    return;
  p->w = NULL;
  w->be = NULL;
  uv_poll_stop(&p->h);
  uv_close((uv_handle_t *)&p->h, uvb_on_poll_close);
}

static void uvb_on_signal(uv_signal_t *h, int signum) {
  uvb_sig *s = h->data;
  if (s->s != NULL && s->b->loop != NULL)
    s->s->cb(s->b->loop, signum, s->s->ud);
}

static int uvb_sig_start(gust_loop *loop, gust__sigw *sw) {
  uvb *b = loop->be;
  uvb_sig *s = gust__calloc(loop->mem, 1, sizeof(*s));
  int rc;
  if (s == NULL)
    return GUST_ENOMEM;
  rc = uv_signal_init(b->uv, &s->h);
  if (rc < 0) {
    gust__free(loop->mem, s);
    return uvb_code(rc);
  }
  s->h.data = s;
  s->s = sw;
  s->b = b;
  b->open_handles++;
  sw->be = s;
  rc = uv_signal_start(&s->h, uvb_on_signal, sw->signum);
  if (rc < 0) {
    s->s = NULL;
    sw->be = NULL;
    uv_close((uv_handle_t *)&s->h, uvb_on_sig_close);
    return uvb_code(rc);
  }
  /* A signal handler alone does not keep the loop alive. */
  uv_unref((uv_handle_t *)&s->h);
  return 0;
}

static void uvb_sig_close(gust_loop *loop, gust__sigw *sw) {
  uvb_sig *s = sw->be;
  GUST__UNUSED(loop);
  if (s == NULL)
    return;
  s->s = NULL;
  sw->be = NULL;
  uv_signal_stop(&s->h);
  uv_close((uv_handle_t *)&s->h, uvb_on_sig_close);
}

/* ------------------------------------------------------------------ */
/* TCP over uv_tcp_t streams                                            */
/* ------------------------------------------------------------------ */

/* uv_write() takes gust_vec arrays as they are: same layout. */
_Static_assert(sizeof(gust_vec) == sizeof(uv_buf_t) &&
                   offsetof(gust_vec, base) == offsetof(uv_buf_t, base) &&
                   offsetof(gust_vec, len) == offsetof(uv_buf_t, len),
               "gust_vec and uv_buf_t differ");

/* Listeners only: takes a connection gust could not. Its handle `h`
 * belongs to the listener's record (h.data points to the record) and
 * counts among that record's handles; it is freed with the record. The
 * record's own h.data points here, so `b` stands in for it. */
typedef struct uvb_rej {
  uv_tcp_t h;
  uvb *b;
  int rejecting; /* `h` is open or closing */
  int again;     /* another connection waits for `h` */
} uvb_rej;

/* The record behind every gust_tcp, held for the whole life of each
 * connection: only what every handle needs. The connect and shutdown
 * requests are allocated when made and freed by their callbacks, which
 * libuv always runs (with UV_ECANCELED at the latest when the handle
 * closes, before its close callback); a listener's reject handle is
 * allocated by tcp_listen.
 *
 * h comes first: libuv callbacks get the record back from their handle
 * pointer, which leaves h.data free to lead to the backend state, a link
 * that stays valid while the record is being discarded and after its
 * gust_tcp is gone (the uv loop's own data pointer is not ours to use when
 * the loop is the application's). */
typedef struct uvb_tcp {
  uv_tcp_t h;            /* h.data: the uvb, or for listeners their uvb_rej */
  gust_tcp *t;           /* NULL while the record is being discarded */
  unsigned handles : 2;  /* open handles in this record (h, rej->h) */
  unsigned closing : 1;  /* tcp_close was called */
  unsigned listener : 1; /* h.data is the uvb_rej (from tcp_listen on) */
} uvb_tcp;

/* The record whose handle `h` is (h is its first member). */
#define UVB_TCP(hp) ((uvb_tcp *)(void *)(hp))
_Static_assert(offsetof(uvb_tcp, h) == 0, "uvb_tcp.h is not first");

static uvb *uvb_tcp_backend(const uvb_tcp *r) {
  return r->listener ? ((uvb_rej *)r->h.data)->b : (uvb *)r->h.data;
}

/* One handle of the record has closed. */
static void uvb_tcp_release(uvb_tcp *r) {
  uvb *b = uvb_tcp_backend(r);
  if (--r->handles == 0) {
    /* Neither handle is open any more: libuv holds no part of either. */
    if (r->listener)
      gust__free(b->mem, r->h.data);
    gust__free(b->mem, r);
  }
  if (--b->open_handles == 0 && b->wrapped)
    gust__free(b->mem, b);
}

static void uvb_on_tcp_close(uv_handle_t *h) {
  uvb_tcp *r = UVB_TCP(h);
  uvb *b = uvb_tcp_backend(r);
  gust_tcp *t = r->t;
  if (t != NULL) {
    t->be = NULL;
    gust__tcp_on_close(t);
    /* libuv runs close callbacks after the check phase: iterate once more
     * so that dispatch (and a run-until condition) sees what they did. */
    if (b->loop != NULL)
      uvb_set_ready(b->loop, 1);
  }
  uvb_tcp_release(r);
}

static void uvb_reject(uvb_tcp *r);

static void uvb_on_reject_close(uv_handle_t *h) {
  uvb_tcp *r = h->data;
  uvb_rej *rej = r->h.data;
  rej->rejecting = 0;
  if (rej->again && !r->closing) {
    rej->again = 0;
    uvb_reject(r);
  }
  uvb_tcp_release(r);
}

/* libuv stops watching a listener until its waiting connection has been
 * accepted: when gust cannot take one (out of memory), accept it into a
 * handle kept for this and drop it, so that the listener goes on. */
static void uvb_reject(uvb_tcp *r) {
  uvb_rej *rej = r->h.data;
  if (rej->rejecting) {
    rej->again = 1;
    return;
  }
  if (uv_tcp_init(rej->b->uv, &rej->h) < 0)
    return;
  rej->h.data = r;
  rej->rejecting = 1;
  r->handles++;
  rej->b->open_handles++;
  uv_accept((uv_stream_t *)&r->h, (uv_stream_t *)&rej->h);
  uv_close((uv_handle_t *)&rej->h, uvb_on_reject_close);
}

static uvb_tcp *uvb_tcp_new(gust_tcp *t) {
  uvb *b = t->loop->be;
  uvb_tcp *r = gust__calloc(t->mem, 1, sizeof(*r));
  if (r == NULL)
    return NULL;
  if (uv_tcp_init(b->uv, &r->h) < 0) {
    gust__free(t->mem, r);
    return NULL;
  }
  r->h.data = b;
  r->handles = 1;
  b->open_handles++;
  return r;
}

/* Closes a record that never became a handle's backend. */
static void uvb_tcp_discard(uvb_tcp *r) {
  r->t = NULL;
  uv_close((uv_handle_t *)&r->h, uvb_on_tcp_close);
}

static int uvb_tcp_open(gust_tcp *t) {
  uvb_tcp *r = uvb_tcp_new(t);
  int rc;
  if (r == NULL)
    return GUST_ENOMEM;
  rc = uv_tcp_open(&r->h, t->fd);
  if (rc < 0) {
    uvb_tcp_discard(r);
    return uvb_code(rc);
  }
  r->t = t;
  t->be = r;
  return 0;
}

static void uvb_on_connection(uv_stream_t *s, int status) {
  uvb_tcp *r = UVB_TCP(s);
  int rc = gust__tcp_on_connection(r->t, status < 0 ? uvb_code(status) : 0);
  if (status == 0 && rc < 0 && rc != GUST_ECLOSED && !r->closing)
    uvb_reject(r);
}

static int uvb_tcp_listen(gust_tcp *t, int backlog) {
  uvb_tcp *r = t->be;
  /* The reject handle is wanted exactly when memory is short: allocate it
   * now, while the failure can still be reported, not on the first reject.
   * It stays with the record (freed in uvb_tcp_release()) even if
   * uv_listen() fails. */
  if (!r->listener) {
    uvb_rej *rej = gust__calloc(t->mem, 1, sizeof(*rej));
    if (rej == NULL)
      return GUST_ENOMEM;
    rej->b = r->h.data;
    r->h.data = rej;
    r->listener = 1;
  }
  return uvb_code(uv_listen((uv_stream_t *)&r->h, backlog, uvb_on_connection));
}

static int uvb_tcp_accept(gust_tcp *server, gust_tcp *conn) {
  uvb_tcp *sr = server->be, *r = uvb_tcp_new(conn);
  uv_os_fd_t fd;
  int rc;
  if (r == NULL)
    return GUST_ENOMEM;
  rc = uv_accept((uv_stream_t *)&sr->h, (uv_stream_t *)&r->h);
  if (rc == 0)
    rc = uv_fileno((uv_handle_t *)&r->h, &fd);
  if (rc < 0) {
    uvb_tcp_discard(r);
    return uvb_code(rc);
  }
  r->t = conn;
  conn->be = r;
  conn->fd = fd;
  return 0;
}

/* libuv is done with the request once its callback runs: on completion,
 * or with UV_ECANCELED while the handle closes (before the close
 * callback, so the record is still there). */
static void uvb_on_connect(uv_connect_t *req, int status) {
  uvb_tcp *r = req->data;
  gust__free(uvb_tcp_backend(r)->mem, req);
  gust__tcp_on_connect(r->t, uvb_code(status));
}

static int uvb_tcp_connect(gust_tcp *t, const struct sockaddr *sa,
                           socklen_t len) {
  uvb_tcp *r = t->be;
  uv_connect_t *req = gust__malloc(t->mem, sizeof(*req));
  int rc;
  GUST__UNUSED(len);
  if (req == NULL)
    return GUST_ENOMEM;
  req->data = r;
  rc = uv_tcp_connect(req, &r->h, sa, uvb_on_connect);
  if (rc < 0) {
    /* Refused before libuv took the request: no callback will come. */
    gust__free(t->mem, req);
    return uvb_code(rc);
  }
  return 0;
}

static void uvb_on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf) {
  uvb_tcp *r = UVB_TCP(h);
  gust_tcp *t = r->t;
  gust_vec v = {NULL, 0};
  t->alloc_cb(t, suggested, &v);
  buf->base = v.base;
  buf->len = v.len;
}

static void uvb_on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf) {
  uvb_tcp *r = UVB_TCP(s);
  gust_tcp *t = r->t;
  gust_vec v = {buf->base, buf->len};
  gust_ssize n = nread;
  if (!t->reading)
    return;
  if (nread < 0) {
    if (nread == UV_EOF)
      n = GUST_EEOF;
    else if (nread == UV_ENOBUFS)
      n = GUST_ENOMEM;
    else
      n = uvb_code((int)nread);
    uv_read_stop(s);
    t->reading = 0;
  }
  t->read_cb(t, n, &v);
}

static int uvb_tcp_read_start(gust_tcp *t) {
  uvb_tcp *r = t->be;
  return uvb_code(
      uv_read_start((uv_stream_t *)&r->h, uvb_on_alloc, uvb_on_read));
}

static void uvb_tcp_read_stop(gust_tcp *t) {
  uvb_tcp *r = t->be;
  uv_read_stop((uv_stream_t *)&r->h);
}

static void uvb_on_write(uv_write_t *req, int status) {
  gust_tcp *t = req->data;
  gust__free(t->mem, req);
  gust__tcp_on_write(t, uvb_code(status));
}

static int uvb_tcp_write(gust_tcp *t, gust__wreq *w) {
  uvb_tcp *r = t->be;
  uv_write_t *req = gust__malloc(t->mem, sizeof(*req));
  int rc;
  if (req == NULL)
    return GUST_ENOMEM;
  req->data = t;
  /* libuv copies the buffer array and continues partial writes itself. */
  rc = uv_write(req, (uv_stream_t *)&r->h, (const uv_buf_t *)w->vecs,
                (unsigned)w->n, uvb_on_write);
  if (rc < 0) {
    gust__free(t->mem, req);
    return uvb_code(rc);
  }
  w->be = req;
  return 0;
}

/* As for connect: the callback runs once, at the latest with UV_ECANCELED
 * while the handle closes, and libuv is done with the request then. */
static void uvb_on_shutdown(uv_shutdown_t *req, int status) {
  uvb_tcp *r = req->data;
  gust__free(uvb_tcp_backend(r)->mem, req);
  gust__tcp_on_shutdown(r->t, uvb_code(status));
}

static int uvb_tcp_shutdown(gust_tcp *t) {
  uvb_tcp *r = t->be;
  uv_shutdown_t *req = gust__malloc(t->mem, sizeof(*req));
  int rc;
  if (req == NULL)
    return GUST_ENOMEM;
  req->data = r;
  rc = uv_shutdown(req, (uv_stream_t *)&r->h, uvb_on_shutdown);
  if (rc < 0) {
    /* Refused before libuv took the request: no callback will come. */
    gust__free(t->mem, req);
    return uvb_code(rc);
  }
  return 0;
}

static void uvb_tcp_close(gust_tcp *t) {
  uvb_tcp *r = t->be;
  r->closing = 1;
  uv_close((uv_handle_t *)&r->h, uvb_on_tcp_close);
}

const gust__loop_vtable gust__loop_backend = {
    .name = "libuv",
    .version = uvb_version,
    .native_kind = GUST__NATIVE_UV,
    .init = uvb_init,
    .destroy = uvb_destroy,
    .run = uvb_run,
    .brk = uvb_brk,
    .set_ready = uvb_set_ready,
    .arm = uvb_arm,
    .wakeup = uvb_wakeup,
    .hold = uvb_hold,
    .fd_set = uvb_fd_set,
    .fd_close = uvb_fd_close,
    .sig_start = uvb_sig_start,
    .sig_close = uvb_sig_close,
    .tcp_open = uvb_tcp_open,
    .tcp_listen = uvb_tcp_listen,
    .tcp_accept = uvb_tcp_accept,
    .tcp_connect = uvb_tcp_connect,
    .tcp_read_start = uvb_tcp_read_start,
    .tcp_read_stop = uvb_tcp_read_stop,
    .tcp_write = uvb_tcp_write,
    .tcp_shutdown = uvb_tcp_shutdown,
    .tcp_close = uvb_tcp_close,
};
