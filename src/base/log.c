/* The logging hook: per-category levels and one application handler. */
#include "config.h"

#include <gust/base.h>

#include <stdio.h>

#include "base_int.h"

static const char *const category_names[GUST_LOG_CATEGORY_COUNT_] = {
    [GUST_LOG_GENERAL] = "gust.general",
    [GUST_LOG_ACCESS] = "gust.access",
    [GUST_LOG_APPLICATION] = "gust.application",
    [GUST_LOG_GEN] = "gust.gen",
};

static void default_handler(gust_log_category category, gust_log_level level,
                            const char *msg, void *ud);

static gust_log_fn log_fn = default_handler;
static void *log_ud;
static gust_log_level log_levels[GUST_LOG_CATEGORY_COUNT_] = {
    GUST_LOG_WARNING, GUST_LOG_WARNING, GUST_LOG_WARNING, GUST_LOG_WARNING};

static char level_letter(gust_log_level level) {
  if (level >= GUST_LOG_ERROR)
    return 'E';
  if (level >= GUST_LOG_WARNING)
    return 'W';
  if (level >= GUST_LOG_INFO)
    return 'I';
  return 'D';
}

static void default_handler(gust_log_category category, gust_log_level level,
                            const char *msg, void *ud) {
  GUST__UNUSED(ud);
  fprintf(stderr, "[%c %s] %s\n", level_letter(level),
          gust_log_category_name(category), msg);
}

const char *gust_log_category_name(gust_log_category category) {
  if ((unsigned)category >= GUST_LOG_CATEGORY_COUNT_)
    return "gust";
  return category_names[category];
}

void gust_log_set_handler(gust_log_fn fn, void *user_data) {
  log_fn = fn != NULL ? fn : default_handler;
  log_ud = fn != NULL ? user_data : NULL;
}

void gust_log_set_level(gust_log_category category, gust_log_level level) {
  size_t i;
  if ((unsigned)category < GUST_LOG_CATEGORY_COUNT_) {
    log_levels[category] = level;
    return;
  }
  for (i = 0; i < GUST_LOG_CATEGORY_COUNT_; i++)
    log_levels[i] = level;
}

int gust_log_enabled(gust_log_category category, gust_log_level level) {
  if ((unsigned)category >= GUST_LOG_CATEGORY_COUNT_)
    category = GUST_LOG_GENERAL;
  return level < GUST_LOG_OFF && level >= log_levels[category];
}

void gust_vlog(gust_log_category category, gust_log_level level,
               const char *fmt, va_list ap) {
  char msg[4096 + 1]; /* 4 KiB of text and the NUL */
  if ((unsigned)category >= GUST_LOG_CATEGORY_COUNT_)
    category = GUST_LOG_GENERAL;
  if (!gust_log_enabled(category, level))
    return;
  if (vsnprintf(msg, sizeof(msg), fmt, ap) < 0)
    msg[0] = '\0';
  log_fn(category, level, msg, log_ud);
}

void gust_log(gust_log_category category, gust_log_level level, const char *fmt,
              ...) {
  va_list ap;
  va_start(ap, fmt);
  gust_vlog(category, level, fmt, ap);
  va_end(ap);
}
