/* Event loop backend over libuv (uv_tcp_t streams, uv_timer_t, uv_async_t). */
#include "config.h"

#include <uv.h>

#include "../src/async/loop_int.h"

/* The backend's per-loop state. Allocated with the loop's allocator; for a
 * wrapped loop it outlives the gust loop until libuv has closed every
 * handle (the native loop runs on after gust_loop_free()). */
typedef struct uvb {
  const gust_mem *mem;
  uv_loop_t own;    /* the native loop when gust created it */
  uv_loop_t *uv;    /* the loop in use */
  gust_loop *loop;  /* NULL once the gust loop is gone */
  uv_async_t async; /* thread-safe wakeup */
  uv_idle_t idle;   /* keeps the poll from blocking while ready */
  uv_check_t check; /* runs dispatch after each poll */
  uv_timer_t timer; /* the earliest deadline */
  int open_handles; /* handles not yet closed */
  int ready;
  int wrapped;
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

static int uvb_init(gust_loop *loop, void *native) {
  uvb *b = gust__calloc(loop->mem, 1, sizeof(*b));
  int rc;
  if (b == NULL)
    return GUST_ENOMEM;
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
  uv_timer_init(b->uv, &b->timer);
  b->async.data = b->idle.data = b->check.data = b->timer.data = b;
  b->open_handles = 4;
  uv_check_start(&b->check, uvb_on_check);
  /* Internal handles alone never keep a native loop alive: an own loop is
   * run by gust_loop_run(), which refs the wakeup handle while it runs. */
  uv_unref((uv_handle_t *)&b->async);
  uv_unref((uv_handle_t *)&b->check);
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
  uv_close((uv_handle_t *)&b->timer, uvb_on_close);
  if (!b->wrapped) {
    /* Let libuv finish every close, then release the native loop. */
    while (b->open_handles > 0 || uv_loop_close(&b->own) == UV_EBUSY)
      uv_run(&b->own, UV_RUN_NOWAIT);
    gust__free(b->mem, b);
  }
  loop->be = NULL;
}

static int uvb_run(gust_loop *loop) {
  uvb *b = loop->be;
  uv_ref((uv_handle_t *)&b->async);
  uv_run(b->uv, UV_RUN_DEFAULT);
  uv_unref((uv_handle_t *)&b->async);
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
    .fd_set = uvb_fd_set,
    .fd_close = uvb_fd_close,
    .sig_start = uvb_sig_start,
    .sig_close = uvb_sig_close,
};
