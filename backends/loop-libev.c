/* Event loop backend over libev (readiness watchers, nonblocking syscalls). */
/* accept4() and IOV_MAX. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif
#include "config.h"

#include <errno.h>
#include <ev.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "../src/async/loop_int.h"

static char ev_version_text[32];
static pthread_once_t ev_version_once = PTHREAD_ONCE_INIT;

static void evb_format_version(void) {
  snprintf(ev_version_text, sizeof(ev_version_text), "%d.%d",
           ev_version_major(), ev_version_minor());
}

/* libev reports its run-time version as two integers. */
static const char *evb_version(void) {
  pthread_once(&ev_version_once, evb_format_version);
  return ev_version_text;
}

/* The backend's per-loop state. */
typedef struct evb {
  struct ev_loop *ev;
  gust_loop *loop;
  ev_async async;  /* thread-safe wakeup */
  ev_idle idle;    /* keeps the poll from blocking while ready */
  ev_prepare prep; /* runs dispatch before each poll */
  ev_timer timer;  /* the earliest deadline */
  int ready;
  int running; /* inside gust_loop_run() */
  int hold;    /* outstanding pool work */
  int refd;    /* a loop reference is held for the two above */
} evb;

typedef struct evb_io {
  ev_io io;
  gust__fdw *w;
  gust_loop *loop;
} evb_io;

typedef struct evb_sig {
  ev_signal sig;
  gust__sigw *s;
  gust_loop *loop;
} evb_sig;

/* libev invokes check watchers before the I/O callbacks of the same
 * iteration, so dispatch runs from a prepare watcher instead: after every
 * callback of the previous iteration, before the poll timeout is chosen. */
static void evb_on_prepare(struct ev_loop *ev, ev_prepare *w, int revents) {
  evb *b = w->data;
  GUST__UNUSED(ev);
  GUST__UNUSED(revents);
  gust__loop_dispatch(b->loop);
}

static void evb_on_idle(struct ev_loop *ev, ev_idle *w, int revents) {
  GUST__UNUSED(ev);
  GUST__UNUSED(w);
  GUST__UNUSED(revents);
}

static void evb_set_ready(gust_loop *loop, int on) {
  evb *b = loop->be;
  if (on && !b->ready)
    ev_idle_start(b->ev, &b->idle);
  else if (!on && b->ready)
    ev_idle_stop(b->ev, &b->idle);
  b->ready = on;
}

static void evb_on_timer(struct ev_loop *ev, ev_timer *w, int revents) {
  evb *b = w->data;
  GUST__UNUSED(ev);
  GUST__UNUSED(revents);
  evb_set_ready(b->loop, 1);
}

static void evb_on_async(struct ev_loop *ev, ev_async *w, int revents) {
  evb *b = w->data;
  GUST__UNUSED(ev);
  GUST__UNUSED(revents);
  evb_set_ready(b->loop, 1);
}

static int evb_init(gust_loop *loop, void *native) {
  evb *b = gust__calloc(loop->mem, 1, sizeof(*b));
  if (b == NULL)
    return GUST_ENOMEM;
  b->loop = loop;
  if (native != NULL) {
    b->ev = native;
  } else {
    b->ev = ev_loop_new(EVFLAG_AUTO);
    if (b->ev == NULL) {
      gust__free(loop->mem, b);
      return GUST_ESYS;
    }
  }
  ev_async_init(&b->async, evb_on_async);
  ev_idle_init(&b->idle, evb_on_idle);
  ev_prepare_init(&b->prep, evb_on_prepare);
  ev_timer_init(&b->timer, evb_on_timer, 0., 0.);
  b->async.data = b->idle.data = b->prep.data = b->timer.data = b;
  ev_async_start(b->ev, &b->async);
  ev_prepare_start(b->ev, &b->prep);
  /* Internal watchers alone never keep the native loop alive: an own loop
   * is run by gust_loop_run(), which takes a reference while it runs. */
  ev_unref(b->ev);
  ev_unref(b->ev);
  loop->be = b;
  loop->native = b->ev;
  return 0;
}

