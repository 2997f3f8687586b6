/* Event loop backend over libev (readiness watchers, nonblocking syscalls). */
#include "config.h"

#include <ev.h>
#include <pthread.h>
#include <stdio.h>

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

static void evb_destroy(gust_loop *loop) {
  evb *b = loop->be;
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
  ev_ref(b->ev);
  ev_run(b->ev, 0);
  ev_unref(b->ev);
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
    .fd_set = evb_fd_set,
    .fd_close = evb_fd_close,
    .sig_start = evb_sig_start,
    .sig_close = evb_sig_close,
};
