/* Futures and their combinators on the gust loop. */
#include "config.h"

#include <gust/future.h>

#include <stddef.h>
#include <string.h>

#include "../base/base_int.h"
#include "future_int.h"
#include "loop_int.h"

enum { PENDING = 0, RESULT = 1, ERROR = 2 };

typedef struct cbnode {
  struct cbnode *next;
  gust_future_cb cb;
  void *ud;
  gust__future_drop_fn drop;
} cbnode;

struct gust_future {
  gust_loop *loop;
  const gust_mem *mem;
  unsigned long refs;
  int state;
  int code;
  char *msg;
  void *value;
  gust_free_fn dtor;
  gust_future *keep; /* the future whose result this one shares */
  cbnode *cbs, **cbs_tail;
  cbnode *inl, **inl_tail;
  int scheduled;
  /* The error was read (gust_future_error*()) or passed on to another
   * future: releasing the future unread is reported to the loop's
   * unobserved hook (<gust/testing.h>). */
  int observed;
};

/* ------------------------------------------------------------------ */
/* Timeouts                                                             */
/* ------------------------------------------------------------------ */

gust_timeout gust_timeout_none(void) {
  gust_timeout t = {0, 0.0};
  return t;
}

gust_timeout gust_timeout_in(double seconds) {
  gust_timeout t = {1, seconds};
  return t;
}

gust_timeout gust_timeout_at(double deadline) {
  gust_timeout t = {2, deadline};
  return t;
}

int gust__timeout_is_set(gust_timeout t) {
  return t.kind_ == 1 || t.kind_ == 2;
}

int gust__timeout_schedule(gust_loop *loop, gust_timeout t, gust_loop_cb cb,
                           void *user_data, gust_timer *handle) {
  memset(handle, 0, sizeof(*handle));
  if (t.kind_ == 1)
    return gust_loop_call_later(loop, t.value_, cb, user_data, handle);
  if (t.kind_ == 2)
    return gust_loop_call_at_monotonic(loop, t.value_, cb, user_data, handle);
  return 0;
}

/* ------------------------------------------------------------------ */
/* Core                                                                 */
/* ------------------------------------------------------------------ */

int gust_future_new(gust_future **out, gust_loop *loop, const gust_mem *mem) {
  gust_future *f;
  if (out == NULL || loop == NULL)
    return GUST_EINVAL;
  mem = gust__mem(mem);
  f = gust__calloc(mem, 1, sizeof(*f));
  if (f == NULL)
    return GUST_ENOMEM;
  f->loop = loop;
  f->mem = mem;
  f->refs = 1;
  f->cbs_tail = &f->cbs;
  f->inl_tail = &f->inl;
  *out = f;
  return 0;
}

gust_future *gust_future_ref(gust_future *f) {
  f->refs++;
  return f;
}

void gust_future_unref(gust_future *f) {
  cbnode *n, *next;
  if (f == NULL || --f->refs != 0)
    return;
  for (n = f->inl; n != NULL; n = next) {
    next = n->next;
    if (n->drop != NULL)
      n->drop(n->ud);
    gust__free(f->mem, n);
  }
  /* Public callbacks cannot be pending here: a scheduled dispatch holds a
   * reference. Callbacks on a never-completed future are dropped. */
  for (n = f->cbs; n != NULL; n = next) {
    next = n->next;
    gust__free(f->mem, n);
  }
  if (f->state == ERROR && !f->observed && f->code != GUST_ECANCELLED)
    gust__loop_unobserved(f->loop, f->code,
                          f->msg != NULL ? f->msg : gust_strerror(f->code));
  if (f->state != PENDING && f->dtor != NULL)
    f->dtor(f->value); /* a result, or an error's attached value */
  gust__free(f->mem, f->msg);
  gust_future_unref(f->keep);
  gust__free(f->mem, f);
}

gust_loop *gust_future_loop(const gust_future *f) { return f->loop; }

const gust_mem *gust__future_mem(const gust_future *f) { return f->mem; }

