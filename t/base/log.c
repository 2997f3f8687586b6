/* Tests of the logging hook: levels per category, the handler, message
 * length limits and the default handler's stderr format. */
#include <gust/base.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../tap.h"

#define ALL_CATEGORIES ((gust_log_category)99) /* out of range: all */

/* What the capturing handler saw. */
typedef struct capture {
  int calls;
  gust_log_category category;
  gust_log_level level;
  void *user_data;
  char msg[8192];
  size_t msg_len;
} capture;

static capture cap;

static void capture_handler(gust_log_category category, gust_log_level level,
                            const char *msg, void *user_data) {
  cap.calls++;
  cap.category = category;
  cap.level = level;
  cap.user_data = user_data;
  cap.msg_len = strlen(msg);
  if (cap.msg_len < sizeof(cap.msg))
    memcpy(cap.msg, msg, cap.msg_len + 1);
  else
    cap.msg[0] = '\0';
}

static void reset_log(void) {
  gust_log_set_handler(NULL, NULL);
  gust_log_set_level(ALL_CATEGORIES, GUST_LOG_WARNING);
  memset(&cap, 0, sizeof(cap));
}

static void vlog_wrap(gust_log_category c, gust_log_level l, const char *fmt,
                      ...) GUST_PRINTF(3, 4);
static void vlog_wrap(gust_log_category c, gust_log_level l, const char *fmt,
                      ...) {
  va_list ap;
  va_start(ap, fmt);
  gust_vlog(c, l, fmt, ap);
  va_end(ap);
}

/* Redirects fd 2 to a temporary file until stderr_end(), which returns
 * what was written (a static buffer). */
static int saved_fd = -1;
static FILE *tmp;

static int stderr_begin(void) {
  fflush(stderr);
  tmp = tmpfile();
  if (tmp == NULL)
    return 0;
  saved_fd = dup(2);
  if (saved_fd < 0 || dup2(fileno(tmp), 2) < 0) {
    fclose(tmp);
    return 0;
  }
  return 1;
}

static const char *stderr_end(void) {
  static char text[16384];
  size_t n;
  fflush(stderr);
  dup2(saved_fd, 2);
  close(saved_fd);
  rewind(tmp);
  n = fread(text, 1, sizeof(text) - 1, tmp);
  text[n] = '\0';
  fclose(tmp);
  return text;
}

static const gust_log_category cats[4] = {GUST_LOG_GENERAL, GUST_LOG_ACCESS,
                                          GUST_LOG_APPLICATION, GUST_LOG_GEN};