/* One loop reference while gust_loop_run() runs the native loop or pool
 * work is outstanding, none otherwise. */
static void evb_update_ref(evb *b) {
  int want = b->running || b->hold;
  if (want && !b->refd)
    ev_ref(b->ev);
  else if (!want && b->refd)
    ev_unref(b->ev);
  b->refd = want;
}

static void evb_hold(gust_loop *loop, int on) {
  evb *b = loop->be;
  b->hold = on;
  evb_update_ref(b);
}

static void evb_destroy(gust_loop *loop) {
  evb *b = loop->be;
  b->running = b->hold = 0;
  evb_update_ref(b);
  ev_ref(b->ev);
  ev_ref(b->ev);
  ev_async_stop(b->ev, &b->async);
  ev_prepare_stop(b->ev, &b->prep);
  ev_idle_stop(b->ev, &b->idle);
  ev_timer_stop(b->ev, &b->timer);
  if (!loop->wrapped)
    ev_loop_destroy(b->ev);
  gust__free(loop->mem, b);
  loop->be = NULL;
}

static int evb_run(gust_loop *loop) {
  evb *b = loop->be;
  b->running = 1;
  evb_update_ref(b);
  ev_run(b->ev, 0);
  b->running = 0;
  evb_update_ref(b);
  return 0;
}

static void evb_brk(gust_loop *loop) {
  evb *b = loop->be;
  ev_break(b->ev, EVBREAK_ONE);
}

static void evb_arm(gust_loop *loop, double delay) {
  evb *b = loop->be;
  ev_timer_stop(b->ev, &b->timer);
  if (delay < 0)
    return;
  ev_now_update(b->ev);
  ev_timer_set(&b->timer, delay, 0.);
  ev_timer_start(b->ev, &b->timer);
}

static void evb_wakeup(gust_loop *loop) {
  evb *b = loop->be;
  ev_async_send(b->ev, &b->async);
}

/* ------------------------------------------------------------------ */
/* fd and signal watchers                                               */
/* ------------------------------------------------------------------ */

static void evb_on_io(struct ev_loop *ev, ev_io *io, int revents) {
  evb_io *p = io->data;
  gust__fdw *w = p->w;
  int ev_bits = 0;
  GUST__UNUSED(ev);
  if (revents & EV_READ)
    ev_bits |= GUST_LOOP_READ;
  if (revents & EV_WRITE)
    ev_bits |= GUST_LOOP_WRITE;
  if (revents & EV_ERROR)
    ev_bits |= GUST_LOOP_ERROR;
  ev_bits &= w->events | GUST_LOOP_ERROR;
  if (ev_bits != 0)
    w->cb(p->loop, w->fd, ev_bits, w->ud);
}

static int evb_fd_set(gust_loop *loop, gust__fdw *w) {
  evb *b = loop->be;
  evb_io *p = w->be;
  int evev = 0;
  if (p == NULL) {
    p = gust__calloc(loop->mem, 1, sizeof(*p));
    if (p == NULL)
      return GUST_ENOMEM;
    p->w = w;
    p->loop = loop;
    ev_io_init(&p->io, evb_on_io, w->fd, 0);
    p->io.data = p;
    w->be = p;
  }
  if (w->events & GUST_LOOP_READ)
    evev |= EV_READ;
  if (w->events & GUST_LOOP_WRITE)
    evev |= EV_WRITE;
  ev_io_stop(b->ev, &p->io);
  if (evev != 0) {
    ev_io_set(&p->io, w->fd, evev);
    ev_io_start(b->ev, &p->io);
  }
  return 0;
}