static void dispatch(gust_loop *loop, void *ud) {
  gust_future *f = ud;
  cbnode *n, *next;
  GUST__UNUSED(loop);
  f->scheduled = 0;
  n = f->cbs;
  f->cbs = NULL;
  f->cbs_tail = &f->cbs;
  for (; n != NULL; n = next) {
    next = n->next;
    n->cb(f, n->ud);
    gust__free(f->mem, n);
  }
  gust_future_unref(f);
}

static int schedule(gust_future *f) {
  int rc;
  if (f->scheduled || f->cbs == NULL)
    return 0;
  rc = gust_loop_call_soon(f->loop, dispatch, f);
  if (rc < 0)
    return rc;
  f->scheduled = 1;
  gust_future_ref(f);
  return 0;
}

/* Runs the internal hooks after the state was set. */
static void completed(gust_future *f) {
  cbnode *n, *next;
  gust_future_ref(f);
  while (f->inl != NULL) {
    n = f->inl;
    f->inl = NULL;
    f->inl_tail = &f->inl;
    for (; n != NULL; n = next) {
      next = n->next;
      ((gust__future_fn)n->cb)(f, n->ud);
      gust__free(f->mem, n);
    }
  }
  gust_future_unref(f);
}

int gust_future_set_result(gust_future *f, void *value, gust_free_fn dtor) {
  int rc;
  if (f->state != PENDING)
    return GUST_ESTATE;
  rc = schedule(f);
  if (rc < 0)
    return rc;
  f->state = RESULT;
  f->value = value;
  f->dtor = dtor;
  completed(f);
  return 0;
}

int gust_future_set_result_unless_cancelled(gust_future *f, void *value,
                                            gust_free_fn dtor, int *taken) {
  int rc = 0;
  if (taken != NULL)
    *taken = 0;
  if (gust_future_cancelled(f))
    return 0;
  rc = gust_future_set_result(f, value, dtor);
  if (rc == 0 && taken != NULL)
    *taken = 1;
  return rc;
}

int gust_future_set_error(gust_future *f, int code, const char *msg) {
  char *copy = NULL;
  int rc;
  if (code >= 0)
    return GUST_EINVAL;
  if (f->state != PENDING)
    return GUST_ESTATE;
  if (msg != NULL) {
    copy = gust__strndup(f->mem, msg, strlen(msg));
    if (copy == NULL)
      return GUST_ENOMEM;
  }
  rc = schedule(f);
  if (rc < 0) {
    gust__free(f->mem, copy);
    return rc;
  }
  f->state = ERROR;
  f->code = code;
  f->msg = copy;
  completed(f);
  return 0;
}

int gust_future_cancel(gust_future *f) {
  int rc;
  if (f->state != PENDING)
    return 0;
  rc = gust_future_set_error(f, GUST_ECANCELLED, NULL);
  return rc < 0 ? rc : 1;
}

int gust_future_done(const gust_future *f) { return f->state != PENDING; }

int gust_future_cancelled(const gust_future *f) {
  return f->state == ERROR && f->code == GUST_ECANCELLED;
}

/* Reading an error observes it. The future is never a const object (it
 * is always allocated here), so the flag may be set through `f`. */
static void observe(const gust_future *f) {
  if (f->state == ERROR)
    ((gust_future *)(uintptr_t)f)->observed = 1;
}

int gust_future_error(const gust_future *f) {
  observe(f);
  return f->state == ERROR ? f->code : 0;
}

const char *gust_future_error_message(const gust_future *f) {
  observe(f);
  if (f->state != ERROR)
    return NULL;
  return f->msg != NULL ? f->msg : gust_strerror(f->code);
}

void *gust_future_result(const gust_future *f) {
  return f->state == RESULT ? f->value : NULL;
}

int gust__future_set_error_value(gust_future *f, int code, const char *msg,
                                 void *value, gust_free_fn dtor) {
  int rc = gust_future_set_error(f, code, msg);
  if (rc == 0) {
    f->value = value;
    f->dtor = dtor;
  }
  return rc;
}

void *gust__future_value(const gust_future *f) {
  return f->state != PENDING ? f->value : NULL;
}

