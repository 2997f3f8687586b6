/* Tests of the testing helpers (include/gust/testing.h): the TAP producer
 * (in child processes whose output is read back), waits and the report of
 * a timeout, the mistakes found when a test ends (a failed future nobody
 * looked at, work left on the loop, a loop never run), the throwaway
 * certificate on both ends of a TLS connection, and the HTTP, HTTPS and
 * WebSocket helpers against gust's own server. This program's own TAP
 * comes from the helpers. */
#include <gust/testing.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define OK     GUST_OK
#define IS_INT GUST_IS_INT
#define IS_STR GUST_IS_STR

/* ------------------------------------------------------------------ */
/* Report capture                                                       */
/* ------------------------------------------------------------------ */

static char reports[16384];
static int nreports;

static void capture(const gust_test *t, const char *msg, void *ud) {
  size_t len = strlen(reports);
  (void)ud;
  nreports++;
  snprintf(reports + len, sizeof(reports) - len, "[%s] %s\n", gust_test_name(t),
           msg);
}

static void capture_start(void) {
  reports[0] = '\0';
  nreports = 0;
  gust_test_set_reporter(capture, NULL);
}

static void capture_stop(void) { gust_test_set_reporter(NULL, NULL); }

static int has(const char *needle) { return strstr(reports, needle) != NULL; }

/* Shows what was captured when a check on it failed. */
static void show_reports(int passed) {
  if (!passed)
    gust_tap_diag("captured reports (%d):\n%s", nreports, reports);
}

static gust_test *new_test(const char *name) {
  gust_test *t;
  if (gust_test_new(&t, name, NULL) != 0)
    gust_tap_bail_out("cannot create a test");
  return t;
}

/* ------------------------------------------------------------------ */
/* Child processes                                                      */
/* ------------------------------------------------------------------ */

typedef struct child_out {
  char text[16384]; /* stdout and stderr, interleaved */
  int status;       /* exit status, or -1 if it did not exit normally */
} child_out;

/* Runs `fn` in a child with stdout and stderr sent to a pipe; the child
 * exits with what `fn` returns. */