static void evb_fd_close(gust_loop *loop, gust__fdw *w) {
  evb *b = loop->be;
  evb_io *p = w->be;
  if (p == NULL)
    return;
  /* Stopping also clears an event already pending for this watcher. */
  ev_io_stop(b->ev, &p->io);
  w->be = NULL;
  gust__free(loop->mem, p);
}

static void evb_on_signal(struct ev_loop *ev, ev_signal *w, int revents) {
  evb_sig *s = w->data;
  GUST__UNUSED(ev);
  GUST__UNUSED(revents);
  s->s->cb(s->loop, s->s->signum, s->s->ud);
}

static int evb_sig_start(gust_loop *loop, gust__sigw *sw) {
  evb *b = loop->be;
  evb_sig *s = gust__calloc(loop->mem, 1, sizeof(*s));
  if (s == NULL)
    return GUST_ENOMEM;
  s->s = sw;
  s->loop = loop;
  ev_signal_init(&s->sig, evb_on_signal, sw->signum);
  s->sig.data = s;
  ev_signal_start(b->ev, &s->sig);
  /* A signal handler alone does not keep the loop alive. */
  ev_unref(b->ev);
  sw->be = s;
  return 0;
}

static void evb_sig_close(gust_loop *loop, gust__sigw *sw) {
  evb *b = loop->be;
  evb_sig *s = sw->be;
  if (s == NULL)
    return;
  ev_ref(b->ev);
  ev_signal_stop(b->ev, &s->sig);
  sw->be = NULL;
  gust__free(loop->mem, s);
}

/* ------------------------------------------------------------------ */
/* TCP over readiness watchers and nonblocking syscalls                 */
/* ------------------------------------------------------------------ */

/* The record behind every gust_tcp, held for the whole life of each
 * connection: listener-only parts live outside it. */
typedef struct evb_tcp {
  ev_io rio; /* readable: accept or read */
  ev_io wio; /* writable: connect completion or queued writes */
  gust_tcp *t;
  struct ev_loop *ev;
  ev_timer *pause; /* listeners (from tcp_listen on): resumes accepting
                      after a failure */
  int connecting;
  int shut_sent; /* shutdown(SHUT_WR) was issued */
} evb_tcp;

/* Most connections taken from one listener readiness. */
#define EVB_ACCEPT_BATCH 64
#define EVB_READ_SIZE    65536
/* Seconds a listener rests after accept failed (out of fds or memory): it
 * stays readable, and retrying at once would spin. */
#define EVB_ACCEPT_PAUSE 0.1

static void evb_on_accept_pause(struct ev_loop *ev, ev_timer *w, int revents) {
  evb_tcp *r = w->data;
  GUST__UNUSED(revents);
  ev_io_start(ev, &r->rio);
}

static void evb_on_accept(struct ev_loop *ev, ev_io *io, int revents) {
  /* The listener's record may be freed by a callback below (close); the
   * handle itself stays valid until a later iteration. */
  gust_tcp *t = ((evb_tcp *)io->data)->t;
  int i;
  GUST__UNUSED(revents);
  for (i = 0; i < EVB_ACCEPT_BATCH; i++) {
    int rc = gust__tcp_on_connection(t, 0);
    if (rc == GUST_EAGAIN || rc == GUST_ECLOSED)
      break;
    if (rc < 0 && rc != GUST_ECONNRESET) {
      if (!t->closing) {
        evb_tcp *r = t->be;
        ev_io_stop(ev, &r->rio);
        ev_timer_set(r->pause, EVB_ACCEPT_PAUSE, 0.);
        ev_timer_start(ev, r->pause);
      }
      break;
    }
  }
}

static void evb_flush(evb_tcp *r);

