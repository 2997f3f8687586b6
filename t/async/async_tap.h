/* Helpers shared by the future, locks, queues and executor tests: one
 * fresh loop per ported test, named TAP cases, log capture. */
#ifndef GUST_T_ASYNC_TAP_H
#define GUST_T_ASYNC_TAP_H

#include <gust/future.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../tap.h"

/* Tornado's sleeps (10-30 ms) scaled by this factor: time-based waits are
 * kept short but every bound that could fail on a loaded machine is
 * generous. */
#define TF 1.0

static gust_loop *L;
static int T_ok;
static int T_logged;        /* log records captured */
static char T_lastlog[512]; /* the last one */

#define CHECK(c)                                                               \
  do {                                                                         \
    if (!(c)) {                                                                \
      T_ok = 0;                                                                \
      diag("%s:%d: check failed: %s", __FILE__, __LINE__, #c);                 \
    }                                                                          \
  } while (0)

static void t_log(gust_log_category c, gust_log_level lv, const char *msg,
                  void *ud) {
  (void)c;
  (void)lv;
  (void)ud;
  T_logged++;
  snprintf(T_lastlog, sizeof(T_lastlog), "%s", msg);
}

/* Runs the loop until `f` is done, with a generous watchdog. */
static inline int t_wait(gust_future *f) {
  int rc = gust_future_run(f, 30.0);
  if (rc != 0 || !gust_future_done(f)) {
    T_ok = 0;
    diag("future not done (%s)", gust_errname(rc));
    return -1;
  }
  return 0;
}

/* Lets every already-scheduled callback and its follow-ups run. */
static inline void t_spin(int iterations) {
  int i;
  for (i = 0; i < iterations; i++) {
    gust_future *m;
    if (gust_future_moment(&m, L, NULL) == 0) {
      gust_future_run(m, 30.0);
      gust_future_unref(m);
    }
  }
}

static void t_run(const char *name, void (*fn)(void)) {
  if (!tap_group(name))
    return;
  if (gust_loop_new(&L, NULL) != 0)
    bail_out("cannot create a loop");
  T_ok = 1;
  T_logged = 0;
  T_lastlog[0] = '\0';
  gust_log_set_handler(t_log, NULL);
  gust_log_set_level(GUST_LOG_CATEGORY_COUNT_, GUST_LOG_WARNING);
  fn();
  t_spin(3);
  gust_log_set_handler(NULL, NULL);
  gust_loop_free(L);
  L = NULL;
  ok(T_ok, "%s", name);
}

/* A pending future on L. */
static inline gust_future *t_future(void) {
  gust_future *f;
  if (gust_future_new(&f, L, NULL) != 0)
    bail_out("out of memory");
  return f;
}

/* A future on L already resolved with the integer `v`. */
static inline gust_future *t_resolved(long v) {
  gust_future *f = t_future();
  gust_future_set_result(f, (void *)(intptr_t)v, NULL);
  return f;
}

#define IV(p) ((long)(intptr_t)(p))

#endif /* GUST_T_ASYNC_TAP_H */
