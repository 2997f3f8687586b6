/* TAP for gust's test programs: Test::More's names over the TAP producer
 * of libgust-testing (<gust/testing.h>, gust_tap_*), which t/libtap.la
 * links; a program may mix both sets of names.
 *
 * Every check prints one "ok N - name" or "not ok N - name" line. A program
 * ends with `return done_testing();`, which prints the plan and returns the
 * exit status: non-zero if any check failed, if the plan was not met, or if
 * the program ran no check at all (a test that checks nothing is a failure).
 * A program that exits without reaching done_testing() also fails.
 *
 * Environment:
 *   GUST_TEST_RUN      comma-separated substrings; tap_group(name) returns 1
 *                      only for groups whose name contains one of them.
 *   GUST_TEST_TIMEOUT  seconds before the program bails out (default 600).
 */
#ifndef GUST_T_TAP_H
#define GUST_T_TAP_H

#include <stddef.h>
#include <stdint.h>

#if defined(__GNUC__) || defined(__clang__)
#define TAP_PRINTF(f, a) __attribute__((format(printf, f, a)))
#define TAP_NORETURN     __attribute__((noreturn))
#else
#define TAP_PRINTF(f, a)
#define TAP_NORETURN
#endif

/* Declares how many checks will run (optional: done_testing() prints the
 * plan at the end when none was declared). */
void plan(int n);

/* Skips the whole program: prints "1..0 # SKIP reason" and exits 0. Use only
 * when a requirement is genuinely missing outside CI; under CI=true it is a
 * failure (prints "Bail out!" and exits 1). */
void plan_skip_all(const char *reason, ...) TAP_PRINTF(1, 2) TAP_NORETURN;

/* Records one check; returns `cond` (as 0/1). */
int ok_(int cond, const char *file, int line, const char *name, ...)
    TAP_PRINTF(4, 5);
#define ok(cond, ...) ok_(!!(cond), __FILE__, __LINE__, __VA_ARGS__)

int is_int_(long long got, long long want, const char *file, int line,
            const char *name, ...) TAP_PRINTF(5, 6);
#define is_int(got, want, ...)                                                 \
  is_int_((long long)(got), (long long)(want), __FILE__, __LINE__, __VA_ARGS__)

int is_str_(const char *got, const char *want, const char *file, int line,
            const char *name, ...) TAP_PRINTF(5, 6);
#define is_str(got, want, ...)                                                 \
  is_str_((got), (want), __FILE__, __LINE__, __VA_ARGS__)

/* Compares two byte strings; on mismatch prints the first differing offset
 * and a window of both around it. */
int cmp_mem_(const void *got, size_t got_len, const void *want, size_t want_len,
             const char *file, int line, const char *name, ...)
    TAP_PRINTF(7, 8);
#define cmp_mem(got, got_len, want, want_len, ...)                             \
  cmp_mem_((got), (got_len), (want), (want_len), __FILE__, __LINE__,           \
           __VA_ARGS__)

/* Records `n` skipped checks ("ok N # skip reason"). */
void skip(int n, const char *reason, ...) TAP_PRINTF(2, 3);

/* Marks the checks that follow, until todo_end(), as TODO: known failures
 * printed with "# TODO reason" that do not fail the program (a passing one
 * shows that the TODO can go). */
void todo_start(const char *reason, ...) TAP_PRINTF(1, 2);
void todo_end(void);

/* Prints a "# ..." diagnostic line to stderr (diag) or stdout (note). */
void diag(const char *fmt, ...) TAP_PRINTF(1, 2);
void note(const char *fmt, ...) TAP_PRINTF(1, 2);

/* Stops the whole run: prints "Bail out! reason" and exits 1. */
void bail_out(const char *fmt, ...) TAP_PRINTF(1, 2) TAP_NORETURN;

/* Returns 1 if the group `name` is selected by GUST_TEST_RUN (always 1 when
 * the variable is unset), and prints a note naming the group. */
int tap_group(const char *name);

/* Returns the number of failed checks so far. */
int tap_failures(void);

/* Prints the plan if needed and returns the process exit status. */
int done_testing(void);

/* Returns 1 when running under CI (CI=true in the environment). */
int tap_in_ci(void);

/* Copies `len` bytes so that the last byte sits right before an unreadable
 * page: any read past the end crashes at once. Returns NULL if memory could
 * not be mapped. Release with tap_guard_free(p, len). */
uint8_t *tap_guard_copy(const void *data, size_t len);
void tap_guard_free(uint8_t *p, size_t len);

#endif /* GUST_T_TAP_H */
