/* The names of tap.h over libgust-testing's TAP producer (gust_tap_*),
 * which does all the TAP, plus what only gust's own test programs need: a
 * time limit for the whole program, SIGPIPE ignored, guard pages. */
#include "tap.h"

#include <gust/testing.h>

#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* As long as the buffers of libgust-testing: a check's name is cut at
 * 1023 bytes there, a diagnostic at 4095. */
#define NAME_MAX_LEN 1024
#define TEXT_MAX_LEN 4096

/* Formats a tap.h variadic argument list into `buf`, passed on as "%s". */
#define FORMAT(buf, fmt)                                                       \
  do {                                                                         \
    va_list ap_;                                                               \
    va_start(ap_, fmt);                                                        \
    vsnprintf(buf, sizeof(buf), fmt, ap_);                                     \
    va_end(ap_);                                                               \
  } while (0)

void plan(int n) { gust_tap_plan(n); }

void plan_skip_all(const char *reason, ...) {
  char buf[NAME_MAX_LEN];
  FORMAT(buf, reason);
  gust_tap_skip_all("%s", buf);
}

int ok_(int cond, const char *file, int line, const char *name, ...) {
  char buf[NAME_MAX_LEN];
  FORMAT(buf, name);
  return gust_tap_ok_(cond, file, line, "%s", buf);
}

int is_int_(long long got, long long want, const char *file, int line,
            const char *name, ...) {
  char buf[NAME_MAX_LEN];
  FORMAT(buf, name);
  return gust_tap_is_int_(got, want, file, line, "%s", buf);
}

int is_str_(const char *got, const char *want, const char *file, int line,
            const char *name, ...) {
  char buf[NAME_MAX_LEN];
  FORMAT(buf, name);
  return gust_tap_is_str_(got, want, file, line, "%s", buf);
}

int cmp_mem_(const void *got, size_t got_len, const void *want, size_t want_len,
             const char *file, int line, const char *name, ...) {
  char buf[NAME_MAX_LEN];
  FORMAT(buf, name);
  return gust_tap_cmp_mem_(got, got_len, want, want_len, file, line, "%s", buf);
}

void skip(int n, const char *reason, ...) {
  char buf[NAME_MAX_LEN];
  FORMAT(buf, reason);
  gust_tap_skip(n, "%s", buf);
}

void todo_start(const char *reason, ...) {
  char buf[NAME_MAX_LEN];
  FORMAT(buf, reason);
  gust_tap_todo_start("%s", buf);
}

void todo_end(void) { gust_tap_todo_end(); }

void diag(const char *fmt, ...) {
  char buf[TEXT_MAX_LEN];
  FORMAT(buf, fmt);
  gust_tap_diag("%s", buf);
}

void note(const char *fmt, ...) {
  char buf[TEXT_MAX_LEN];
  FORMAT(buf, fmt);
  gust_tap_note("%s", buf);
}

void bail_out(const char *fmt, ...) {
  char buf[TEXT_MAX_LEN];
  FORMAT(buf, fmt);
  gust_tap_bail_out("%s", buf);
}

int tap_group(const char *name) { return gust_tap_group(name); }

int tap_failures(void) { return gust_tap_failures(); }

int done_testing(void) { return gust_tap_done(); }

int tap_in_ci(void) { return gust_tap_in_ci(); }

static void on_alarm(int sig) {
  static const char msg[] = "Bail out! test timed out (GUST_TEST_TIMEOUT)\n";
  (void)sig;
  if (write(1, msg, sizeof(msg) - 1) < 0) {
    /* nothing more can be done in a signal handler */
  }
  _exit(1);
}

__attribute__((constructor)) static void tap_setup(void) {
  const char *t = getenv("GUST_TEST_TIMEOUT");
  unsigned secs = t != NULL ? (unsigned)strtoul(t, NULL, 10) : 600;
  signal(SIGALRM, on_alarm);
  alarm(secs);
  /* A program that exits before done_testing() fails, even one that
   * exits before its first check. */
  gust_tap_start();
  /* A peer closing a socket must not kill a test with SIGPIPE. */
  signal(SIGPIPE, SIG_IGN);
}

uint8_t *tap_guard_copy(const void *data, size_t len) {
  size_t page = (size_t)sysconf(_SC_PAGESIZE);
  size_t pages = (len + page - 1) / page + 1;
  uint8_t *base = mmap(NULL, pages * page, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  uint8_t *p;
  if (base == MAP_FAILED)
    return NULL;
  if (mprotect(base + (pages - 1) * page, page, PROT_NONE) != 0) {
    munmap(base, pages * page);
    return NULL;
  }
  p = base + (pages - 1) * page - len;
  if (len != 0)
    memcpy(p, data, len);
  return p;
}

void tap_guard_free(uint8_t *p, size_t len) {
  size_t page = (size_t)sysconf(_SC_PAGESIZE);
  size_t pages = (len + page - 1) / page + 1;
  if (p != NULL)
    munmap(p + len - (pages - 1) * page, pages * page);
}
