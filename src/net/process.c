/* Tornado's fork_processes: start N workers with fork(), restart the ones
 * that crash, and let the parent return once they all exited cleanly. */
#include "config.h"

#include <gust/tcp.h>

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/base_int.h"

#define DEFAULT_MAX_RESTARTS 100
/* Workers are tracked in a fixed table: supervising allocates nothing. */
#define MAX_WORKERS 1024

static int task_id_ = -1;

int gust_task_id(void) { return task_id_; }

int gust_cpu_count(void) {
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  if (n < 1)
    return 1;
  return n > MAX_WORKERS ? MAX_WORKERS : (int)n;
}

/* Starts worker `id` and records its pid: 0 in the worker (its task id
 * stored in *task_id), 1 in the parent, GUST_ESYS (logged) if fork()
 * failed. */
static int spawn(int id, pid_t *pids, int *task_id) {
  pid_t pid = fork();
  if (pid == 0) {
    task_id_ = id;
    if (task_id != NULL)
      *task_id = id;
    return 0;
  }
  if (pid < 0) {
    gust_log(GUST_LOG_GENERAL, GUST_LOG_ERROR, "fork failed: %s",
             strerror(errno));
    return GUST_ESYS;
  }
  pids[id] = pid;
  return 1;
}

/* A fork failed: the parent is about to return, so nobody would supervise
 * the workers already running. They get SIGTERM (SIGKILL after 5 s) and
 * are reaped. */
static void stop_workers(pid_t *pids, int num) {
  int id, waited;
  for (id = 0; id < num; id++)
    if (pids[id] > 0)
      kill(pids[id], SIGTERM);
  for (id = 0; id < num; id++) {
    if (pids[id] <= 0)
      continue;
    for (waited = 0; waited < 500; waited++) {
      pid_t r = waitpid(pids[id], NULL, WNOHANG);
      if (r == pids[id] || (r < 0 && errno != EINTR))
        break;
      usleep(10000);
    }
    if (waited == 500) {
      kill(pids[id], SIGKILL);
      while (waitpid(pids[id], NULL, 0) < 0 && errno == EINTR)
        ;
    }
    pids[id] = 0;
  }
}

int gust_fork_processes(int num, int max_restarts, int *task_id) {
  pid_t pids[MAX_WORKERS];
  int i, live = 0, restarts = 0;
  if (num <= 0)
    num = gust_cpu_count();
  if (num > MAX_WORKERS)
    num = MAX_WORKERS;
  if (max_restarts < 0)
    max_restarts = DEFAULT_MAX_RESTARTS;
  gust_log(GUST_LOG_GENERAL, GUST_LOG_INFO, "Starting %d processes", num);
  memset(pids, 0, sizeof(pids));
  for (i = 0; i < num; i++) {
    int rc = spawn(i, pids, task_id);
    if (rc == 0)
      return 0;
    if (rc < 0) {
      stop_workers(pids, num);
      return rc;
    }
    live++;
  }
  while (live > 0) {
    int status, id, rc;
    pid_t pid = waitpid(-1, &status, 0);
    if (pid < 0) {
      if (errno == EINTR)
        continue;
      return GUST_ESYS; /* ECHILD: someone else reaped our workers */
    }
    for (id = 0; id < num; id++)
      if (pids[id] == pid)
        break;
    if (id == num)
      continue; /* not a worker of ours */
    pids[id] = 0;
    live--;
    if (WIFSIGNALED(status)) {
      gust_log(GUST_LOG_GENERAL, GUST_LOG_WARNING,
               "child %d (pid %ld) killed by signal %d, restarting", id,
               (long)pid, WTERMSIG(status));
    } else if (WIFEXITED(status) && WEXITSTATUS(status) != 0) {
      gust_log(GUST_LOG_GENERAL, GUST_LOG_WARNING,
               "child %d (pid %ld) exited with status %d, restarting", id,
               (long)pid, WEXITSTATUS(status));
    } else {
      gust_log(GUST_LOG_GENERAL, GUST_LOG_INFO,
               "child %d (pid %ld) exited normally", id, (long)pid);
      continue;
    }
    if (++restarts > max_restarts) {
      gust_log(GUST_LOG_GENERAL, GUST_LOG_ERROR,
               "Too many child restarts, giving up");
      return GUST_ELIMIT;
    }
    rc = spawn(id, pids, task_id);
    if (rc == 0)
      return 0;
    if (rc < 0) {
      stop_workers(pids, num);
      return rc;
    }
    live++;
  }
  return 1;
}