int gust_future_add_done_callback(gust_future *f, gust_future_cb cb,
                                  void *user_data) {
  cbnode *n;
  int rc;
  if (cb == NULL)
    return GUST_EINVAL;
  n = gust__calloc(f->mem, 1, sizeof(*n));
  if (n == NULL)
    return GUST_ENOMEM;
  n->cb = cb;
  n->ud = user_data;
  *f->cbs_tail = n;
  f->cbs_tail = &n->next;
  if (f->state != PENDING) {
    rc = schedule(f);
    if (rc < 0) {
      /* Only this node can be unscheduled: take it back off the tail. */
      cbnode **pp = &f->cbs;
      while (*pp != n)
        pp = &(*pp)->next;
      *pp = NULL;
      f->cbs_tail = pp;
      gust__free(f->mem, n);
      return rc;
    }
  }
  return 0;
}

int gust__future_on_done(gust_future *f, gust__future_fn fn, void *user_data,
                         gust__future_drop_fn drop) {
  cbnode *n;
  if (f->state != PENDING) {
    fn(f, user_data);
    return 0;
  }
  n = gust__calloc(f->mem, 1, sizeof(*n));
  if (n == NULL)
    return GUST_ENOMEM;
  n->cb = (gust_future_cb)fn;
  n->ud = user_data;
  n->drop = drop;
  *f->inl_tail = n;
  f->inl_tail = &n->next;
  return 0;
}

void gust__future_off_done(gust_future *f, gust__future_fn fn,
                           void *user_data) {
  cbnode **pp;
  for (pp = &f->inl; *pp != NULL; pp = &(*pp)->next) {
    cbnode *n = *pp;
    if ((gust__future_fn)n->cb == fn && n->ud == user_data) {
      *pp = n->next;
      if (f->inl_tail == &n->next)
        f->inl_tail = pp;
      gust__free(f->mem, n);
      return;
    }
  }
}

int gust__future_copy(gust_future *src, gust_future *dst) {
  int rc;
  observe(src); /* the error moves on to dst */
  if (dst->state != PENDING)
    return 0;
  if (src->state == ERROR)
    return gust_future_set_error(dst, src->code, src->msg);
  rc = gust_future_set_result(dst, src->value, NULL);
  if (rc == 0 && src != dst && dst->keep == NULL)
    dst->keep = gust_future_ref(src);
  return rc;
}

static void chain_done(gust_future *a, void *ud) {
  gust_future *b = ud;
  gust__future_copy(a, b);
  gust_future_unref(b);
}

static void chain_drop(void *ud) { gust_future_unref((gust_future *)ud); }

int gust_future_chain(gust_future *a, gust_future *b) {
  int rc;
  if (a == NULL || b == NULL || a == b)
    return GUST_EINVAL;
  gust_future_ref(b);
  rc = gust__future_on_done(a, chain_done, b, chain_drop);
  if (rc < 0)
    gust_future_unref(b);
  return rc;
}

/* ------------------------------------------------------------------ */
/* Running the loop until a future is done                              */
/* ------------------------------------------------------------------ */

typedef struct run_state {
  gust_future *f;
  int timed_out;
} run_state;

static int run_cond(gust_loop *loop, void *ud) {
  run_state *rs = ud;
  GUST__UNUSED(loop);
  return rs->timed_out || rs->f->state != PENDING;
}

static void run_timeout(gust_loop *loop, void *ud) {
  GUST__UNUSED(loop);
  ((run_state *)ud)->timed_out = 1;
}

int gust_future_run(gust_future *f, double timeout) {
  run_state rs;
  gust_timer t;
  int rc;
  rs.f = f;
  rs.timed_out = 0;
  memset(&t, 0, sizeof(t));
  if (timeout > 0) {
    rc = gust_loop_call_later(f->loop, timeout, run_timeout, &rs, &t);
    if (rc < 0)
      return rc;
  }
  gust_future_ref(f);
  rc = gust_loop_run_until(f->loop, run_cond, &rs);
  gust_loop_cancel(f->loop, t);
  if (rc == 0 && f->state == PENDING && rs.timed_out) {
    gust_log(GUST_LOG_GEN, GUST_LOG_DEBUG,
             "Operation timed out after %g seconds", timeout);
    rc = GUST_ETIMEDOUT;
  } else if (rc == GUST_ELOOPSTOPPED) {
    gust_log(GUST_LOG_GEN, GUST_LOG_DEBUG,
             "Event loop stopped before Future completed.");
  }
  gust_future_unref(f);
  return rc;
}