static void evb_on_read(struct ev_loop *ev, ev_io *io, int revents) {
  evb_tcp *r = io->data;
  gust_tcp *t = r->t;
  gust_vec buf = {NULL, 0};
  ssize_t n;
  GUST__UNUSED(revents);
  t->alloc_cb(t, EVB_READ_SIZE, &buf);
  if (!t->reading || t->closing)
    return;
  if (buf.base == NULL || buf.len == 0) {
    ev_io_stop(ev, &r->rio);
    t->reading = 0;
    t->read_cb(t, GUST_ENOMEM, &buf);
    return;
  }
  do
    n = read(t->fd, buf.base, buf.len);
  while (n < 0 && errno == EINTR);
  if (n > 0) {
    t->read_cb(t, n, &buf);
  } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
    t->read_cb(t, 0, &buf);
  } else {
    /* End of stream or error: reading stops. */
    int code = n == 0 ? GUST_EEOF : gust__errno_code(errno);
    ev_io_stop(ev, &r->rio);
    t->reading = 0;
    t->read_cb(t, code, &buf);
  }
}

static void evb_on_writable(struct ev_loop *ev, ev_io *io, int revents) {
  evb_tcp *r = io->data;
  gust_tcp *t = r->t;
  GUST__UNUSED(revents);
  if (r->connecting) {
    int err = 0;
    socklen_t len = sizeof(err);
    r->connecting = 0;
    if (getsockopt(t->fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
      err = errno;
    if (t->wq_head == NULL && !t->shut)
      ev_io_stop(ev, &r->wio);
    gust__tcp_on_connect(t, gust__errno_code(err));
    return;
  }
  evb_flush(r);
}

/* Writes as much of the queue as the kernel takes. */
static void evb_flush(evb_tcp *r) {
  gust_tcp *t = r->t;
  while (t->wq_head != NULL && !t->closing) {
    gust__wreq *w = t->wq_head;
    struct msghdr msg;
    ssize_t n;
    if (w->left == 0) {
      gust__tcp_on_write(t, 0);
      continue;
    }
    memset(&msg, 0, sizeof(msg));
    msg.msg_iov = (struct iovec *)w->vec;
    msg.msg_iovlen = w->n < IOV_MAX ? w->n : IOV_MAX;
    /* MSG_NOSIGNAL: a closed peer gives EPIPE, never SIGPIPE. */
    do
      n = sendmsg(t->fd, &msg, MSG_NOSIGNAL);
    while (n < 0 && errno == EINTR);
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK)
        return;
      gust__tcp_on_write(t, gust__errno_code(errno));
      continue;
    }
    gust_vec_advance(&w->vec, &w->n, (size_t)n);
    w->left -= (size_t)n;
    t->wq_bytes -= (size_t)n;
    if (w->left == 0)
      gust__tcp_on_write(t, 0);
  }
  if (t->closing)
    return;
  ev_io_stop(r->ev, &r->wio);
  if (t->shut && !r->shut_sent) {
    int rc = shutdown(t->fd, SHUT_WR) == 0 ? 0 : gust__errno_code(errno);
    r->shut_sent = 1;
    gust__tcp_on_shutdown(t, rc);
  }
}

static int evb_tcp_open(gust_tcp *t) {
  evb *b = t->loop->be;
  evb_tcp *r = gust__calloc(t->mem, 1, sizeof(*r));
  if (r == NULL)
    return GUST_ENOMEM;
  r->t = t;
  r->ev = b->ev;
  ev_io_init(&r->rio, evb_on_read, t->fd, EV_READ);
  ev_io_init(&r->wio, evb_on_writable, t->fd, EV_WRITE);
  r->rio.data = r->wio.data = r;
  t->be = r;
  return 0;
}

static int evb_tcp_listen(gust_tcp *t, int backlog) {
  evb_tcp *r = t->be;
  /* The pause is wanted when accepting failed, memory being short among
   * the causes: allocate it now, while the failure can still be reported.
   * It stays with the record (freed in evb_tcp_close()) even if listen()
   * fails. */
  if (r->pause == NULL) {
    r->pause = gust__malloc(t->mem, sizeof(*r->pause));
    if (r->pause == NULL)
      return GUST_ENOMEM;
    ev_timer_init(r->pause, evb_on_accept_pause, EVB_ACCEPT_PAUSE, 0.);
    r->pause->data = r;
  }
  if (listen(t->fd, backlog) != 0)
    return gust__errno_code(errno);
  ev_set_cb(&r->rio, evb_on_accept);
  ev_io_start(r->ev, &r->rio);
  return 0;
}

