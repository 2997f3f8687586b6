/* Tests of <gust/testing.h> (Tornado's AsyncTestCase): a loop per test,
 * bounded waits that report what was pending, cleanups, and the mistakes
 * found when a test ends. */
#include "config.h"

#include <gust/testing.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testing_int.h"

/* Default bound of a wait (Tornado's get_async_test_timeout()). */
#define DEFAULT_TIMEOUT 5.0

/* Teardown: loop iterations given to closes before leftovers count. */
#define TEARDOWN_SPINS 20

typedef struct cleanup {
  struct cleanup *next;
  gust_test_cleanup_fn fn;
  void *ud;
} cleanup;

typedef struct kept {
  struct kept *next;
  gust_future *f;
} kept;

struct gust_test {
  const gust_mem *mem;
  char *name;
  gust_loop *loop;
  double timeout;
  int failures;
  cleanup *cleanups; /* last registered first */
  kept *kept;        /* futures released when the test finishes */
  gust__test_http *http;
  gust_test_cert *cert;
  gust_tls_ctx *server_ctx, *client_ctx;
};

/* ------------------------------------------------------------------ */
/* Reports                                                              */
/* ------------------------------------------------------------------ */

static gust_test_report_fn reporter;
static void *reporter_ud;

void gust_test_set_reporter(gust_test_report_fn fn, void *user_data) {
  reporter = fn;
  reporter_ud = fn != NULL ? user_data : NULL;
}

static void report(const gust_test *t, const char *msg) {
  if (reporter != NULL)
    reporter(t, msg, reporter_ud);
  else
    gust_tap_diag("%s", msg);
}

void gust__test_failv(gust_test *t, const char *fmt, va_list ap) {
  gust_buf b;
  t->failures++;
  gust_buf_init(&b, t->mem);
  if (gust_buf_printf(&b, "%s: ", t->name) == 0 &&
      gust_buf_vprintf(&b, fmt, ap) == 0 && gust_buf_append_byte(&b, 0) == 0)
    report(t, (const char *)b.ptr);
  else
    report(t, "a test failed (out of memory while reporting why)");
  gust_buf_free(&b);
}

void gust_test_fail(gust_test *t, const char *fmt, ...) {
  va_list ap;
  if (t == NULL || fmt == NULL)
    return;
  va_start(ap, fmt);
  gust__test_failv(t, fmt, ap);
  va_end(ap);
}

int gust_test_failures(const gust_test *t) {
  return t != NULL ? t->failures : 0;
}

/* Fails `t` with `head`, followed by the list of what is pending on its
 * loop. */
static void fail_with_pending(gust_test *t, const char *head) {
  gust_buf list;
  int n;
  gust_buf_init(&list, t->mem);
  n = gust_test_loop_describe(t->loop, &list);
  if (n >= 0 && gust_buf_append_byte(&list, 0) == 0)
    gust_test_fail(t, "%s; still pending on the loop:%s%s", head,
                   n == 0 ? " nothing" : "\n", (const char *)list.ptr);
  else
    gust_test_fail(t, "%s", head);
  gust_buf_free(&list);
}

static void on_unobserved(gust_loop *loop, int code, const char *message,
                          void *ud) {
  GUST__UNUSED(loop);
  gust_test_fail((gust_test *)ud,
                 "a future failed with %s (%s) and was released without "
                 "anyone looking at its error (Future exception was never "
                 "retrieved)",
                 gust_errname(code), message != NULL ? message : "");
}

/* ------------------------------------------------------------------ */
/* Life cycle                                                           */
/* ------------------------------------------------------------------ */

static double env_timeout(void) {
  const char *s = getenv("GUST_ASYNC_TEST_TIMEOUT");
  char *end;
  double v;
  if (s == NULL || *s == '\0')
    return DEFAULT_TIMEOUT;
  v = strtod(s, &end);
  return *end == '\0' && v > 0 && isfinite(v) ? v : DEFAULT_TIMEOUT;
}