/* ------------------------------------------------------------------ */
/* multi                                                                */
/* ------------------------------------------------------------------ */

typedef struct mitem {
  struct multi *m;
  int registered;
} mitem;

/* The multi state. It does not hold the output future: if the output is
 * freed or completed by someone else, the state detaches from its inputs
 * at once, so a never-completing input cannot keep it alive. */
typedef struct multi {
  const gust_mem *mem;
  gust_future *out;
  gust_future **kids;
  mitem *items;
  void **values;
  size_t n, pending;
  int *quiet;
  size_t n_quiet;
  gust_multi_result res;
} multi;

static int is_quiet(const int *quiet, size_t n_quiet, int code) {
  size_t i;
  for (i = 0; i < n_quiet; i++)
    if (quiet[i] == code)
      return 1;
  return 0;
}

static void multi_kid_done(gust_future *k, void *ud);

static void multi_free(void *value) {
  multi *m = GUST__CONTAINER(value, multi, res);
  size_t i;
  for (i = 0; i < m->n; i++) {
    if (m->items[i].registered)
      gust__future_off_done(m->kids[i], multi_kid_done, &m->items[i]);
    gust_future_unref(m->kids[i]);
  }
  gust__free(m->mem, m->kids);
  gust__free(m->mem, m->items);
  gust__free(m->mem, m->values);
  gust__free(m->mem, m->quiet);
  gust__free(m->mem, m);
}

static void multi_out_done(gust_future *out, void *ud) {
  multi *m = ud;
  GUST__UNUSED(out);
  m->out = NULL;
  multi_free(&m->res);
}

static void multi_out_drop(void *ud) {
  multi *m = ud;
  m->out = NULL;
  multi_free(&m->res);
}

static void multi_finish(multi *m) {
  gust_future *first = NULL, *out = m->out;
  size_t i;
  for (i = 0; i < m->n; i++) {
    gust_future *k = m->kids[i];
    if (k->state != ERROR)
      continue;
    observe(k); /* Tornado reads every child's result */
    if (first == NULL)
      first = k;
    else if (k != first && !is_quiet(m->quiet, m->n_quiet, k->code))
      gust_log(GUST_LOG_GEN, GUST_LOG_ERROR,
               "Multiple exceptions in yield list: %s (%s)",
               gust_future_error_message(k), gust_errname(k->code));
  }
  gust__future_off_done(out, multi_out_done, m);
  m->out = NULL;
  if (first != NULL) {
    if (gust__future_copy(first, out) < 0)
      gust_log(GUST_LOG_GEN, GUST_LOG_ERROR, "multi: cannot complete future");
    multi_free(&m->res);
    return;
  }
  for (i = 0; i < m->n; i++)
    m->values[i] = m->kids[i]->value;
  m->res.n = m->n;
  m->res.values = m->values;
  if (gust_future_set_result(out, &m->res, multi_free) < 0) {
    gust_log(GUST_LOG_GEN, GUST_LOG_ERROR, "multi: cannot complete future");
    multi_free(&m->res);
  }
}

static void multi_kid_done(gust_future *k, void *ud) {
  mitem *it = ud;
  multi *m = it->m;
  GUST__UNUSED(k);
  it->registered = 0;
  if (--m->pending == 0)
    multi_finish(m);
}

