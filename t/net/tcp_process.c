/* fork_processes: task ids, clean shutdown, giving up after too many
 * restarts, and a multi-process server sharing pre-bound sockets whose
 * worker killed with SIGKILL is restarted with the same task id.
 *
 * Each case forks a supervisor process that calls gust_fork_processes(),
 * so that this program itself never becomes a worker; workers report
 * "task pid" lines through a pipe. Each group is a gust_test: the parent
 * waits for those lines, for answers and for its children on the test's
 * loop, so that a hang fails with what was pending. */
#include "config.h"

#include <gust/testing.h>

#include <signal.h>
#include <sys/wait.h>

#include "tcp_common.h"

/* Supervisor exit codes. */
enum { SUP_CLEAN = 40, SUP_LIMIT = 41, SUP_OTHER = 42, SUP_SYS = 43 };

static int report_fd = -1;

static void report(int id) {
  char line[64];
  int n = snprintf(line, sizeof(line), "%d %ld\n", id, (long)getpid());
  if (write(report_fd, line, (size_t)n) != n)
    _exit(3);
}

/* The loop of the group that is running (t_run_group()). */
static gust_loop *L;

/* One "task pid" line being read from an fd watched by the loop. */
typedef struct line_reader {
  char line[64];
  size_t n;
  int state; /* 0: reading, 1: a line, -1: end of input, error, or too long */
} line_reader;

/* Takes one byte per readiness: the fd may be blocking, and the handler is
 * level-triggered, so it is called again while more bytes wait. */
static void on_line_byte(gust_loop *loop, int fd, int events, void *ud) {
  line_reader *r = ud;
  char c;
  (void)loop;
  (void)events;
  if (r->state != 0)
    return;
  if (read(fd, &c, 1) != 1)
    r->state = -1;
  else if (c == '\n')
    r->state = 1;
  else if (r->n + 1 >= sizeof(r->line))
    r->state = -1;
  else
    r->line[r->n++] = c;
}

static int line_over(gust_loop *loop, void *ud) {
  (void)loop;
  return ((line_reader *)ud)->state != 0;
}

/* Reads one "task pid" line from `fd`, running the loop meanwhile; 0, or
 * -1 at the end of input (a hang fails the group). */
static int read_report(int fd, int *id, long *pid) {
  line_reader r;
  memset(&r, 0, sizeof(r));
  if (gust_loop_add_handler(L, fd, GUST_LOOP_READ, on_line_byte, &r) != 0)
    bail_out("cannot watch fd %d", fd);
  t_run_until(L, line_over, &r, "a \"task pid\" line");
  gust_loop_remove_handler(L, fd);
  if (r.state != 1)
    return -1;
  r.line[r.n] = '\0';
  return sscanf(r.line, "%d %ld", id, pid) == 2 ? 0 : -1;
}

/* A child being waited for: looked at every 20 ms from a timer (a
 * SIGCHLD handler would be inherited by the supervisors). */
typedef struct child_wait {
  pid_t pid;
  int status;
  int state; /* 0: running, 1: exited (status), -1: waitpid failed */
  gust_timer tick;
} child_wait;

static void child_tick(gust_loop *loop, void *ud) {
  child_wait *w = ud;
  pid_t r = waitpid(w->pid, &w->status, WNOHANG);
  if (r == w->pid)
    w->state = 1;
  else if (r < 0)
    w->state = -1;
  else if (gust_loop_call_later(loop, 0.02, child_tick, w, &w->tick) != 0)
    bail_out("cannot arm a timer");
}

static int child_over(gust_loop *loop, void *ud) {
  (void)loop;
  return ((child_wait *)ud)->state != 0;
}

/* Waits for `pid` on the loop; returns its status, or -1 (a hang, after
 * which the child is killed, fails the group). */
static int wait_child(pid_t pid) {
  child_wait w;
  memset(&w, 0, sizeof(w));
  w.pid = pid;
  if (gust_loop_call_later(L, 0, child_tick, &w, &w.tick) != 0)
    bail_out("cannot arm a timer");
  if (t_run_until(L, child_over, &w, "the supervisor to exit") == 0)
    return w.state == 1 ? w.status : -1;
  gust_loop_cancel(L, w.tick);
  kill(pid, SIGKILL);
  waitpid(pid, &w.status, 0);
  return -1;
}

/* Forks a supervisor running `body`; returns its pid. */
static pid_t spawn(void (*body)(void *), void *arg) {
  pid_t pid = fork();
  if (pid < 0)
    bail_out("fork: %s", strerror(errno));
  if (pid == 0) {
    body(arg);
    _exit(SUP_OTHER);
  }
  return pid;
}

static void supervise(int rc) {
  _exit(rc == 1             ? SUP_CLEAN
        : rc == GUST_ELIMIT ? SUP_LIMIT
        : rc == GUST_ESYS   ? SUP_SYS
                            : SUP_OTHER);
}