int gust_test_new(gust_test **out, const char *name, const gust_mem *mem) {
  gust_test *t;
  int rc;
  if (out == NULL)
    return GUST_EINVAL;
  *out = NULL;
  if (name == NULL)
    return GUST_EINVAL;
  mem = gust__mem(mem);
  t = gust__calloc(mem, 1, sizeof(*t));
  if (t == NULL)
    return GUST_ENOMEM;
  t->mem = mem;
  t->timeout = env_timeout();
  t->name = gust__strndup(mem, name, strlen(name));
  if (t->name == NULL) {
    gust__free(mem, t);
    return GUST_ENOMEM;
  }
  rc = gust_loop_new(&t->loop, mem);
  if (rc < 0) {
    gust__free(mem, t->name);
    gust__free(mem, t);
    return rc;
  }
  gust_test_loop_set_unobserved_hook(t->loop, on_unobserved, t);
  *out = t;
  return 0;
}

gust_loop *gust_test_loop(const gust_test *t) {
  return t != NULL ? t->loop : NULL;
}

const gust_mem *gust_test_mem(const gust_test *t) {
  return t != NULL ? t->mem : gust_mem_default();
}

const char *gust_test_name(const gust_test *t) {
  return t != NULL ? t->name : "";
}

void gust_test_set_timeout(gust_test *t, double seconds) {
  if (t != NULL && seconds > 0 && isfinite(seconds))
    t->timeout = seconds;
}

double gust_test_timeout(const gust_test *t) {
  return t != NULL ? t->timeout : DEFAULT_TIMEOUT;
}

gust__test_http **gust__test_http_state(gust_test *t) { return &t->http; }

int gust_test_defer(gust_test *t, gust_test_cleanup_fn fn, void *user_data) {
  cleanup *c;
  if (t == NULL || fn == NULL)
    return GUST_EINVAL;
  c = gust__malloc(t->mem, sizeof(*c));
  if (c == NULL) {
    fn(user_data);
    return GUST_ENOMEM;
  }
  c->fn = fn;
  c->ud = user_data;
  c->next = t->cleanups;
  t->cleanups = c;
  return 0;
}

int gust__test_keep(gust_test *t, gust_future *f) {
  kept *k = gust__malloc(t->mem, sizeof(*k));
  if (k == NULL) {
    gust_future_unref(f);
    return GUST_ENOMEM;
  }
  k->f = f;
  k->next = t->kept;
  t->kept = k;
  return 0;
}

/* ------------------------------------------------------------------ */
/* Bounded runs                                                         */
/* ------------------------------------------------------------------ */

typedef struct bounded {
  gust_loop_cond_fn cond;
  void *ud;
  int expired;
} bounded;

static int bounded_cond(gust_loop *loop, void *ud) {
  bounded *b = ud;
  return b->expired || b->cond(loop, b->ud);
}

static void bounded_expire(gust_loop *loop, void *ud) {
  GUST__UNUSED(loop);
  ((bounded *)ud)->expired = 1;
}

/* Runs until `cond` or the timeout; every failure is recorded. */
static int run_bounded(gust_test *t, gust_loop_cond_fn cond, void *ud,
                       const char *what, double timeout) {
  bounded b;
  gust_timer timer;
  char head[512];
  int rc;
  b.cond = cond;
  b.ud = ud;
  b.expired = 0;
  if (cond(t->loop, ud))
    return 0;
  rc = gust_loop_call_later(t->loop, timeout, bounded_expire, &b, &timer);
  if (rc < 0) {
    gust_test_fail(t, "cannot arm the timeout while waiting for %s (%s)", what,
                   gust_errname(rc));
    return rc;
  }
  rc = gust_loop_run_until(t->loop, bounded_cond, &b);
  gust_loop_cancel(t->loop, timer);
  if (rc == GUST_EBUSY) {
    gust_test_fail(t,
                   "waiting for %s from inside a callback of the test's loop "
                   "(waits do not nest: chain a future or a callback instead)",
                   what);
    return rc;
  }
  if (rc == GUST_ELOOPSTOPPED) {
    fail_with_pending(t, "the loop was stopped (gust_loop_stop()) before "
                         "the wait was over");
    return rc;
  }
  if (rc < 0) {
    gust_test_fail(t, "the loop failed while waiting for %s (%s)", what,
                   gust_errname(rc));
    return rc;
  }
  if (!cond(t->loop, ud)) {
    snprintf(head, sizeof(head), "timed out after %g s waiting for %s", timeout,
             what);
    fail_with_pending(t, head);
    return GUST_ETIMEDOUT;
  }
  return 0;
}