int gust_future_multi(gust_future **out, gust_loop *loop,
                      gust_future *const *futures, size_t n, const int *quiet,
                      size_t n_quiet, const gust_mem *mem) {
  multi *m;
  gust_future *f;
  size_t i;
  int rc;
  if (out == NULL || loop == NULL || (n != 0 && futures == NULL) ||
      (n_quiet != 0 && quiet == NULL))
    return GUST_EINVAL;
  for (i = 0; i < n; i++)
    if (futures[i] == NULL)
      return GUST_EINVAL;
  mem = gust__mem(mem);
  rc = gust_future_new(&f, loop, mem);
  if (rc < 0)
    return rc;
  m = gust__calloc(mem, 1, sizeof(*m));
  if (m == NULL)
    goto nomem;
  m->mem = mem;
  m->kids = gust__calloc(mem, n, sizeof(*m->kids));
  m->items = gust__calloc(mem, n, sizeof(*m->items));
  m->values = gust__calloc(mem, n, sizeof(*m->values));
  m->quiet = gust__calloc(mem, n_quiet, sizeof(*m->quiet));
  if (m->kids == NULL || m->items == NULL || m->values == NULL ||
      m->quiet == NULL) {
    multi_free(&m->res);
    goto nomem;
  }
  if (n_quiet != 0)
    memcpy(m->quiet, quiet, n_quiet * sizeof(*quiet));
  m->n_quiet = n_quiet;
  m->out = f;
  if (gust__future_on_done(f, multi_out_done, m, multi_out_drop) < 0) {
    multi_free(&m->res);
    goto nomem;
  }
  m->pending = n + 1;
  for (i = 0; i < n; i++) {
    m->kids[i] = gust_future_ref(futures[i]);
    m->n = i + 1;
    m->items[i].m = m;
    if (futures[i]->state != PENDING) {
      m->pending--;
      continue;
    }
    m->items[i].registered = 1;
    if (gust__future_on_done(futures[i], multi_kid_done, &m->items[i], NULL) <
        0) {
      m->items[i].registered = 0;
      gust_future_unref(f); /* the drop hook frees the state */
      return GUST_ENOMEM;
    }
  }
  m->pending--;
  if (m->pending == 0)
    multi_finish(m);
  *out = f;
  return 0;
nomem:
  gust_future_unref(f);
  return GUST_ENOMEM;
}

/* ------------------------------------------------------------------ */
/* with_timeout                                                         */
/* ------------------------------------------------------------------ */

typedef struct wtimeout {
  const gust_mem *mem;
  gust_future *out; /* held until the timeout or the inner outcome */
  gust_future *inner;
  gust_timer timer;
  int timed_out;
  int *quiet;
  size_t n_quiet;
} wtimeout;

static void wt_free(wtimeout *w) {
  gust__free(w->mem, w->quiet);
  gust__free(w->mem, w);
}

static void wt_inner_done(gust_future *inner, void *ud) {
  wtimeout *w = ud;
  observe(inner); /* passed on, or logged below */
  if (w->timed_out) {
    if (inner->state == ERROR && inner->code != GUST_ECANCELLED &&
        !is_quiet(w->quiet, w->n_quiet, inner->code))
      gust_log(GUST_LOG_GEN, GUST_LOG_ERROR,
               "Exception in Future %p after timeout: %s", (void *)inner,
               gust_future_error_message(inner));
  } else {
    gust_loop_cancel(inner->loop, w->timer);
    gust__future_copy(inner, w->out);
    gust_future_unref(w->out);
    gust_future_unref(w->inner);
  }
  wt_free(w);
}

static void wt_drop(void *ud) {
  wtimeout *w = ud;
  /* The inner future went away pending: only possible after the timeout,
   * since before it the output holds a reference to it. */
  wt_free(w);
}

static void wt_timeout(gust_loop *loop, void *ud) {
  wtimeout *w = ud;
  GUST__UNUSED(loop);
  w->timed_out = 1;
  gust_future_set_error(w->out, GUST_ETIMEDOUT, "Timeout");
  gust_future_unref(w->out);
  w->out = NULL;
  gust_future_unref(w->inner);
}