/* The supervisor may start two processes and no more (an unprivileged
 * user with RLIMIT_NPROC 3: itself and two workers), so the third fork of
 * four fails: the two workers, which wait for a signal, must be stopped
 * and reaped before the call returns GUST_ESYS. */
static void body_fork_fails(void *arg) {
  struct rlimit rl = {3, 3};
  int id = -1, rc;
  (void)arg;
  if (setgid(65534) != 0 || setuid(65534) != 0 ||
      setrlimit(RLIMIT_NPROC, &rl) != 0)
    _exit(SUP_OTHER);
  rc = gust_fork_processes(4, 5, &id);
  if (rc == 0) {
    report(id);
    for (;;)
      pause();
  }
  /* every worker was reaped: no child is left */
  if (waitpid(-1, NULL, WNOHANG) != -1 || errno != ECHILD)
    _exit(SUP_OTHER);
  supervise(rc);
}

/* Workers report and exit with status 0. */
static void body_clean(void *arg) {
  int id = -1, rc;
  (void)arg;
  rc = gust_fork_processes(3, 5, &id);
  if (rc == 0) {
    report(id);
    _exit(gust_task_id() == id ? 0 : 9);
  }
  supervise(rc);
}

/* Workers always fail: after max_restarts the supervisor gives up. */
static void body_crash(void *arg) {
  int id = -1, rc;
  (void)arg;
  rc = gust_fork_processes(2, 3, &id);
  if (rc == 0) {
    report(id);
    _exit(7);
  }
  supervise(rc);
}

static void test_clean(void) {
  int p[2], id, seen = 0, i, status;
  long pid;
  pid_t sup;
  if (pipe(p) != 0)
    bail_out("pipe");
  report_fd = p[1];
  ok(gust_task_id() == -1, "task id: -1 outside workers");
  sup = spawn(body_clean, NULL);
  close(p[1]);
  for (i = 0; i < 3; i++)
    if (read_report(p[0], &id, &pid) == 0 && id >= 0 && id < 3)
      seen |= 1 << id;
  is_int(seen, 7, "clean: three workers with task ids 0, 1 and 2");
  status = wait_child(sup);
  ok(status >= 0 && WIFEXITED(status) && WEXITSTATUS(status) == SUP_CLEAN,
     "clean: the parent returns 1 once every worker exited with 0");
  close(p[0]);
}

static void test_fork_fails(void) {
  int p[2], id, n = 0, status;
  long pids[4];
  pid_t sup;
  if (geteuid() != 0) {
    ok(!tap_in_ci(), "fork failure: needs root to switch to a user with a "
                     "process limit (skipped outside CI)");
    return;
  }
  if (pipe(p) != 0)
    bail_out("pipe");
  report_fd = p[1];
  sup = spawn(body_fork_fails, NULL);
  close(p[1]);
  status = wait_child(sup);
  ok(status >= 0 && WIFEXITED(status) && WEXITSTATUS(status) == SUP_SYS,
     "fork failure: GUST_ESYS, with no worker left behind (status %d)",
     status >= 0 && WIFEXITED(status) ? WEXITSTATUS(status) : -1);
  while (n < 4 && read_report(p[0], &id, &pids[n]) == 0)
    n++;
  /* (a worker may be stopped before it reported: up to two reports) */
  ok(n <= 2, "fork failure: at most two workers ran (%d reported)", n);
  while (n > 0) {
    n--;
    ok(kill((pid_t)pids[n], 0) != 0 && errno == ESRCH,
       "fork failure: worker %ld is gone", pids[n]);
  }
  close(p[0]);
}

static void test_crash_limit(void) {
  int p[2], id, n = 0, status;
  long pid;
  pid_t sup;
  if (pipe(p) != 0)
    bail_out("pipe");
  report_fd = p[1];
  sup = spawn(body_crash, NULL);
  close(p[1]);
  status = wait_child(sup);
  ok(status >= 0 && WIFEXITED(status) && WEXITSTATUS(status) == SUP_LIMIT,
     "restarts: the parent gives up with GUST_ELIMIT after max_restarts");
  while (read_report(p[0], &id, &pid) == 0)
    n++;
  /* 2 workers + 3 restarts, then the 4th failure exceeds the limit; the
   * restarted workers report before failing. */
  is_int(n, 5, "restarts: two workers plus three restarts ran");
  close(p[0]);
}

/* A multi-process server: workers share the pre-bound socket. */
static int server_fds[4];
static size_t server_nfds;

static void on_term(gust_loop *loop, int signum, void *ud) {
  (void)signum;
  (void)ud;
  gust_loop_stop(loop);
}

static void answered(gust_future *f, void *ud) {
  (void)f;
  gust_iostream_unref(ud);
}