static int future_done_cond(gust_loop *loop, void *ud) {
  GUST__UNUSED(loop);
  return gust_future_done((gust_future *)ud);
}

int gust__test_wait_what(gust_test *t, gust_future *f, const char *what) {
  int rc;
  gust_future_ref(f);
  rc = run_bounded(t, future_done_cond, f, what, t->timeout);
  gust_future_unref(f);
  return rc;
}

int gust_test_wait(gust_test *t, gust_future *f) {
  if (t == NULL)
    return GUST_EINVAL;
  if (f == NULL) {
    gust_test_fail(t, "gust_test_wait() was given no future");
    return GUST_EINVAL;
  }
  return gust__test_wait_what(t, f, "a future");
}

int gust_test_run_until(gust_test *t, gust_loop_cond_fn cond, void *user_data,
                        const char *what) {
  if (t == NULL)
    return GUST_EINVAL;
  if (cond == NULL) {
    gust_test_fail(t, "gust_test_run_until() was given no condition");
    return GUST_EINVAL;
  }
  return run_bounded(t, cond, user_data, what != NULL ? what : "a condition",
                     t->timeout);
}

static int flag_cond(gust_loop *loop, void *ud) {
  GUST__UNUSED(loop);
  return *(int *)ud;
}

static void flag_set(gust_loop *loop, void *ud) {
  GUST__UNUSED(loop);
  *(int *)ud = 1;
}

int gust_test_run_for(gust_test *t, double seconds) {
  gust_timer timer;
  int flag = 0, rc;
  if (t == NULL)
    return GUST_EINVAL;
  rc = gust_loop_call_later(t->loop, seconds, flag_set, &flag, &timer);
  if (rc < 0) {
    gust_test_fail(t, "cannot run the loop for %g s (%s)", seconds,
                   gust_errname(rc));
    return rc;
  }
  rc = run_bounded(t, flag_cond, &flag, "the end of gust_test_run_for()",
                   (seconds > 0 ? seconds : 0) + t->timeout);
  gust_loop_cancel(t->loop, timer);
  return rc;
}

/* ------------------------------------------------------------------ */
/* Teardown                                                             */
/* ------------------------------------------------------------------ */

/* Runs one non-blocking loop iteration. */
static void spin_once(gust_test *t) {
  gust_future *m;
  if (gust_future_moment(&m, t->loop, t->mem) != 0)
    return;
  gust_future_run(m, t->timeout);
  gust_future_unref(m);
}

/* Gives closes a chance to complete: iterations while anything is
 * pending, then a short real-time wait for I/O-driven closes. */
static void settle(gust_test *t) {
  int i;
  for (i = 0; i < TEARDOWN_SPINS; i++) {
    if (gust_test_loop_pending(t->loop, NULL, NULL) == 0)
      return;
    spin_once(t);
  }
  if (gust_test_loop_pending(t->loop, NULL, NULL) != 0) {
    int flag = 0;
    gust_timer timer;
    if (gust_loop_call_later(t->loop, 0.05, flag_set, &flag, &timer) == 0) {
      gust_loop_run_until(t->loop, flag_cond, &flag);
      gust_loop_cancel(t->loop, timer);
    }
  }
}

