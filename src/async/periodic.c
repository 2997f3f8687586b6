/* Periodic callbacks with Tornado's scheduling rules: stay on the grid of
 * the first deadline, skip missed calls, step forward one period when the
 * clock went backwards, optional jitter. */
#include "config.h"

#include <gust/crypto.h>
#include <gust/loop.h>

#include <math.h>

#include "loop_int.h"

struct gust_periodic {
  gust_loop *loop;
  double period;
  double jitter;
  double next;
  gust_loop_cb cb;
  void *ud;
  gust_random_fn random_fn;
  void *random_ud;
  gust_timer timer;
  int running;
  int in_callback;
  int freed; /* gust_periodic_free() inside the callback */
};

/* Uniform in [0, 1) from the crypto backend; 0.5 (no jitter) if it fails. */
static double default_random(void *ud) {
  uint64_t v;
  GUST__UNUSED(ud);
  if (gust_random_bytes(&v, sizeof(v)) != 0)
    return 0.5;
  return (double)(v >> 11) * (1.0 / 9007199254740992.0);
}

int gust_periodic_new(gust_periodic **out, gust_loop *loop, double period,
                      gust_loop_cb cb, void *user_data) {
  gust_periodic *pc;
  if (out != NULL)
    *out = NULL;
  if (out == NULL || loop == NULL || cb == NULL || !(period > 0) ||
      isinf(period))
    return GUST_EINVAL;
  pc = gust__calloc(loop->mem, 1, sizeof(*pc));
  if (pc == NULL)
    return GUST_ENOMEM;
  pc->loop = loop;
  pc->period = period;
  pc->cb = cb;
  pc->ud = user_data;
  pc->random_fn = default_random;
  *out = pc;
  return 0;
}

int gust_periodic_set_jitter(gust_periodic *pc, double jitter) {
  if (pc == NULL || !(jitter >= 0) || isinf(jitter))
    return GUST_EINVAL;
  pc->jitter = jitter;
  return 0;
}

void gust_periodic_set_random(gust_periodic *pc, gust_random_fn fn,
                              void *user_data) {
  if (pc == NULL)
    return;
  pc->random_fn = fn != NULL ? fn : default_random;
  pc->random_ud = fn != NULL ? user_data : NULL;
}

/* Tornado's _update_next. */
static void update_next(gust_periodic *pc, double now) {
  double period = pc->period;
  if (pc->jitter > 0)
    period *= 1 + pc->jitter * (pc->random_fn(pc->random_ud) - 0.5);
  if (pc->next <= now)
    pc->next += (floor((now - pc->next) / period) + 1) * period;
  else
    pc->next += period;
}

static void periodic_fire(gust_loop *loop, void *ud);

static int schedule_next(gust_periodic *pc) {
  update_next(pc, gust_loop_now(pc->loop));
  return gust_loop_call_at_monotonic(pc->loop, pc->next, periodic_fire, pc,
                                     &pc->timer);
}

static void periodic_fire(gust_loop *loop, void *ud) {
  gust_periodic *pc = ud;
  pc->timer = (gust_timer){NULL, 0};
  if (!pc->running)
    return;
  pc->in_callback = 1;
  pc->cb(loop, pc->ud);
  pc->in_callback = 0;
  if (pc->freed) {
    gust__free(loop->mem, pc);
    return;
  }
  if (pc->running && schedule_next(pc) < 0) {
    /* Out of memory for the timer: stop rather than fail silently later. */
    pc->running = 0;
    gust_log(GUST_LOG_GENERAL, GUST_LOG_ERROR, "periodic callback stopped: %s",
             gust_strerror(GUST_ENOMEM));
  }
}

int gust_periodic_start(gust_periodic *pc) {
  int rc;
  if (pc == NULL)
    return GUST_EINVAL;
  if (pc->running)
    return 0;
  pc->next = gust_loop_now(pc->loop);
  pc->running = 1;
  rc = schedule_next(pc);
  if (rc < 0)
    pc->running = 0;
  return rc;
}

void gust_periodic_stop(gust_periodic *pc) {
  if (pc == NULL)
    return;
  pc->running = 0;
  gust_loop_cancel(pc->loop, pc->timer);
  pc->timer = (gust_timer){NULL, 0};
}

int gust_periodic_is_running(const gust_periodic *pc) {
  return pc != NULL && pc->running;
}

double gust_periodic_next_time(const gust_periodic *pc) {
  return pc != NULL ? pc->next : 0;
}

void gust_periodic_free(gust_periodic *pc) {
  if (pc == NULL)
    return;
  gust_periodic_stop(pc);
  if (pc->in_callback)
    pc->freed = 1;
  else
    gust__free(pc->loop->mem, pc);
}