static int evb_tcp_accept(gust_tcp *server, gust_tcp *conn) {
  int fd, rc;
  do
    fd = accept4(server->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
  while (fd < 0 && errno == EINTR);
  if (fd < 0)
    return gust__errno_code(errno);
  conn->fd = fd;
  rc = evb_tcp_open(conn);
  if (rc < 0) {
    close(fd);
    conn->fd = -1;
  }
  return rc;
}

static int evb_tcp_connect(gust_tcp *t, const struct sockaddr *sa,
                           socklen_t len) {
  evb_tcp *r = t->be;
  int rc;
  do
    rc = connect(t->fd, sa, len);
  while (rc < 0 && errno == EINTR);
  if (rc < 0 && errno != EINPROGRESS)
    return gust__errno_code(errno);
  /* Completion (even an immediate one) is reported from writability, so
   * that the callback never runs inside gust_tcp_connect(). */
  r->connecting = 1;
  ev_io_start(r->ev, &r->wio);
  return 0;
}

static int evb_tcp_read_start(gust_tcp *t) {
  evb_tcp *r = t->be;
  ev_io_start(r->ev, &r->rio);
  return 0;
}

static void evb_tcp_read_stop(gust_tcp *t) {
  evb_tcp *r = t->be;
  ev_io_stop(r->ev, &r->rio);
}

static int evb_tcp_write(gust_tcp *t, gust__wreq *w) {
  evb_tcp *r = t->be;
  GUST__UNUSED(w);
  /* Writing happens on writability, so the callback never runs inside
   * gust_tcp_write(). */
  if (!r->connecting)
    ev_io_start(r->ev, &r->wio);
  return 0;
}

static int evb_tcp_shutdown(gust_tcp *t) {
  evb_tcp *r = t->be;
  if (!r->connecting)
    ev_io_start(r->ev, &r->wio);
  return 0;
}

static void evb_tcp_close(gust_tcp *t) {
  evb_tcp *r = t->be;
  if (r != NULL) {
    ev_io_stop(r->ev, &r->rio);
    ev_io_stop(r->ev, &r->wio);
    if (r->pause != NULL) {
      /* Stopped, the timer is no longer known to libev. */
      ev_timer_stop(r->ev, r->pause);
      gust__free(t->mem, r->pause);
    }
    gust__free(t->mem, r);
    t->be = NULL;
  }
  if (t->fd >= 0)
    close(t->fd);
  t->fd = -1;
  gust__tcp_close_later(t);
}

const gust__loop_vtable gust__loop_backend = {
    .name = "libev",
    .version = evb_version,
    .native_kind = GUST__NATIVE_EV,
    .init = evb_init,
    .destroy = evb_destroy,
    .run = evb_run,
    .brk = evb_brk,
    .set_ready = evb_set_ready,
    .arm = evb_arm,
    .wakeup = evb_wakeup,
    .hold = evb_hold,
    .fd_set = evb_fd_set,
    .fd_close = evb_fd_close,
    .sig_start = evb_sig_start,
    .sig_close = evb_sig_close,
    .tcp_open = evb_tcp_open,
    .tcp_listen = evb_tcp_listen,
    .tcp_accept = evb_tcp_accept,
    .tcp_connect = evb_tcp_connect,
    .tcp_read_start = evb_tcp_read_start,
    .tcp_read_stop = evb_tcp_read_stop,
    .tcp_write = evb_tcp_write,
    .tcp_shutdown = evb_tcp_shutdown,
    .tcp_close = evb_tcp_close,
};
