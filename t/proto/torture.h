/* Allocation-failure torture for the Sans-IO objects: runs an exchange
 * once to count its allocations, then again with each allocation failing
 * in turn (once, then from that one on), until a run sees no failure and
 * completes. Every failed run must end with GUST_ENOMEM (or recover and
 * still produce the right result), free everything, and never crash. */
#ifndef GUST_T_TORTURE_H
#define GUST_T_TORTURE_H

#include "../tap.h"

#include <gust/base.h>

/* An exchange: returns 0 once it completed with the right result,
 * GUST_EINTERNAL on a wrong result, or the first error it met. Everything
 * it allocates comes from `mem` and is freed before it returns. */
typedef int (*torture_fn)(const gust_mem *mem, void *ud);

/* Far more than any exchange here allocates: reaching it is a failure. */
#define TORTURE_MAX 100000ul

static void torture(const char *name, torture_fn fn, void *ud) {
  static const char *const modes[] = {"one failure", "all failures from one"};
  gust_failmem fm;
  unsigned long at;
  int rc, mode;
  gust_failmem_init(&fm, NULL);
  rc = fn(&fm.mem, ud);
  is_int(rc, 0, "%s: the exchange completes", name);
  ok(fm.count > 0, "%s: the exchange allocates (%lu times)", name, fm.count);
  is_int(fm.live_blocks, 0, "%s: nothing left allocated", name);
  for (mode = 0; mode < 2; mode++) {
    int bad = 0, leaks = 0, absorbed = 0, completed = 0;
    unsigned long runs = 0;
    for (at = 1; at <= TORTURE_MAX; at++) {
      size_t before = fm.live_blocks;
      gust_failmem_reset(&fm, at);
      fm.fail_after = mode;
      rc = fn(&fm.mem, ud);
      if (fm.live_blocks != before) {
        if (leaks++ < 3)
          diag("%s: failing allocation %lu (%s) leaked %zu blocks", name, at,
               modes[mode], fm.live_blocks - before);
      }
      if (fm.failures == 0) {
        completed = rc == 0;
        if (!completed)
          diag("%s: the run without a failure gave %s", name, gust_errname(rc));
        break;
      }
      runs++;
      if (rc == 0) {
        absorbed++;
      } else if (rc != GUST_ENOMEM) {
        if (bad++ < 3)
          diag("%s: failing allocation %lu (%s) gave %s", name, at, modes[mode],
               gust_errname(rc));
      }
    }
    ok(completed, "%s: %s: completes once allocation %lu is past the end", name,
       modes[mode], at);
    ok(runs > 0, "%s: %s: %lu runs with an injected failure (%d recovered)",
       name, modes[mode], runs, absorbed);
    is_int(bad, 0, "%s: %s: every failure ends in GUST_ENOMEM or recovers",
           name, modes[mode]);
    is_int(leaks, 0, "%s: %s: nothing leaked", name, modes[mode]);
  }
}

#endif
