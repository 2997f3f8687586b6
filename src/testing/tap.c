/* The TAP producer of <gust/testing.h>: numbered checks on stdout,
 * diagnostics on stderr, the plan at the end. */
#include "config.h"

#include <gust/testing.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testing_int.h"

static int tests_run;
static int tests_failed;
static int planned = -1;
static int finished;
static int started;
static char todo_reason[256]; /* "" outside a TODO block */

static void at_exit_check(void) {
  if (started && !finished) {
    printf("not ok %d - the program exited before gust_tap_done()\n",
           tests_run + 1);
    fflush(stdout);
    _exit(1);
  }
}

/* The first output arms the check that the program reaches
 * gust_tap_done(), so that linking the library changes nothing for a
 * program that prints no TAP. */
static void start(void) {
  if (started)
    return;
  started = 1;
  atexit(at_exit_check);
}

void gust_tap_start(void) { start(); }

GUST_PRINTF(3, 0)
static void vline(FILE *f, const char *prefix, const char *fmt, va_list ap) {
  char buf[4096];
  char *p, *nl;
  vsnprintf(buf, sizeof(buf), fmt, ap);
  /* Every physical line of a diagnostic gets its own "# " prefix. */
  for (p = buf;; p = nl + 1) {
    nl = strchr(p, '\n');
    if (nl != NULL)
      *nl = '\0';
    fprintf(f, "%s%s\n", prefix, p);
    if (nl == NULL)
      break;
  }
  fflush(f);
}

void gust_tap_diag(const char *fmt, ...) {
  va_list ap;
  fflush(stdout);
  va_start(ap, fmt);
  vline(stderr, "# ", fmt, ap);
  va_end(ap);
}

void gust_tap_note(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vline(stdout, "# ", fmt, ap);
  va_end(ap);
}

void gust_tap_bail_out(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  printf("Bail out! ");
  vprintf(fmt, ap);
  printf("\n");
  va_end(ap);
  fflush(stdout);
  finished = 1;
  exit(1);
}

int gust_tap_in_ci(void) {
  const char *ci = getenv("CI");
  return ci != NULL && strcmp(ci, "true") == 0;
}

void gust_tap_plan(int n) {
  start();
  planned = n;
  printf("1..%d\n", n);
  fflush(stdout);
}

void gust_tap_skip_all(const char *fmt, ...) {
  char buf[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, sizeof(buf), fmt, ap);
  va_end(ap);
  if (gust_tap_in_ci())
    gust_tap_bail_out("required for CI but missing: %s", buf);
  printf("1..0 # SKIP %s\n", buf);
  fflush(stdout);
  finished = 1;
  exit(0);
}

void gust_tap_todo_start(const char *fmt, ...) {
  va_list ap;
  char *p;
  va_start(ap, fmt);
  vsnprintf(todo_reason, sizeof(todo_reason), fmt, ap);
  va_end(ap);
  for (p = todo_reason; *p; p++)
    if (*p == '#' || *p == '\n')
      *p = '_';
  if (todo_reason[0] == '\0')
    snprintf(todo_reason, sizeof(todo_reason), "known failure");
}

void gust_tap_todo_end(void) { todo_reason[0] = '\0'; }

GUST_PRINTF(4, 0)
static int record(int cond, const char *file, int line, const char *fmt,
                  va_list ap) {
  char buf[1024];
  char *p;
  start();
  vsnprintf(buf, sizeof(buf), fmt, ap);
  tests_run++;
  /* '#' would start a TAP directive, a newline a new TAP line. */
  for (p = buf; *p; p++)
    if (*p == '#' || *p == '\n')
      *p = '_';
  if (todo_reason[0] != '\0') {
    printf("%sok %d - %s # TODO %s\n", cond ? "" : "not ", tests_run, buf,
           todo_reason);
    fflush(stdout);
    if (!cond)
      gust_tap_diag("  Failed (TODO) test '%s'\n  at %s line %d.", buf, file,
                    line);
    return cond;
  }
  printf("%sok %d - %s\n", cond ? "" : "not ", tests_run, buf);
  fflush(stdout);
  if (!cond) {
    tests_failed++;
    gust_tap_diag("  Failed test '%s'\n  at %s line %d.", buf, file, line);
  }
  return cond;
}

int gust_tap_ok_(int cond, const char *file, int line, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  record(cond != 0, file, line, fmt, ap);
  va_end(ap);
  return cond != 0;
}

int gust_tap_is_int_(long long got, long long want, const char *file, int line,
                     const char *fmt, ...) {
  va_list ap;
  int cond = got == want;
  va_start(ap, fmt);
  record(cond, file, line, fmt, ap);
  va_end(ap);
  if (!cond)
    gust_tap_diag("         got: %lld\n    expected: %lld", got, want);
  return cond;
}