/* Answers "task pid" and closes once the line was sent. */
static void answer(gust_tcp_server *srv, gust_iostream *s,
                   const gust_addr *peer, void *ud) {
  gust_future *w = NULL;
  char line[64];
  int n =
      snprintf(line, sizeof(line), "%d %ld\n", gust_task_id(), (long)getpid());
  (void)srv;
  (void)peer;
  (void)ud;
  if (gust_iostream_write(s, line, (size_t)n, &w) != 0 ||
      gust_future_add_done_callback(w, answered, s) != 0)
    gust_iostream_unref(s);
  gust_future_unref(w);
}

static void body_server(void *arg) {
  gust_loop *loop;
  gust_tcp_server *srv;
  int id = -1, rc;
  (void)arg;
  rc = gust_fork_processes(2, 10, &id);
  if (rc != 0)
    supervise(rc);
  if (gust_loop_new(&loop, NULL) != 0 ||
      gust_tcp_server_new(&srv, loop, NULL, answer, NULL, NULL) != 0 ||
      gust_tcp_server_add_sockets(srv, server_fds, server_nfds) != 0 ||
      gust_loop_add_signal_handler(loop, SIGTERM, on_term, NULL) != 0)
    _exit(5);
  report(id);
  gust_loop_run(loop);
  gust_tcp_server_free(srv);
  gust_loop_remove_signal_handler(loop, SIGTERM);
  gust_loop_free(loop);
  _exit(0);
}

/* Connects to 127.0.0.1:`port` and reads one "task pid" line. */
static int ask(int port, int *id, long *pid) {
  struct sockaddr_in s4;
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), rc;
  memset(&s4, 0, sizeof(s4));
  s4.sin_family = AF_INET;
  s4.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  s4.sin_port = htons((uint16_t)port);
  if (fd < 0 || connect(fd, (struct sockaddr *)&s4, sizeof(s4)) != 0) {
    if (fd >= 0)
      close(fd);
    return -1;
  }
  rc = read_report(fd, id, pid);
  close(fd);
  return rc;
}

static void test_server(void) {
  gust_tcp_listen_opts lo;
  int p[2], id, ids = 0, i, port, status, aid = -1, rc;
  long pid, pids[2] = {0, 0}, newpid = 0, apid = 0;
  pid_t sup;
  struct sockaddr_in s4;
  socklen_t len = sizeof(s4);

  memset(&lo, 0, sizeof(lo));
  lo.family = 4;
  if (gust_tcp_bind_sockets("127.0.0.1", 0, &lo, server_fds, 4, &server_nfds) !=
      0)
    bail_out("bind_sockets");
  getsockname(server_fds[0], (struct sockaddr *)&s4, &len);
  port = ntohs(s4.sin_port);
  if (pipe(p) != 0)
    bail_out("pipe");
  report_fd = p[1];
  sup = spawn(body_server, NULL);
  close(p[1]);
  for (i = 0; i < (int)server_nfds; i++)
    close(server_fds[i]);
  for (i = 0; i < 2; i++)
    if (read_report(p[0], &id, &pid) == 0 && id >= 0 && id < 2) {
      ids |= 1 << id;
      pids[id] = pid;
    }
  is_int(ids, 3, "server: two workers started (task ids 0 and 1)");
  /* (asked first: the name shows the task id that answered) */
  rc = ask(port, &aid, &apid);
  ok(rc == 0 && (apid == pids[0] || apid == pids[1]) && aid >= 0 && aid < 2,
     "server: a worker answers on the shared socket (task %d)", aid);

  if (pids[0] > 0)
    kill((pid_t)pids[0], SIGKILL);
  ok(read_report(p[0], &id, &newpid) == 0 && id == 0 && newpid != pids[0],
     "server: a worker killed with SIGKILL is restarted with its task id");
  pids[0] = newpid;
  for (i = 0; i < 4; i++)
    if (ask(port, &aid, &apid) != 0)
      break;
  is_int(i, 4, "server: still serving after the restart");

  for (i = 0; i < 2; i++)
    if (pids[i] > 0)
      kill((pid_t)pids[i], SIGTERM);
  status = wait_child(sup);
  ok(status >= 0 && WIFEXITED(status) && WEXITSTATUS(status) == SUP_CLEAN,
     "server: after SIGTERM the workers exit cleanly and the parent returns");
  if (status < 0)
    for (i = 0; i < 2; i++)
      if (pids[i] > 0)
        kill((pid_t)pids[i], SIGKILL);
  close(p[0]);
}

int main(void) {
  gust_log_set_level(GUST_LOG_CATEGORY_COUNT_, GUST_LOG_OFF);
  ok(gust_cpu_count() >= 1, "cpu count: at least one (%d)", gust_cpu_count());
  t_run_group("clean", &L, test_clean);
  t_run_group("restart-limit", &L, test_crash_limit);
  t_run_group("fork-fails", &L, test_fork_fails);
  t_run_group("server", &L, test_server);
  return done_testing();
}