int gust_future_with_timeout(gust_future **out, gust_timeout timeout,
                             gust_future *inner, const int *quiet,
                             size_t n_quiet) {
  wtimeout *w;
  gust_future *f;
  int rc;
  if (out == NULL || inner == NULL || (n_quiet != 0 && quiet == NULL))
    return GUST_EINVAL;
  rc = gust_future_new(&f, inner->loop, inner->mem);
  if (rc < 0)
    return rc;
  if (inner->state != PENDING || !gust__timeout_is_set(timeout)) {
    if (inner->state != PENDING)
      rc = gust__future_copy(inner, f);
    else
      rc = gust_future_chain(inner, f);
    if (rc < 0) {
      gust_future_unref(f);
      return rc;
    }
    *out = f;
    return 0;
  }
  w = gust__calloc(inner->mem, 1, sizeof(*w));
  if (w == NULL)
    goto nomem;
  w->mem = inner->mem;
  w->quiet = gust__calloc(w->mem, n_quiet, sizeof(int));
  if (w->quiet == NULL) {
    gust__free(w->mem, w);
    goto nomem;
  }
  if (n_quiet != 0)
    memcpy(w->quiet, quiet, n_quiet * sizeof(int));
  w->n_quiet = n_quiet;
  w->out = f;
  w->inner = inner;
  if (gust__timeout_schedule(inner->loop, timeout, wt_timeout, w, &w->timer) <
      0) {
    wt_free(w);
    goto nomem;
  }
  if (gust__future_on_done(inner, wt_inner_done, w, wt_drop) < 0) {
    gust_loop_cancel(inner->loop, w->timer);
    wt_free(w);
    goto nomem;
  }
  /* Until the timeout the helper keeps the inner future alive. */
  gust_future_ref(inner);
  gust_future_ref(f);
  *out = f;
  return 0;
nomem:
  gust_future_unref(f);
  return GUST_ENOMEM;
}

/* ------------------------------------------------------------------ */
/* sleep and moment                                                     */
/* ------------------------------------------------------------------ */

static void resolve_null(gust_loop *loop, void *ud) {
  gust_future *f = ud;
  GUST__UNUSED(loop);
  if (f->state == PENDING && gust_future_set_result(f, NULL, NULL) < 0)
    gust_log(GUST_LOG_GEN, GUST_LOG_ERROR, "cannot complete future");
  gust_future_unref(f);
}

int gust_future_sleep(gust_future **out, gust_loop *loop, double seconds,
                      const gust_mem *mem) {
  gust_future *f;
  int rc;
  if (out == NULL || loop == NULL || seconds != seconds)
    return GUST_EINVAL;
  rc = gust_future_new(&f, loop, mem);
  if (rc < 0)
    return rc;
  rc = gust_loop_call_later(loop, seconds, resolve_null, f, NULL);
  if (rc < 0) {
    gust_future_unref(f);
    return rc;
  }
  gust_future_ref(f);
  *out = f;
  return 0;
}

int gust_future_moment(gust_future **out, gust_loop *loop,
                       const gust_mem *mem) {
  gust_future *f;
  int rc;
  if (out == NULL || loop == NULL)
    return GUST_EINVAL;
  rc = gust_future_new(&f, loop, mem);
  if (rc < 0)
    return rc;
  rc = gust_loop_call_soon(loop, resolve_null, f);
  if (rc < 0) {
    gust_future_unref(f);
    return rc;
  }
  gust_future_ref(f);
  *out = f;
  return 0;
}

/* ------------------------------------------------------------------ */
/* Wait iterator                                                        */
/* ------------------------------------------------------------------ */

typedef struct witem {
  gust_wait_iterator *it;
  size_t idx;
  int registered;
} witem;

struct gust_wait_iterator {
  gust_loop *loop;
  const gust_mem *mem;
  size_t n;
  gust_future **kids;
  witem *items;
  size_t *finished; /* indexes in completion order */
  size_t fin_head, fin_tail;
  size_t handed;
  gust_future *running;
  long cur_index;
  gust_future *cur_future;
  int freed;
};

static void wi_kid_done(gust_future *k, void *ud);

static void wi_destroy(gust_wait_iterator *it) {
  size_t i;
  for (i = 0; i < it->n; i++) {
    if (it->items[i].registered)
      gust__future_off_done(it->kids[i], wi_kid_done, &it->items[i]);
    gust_future_unref(it->kids[i]);
  }
  gust__free(it->mem, it->kids);
  gust__free(it->mem, it->items);
  gust__free(it->mem, it->finished);
  gust__free(it->mem, it);
}