int main(void) {
  int udata = 7, udata2 = 8;
  size_t i;

  if (tap_group("log: category names")) {
    is_str(gust_log_category_name(GUST_LOG_GENERAL), "gust.general",
           "log: general is gust.general");
    is_str(gust_log_category_name(GUST_LOG_ACCESS), "gust.access",
           "log: access is gust.access");
    is_str(gust_log_category_name(GUST_LOG_APPLICATION), "gust.application",
           "log: application is gust.application");
    is_str(gust_log_category_name(GUST_LOG_GEN), "gust.gen",
           "log: gen is gust.gen");
    ok(gust_log_category_name(ALL_CATEGORIES) != NULL,
       "log: an out-of-range category still gives a name, not NULL");
    ok(gust_log_category_name((gust_log_category)-1) != NULL,
       "log: a negative category still gives a name, not NULL");
  }

  if (tap_group("log: default levels")) {
    reset_log();
    for (i = 0; i < 4; i++) {
      const char *n = gust_log_category_name(cats[i]);
      is_int(gust_log_enabled(cats[i], GUST_LOG_DEBUG), 0,
             "log: %s debug off by default", n);
      is_int(gust_log_enabled(cats[i], GUST_LOG_INFO), 0,
             "log: %s info off by default", n);
      is_int(gust_log_enabled(cats[i], GUST_LOG_WARNING), 1,
             "log: %s warning on by default", n);
      is_int(gust_log_enabled(cats[i], GUST_LOG_ERROR), 1,
             "log: %s error on by default", n);
    }
  }

  if (tap_group("log: custom handler")) {
    reset_log();
    gust_log_set_handler(capture_handler, &udata);
    gust_log(GUST_LOG_ACCESS, GUST_LOG_WARNING, "x=%d %s", 5, "y");
    is_int(cap.calls, 1, "handler: called once for a warning");
    is_int(cap.category, GUST_LOG_ACCESS, "handler: receives the category");
    is_int(cap.level, GUST_LOG_WARNING, "handler: receives the level");
    is_str(cap.msg, "x=5 y", "handler: receives the formatted message");
    ok(cap.user_data == &udata, "handler: receives its user data");
    gust_log(GUST_LOG_GEN, GUST_LOG_ERROR, "%s", "100% done\n");
    is_int(cap.calls, 2, "handler: called for an error");
    is_int(cap.category, GUST_LOG_GEN, "handler: gen category");
    is_int(cap.level, GUST_LOG_ERROR, "handler: error level");
    is_str(cap.msg, "100% done\n",
           "handler: message passed as is (no newline added or removed)");
    gust_log(GUST_LOG_GENERAL, GUST_LOG_DEBUG, "hidden %d", 1);
    gust_log(GUST_LOG_APPLICATION, GUST_LOG_INFO, "hidden %d", 2);
    is_int(cap.calls, 2, "handler: debug and info not delivered by default");
    vlog_wrap(GUST_LOG_APPLICATION, GUST_LOG_ERROR, "v%s%03d", "log", 9);
    ok(cap.calls == 3 && cap.category == GUST_LOG_APPLICATION &&
           strcmp(cap.msg, "vlog009") == 0,
       "handler: gust_vlog formats through a va_list");
    gust_log(GUST_LOG_GENERAL, GUST_LOG_WARNING, "%s", "");
    ok(cap.calls == 4 && cap.msg_len == 0, "handler: empty message delivered");
    gust_log(ALL_CATEGORIES, GUST_LOG_ERROR, "odd category");
    ok(cap.calls == 5 && (unsigned)cap.category < GUST_LOG_CATEGORY_COUNT_,
       "handler: an out-of-range category is delivered as a valid one");
    gust_log_set_handler(capture_handler, &udata2);
    gust_log(GUST_LOG_GENERAL, GUST_LOG_WARNING, "second");
    ok(cap.user_data == &udata2, "handler: replacing it updates user data");
  }

  if (tap_group("log: set_level")) {
    reset_log();
    gust_log_set_handler(capture_handler, NULL);
    gust_log_set_level(GUST_LOG_ACCESS, GUST_LOG_DEBUG);
    is_int(gust_log_enabled(GUST_LOG_ACCESS, GUST_LOG_DEBUG), 1,
           "set_level: access debug enabled");
    is_int(gust_log_enabled(GUST_LOG_GENERAL, GUST_LOG_DEBUG), 0,
           "set_level: general unaffected by access");
    is_int(gust_log_enabled(GUST_LOG_APPLICATION, GUST_LOG_INFO), 0,
           "set_level: application unaffected by access");
    gust_log(GUST_LOG_ACCESS, GUST_LOG_DEBUG, "dbg");
    ok(cap.calls == 1 && cap.level == GUST_LOG_DEBUG &&
           strcmp(cap.msg, "dbg") == 0,
       "set_level: access debug record delivered");
    gust_log(GUST_LOG_GENERAL, GUST_LOG_DEBUG, "dbg");
    is_int(cap.calls, 1, "set_level: general debug still dropped");

    gust_log_set_level(GUST_LOG_GENERAL, GUST_LOG_ERROR);
    is_int(gust_log_enabled(GUST_LOG_GENERAL, GUST_LOG_WARNING), 0,
           "set_level: raising general to error hides warnings");
    is_int(gust_log_enabled(GUST_LOG_GENERAL, GUST_LOG_ERROR), 1,
           "set_level: errors still shown at level error");

    gust_log_set_level(ALL_CATEGORIES, GUST_LOG_INFO);
    for (i = 0; i < 4; i++)
      ok(gust_log_enabled(cats[i], GUST_LOG_INFO) &&
             !gust_log_enabled(cats[i], GUST_LOG_DEBUG),
         "set_level: out-of-range category set %s to info",
         gust_log_category_name(cats[i]));
    gust_log_set_level(GUST_LOG_CATEGORY_COUNT_, GUST_LOG_ERROR);
    for (i = 0; i < 4; i++)
      ok(!gust_log_enabled(cats[i], GUST_LOG_WARNING) &&
             gust_log_enabled(cats[i], GUST_LOG_ERROR),
         "set_level: GUST_LOG_CATEGORY_COUNT_ sets %s too",
         gust_log_category_name(cats[i]));

    gust_log_set_level(ALL_CATEGORIES, GUST_LOG_WARNING);
    gust_log_set_level(GUST_LOG_GEN, GUST_LOG_OFF);
    cap.calls = 0;
    gust_log(GUST_LOG_GEN, GUST_LOG_ERROR, "silenced");
    is_int(cap.calls, 0, "set_level: GUST_LOG_OFF silences even errors");
    is_int(gust_log_enabled(GUST_LOG_GEN, GUST_LOG_ERROR), 0,
           "set_level: enabled() agrees for GUST_LOG_OFF");
    gust_log(GUST_LOG_ACCESS, GUST_LOG_ERROR, "other");
    is_int(cap.calls, 1, "set_level: other categories still deliver");

    gust_log_set_level(ALL_CATEGORIES, GUST_LOG_OFF);
    cap.calls = 0;
    for (i = 0; i < 4; i++) {
      gust_log(cats[i], GUST_LOG_ERROR, "x");
      ok(!gust_log_enabled(cats[i], GUST_LOG_ERROR),
         "set_level: all off disables %s", gust_log_category_name(cats[i]));
    }
    is_int(cap.calls, 0, "set_level: all categories off delivers nothing");
    gust_log_set_level(ALL_CATEGORIES, GUST_LOG_DEBUG);
    gust_log(GUST_LOG_GEN, GUST_LOG_DEBUG, "back");
    is_int(cap.calls, 1, "set_level: levels can be lowered again");
  }

  if (tap_group("log: message length")) {
    static char big[6000];
    size_t n;
    int good;
    reset_log();
    gust_log_set_handler(capture_handler, NULL);
    memset(big, 'm', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    gust_log(GUST_LOG_GENERAL, GUST_LOG_ERROR, "%s", big);
    is_int(cap.calls, 1, "length: a 5999-byte message is delivered");
    is_int(cap.msg_len, 4096, "length: it is cut to 4 KiB");
    for (n = 0, good = 1; n < cap.msg_len; n++)
      if (cap.msg[n] != 'm')
        good = 0;
    ok(good, "length: the cut message is the start of the original");
    gust_log(GUST_LOG_GENERAL, GUST_LOG_ERROR, "%.4096s", big);
    is_int(cap.msg_len, 4096,
           "length: exactly 4 KiB is not longer than 4 KiB, so not cut");
    gust_log(GUST_LOG_GENERAL, GUST_LOG_ERROR, "%.4095s", big);
    is_int(cap.msg_len, 4095, "length: 4095 bytes delivered whole");
    gust_log(GUST_LOG_GENERAL, GUST_LOG_ERROR, "%s%s", big, big);
    is_int(cap.msg_len, 4096, "length: a 12 KB message is cut, no overflow");
  }

  if (tap_group("log: default handler")) {
    const char *out;
    reset_log();
    gust_log_set_handler(capture_handler, &udata);
    gust_log_set_handler(NULL, &udata);
    if (stderr_begin()) {
      gust_log(GUST_LOG_GENERAL, GUST_LOG_WARNING, "msg");
      out = stderr_end();
      is_str(out, "[W gust.general] msg\n",
             "default: '[W gust.general] msg' on stderr");
    } else {
      skip(1, "cannot redirect stderr");
    }
    is_int(cap.calls, 0, "default: NULL restored the default handler");

    gust_log_set_level(ALL_CATEGORIES, GUST_LOG_DEBUG);
    if (stderr_begin()) {
      gust_log(GUST_LOG_ACCESS, GUST_LOG_ERROR, "boom %d", 1);
      gust_log(GUST_LOG_APPLICATION, GUST_LOG_INFO, "info");
      gust_log(GUST_LOG_GEN, GUST_LOG_DEBUG, "%s", "debug 100%");
      gust_log(GUST_LOG_GENERAL, GUST_LOG_DEBUG, "hidden?");
      gust_log_set_level(GUST_LOG_GENERAL, GUST_LOG_OFF);
      gust_log(GUST_LOG_GENERAL, GUST_LOG_ERROR, "silenced");
      out = stderr_end();
      is_str(out,
             "[E gust.access] boom 1\n"
             "[I gust.application] info\n"
             "[D gust.gen] debug 100%\n"
             "[D gust.general] hidden?\n",
             "default: one line per record, level letter and category name");
    } else {
      skip(1, "cannot redirect stderr");
    }
  }

  reset_log();
  return done_testing();
}