static void release_kept(gust_test *t) {
  while (t->kept != NULL) {
    kept *k = t->kept;
    t->kept = k->next;
    gust_future_unref(k->f);
    gust__free(t->mem, k);
  }
}

int gust_test_finish(gust_test *t) {
  int failures;
  size_t pending;
  if (t == NULL)
    return 0;
  /* Tornado's gen_test: a test that scheduled work but never ran its
   * loop did not test what it meant to. */
  pending = gust_test_loop_pending(t->loop, NULL, NULL);
  if (gust_test_loop_iterations(t->loop) == 0 && pending > 0)
    fail_with_pending(t, "the test never ran its loop (call gust_test_wait() "
                         "or another waiting helper)");
  while (t->cleanups != NULL) {
    cleanup *c = t->cleanups;
    t->cleanups = c->next;
    c->fn(c->ud);
    gust__free(t->mem, c);
  }
  gust__test_http_teardown(t);
  release_kept(t);
  settle(t);
  release_kept(t); /* what callbacks run by settle() handed over */
  if (gust_test_loop_pending(t->loop, NULL, NULL) > 0)
    fail_with_pending(t, "the test ended with work left on its loop (close "
                         "what it opened, cancel its timers, run the loop "
                         "until its callbacks ran)");
  gust_loop_free(t->loop);
  gust_tls_ctx_free(t->server_ctx);
  gust_tls_ctx_free(t->client_ctx);
  gust_test_cert_free(t->cert);
  failures = t->failures;
  gust__free(t->mem, t->name);
  gust__free(t->mem, t);
  return failures;
}

/* ------------------------------------------------------------------ */
/* Certificates of a test                                               */
/* ------------------------------------------------------------------ */

int gust_test_tls(gust_test *t, const gust_test_cert **cert,
                  gust_tls_ctx **server, gust_tls_ctx **client) {
  int rc;
  if (t == NULL)
    return GUST_EINVAL;
  if (t->cert == NULL) {
    gust_test_cert *c = NULL;
    gust_tls_ctx *s = NULL, *k = NULL;
    rc = gust_test_cert_new(&c, t->mem);
    if (rc == 0)
      rc = gust_test_cert_server_ctx(c, t->mem, &s);
    if (rc == 0)
      rc = gust_test_cert_client_ctx(c, t->mem, &k);
    if (rc < 0) {
      gust_test_fail(t, "cannot make the test's throwaway certificate (%s)",
                     gust_errname(rc));
      gust_tls_ctx_free(s);
      gust_tls_ctx_free(k);
      gust_test_cert_free(c);
      return rc;
    }
    t->cert = c;
    t->server_ctx = s;
    t->client_ctx = k;
  }
  if (cert != NULL)
    *cert = t->cert;
  if (server != NULL)
    *server = t->server_ctx;
  if (client != NULL)
    *client = t->client_ctx;
  return 0;
}

/* ------------------------------------------------------------------ */
/* Cases                                                                */
/* ------------------------------------------------------------------ */

int gust_test_case(const char *name, gust_test_fn fn, void *user_data) {
  gust_test *t;
  int before, failures, rc;
  if (name == NULL || fn == NULL)
    return 0;
  if (!gust_tap_group(name))
    return -1;
  before = gust_tap_failures();
  rc = gust_test_new(&t, name, NULL);
  if (rc < 0) {
    gust__tap_case(0, name, "the test could not be created");
    gust_tap_diag("    %s: %s", gust_errname(rc), gust_strerror(rc));
    return 0;
  }
  fn(t, user_data);
  failures = gust_test_finish(t);
  if (failures > 0) {
    char why[128];
    snprintf(why, sizeof(why), "%d failure%s reported by the test harness",
             failures, failures == 1 ? "" : "s");
    gust__tap_case(0, name, why);
    return 0;
  }
  if (gust_tap_failures() != before) {
    gust__tap_case(0, name, "a check inside the test failed");
    return 0;
  }
  gust__tap_case(1, name, NULL);
  return 1;
}
