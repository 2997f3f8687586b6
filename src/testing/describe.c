/* Text for what is pending on a loop: the lists in the reports of
 * <gust/testing.h> (timeouts, leftovers at teardown). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1 /* dladdr */
#endif
#include "config.h"

#include <gust/tcp.h>
#include <gust/testing.h>

#include <dlfcn.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>

#include "testing_int.h"

typedef struct describe_state {
  gust_buf *out;
  int rc;
} describe_state;

/* Names a callback: its symbol when the dynamic symbol table has it at
 * exactly this address (static functions are not there: then the object
 * file that holds it). */
static int put_fn(gust_buf *b, void (*fn)(void)) {
  Dl_info info;
  void *addr = (void *)(uintptr_t)fn;
  if (fn == NULL)
    return gust_buf_append_str(b, "(none)");
  memset(&info, 0, sizeof(info));
  if (dladdr(addr, &info) != 0) {
    if (info.dli_sname != NULL && info.dli_saddr == addr)
      return gust_buf_printf(b, "%s (%p)", info.dli_sname, addr);
    if (info.dli_fname != NULL) {
      const char *base = strrchr(info.dli_fname, '/');
      return gust_buf_printf(b, "%p in %s", addr,
                             base != NULL ? base + 1 : info.dli_fname);
    }
  }
  return gust_buf_printf(b, "%p", addr);
}

/* Appends "ADDR:PORT" of the socket's own (peer = 0) or peer's address. */
static int put_addr(gust_buf *b, int fd, int peer) {
  gust_addr a;
  char text[64];
  socklen_t len = sizeof(a.ss);
  memset(&a, 0, sizeof(a));
  if (fd < 0 || (peer ? getpeername(fd, (struct sockaddr *)&a.ss, &len)
                      : getsockname(fd, (struct sockaddr *)&a.ss, &len)) != 0)
    return gust_buf_append_str(b, "?");
  a.len = len;
  if (gust_addr_format(&a, text, sizeof(text)) < 0)
    return gust_buf_append_str(b, "?");
  return gust_buf_printf(b, gust_addr_family(&a) == 6 ? "[%s]:%d" : "%s:%d",
                         text, gust_addr_port(&a));
}

static int put_item(gust_buf *b, const gust_test_pending *p) {
  int rc = gust_buf_append_str(b, "  - ");
  switch (p->kind) {
  case GUST_TEST_PENDING_CALLBACK:
  case GUST_TEST_PENDING_THREADSAFE:
    rc = rc < 0 ? rc
                : gust_buf_append_str(b, p->kind == GUST_TEST_PENDING_CALLBACK
                                             ? "callback "
                                             : "thread-safe callback ");
    rc = rc < 0 ? rc : put_fn(b, p->fn);
    rc = rc < 0 ? rc
                : gust_buf_printf(b, " scheduled (user data %p)", p->user_data);
    break;
  case GUST_TEST_PENDING_TIMER:
    rc = rc < 0 ? rc : gust_buf_append_str(b, "timer ");
    rc = rc < 0 ? rc : put_fn(b, p->fn);
    rc = rc < 0 ? rc
                : gust_buf_printf(b, " due in %.3g s (user data %p)", p->due_in,
                                  p->user_data);
    break;
  case GUST_TEST_PENDING_FD:
    rc = rc < 0 ? rc : gust_buf_printf(b, "fd handler on fd %d (", p->fd);
    rc = rc < 0 ? rc
                : gust_buf_append_str(
                      b, (p->events & GUST_LOOP_READ) != 0 &&
                                 (p->events & GUST_LOOP_WRITE) != 0
                             ? "read and write"
                         : (p->events & GUST_LOOP_READ) != 0  ? "read"
                         : (p->events & GUST_LOOP_WRITE) != 0 ? "write"
                                                              : "paused");
    rc = rc < 0 ? rc : gust_buf_append_str(b, "): ");
    rc = rc < 0 ? rc : put_fn(b, p->fn);
    break;
  case GUST_TEST_PENDING_SIGNAL:
    rc = rc < 0 ? rc
                : gust_buf_printf(b, "signal handler for signal %d (%s): ",
                                  p->signum, strsignal(p->signum));
    rc = rc < 0 ? rc : put_fn(b, p->fn);
    break;
  case GUST_TEST_PENDING_TCP:
    if (p->tcp_listener) {
      rc = rc < 0 ? rc : gust_buf_printf(b, "TCP listener fd %d on ", p->fd);
      rc = rc < 0 ? rc : put_addr(b, p->fd, 0);
    } else {
      rc = rc < 0 ? rc : gust_buf_printf(b, "TCP connection fd %d ", p->fd);
      rc = rc < 0 ? rc : put_addr(b, p->fd, 0);
      rc = rc < 0 ? rc : gust_buf_append_str(b, " -> ");
      rc = rc < 0 ? rc : put_addr(b, p->fd, 1);
    }
    if (p->tcp_closing)
      rc = rc < 0 ? rc : gust_buf_append_str(b, " (closing)");
    break;
  case GUST_TEST_PENDING_WORK:
    rc = rc < 0
             ? rc
             : gust_buf_printf(b, "%zu thread-pool work item%s not completed",
                               p->count, p->count == 1 ? "" : "s");
    break;
  default:
    rc = rc < 0 ? rc : gust_buf_printf(b, "item of kind %d", (int)p->kind);
    break;
  }
  return rc < 0 ? rc : gust_buf_append_byte(b, '\n');
}

static void describe_one(const gust_test_pending *p, void *ud) {
  describe_state *st = ud;
  if (st->rc == 0)
    st->rc = put_item(st->out, p);
}

int gust_test_loop_describe(gust_loop *loop, gust_buf *out) {
  describe_state st;
  size_t n, before;
  if (loop == NULL || out == NULL)
    return GUST_EINVAL;
  before = out->len;
  st.out = out;
  st.rc = 0;
  n = gust_test_loop_pending(loop, describe_one, &st);
  if (st.rc < 0) {
    gust_buf_truncate(out, before);
    return st.rc;
  }
  /* No trailing newline: the caller decides what follows. */
  if (out->len > before && out->ptr[out->len - 1] == '\n')
    gust_buf_truncate(out, out->len - 1);
  return n > (size_t)0x7fffffff ? 0x7fffffff : (int)n;
}
