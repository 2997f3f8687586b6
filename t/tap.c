/* The TAP producer declared in tap.h. */
#include "tap.h"

#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static int tests_run;
static int tests_failed;
static int planned = -1;
static int finished;

TAP_PRINTF(3, 0)
static void vline(FILE *f, const char *prefix, const char *fmt, va_list ap) {
  char buf[2048];
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

void diag(const char *fmt, ...) {
  va_list ap;
  fflush(stdout);
  va_start(ap, fmt);
  vline(stderr, "# ", fmt, ap);
  va_end(ap);
}

void note(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vline(stdout, "# ", fmt, ap);
  va_end(ap);
}

void bail_out(const char *fmt, ...) {
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

int tap_in_ci(void) {
  const char *ci = getenv("CI");
  return ci != NULL && strcmp(ci, "true") == 0;
}

void plan(int n) {
  planned = n;
  printf("1..%d\n", n);
  fflush(stdout);
}

void plan_skip_all(const char *reason, ...) {
  char buf[1024];
  va_list ap;
  va_start(ap, reason);
  vsnprintf(buf, sizeof(buf), reason, ap);
  va_end(ap);
  if (tap_in_ci())
    bail_out("required for CI but missing: %s", buf);
  printf("1..0 # SKIP %s\n", buf);
  fflush(stdout);
  finished = 1;
  exit(0);
}

/* The reason of the TODO block in force, "" outside one. */
static char todo_reason[256];

void todo_start(const char *reason, ...) {
  va_list ap;
  va_start(ap, reason);
  vsnprintf(todo_reason, sizeof(todo_reason), reason, ap);
  va_end(ap);
  for (char *p = todo_reason; *p; p++)
    if (*p == '#')
      *p = '_';
  if (todo_reason[0] == '\0')
    snprintf(todo_reason, sizeof(todo_reason), "known failure");
}

void todo_end(void) { todo_reason[0] = '\0'; }

TAP_PRINTF(4, 0)
static int record(int cond, const char *file, int line, const char *name,
                  va_list ap) {
  char buf[1024];
  vsnprintf(buf, sizeof(buf), name, ap);
  tests_run++;
  /* '#' would start a TAP directive inside the description. */
  for (char *p = buf; *p; p++)
    if (*p == '#')
      *p = '_';
  if (todo_reason[0] != '\0') {
    /* A known failure: reported, but it does not fail the program. */
    printf("%sok %d - %s # TODO %s\n", cond ? "" : "not ", tests_run, buf,
           todo_reason);
    fflush(stdout);
    if (!cond)
      diag("  Failed (TODO) test '%s'\n  at %s line %d.", buf, file, line);
    return cond;
  }
  printf("%sok %d - %s\n", cond ? "" : "not ", tests_run, buf);
  fflush(stdout);
  if (!cond) {
    tests_failed++;
    diag("  Failed test '%s'\n  at %s line %d.", buf, file, line);
  }
  return cond;
}

int ok_(int cond, const char *file, int line, const char *name, ...) {
  va_list ap;
  va_start(ap, name);
  record(cond, file, line, name, ap);
  va_end(ap);
  return cond;
}

int is_int_(long long got, long long want, const char *file, int line,
            const char *name, ...) {
  va_list ap;
  int cond = got == want;
  va_start(ap, name);
  record(cond, file, line, name, ap);
  va_end(ap);
  if (!cond)
    diag("         got: %lld\n    expected: %lld", got, want);
  return cond;
}

int is_str_(const char *got, const char *want, const char *file, int line,
            const char *name, ...) {
  va_list ap;
  int cond = (got == NULL && want == NULL) ||
             (got != NULL && want != NULL && strcmp(got, want) == 0);
  va_start(ap, name);
  record(cond, file, line, name, ap);
  va_end(ap);
  if (!cond)
    diag("         got: %s%s%s\n    expected: %s%s%s", got ? "'" : "",
         got ? got : "NULL", got ? "'" : "", want ? "'" : "",
         want ? want : "NULL", want ? "'" : "");
  return cond;
}

static void window(const char *label, const uint8_t *p, size_t len, size_t at) {
  char out[200];
  size_t start = at > 16 ? at - 16 : 0, i, o = 0;
  for (i = start; i < len && i < start + 40 && o + 5 < sizeof(out); i++) {
    uint8_t c = p[i];
    if (c >= 0x20 && c < 0x7f && c != '\\')
      out[o++] = (char)c;
    else
      o += (size_t)snprintf(out + o, sizeof(out) - o, "\\x%02x", c);
  }
  out[o] = '\0';
  diag("    %s[%zu..]: \"%s\" (length %zu)", label, start, out, len);
}

int cmp_mem_(const void *got, size_t got_len, const void *want, size_t want_len,
             const char *file, int line, const char *name, ...) {
  va_list ap;
  const uint8_t *g = got, *w = want;
  size_t i, n = got_len < want_len ? got_len : want_len;
  int cond;
  for (i = 0; i < n; i++)
    if (g[i] != w[i])
      break;
  cond = got_len == want_len && i == n && (n == 0 || g != NULL);
  va_start(ap, name);
  record(cond, file, line, name, ap);
  va_end(ap);
  if (!cond) {
    diag("    first difference at offset %zu", i);
    if (g != NULL)
      window("     got", g, got_len, i);
    window("expected", w, want_len, i);
  }
  return cond;
}

void skip(int n, const char *reason, ...) {
  char buf[1024];
  va_list ap;
  va_start(ap, reason);
  vsnprintf(buf, sizeof(buf), reason, ap);
  va_end(ap);
  while (n-- > 0) {
    tests_run++;
    printf("ok %d # skip %s\n", tests_run, buf);
  }
  fflush(stdout);
}

int tap_group(const char *name) {
  const char *sel = getenv("GUST_TEST_RUN");
  char pat[256];
  if (sel == NULL || *sel == '\0') {
    note("%s", name);
    return 1;
  }
  while (*sel) {
    size_t n = strcspn(sel, ",");
    if (n > 0 && n < sizeof(pat)) {
      memcpy(pat, sel, n);
      pat[n] = '\0';
      if (strstr(name, pat) != NULL) {
        note("%s", name);
        return 1;
      }
    }
    sel += n;
    if (*sel == ',')
      sel++;
  }
  return 0;
}

int tap_failures(void) { return tests_failed; }

int done_testing(void) {
  finished = 1;
  if (tests_run == 0) {
    printf("not ok 1 - the program ran no check\n1..1\n");
    fflush(stdout);
    return 1;
  }
  if (planned < 0)
    printf("1..%d\n", tests_run);
  else if (planned != tests_run) {
    diag("planned %d checks but ran %d", planned, tests_run);
    fflush(stdout);
    return 1;
  }
  fflush(stdout);
  if (tests_failed > 0)
    diag("failed %d of %d checks", tests_failed, tests_run);
  return tests_failed > 0 ? 1 : 0;
}

static void at_exit_check(void) {
  if (!finished) {
    printf("not ok %d - the program exited before done_testing()\n",
           tests_run + 1);
    fflush(stdout);
    _exit(1);
  }
}

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
  atexit(at_exit_check);
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
