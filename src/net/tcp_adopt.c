/* Wraps sockets made by the TCP module (pre-bound listeners, connections
 * bound to a source address) into loop handles, through the same backend
 * entry points the loop's own TCP front end uses. */
#include "config.h"

#include <gust/tcp.h>

#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "async/loop_int.h"
#include "net/tcp_int.h"

int gust__tcp_adopt(gust_loop *loop, int fd, int family, gust_tcp **out) {
  gust_tcp *t;
  int rc;
  *out = NULL;
  t = gust__calloc(loop->mem, 1, sizeof(*t));
  if (t == NULL)
    return GUST_ENOMEM;
  t->loop = loop;
  t->mem = loop->mem;
  t->fd = fd;
  t->family = family;
  rc = gust__loop_backend.tcp_open(t);
  if (rc < 0) {
    gust__free(t->mem, t);
    return rc;
  }
  /* Linked only once the backend owns it, so a failure above leaves the
   * loop's list untouched. */
  t->next = loop->tcps;
  if (loop->tcps != NULL)
    loop->tcps->prev = t;
  loop->tcps = t;
  *out = t;
  return 0;
}

int gust__tcp_adopt_listen(gust_tcp *t, int backlog, gust_tcp_accept_cb cb,
                           void *user_data) {
  int rc;
  t->accept_cb = cb;
  t->ud = user_data;
  rc = gust__loop_backend.tcp_listen(t, backlog > 0 ? backlog : 128);
  if (rc == 0)
    t->state = GUST__TCP_LISTENING;
  return rc;
}

int gust__tcp_connect_from(gust_loop *loop, const gust_addr *dst,
                           const gust_addr *src, gust_tcp_connect_cb cb,
                           void *user_data, gust_tcp **out) {
  const struct sockaddr *sa = (const struct sockaddr *)&dst->ss;
  gust_tcp *t;
  int fd, rc, fam = sa->sa_family == AF_INET6 ? 6 : 4;
  *out = NULL;
  if (src->ss.ss_family != sa->sa_family)
    return GUST_EINVAL;
  fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return gust__errno_code(errno);
  if (bind(fd, (const struct sockaddr *)&src->ss, (socklen_t)src->len) != 0) {
    rc = gust__errno_code(errno);
    close(fd);
    return rc;
  }
  rc = gust__tcp_adopt(loop, fd, fam, &t);
  if (rc < 0) {
    close(fd);
    return rc;
  }
  t->ud = user_data;
  t->connect_cb = cb;
  t->state = GUST__TCP_CONNECTING;
  rc = gust__loop_backend.tcp_connect(t, sa, (socklen_t)dst->len);
  if (rc < 0) {
    t->connect_cb = NULL;
    gust_tcp_close(t, NULL);
    return rc;
  }
  *out = t;
  return 0;
}