static void run_child(int (*fn)(void), child_out *out) {
  int fds[2], st = 0;
  size_t len = 0;
  pid_t pid;
  fflush(stdout);
  fflush(stderr);
  memset(out, 0, sizeof(*out));
  if (pipe(fds) != 0)
    gust_tap_bail_out("pipe: %s", strerror(errno));
  pid = fork();
  if (pid < 0)
    gust_tap_bail_out("fork: %s", strerror(errno));
  if (pid == 0) {
    int rc;
    close(fds[0]);
    dup2(fds[1], 1);
    dup2(fds[1], 2);
    close(fds[1]);
    rc = fn();
    fflush(stdout);
    fflush(stderr);
    _exit(rc);
  }
  close(fds[1]);
  for (;;) {
    ssize_t n = read(fds[0], out->text + len, sizeof(out->text) - 1 - len);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      break;
    len += (size_t)n;
    if (len == sizeof(out->text) - 1)
      break;
  }
  out->text[len] = '\0';
  close(fds[0]);
  while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
    ;
  out->status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static int child_has(const child_out *c, const char *needle) {
  return strstr(c->text, needle) != NULL;
}

static void show_child(const child_out *c, int passed) {
  if (!passed)
    gust_tap_diag("child exit status %d, output:\n%s", c->status, c->text);
}

/* ------------------------------------------------------------------ */
/* TAP producer                                                         */
/* ------------------------------------------------------------------ */

static int child_tap_mixed(void) {
  static const char a[] = "abcdef", b[] = "abcXef";
  GUST_OK(1, "a passing check");
  GUST_OK(0, "a failing check");
  GUST_IS_INT(41, 42, "an integer # with a hash");
  GUST_IS_STR("left", "right", "two strings");
  GUST_CMP_MEM(a, 6, b, 6, "two byte strings");
  gust_tap_skip(2, "no reason");
  gust_tap_todo_start("not done yet");
  GUST_OK(0, "a known failure");
  gust_tap_todo_end();
  gust_tap_note("a note");
  return gust_tap_done();
}

static int child_tap_nothing(void) { return gust_tap_done(); }

static int child_tap_plan(void) {
  gust_tap_plan(3);
  GUST_OK(1, "one");
  return gust_tap_done();
}

static int child_tap_exit_early(void) {
  GUST_OK(1, "one");
  exit(0); /* without gust_tap_done() */
}

static int child_tap_group(void) {
  int a = gust_tap_group("alpha: first");
  int b = gust_tap_group("beta: second");
  GUST_OK(a && !b, "selection");
  return gust_tap_done();
}

/* The children run before this program makes any check, so that each
 * starts with a fresh TAP producer (a fork inherits the counters). */
static child_out out_mixed, out_nothing, out_plan, out_early, out_group,
    out_cases;

static int child_cases(void);

static void run_children(void) {
  run_child(child_tap_mixed, &out_mixed);
  run_child(child_tap_nothing, &out_nothing);
  run_child(child_tap_plan, &out_plan);
  run_child(child_tap_exit_early, &out_early);
  setenv("GUST_TEST_RUN", "zzz,alph", 1);
  run_child(child_tap_group, &out_group);
  unsetenv("GUST_TEST_RUN");
  run_child(child_cases, &out_cases);
}

static void test_tap(void) {
  child_out c;
  int r;
  c = out_mixed;
  r = IS_INT(c.status, 1, "tap: a program with a failing check exits 1");
  r &= OK(child_has(&c, " - a passing check\n") && child_has(&c, "not ok ") &&
              child_has(&c, " - a failing check\n"),
          "tap: ok and not ok lines");
  r &= OK(child_has(&c, " - an integer _ with a hash\n") &&
              child_has(&c, "#          got: 41\n") &&
              child_has(&c, "#     expected: 42\n"),
          "tap: is_int shows both values, '#' in a name is escaped");
  r &= OK(child_has(&c, "got: 'left'") && child_has(&c, "expected: 'right'"),
          "tap: is_str shows both strings");
  r &= OK(child_has(&c, "first difference at offset 3"),
          "tap: cmp_mem shows the first difference");
  r &= OK(child_has(&c, " # skip no reason\n"), "tap: skipped checks");
  r &= OK(child_has(&c, " - a known failure # TODO not done yet\n"),
          "tap: TODO checks");
  r &= OK(child_has(&c, "# a note\n"), "tap: notes");
  r &= OK(child_has(&c, "# failed 4 of "), "tap: the summary counts failures "
                                           "(TODO excluded)");
  show_child(&c, r);

  c = out_nothing;
  r = IS_INT(c.status, 1, "tap: a program that checks nothing fails");
  r &= OK(child_has(&c, "not ok 1 - the program ran no check\n1..1\n"),
          "tap: ... and says so");
  show_child(&c, r);

  c = out_plan;
  r = IS_INT(c.status, 1, "tap: a plan not met fails");
  r &= OK(child_has(&c, "1..3\n") && child_has(&c, "planned 3 checks but ran"),
          "tap: ... and says so");
  show_child(&c, r);

  c = out_early;
  r = IS_INT(c.status, 1, "tap: exiting before gust_tap_done() fails");
  r &= OK(child_has(&c, " - the program exited before gust_tap_done()"),
          "tap: ... and says so");
  show_child(&c, r);

  c = out_group;
  r = IS_INT(c.status, 0, "tap: GUST_TEST_RUN selects groups by substring");
  r &= OK(child_has(&c, "# alpha: first\n") && !child_has(&c, "beta"),
          "tap: ... and notes the selected ones only");
  show_child(&c, r);
}

/* ------------------------------------------------------------------ */
/* Waits                                                                */
/* ------------------------------------------------------------------ */

static void resolve_cb(gust_loop *loop, void *ud) {
  (void)loop;
  gust_future_set_result((gust_future *)ud, (void *)"done", NULL);
}

/* Exported (the program is linked with -export-dynamic) so that reports
 * can name it. */
void t_testing_named_timer(gust_loop *loop, void *ud);
void t_testing_named_timer(gust_loop *loop, void *ud) {
  (void)loop;
  (void)ud;
}

static void test_wait(void) {
  gust_test *t = new_test("wait");
  gust_future *f;
  int r;
  capture_start();
  IS_INT(gust_future_new(&f, gust_test_loop(t), NULL), 0, "wait: a future");
  gust_loop_call_later(gust_test_loop(t), 0.01, resolve_cb, f, NULL);
  IS_INT(gust_test_wait(t, f), 0, "wait: returns 0 once the future is done");
  IS_STR(gust_future_result(f), "done", "wait: ... with its result");
  IS_INT(gust_test_wait(t, f), 0, "wait: a done future returns at once");
  gust_future_unref(f);
  IS_INT(gust_test_wait(t, NULL), GUST_EINVAL, "wait: no future");
  IS_INT(gust_test_failures(t), 1, "wait: ... is a failure of the test");
  IS_INT(gust_test_finish(t), 1, "wait: finish counts it");
  capture_stop();
  r = OK(has("[wait] wait: gust_test_wait() was given no future"),
         "wait: the report names the test and the mistake");
  show_reports(r);
}

static void test_timeout(void) {
  gust_test *t = new_test("timeout");
  gust_future *f;
  int r;
  capture_start();
  gust_test_set_timeout(t, 0.2);
  gust_test_set_timeout(t, -1); /* ignored */
  OK(gust_test_timeout(t) == 0.2, "timeout: set, a negative value ignored");
  gust_future_new(&f, gust_test_loop(t), NULL);
  gust_loop_call_later(gust_test_loop(t), 30, t_testing_named_timer, NULL,
                       NULL);
  IS_INT(gust_test_wait(t, f), GUST_ETIMEDOUT,
         "timeout: a future never done times out");
  OK(!gust_future_done(f), "timeout: the future is left as it is");
  gust_future_unref(f);
  IS_INT(gust_test_failures(t), 1, "timeout: one failure");
  r = OK(has("[timeout] timeout: timed out after 0.2 s waiting for a future; "
             "still pending on the loop:\n"),
         "timeout: the report says what timed out");
  r &= OK(has("  - timer t_testing_named_timer (0x") && has("due in 29."),
          "timeout: ... and lists the pending timer by name");
  show_reports(r);
  reports[0] = '\0';
  IS_INT(gust_test_finish(t), 2, "timeout: the timer left is one more");
  capture_stop();
  r = OK(has("the test ended with work left on its loop") &&
             has("timer t_testing_named_timer"),
         "timeout: the leftover timer is reported at the end");
  show_reports(r);
}

static int flag_cond(gust_loop *loop, void *ud) {
  (void)loop;
  return *(int *)ud;
}

static void set_flag_cb(gust_loop *loop, void *ud) {
  (void)loop;
  *(int *)ud = 1;
}

static void nested_cb(gust_loop *loop, void *ud) {
  gust_test *t = ud;
  gust_future *f;
  (void)loop;
  gust_future_new(&f, gust_test_loop(t), NULL);
  IS_INT(gust_test_wait(t, f), GUST_EBUSY,
         "nested: a wait inside a callback is refused");
  gust_future_unref(f);
}

static void stop_cb(gust_loop *loop, void *ud) {
  (void)ud;
  gust_loop_stop(loop);
}

static void test_run_until(void) {
  gust_test *t = new_test("run_until");
  gust_future *f;
  int flag = 0, r;
  capture_start();
  gust_loop_call_later(gust_test_loop(t), 0.01, set_flag_cb, &flag, NULL);
  IS_INT(gust_test_run_until(t, flag_cond, &flag, "the flag"), 0,
         "run_until: the condition is met");
  OK(flag, "run_until: ... by the timer");
  IS_INT(gust_test_run_for(t, 0.02), 0, "run_for: runs the loop");
  IS_INT(gust_test_failures(t), 0, "run_until: no failure so far");
  /* Mistakes of the caller. */
  gust_loop_call_soon(gust_test_loop(t), nested_cb, t);
  IS_INT(gust_test_run_for(t, 0.01), 0, "nested: the outer run goes on");
  gust_future_new(&f, gust_test_loop(t), NULL);
  gust_loop_call_soon(gust_test_loop(t), stop_cb, NULL);
  IS_INT(gust_test_wait(t, f), GUST_ELOOPSTOPPED,
         "stopped: gust_loop_stop() ends the wait");
  gust_future_unref(f);
  IS_INT(gust_test_finish(t), 2, "run_until: two failures");
  capture_stop();
  r = OK(has("waiting for a future from inside a callback of the test's "
             "loop (waits do not nest"),
         "nested: reported");
  r &= OK(has("the loop was stopped (gust_loop_stop()) before the wait was "
              "over"),
          "stopped: reported");
  show_reports(r);
}

static int cleanup_order[4];
static int cleanup_n;

static void cleanup_a(void *ud) {
  (void)ud;
  cleanup_order[cleanup_n++] = 1;
}

static void cleanup_b(void *ud) {
  (void)ud;
  cleanup_order[cleanup_n++] = 2;
}

static void test_defer(void) {
  gust_test *t = new_test("defer");
  cleanup_n = 0;
  IS_INT(gust_test_defer(t, cleanup_a, NULL), 0, "defer: one");
  IS_INT(gust_test_defer(t, cleanup_b, NULL), 0, "defer: two");
  IS_INT(gust_test_defer(t, NULL, NULL), GUST_EINVAL, "defer: NULL refused");
  IS_INT(gust_test_finish(t), 0, "defer: a clean test");
  OK(cleanup_n == 2 && cleanup_order[0] == 2 && cleanup_order[1] == 1,
     "defer: cleanups ran last first");
  IS_INT(gust_test_finish(NULL), 0, "finish: NULL");
}

/* ------------------------------------------------------------------ */
/* Mistakes                                                             */
/* ------------------------------------------------------------------ */

static void test_unobserved(void) {
  gust_test *t = new_test("unobserved");
  gust_future *f, *g, *h;
  int r;
  capture_start();
  /* Read: not reported. */
  gust_future_new(&f, gust_test_loop(t), NULL);
  gust_future_set_error(f, GUST_ECONNRESET, "peer went away");
  IS_INT(gust_future_error(f), GUST_ECONNRESET, "unobserved: read error");
  gust_future_unref(f);
  /* Cancelled: not reported. */
  gust_future_new(&f, gust_test_loop(t), NULL);
  gust_future_cancel(f);
  gust_future_unref(f);
  /* Passed on to another future: the first is observed, the second is
   * read. */
  gust_future_new(&f, gust_test_loop(t), NULL);
  gust_future_new(&g, gust_test_loop(t), NULL);
  gust_future_chain(f, g);
  gust_future_set_error(f, GUST_EIO, "disk on fire");
  gust_future_unref(f);
  OK(gust_future_error_message(g) != NULL, "unobserved: chained error read");
  gust_future_unref(g);
  /* A successful future: nothing to look at. */
  gust_future_new(&h, gust_test_loop(t), NULL);
  gust_future_set_result(h, NULL, NULL);
  gust_future_unref(h);
  IS_INT(gust_test_failures(t), 0, "unobserved: nothing reported so far");
  /* Nobody looks. */
  gust_future_new(&f, gust_test_loop(t), NULL);
  gust_future_set_error(f, GUST_ECONNREFUSED, "connect to 127.0.0.1:1 failed");
  gust_future_unref(f);
  IS_INT(gust_test_failures(t), 1, "unobserved: reported when released");
  r = OK(has("[unobserved] unobserved: a future failed with "
             "GUST_ECONNREFUSED (connect to 127.0.0.1:1 failed) and was "
             "released without anyone looking at its error (Future "
             "exception was never retrieved)"),
         "unobserved: the report names the error");
  show_reports(r);
  gust_test_run_for(t, 0);
  IS_INT(gust_test_finish(t), 1, "unobserved: the test failed");
  capture_stop();
}

/* A whole test case that leaks a failed future, run by gust_test_case in
 * a child: the line of the case must say "not ok". */
static void leaky_body(gust_test *t, void *ud) {
  gust_future *f;
  (void)ud;
  gust_future_new(&f, gust_test_loop(t), NULL);
  gust_future_set_error(f, GUST_ETIMEDOUT, NULL);
  gust_test_run_for(t, 0);
  gust_future_unref(f);
}

static void clean_body(gust_test *t, void *ud) {
  gust_future *f;
  (void)ud;
  gust_future_sleep(&f, gust_test_loop(t), 0.001, NULL);
  gust_test_wait(t, f);
  gust_future_unref(f);
}

static int child_cases(void) {
  int a = gust_test_case("clean case", clean_body, NULL);
  int b = gust_test_case("leaky case", leaky_body, NULL);
  GUST_OK(a == 1 && b == 0, "gust_test_case returned 1 and 0");
  return gust_tap_done();
}

static void test_case_child(void) {
  child_out c = out_cases;
  int r;
  r = IS_INT(c.status, 1, "case: a program with a failing case exits 1");
  r &=
      OK(child_has(&c, "# clean case\nok ") && child_has(&c, " - clean case\n"),
         "case: a clean case is ok");
  r &= OK(child_has(&c, "# leaky case\n") && child_has(&c, "not ok ") &&
              child_has(&c, " - leaky case\n"),
          "case: the leaky case is not ok");
  r &= OK(child_has(&c, "# leaky case: a future failed with GUST_ETIMEDOUT "
                        "(operation timed out) and was released without "
                        "anyone looking at its error"),
          "case: the report is a TAP diagnostic");
  r &= OK(child_has(&c, "Failed test case 'leaky case': 1 failure reported by "
                        "the test harness"),
          "case: the failing line says why");
  r &= OK(child_has(&c, " - gust_test_case returned 1 and 0\n"),
          "case: return values");
  show_child(&c, r);
}

static void soon_cb(gust_loop *loop, void *ud) {
  (void)loop;
  (void)ud;
}

static void accept_cb(gust_tcp *server, gust_tcp *conn, int status) {
  (void)server;
  (void)status;
  if (conn != NULL)
    gust_tcp_close(conn, NULL);
}

static void fd_cb(gust_loop *loop, int fd, int events, void *ud) {
  (void)loop;
  (void)fd;
  (void)events;
  (void)ud;
}

static void sig_cb(gust_loop *loop, int signum, void *ud) {
  (void)loop;
  (void)signum;
  (void)ud;
}

static void count_kinds(const gust_test_pending *p, void *ud) {
  int *kinds = ud;
  kinds[p->kind]++;
}

static void test_leftovers(void) {
  gust_test *t = new_test("leftovers");
  gust_tcp *lst[4];
  size_t n = 0;
  int kinds[8] = {0}, pipefd[2], r;
  char line[128];
  capture_start();
  if (pipe(pipefd) != 0)
    gust_tap_bail_out("pipe");
  IS_INT(gust_tcp_listen(gust_test_loop(t), "127.0.0.1", 0, NULL, accept_cb,
                         NULL, lst, 4, &n),
         0, "leftovers: a listener");
  gust_loop_call_later(gust_test_loop(t), 60, t_testing_named_timer, NULL,
                       NULL);
  gust_loop_add_handler(gust_test_loop(t), pipefd[0], GUST_LOOP_READ, fd_cb,
                        NULL);
  gust_loop_add_signal_handler(gust_test_loop(t), SIGUSR2, sig_cb, NULL);
  gust_test_run_for(t, 0);
  gust_loop_call_soon(gust_test_loop(t), soon_cb, NULL);
  IS_INT(gust_test_loop_pending(gust_test_loop(t), count_kinds, kinds), 5,
         "pending: five items");
  OK(kinds[GUST_TEST_PENDING_CALLBACK] == 1 &&
         kinds[GUST_TEST_PENDING_TIMER] == 1 &&
         kinds[GUST_TEST_PENDING_FD] == 1 &&
         kinds[GUST_TEST_PENDING_SIGNAL] == 1 &&
         kinds[GUST_TEST_PENDING_TCP] == 1,
     "pending: one of each kind");
  OK(gust_test_loop_iterations(gust_test_loop(t)) > 0, "pending: the loop ran");
  snprintf(line, sizeof(line), "  - TCP listener fd %d on 127.0.0.1:%d\n",
           gust_tcp_fd(lst[0]), gust_tcp_local_port(lst[0]));
  IS_INT(gust_test_finish(t), 1, "leftovers: one failure for all of them");
  close(pipefd[0]);
  close(pipefd[1]);
  capture_stop();
  r = OK(has("[leftovers] leftovers: the test ended with work left on its "
             "loop (close what it opened, cancel its timers, run the loop "
             "until its callbacks ran); still pending on the loop:\n"),
         "leftovers: reported");
  r &= OK(has(line), "leftovers: the listener with its fd and address");
  r &= OK(has("  - timer t_testing_named_timer (0x"),
          "leftovers: the timer by name");
  r &= OK(has("  - fd handler on fd ") && has(" (read): 0x"),
          "leftovers: the fd handler");
  r &= OK(has("  - signal handler for signal "), "leftovers: the signal");
  r &= OK(!has("  - callback "), "leftovers: the callback ran at teardown");
  show_reports(r);
}

static void test_never_ran(void) {
  gust_test *t = new_test("never ran");
  int r;
  capture_start();
  gust_loop_call_soon(gust_test_loop(t), soon_cb, NULL);
  OK(gust_test_loop_iterations(gust_test_loop(t)) == 0,
     "never ran: no iteration");
  IS_INT(gust_test_finish(t), 1, "never ran: a failure");
  capture_stop();
  r = OK(has("[never ran] never ran: the test never ran its loop (call "
             "gust_test_wait() or another waiting helper); still pending on "
             "the loop:\n  - callback "),
         "never ran: reported with the callback");
  show_reports(r);
  /* A test that schedules nothing may skip the loop. */
  t = new_test("synchronous");
  IS_INT(gust_test_finish(t), 0, "never ran: nothing scheduled is fine");
}

/* ------------------------------------------------------------------ */
/* Certificates                                                         */
/* ------------------------------------------------------------------ */

static size_t move(gust_tls *a, gust_tls *b) {
  size_t moved = 0;
  for (;;) {
    gust_slice s = gust_tls_pending_output(a);
    if (s.len == 0 || gust_tls_feed(b, s.ptr, s.len) != 0)
      break;
    gust_tls_consume_output(a, s.len);
    moved += s.len;
  }
  return moved;
}

/* Handshakes a client of `cctx` for `host` with a server of `sctx` in
 * memory; returns the client's result. */
static int handshake(gust_tls_ctx *cctx, gust_tls_ctx *sctx, const char *host,
                     int *verified) {
  gust_tls *c = NULL, *s = NULL;
  int crc = GUST_EAGAIN, src = GUST_EAGAIN, i;
  if (gust_tls_new(cctx, host, NULL, &c) != 0 ||
      gust_tls_new(sctx, NULL, NULL, &s) != 0)
    gust_tap_bail_out("tls engines");
  for (i = 0; i < 100; i++) {
    size_t moved;
    crc = gust_tls_handshake(c);
    moved = move(c, s);
    src = gust_tls_handshake(s);
    moved += move(s, c);
    if ((crc != GUST_EAGAIN && src != GUST_EAGAIN) || moved == 0)
      break;
  }
  *verified = gust_tls_peer_verified(c);
  gust_tls_free(c);
  gust_tls_free(s);
  return crc;
}

static void test_cert(void) {
  gust_test_cert *a, *b;
  gust_tls_ctx *sa, *ca, *cb;
  gust_slice pem, key;
  int verified = 0;
  gust_failmem fm;
  unsigned long i;
  IS_INT(gust_test_cert_new(&a, NULL), 0, "cert: generated");
  IS_INT(gust_test_cert_new(&b, NULL), 0, "cert: another one");
  pem = gust_test_cert_pem(a);
  key = gust_test_cert_key_pem(a);
  OK(pem.len > 27 && memcmp(pem.ptr, "-----BEGIN CERTIFICATE-----", 27) == 0,
     "cert: PEM certificate");
  OK(key.len > 27 && memcmp(key.ptr, "-----BEGIN PRIVATE KEY-----", 27) == 0,
     "cert: PEM PKCS#8 key");
  OK(!gust_slice_eq(pem, gust_test_cert_pem(b)), "cert: each one is new");
  IS_INT(gust_test_cert_server_ctx(a, NULL, &sa), 0, "cert: server context");
  IS_INT(gust_test_cert_client_ctx(a, NULL, &ca), 0, "cert: client context");
  IS_INT(gust_test_cert_client_ctx(b, NULL, &cb), 0,
         "cert: a client trusting the other one");
  IS_INT(handshake(ca, sa, "127.0.0.1", &verified), 0,
         "cert: handshake for 127.0.0.1");
  OK(verified, "cert: ... verified");
  IS_INT(handshake(ca, sa, "localhost", &verified), 0,
         "cert: handshake for localhost");
  OK(verified, "cert: ... verified");
  IS_INT(handshake(ca, sa, "example.com", &verified), GUST_ETLS_HOSTNAME,
         "cert: another name does not match");
  IS_INT(handshake(cb, sa, "127.0.0.1", &verified), GUST_ETLS_VERIFY,
         "cert: a client trusting another certificate refuses it");
  gust_tls_ctx_free(sa);
  gust_tls_ctx_free(ca);
  gust_tls_ctx_free(cb);
  gust_test_cert_free(a);
  gust_test_cert_free(b);
  gust_test_cert_free(NULL);
  IS_INT(gust_test_cert_new(NULL, NULL), GUST_EINVAL, "cert: NULL out");
  IS_INT(gust_test_cert_server_ctx(NULL, NULL, &sa), GUST_EINVAL,
         "cert: NULL certificate");
  /* Every allocation of ours failing in turn: an error, never a crash or
   * a leak (the TLS library's own allocations are its own). */
  gust_failmem_init(&fm, NULL);
  for (i = 1; i < 20; i++) {
    int rc;
    gust_failmem_reset(&fm, i);
    rc = gust_test_cert_new(&a, &fm.mem);
    if (rc == 0) {
      gust_test_cert_free(a);
      break;
    }
    if (rc != GUST_ENOMEM)
      break;
  }
  OK(i < 20 && fm.live_blocks == 0,
     "cert: out of memory at each allocation is GUST_ENOMEM, no leak");
}

/* ------------------------------------------------------------------ */
/* HTTP                                                                 */
/* ------------------------------------------------------------------ */

static gust_http_request *held;

static void handler(gust_http_request *req, void *ud) {
  const char *path = gust_http_request_path(req);
  (void)ud;
  if (strcmp(path, "/hello") == 0) {
    gust_http_respond(req, 200, "text/plain", "Hello, world", 12);
  } else if (strcmp(path, "/echo") == 0) {
    gust_slice b = gust_http_request_body(req);
    gust_http_respond(req, 200, "application/octet-stream", b.ptr, b.len);
  } else if (strcmp(path, "/scheme") == 0) {
    const char *p = gust_http_request_protocol(req);
    gust_http_respond(req, 200, "text/plain", p, strlen(p));
  } else if (strcmp(path, "/hang") == 0) {
    held = gust_http_request_ref(req); /* never answered */
  } else {
    gust_http_respond(req, 404, "text/plain", "no", 2);
  }
}

static void release_held(void *ud) {
  (void)ud;
  gust_http_request_unref(held);
  held = NULL;
}

static gust_slice body_of(const gust_fetch_response *r) {
  return r != NULL ? gust_fetch_response_body(r) : gust_slice_cstr(NULL);
}

static void http_body(gust_test *t, void *ud) {
  gust_test_server_opts o;
  gust_test_server *s;
  gust_fetch_request req;
  const gust_fetch_response *r;
  char url[64];
  (void)ud;
  memset(&o, 0, sizeof(o));
  o.request_cb = handler;
  if (!IS_INT(gust_test_server_start(t, &o, &s), 0, "http: server started"))
    return;
  OK(gust_test_server_port(s) > 0, "http: on a port");
  OK(gust_test_server_http(s) != NULL, "http: the gust server");
  snprintf(url, sizeof(url), "http://127.0.0.1:%d/a/b?c=d",
           gust_test_server_port(s));
  IS_STR(gust_test_server_url(s, "/a/b?c=d"), url, "http: get_url");
  snprintf(url, sizeof(url), "ws://127.0.0.1:%d/ws", gust_test_server_port(s));
  IS_STR(gust_test_server_ws_url(s, "ws"), url, "http: ws url (no slash)");
  r = gust_test_fetch(s, "/hello", NULL);
  IS_INT(r != NULL ? gust_fetch_response_code(r) : 0, 200, "http: GET 200");
  OK(gust_slice_eq(body_of(r), gust_slice_cstr("Hello, world")), "http: body");
  gust_fetch_request_init(&req, NULL);
  req.method = "POST";
  req.body = "ping";
  req.body_len = 4;
  r = gust_test_fetch(s, "/echo", &req);
  OK(gust_slice_eq(body_of(r), gust_slice_cstr("ping")), "http: POST echo");
  r = gust_test_fetch(s, "/missing", NULL);
  IS_INT(r != NULL ? gust_fetch_response_code(r) : 0, 404,
         "http: a 404 is a response, not a failure");
  r = gust_test_fetch(s, gust_test_server_url(s, "/scheme"), NULL);
  OK(gust_slice_eq(body_of(r), gust_slice_cstr("http")),
     "http: a whole URL is used as it is");
  r = gust_test_fetch_url(t, gust_test_server_url(s, "/hello"), NULL);
  IS_INT(r != NULL ? gust_fetch_response_code(r) : 0, 200, "http: fetch_url");
  /* A request that is never answered ends with the client's timeout,
   * which defaults to the test's. */
  gust_test_set_timeout(t, 0.3);
  gust_test_defer(t, release_held, NULL);
  r = gust_test_fetch(s, "/hang", NULL);
  IS_INT(r != NULL ? gust_fetch_response_code(r) : 0, 599,
         "http: a hanging request times out with 599");
  IS_INT(r != NULL ? gust_fetch_response_error(r) : 0, GUST_ETIMEDOUT,
         "http: ... GUST_ETIMEDOUT");
  gust_test_set_timeout(t, 5);
  IS_INT(gust_test_failures(t), 0, "http: no failure");
}

static void http_refused_body(gust_test *t, void *ud) {
  gust_test_server_opts o;
  gust_test_server *s;
  gust_fetch_request req;
  (void)ud;
  memset(&o, 0, sizeof(o));
  IS_INT(gust_test_server_start(t, &o, &s), GUST_EINVAL,
         "http: a server needs a handler");
  o.request_cb = handler;
  gust_test_server_start(t, &o, &s);
  gust_fetch_request_init(&req, NULL);
  req.method = "GET";
  req.body = "x";
  req.body_len = 1;
  OK(gust_test_fetch(s, "/hello", &req) == NULL,
     "http: a request the client refuses gives NULL");
  OK(gust_test_fetch_url(t, "ftp://example.com/", NULL) == NULL,
     "http: so does a URL it cannot fetch");
}

static void test_http(void) {
  gust_test *t;
  int r;
  t = new_test("http");
  http_body(t, NULL);
  IS_INT(gust_test_finish(t), 0, "http: a clean test");

  capture_start();
  t = new_test("http refused");
  http_refused_body(t, NULL);
  IS_INT(gust_test_finish(t), 4, "http: four failures");
  capture_stop();
  r = OK(has("gust_test_server_start() needs exactly one of request_cb and "
             "start_request"),
         "http: missing handler reported");
  r &= OK(has("the request GET http://127.0.0.1:") &&
              has("/hello was refused: GUST_EINVAL (Body must be None for "
                  "method GET"),
          "http: refused request reported with the client's reason");
  r &= OK(has("the request GET ftp://example.com/ was refused: GUST_EINVAL "
              "(Unsupported url scheme: ftp://example.com/)"),
          "http: refused URL reported");
  r &= OK(has("http refused: the test never ran its loop (call "
              "gust_test_wait() or another waiting helper); still pending on "
              "the loop:\n  - TCP listener fd "),
          "http: a server never fetched from: the loop never ran");
  show_reports(r);
}

static void test_https(void) {
  gust_test *t = new_test("https");
  gust_test_server_opts o;
  gust_test_server *s;
  const gust_fetch_response *r;
  gust_http_client *plain;
  gust_future *f;
  const gust_test_cert *cert;
  gust_tls_ctx *sctx, *cctx;
  char url[64];
  memset(&o, 0, sizeof(o));
  o.request_cb = handler;
  o.https = 1;
  IS_INT(gust_test_server_start(t, &o, &s), 0, "https: server started");
  snprintf(url, sizeof(url), "https://127.0.0.1:%d/x",
           gust_test_server_port(s));
  IS_STR(gust_test_server_url(s, "/x"), url, "https: get_url says https");
  r = gust_test_fetch(s, "/scheme", NULL);
  IS_INT(r != NULL ? gust_fetch_response_code(r) : 0, 200, "https: 200");
  OK(gust_slice_eq(body_of(r), gust_slice_cstr("https")),
     "https: the server saw https");
  IS_INT(gust_test_tls(t, &cert, &sctx, &cctx), 0, "https: the test's TLS");
  OK(cert != NULL && sctx != NULL && cctx != NULL, "https: all three");
  /* A client with the system's trust store refuses the certificate. */
  IS_INT(gust_http_client_new(&plain, gust_test_loop(t), NULL, NULL), 0,
         "https: a plain client");
  gust_http_client_fetch_url(plain, url, &f);
  gust_test_wait(t, f);
  IS_INT(gust_fetch_response_code(gust_fetch_response_of(f)), 599,
         "https: the throwaway certificate is not trusted elsewhere");
  IS_INT(gust_fetch_response_error(gust_fetch_response_of(f)), GUST_ETLS_VERIFY,
         "https: ... GUST_ETLS_VERIFY");
  gust_future_unref(f);
  gust_http_client_free(plain);
  IS_INT(gust_test_finish(t), 0, "https: a clean test");
}

/* ------------------------------------------------------------------ */
/* WebSocket                                                            */
/* ------------------------------------------------------------------ */

static int echo_message(gust_websocket *ws, const gust_websocket_message *m,
                        void *ud, gust_future **wait) {
  (void)ud;
  (void)wait;
  return gust_websocket_write_message(ws, m->data.ptr, m->data.len, m->binary,
                                      NULL);
}

static const gust_websocket_handler echo_handler = {
    .on_message = echo_message,
};

static void test_websocket(int https) {
  static gust_websocket_endpoint ep = {&echo_handler, NULL, NULL};
  const char *name = https ? "wss" : "ws";
  gust_test *t = new_test(name);
  gust_test_server_opts o;
  gust_test_server *s;
  gust_websocket *ws;
  const gust_websocket_message *m;
  int r;
  memset(&o, 0, sizeof(o));
  o.start_request = gust_websocket_start_request;
  o.user_data = &ep;
  o.https = https;
  gust_test_server_start(t, &o, &s);
  ws = gust_test_ws_connect(s, "/echo", NULL);
  if (!OK(ws != NULL, "%s: connected", name)) {
    gust_test_finish(t);
    return;
  }
  gust_websocket_write_message(ws, "hi there", 8, 0, NULL);
  m = gust_test_ws_read(t, ws);
  OK(m != NULL && gust_slice_eq(m->data, gust_slice_cstr("hi there")) &&
         !m->binary,
     "%s: echo", name);
  IS_INT(gust_test_ws_close(t, ws, 1000, "bye"), 0, "%s: closed", name);
  IS_INT(gust_websocket_close_code(ws), 1000, "%s: the server's close code",
         name);
  OK(gust_test_ws_read(t, ws) == NULL, "%s: no message after the close", name);
  IS_INT(gust_test_finish(t), 0, "%s: a clean test", name);

  /* Left open: a mistake, and the connection is dropped. */
  capture_start();
  t = new_test("ws left open");
  gust_test_server_start(t, &o, &s);
  ws = gust_test_ws_connect(s, "/echo", NULL);
  OK(ws != NULL, "%s: connected again", name);
  IS_INT(gust_test_finish(t), 1, "%s: left open is a failure", name);
  capture_stop();
  r = OK(has("the WebSocket connection to ws") &&
             has("/echo is still open at the end of the test (close it with "
                 "gust_test_ws_close())"),
         "%s: reported", name);
  show_reports(r);
}

static int refuse_start(gust_http_server *srv, gust_http_request *req, void *ud,
                        const gust_http_delegate **d, void **ctx) {
  (void)srv;
  (void)ud;
  (void)d;
  (void)ctx;
  gust_http_respond(req, 403, "text/plain", "no", 2);
  return 0;
}

static void test_websocket_refused(void) {
  gust_test *t = new_test("ws refused");
  gust_test_server_opts o;
  gust_test_server *s;
  int r;
  memset(&o, 0, sizeof(o));
  o.start_request = refuse_start;
  capture_start();
  gust_test_server_start(t, &o, &s);
  OK(gust_test_ws_connect(s, "/x", NULL) == NULL,
     "ws refused: NULL when the handshake fails");
  IS_INT(gust_test_finish(t), 1, "ws refused: a failure");
  capture_stop();
  r = OK(has("the WebSocket handshake with ws://127.0.0.1:") &&
             has("/x failed: GUST_EWS_HANDSHAKE (HTTP 403"),
         "ws refused: the reason is reported");
  show_reports(r);
}

/* ------------------------------------------------------------------ */
/* Cases run by the harness itself                                      */
/* ------------------------------------------------------------------ */

static void case_http(gust_test *t, void *ud) { http_body(t, ud); }

int main(void) {
  run_children();
  if (gust_tap_group("tap"))
    test_tap();
  if (gust_tap_group("wait"))
    test_wait();
  if (gust_tap_group("timeout"))
    test_timeout();
  if (gust_tap_group("run_until"))
    test_run_until();
  if (gust_tap_group("defer"))
    test_defer();
  if (gust_tap_group("unobserved"))
    test_unobserved();
  if (gust_tap_group("case"))
    test_case_child();
  if (gust_tap_group("leftovers"))
    test_leftovers();
  if (gust_tap_group("never ran"))
    test_never_ran();
  if (gust_tap_group("cert"))
    test_cert();
  if (gust_tap_group("http"))
    test_http();
  if (gust_tap_group("https"))
    test_https();
  if (gust_tap_group("websocket")) {
    test_websocket(0);
    test_websocket(1);
    test_websocket_refused();
  }
  gust_test_case("case: http under gust_test_case", case_http, NULL);
  return gust_tap_done();
}