int gust_tap_is_str_(const char *got, const char *want, const char *file,
                     int line, const char *fmt, ...) {
  va_list ap;
  int cond = (got == NULL && want == NULL) ||
             (got != NULL && want != NULL && strcmp(got, want) == 0);
  va_start(ap, fmt);
  record(cond, file, line, fmt, ap);
  va_end(ap);
  if (!cond)
    gust_tap_diag("         got: %s%s%s\n    expected: %s%s%s", got ? "'" : "",
                  got ? got : "NULL", got ? "'" : "", want ? "'" : "",
                  want ? want : "NULL", want ? "'" : "");
  return cond;
}

static void window(const char *label, const uint8_t *p, size_t len, size_t at) {
  char out[200];
  size_t start_at = at > 16 ? at - 16 : 0, i, o = 0;
  for (i = start_at; i < len && i < start_at + 40 && o + 5 < sizeof(out); i++) {
    uint8_t c = p[i];
    if (c >= 0x20 && c < 0x7f && c != '\\')
      out[o++] = (char)c;
    else
      o += (size_t)snprintf(out + o, sizeof(out) - o, "\\x%02x", c);
  }
  out[o] = '\0';
  gust_tap_diag("    %s[%zu..]: \"%s\" (length %zu)", label, start_at, out,
                len);
}

int gust_tap_cmp_mem_(const void *got, size_t got_len, const void *want,
                      size_t want_len, const char *file, int line,
                      const char *fmt, ...) {
  va_list ap;
  const uint8_t *g = got, *w = want;
  size_t i, n = got_len < want_len ? got_len : want_len;
  int cond;
  if (g == NULL || w == NULL)
    n = 0;
  for (i = 0; i < n; i++)
    if (g[i] != w[i])
      break;
  cond = got_len == want_len && i == n &&
         (got_len == 0 || (g != NULL && w != NULL));
  va_start(ap, fmt);
  record(cond, file, line, fmt, ap);
  va_end(ap);
  if (!cond) {
    gust_tap_diag("    first difference at offset %zu", i);
    if (g != NULL)
      window("     got", g, got_len, i);
    if (w != NULL)
      window("expected", w, want_len, i);
  }
  return cond;
}

void gust_tap_skip(int n, const char *fmt, ...) {
  char buf[1024];
  va_list ap;
  start();
  va_start(ap, fmt);
  vsnprintf(buf, sizeof(buf), fmt, ap);
  va_end(ap);
  while (n-- > 0) {
    tests_run++;
    printf("ok %d # skip %s\n", tests_run, buf);
  }
  fflush(stdout);
}

int gust_tap_group(const char *name) {
  const char *sel = getenv("GUST_TEST_RUN");
  char pat[256];
  if (name == NULL)
    return 0;
  if (sel == NULL || *sel == '\0') {
    gust_tap_note("%s", name);
    return 1;
  }
  while (*sel) {
    size_t n = strcspn(sel, ",");
    if (n > 0 && n < sizeof(pat)) {
      memcpy(pat, sel, n);
      pat[n] = '\0';
      if (strstr(name, pat) != NULL) {
        gust_tap_note("%s", name);
        return 1;
      }
    }
    sel += n;
    if (*sel == ',')
      sel++;
  }
  return 0;
}

int gust_tap_failures(void) { return tests_failed; }

int gust_tap_done(void) {
  finished = 1;
  if (tests_run == 0) {
    printf("not ok 1 - the program ran no check\n1..1\n");
    fflush(stdout);
    return 1;
  }
  if (planned < 0) {
    printf("1..%d\n", tests_run);
  } else if (planned != tests_run) {
    fflush(stdout);
    gust_tap_diag("planned %d checks but ran %d", planned, tests_run);
    return 1;
  }
  fflush(stdout);
  if (tests_failed > 0)
    gust_tap_diag("failed %d of %d checks", tests_failed, tests_run);
  return tests_failed > 0 ? 1 : 0;
}

void gust__tap_case(int passed, const char *name, const char *why) {
  char buf[1024];
  char *p;
  start();
  snprintf(buf, sizeof(buf), "%s", name);
  for (p = buf; *p; p++)
    if (*p == '#' || *p == '\n')
      *p = '_';
  tests_run++;
  if (todo_reason[0] != '\0') {
    printf("%sok %d - %s # TODO %s\n", passed ? "" : "not ", tests_run, buf,
           todo_reason);
    fflush(stdout);
    return;
  }
  printf("%sok %d - %s\n", passed ? "" : "not ", tests_run, buf);
  fflush(stdout);
  if (!passed) {
    tests_failed++;
    gust_tap_diag("  Failed test case '%s': %s", buf,
                  why != NULL ? why : "failed");
  }
}