static void wi_running_done(gust_future *r, void *ud) {
  /* The handed-out future was completed by its holder (e.g. cancelled). */
  gust_wait_iterator *it = ud;
  GUST__UNUSED(r);
  it->running = NULL;
  if (it->freed)
    wi_destroy(it);
}

static void wi_running_drop(void *ud) { wi_running_done(NULL, ud); }

static void wi_deliver(gust_wait_iterator *it) {
  gust_future *r = it->running;
  size_t idx = it->finished[it->fin_head++];
  gust__future_off_done(r, wi_running_done, it);
  it->running = NULL;
  it->cur_index = (long)idx;
  it->cur_future = it->kids[idx];
  gust_future_ref(r);
  if (gust__future_copy(it->kids[idx], r) < 0)
    gust_log(GUST_LOG_GEN, GUST_LOG_ERROR, "wait iterator: cannot complete");
  gust_future_unref(r);
  if (it->freed)
    wi_destroy(it);
}

static void wi_kid_done(gust_future *k, void *ud) {
  witem *w = ud;
  gust_wait_iterator *it = w->it;
  GUST__UNUSED(k);
  w->registered = 0;
  it->finished[it->fin_tail++] = w->idx;
  if (it->running != NULL)
    wi_deliver(it);
}

int gust_wait_iterator_new(gust_wait_iterator **out, gust_loop *loop,
                           gust_future *const *futures, size_t n,
                           const gust_mem *mem) {
  gust_wait_iterator *it;
  size_t i;
  if (out == NULL || loop == NULL || (n != 0 && futures == NULL))
    return GUST_EINVAL;
  for (i = 0; i < n; i++)
    if (futures[i] == NULL)
      return GUST_EINVAL;
  mem = gust__mem(mem);
  it = gust__calloc(mem, 1, sizeof(*it));
  if (it == NULL)
    return GUST_ENOMEM;
  it->loop = loop;
  it->mem = mem;
  it->cur_index = -1;
  it->kids = gust__calloc(mem, n, sizeof(*it->kids));
  it->items = gust__calloc(mem, n, sizeof(*it->items));
  it->finished = gust__calloc(mem, n, sizeof(*it->finished));
  if (it->kids == NULL || it->items == NULL || it->finished == NULL) {
    wi_destroy(it);
    return GUST_ENOMEM;
  }
  for (i = 0; i < n; i++) {
    it->kids[i] = gust_future_ref(futures[i]);
    it->n = i + 1;
    it->items[i].it = it;
    it->items[i].idx = i;
    it->items[i].registered = 1;
    if (gust__future_on_done(futures[i], wi_kid_done, &it->items[i], NULL) <
        0) {
      it->items[i].registered = 0;
      wi_destroy(it);
      return GUST_ENOMEM;
    }
  }
  *out = it;
  return 0;
}

int gust_wait_iterator_done(gust_wait_iterator *it) {
  if (it->handed < it->n || it->running != NULL)
    return 0;
  it->cur_index = -1;
  it->cur_future = NULL;
  return 1;
}

int gust_wait_iterator_next(gust_wait_iterator *it, gust_future **out) {
  gust_future *r;
  int rc;
  if (out == NULL)
    return GUST_EINVAL;
  if (it->handed >= it->n || it->running != NULL)
    return GUST_ESTATE;
  rc = gust_future_new(&r, it->loop, it->mem);
  if (rc < 0)
    return rc;
  rc = gust__future_on_done(r, wi_running_done, it, wi_running_drop);
  if (rc < 0) {
    gust_future_unref(r);
    return rc;
  }
  it->handed++;
  it->running = r;
  if (it->fin_head < it->fin_tail)
    wi_deliver(it);
  *out = r;
  return 0;
}

long gust_wait_iterator_current_index(const gust_wait_iterator *it) {
  return it->cur_index;
}

gust_future *gust_wait_iterator_current_future(const gust_wait_iterator *it) {
  return it->cur_future;
}

void gust_wait_iterator_free(gust_wait_iterator *it) {
  if (it == NULL)
    return;
  if (it->running != NULL) {
    it->freed = 1;
    return;
  }
  wi_destroy(it);
}
