/* Tornado's TCPServer: listeners made here or handed in as bound sockets,
 * an accept loop that wraps each connection into a stream (plain or TLS)
 * for the application's callback, and stop. Also bind_sockets, for
 * listeners shared by forked workers. */
#include "config.h"

#include <gust/tcp.h>

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "async/loop_int.h"
#include "base/base_int.h"
#include "net/tcp_int.h"

struct gust_tcp_server {
  gust_loop *loop;
  const gust_mem *mem;
  gust_tls_ctx *tls;
  int have_sopts;
  gust_iostream_opts sopts;
  gust_tcp_stream_cb cb;
  void *ud;
  gust_tcp **ls; /* listeners */
  size_t nls, cap;
  int stopped;
};

int gust_tcp_server_new(gust_tcp_server **out, gust_loop *loop,
                        const gust_tcp_server_opts *opts, gust_tcp_stream_cb cb,
                        void *user_data, const gust_mem *mem) {
  gust_tcp_server *srv;
  if (out == NULL)
    return GUST_EINVAL;
  *out = NULL;
  if (loop == NULL || cb == NULL)
    return GUST_EINVAL;
  mem = gust__mem(mem);
  srv = gust__calloc(mem, 1, sizeof(*srv));
  if (srv == NULL)
    return GUST_ENOMEM;
  srv->loop = loop;
  srv->mem = mem;
  srv->cb = cb;
  srv->ud = user_data;
  if (opts != NULL) {
    srv->tls = opts->tls;
    if (opts->stream != NULL) {
      srv->sopts = *opts->stream;
      srv->have_sopts = 1;
    }
  }
  *out = srv;
  return 0;
}

static void on_accept(gust_tcp *listener, gust_tcp *conn, int status) {
  gust_tcp_server *srv = gust_tcp_data(listener);
  const gust_iostream_opts *so = srv->have_sopts ? &srv->sopts : NULL;
  gust_iostream *s = NULL;
  gust_addr peer;
  socklen_t len = sizeof(peer.ss);
  int rc;
  if (status < 0) {
    /* The listener goes on; a full fd table (GUST_EMFILE) clears up as
     * connections close. */
    gust_log(GUST_LOG_GENERAL, GUST_LOG_WARNING,
             "Error accepting connection: %s", gust_strerror(status));
    return;
  }
  if (srv->stopped) {
    gust_tcp_close(conn, NULL);
    return;
  }
  memset(&peer, 0, sizeof(peer));
  if (getpeername(gust_tcp_fd(conn), (struct sockaddr *)&peer.ss, &len) != 0) {
    /* Reset before we got to it: nothing to hand out. */
    gust_tcp_close(conn, NULL);
    return;
  }
  peer.len = len;
  if (srv->tls != NULL)
    rc = gust_iostream_new_tls(&s, conn, srv->tls, NULL, so, srv->mem);
  else
    rc = gust_iostream_new(&s, conn, so, srv->mem);
  if (rc < 0) {
    gust_log(GUST_LOG_GENERAL, GUST_LOG_WARNING,
             "Cannot set up a stream for a new connection: %s",
             gust_strerror(rc));
    gust_tcp_close(conn, NULL);
    return;
  }
  srv->cb(srv, s, &peer, srv->ud);
}

/* Makes room for `n` more listeners. */
static int reserve(gust_tcp_server *srv, size_t n) {
  gust_tcp **v;
  size_t cap;
  if (srv->nls + n <= srv->cap)
    return 0;
  cap = srv->cap ? srv->cap : 4;
  while (cap < srv->nls + n)
    cap *= 2;
  v = gust__realloc(srv->mem, srv->ls, cap * sizeof(*v));
  if (v == NULL)
    return GUST_ENOMEM;
  srv->ls = v;
  srv->cap = cap;
  return 0;
}

int gust_tcp_server_listen(gust_tcp_server *srv, const char *host, int port,
                           const gust_tcp_listen_opts *lopts) {
  gust_tcp *tmp[16];
  size_t n = 0, i;
  int rc;
  if (srv == NULL)
    return GUST_EINVAL;
  if (srv->stopped)
    return GUST_ESTATE;
  rc = reserve(srv, 16);
  if (rc < 0)
    return rc;
  rc = gust_tcp_listen(srv->loop, host, port, lopts, on_accept, srv, tmp, 16,
                       &n);
  if (rc < 0)
    return rc;
  for (i = 0; i < n; i++)
    srv->ls[srv->nls++] = tmp[i];
  return 0;
}

int gust_tcp_bind_sockets(const char *host, int port,
                          const gust_tcp_listen_opts *lopts, int *fds,
                          size_t max, size_t *count) {
  struct addrinfo hints, *res = NULL, *ai;
  char service[16];
  int rc, backlog = 128, bound_port = 0, one = 1;
  size_t n = 0, i;
  if (count != NULL)
    *count = 0;
  if (fds == NULL || max == 0 || port < 0 || port > 65535)
    return GUST_EINVAL;
  memset(&hints, 0, sizeof(hints));
  hints.ai_family = AF_UNSPEC;
  if (lopts != NULL) {
    if (lopts->backlog > 0)
      backlog = lopts->backlog;
    if (lopts->family == 4)
      hints.ai_family = AF_INET;
    else if (lopts->family == 6)
      hints.ai_family = AF_INET6;
    else if (lopts->family != 0)
      return GUST_EINVAL;
#ifndef SO_REUSEPORT
    if (lopts->reuse_port)
      return GUST_ENOTSUP;
#endif
  }
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_ADDRCONFIG;
  if (host != NULL && host[0] == '\0')
    host = NULL;
  snprintf(service, sizeof(service), "%d", port);
  rc = getaddrinfo(host, service, &hints, &res);
  if (rc != 0 && rc != EAI_MEMORY && host == NULL) {
    /* AI_ADDRCONFIG finds nothing on a host with loopback only. */
    hints.ai_flags = AI_PASSIVE;
    rc = getaddrinfo(host, service, &hints, &res);
  }
  if (rc != 0)
    return rc == EAI_MEMORY ? GUST_ENOMEM : GUST_ERESOLVE;

  rc = 0;
  for (ai = res; ai != NULL && n < max; ai = ai->ai_next) {
    struct addrinfo *p;
    int fd, dup = 0;
    if (ai->ai_family != AF_INET && ai->ai_family != AF_INET6)
      continue;
    for (p = res; p != ai; p = p->ai_next)
      if (p->ai_addrlen == ai->ai_addrlen &&
          memcmp(p->ai_addr, ai->ai_addr, ai->ai_addrlen) == 0)
        dup = 1;
    if (dup)
      continue;
    fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      if (errno == EAFNOSUPPORT)
        continue; /* a family the kernel lacks, as bind_sockets */
      rc = gust__errno_code(errno);
      break;
    }
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
#ifdef SO_REUSEPORT
    if (lopts != NULL && lopts->reuse_port &&
        setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) != 0) {
      rc = gust__errno_code(errno);
      close(fd);
      break;
    }
#endif
    if (ai->ai_family == AF_INET6)
      setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
    if (port == 0 && bound_port != 0) {
      if (ai->ai_family == AF_INET)
        ((struct sockaddr_in *)ai->ai_addr)->sin_port =
            htons((uint16_t)bound_port);
      else
        ((struct sockaddr_in6 *)ai->ai_addr)->sin6_port =
            htons((uint16_t)bound_port);
    }
    if (bind(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
      int err = errno;
      close(fd);
      if (err == EADDRNOTAVAIL && ai->ai_family == AF_INET6)
        continue; /* IPv6 switched off, yet listed */
      rc = gust__errno_code(err);
      break;
    }
    if (listen(fd, backlog) != 0) {
      rc = gust__errno_code(errno);
      close(fd);
      break;
    }
    fds[n++] = fd;
    if (bound_port == 0) {
      struct sockaddr_storage ss;
      socklen_t len = sizeof(ss);
      if (getsockname(fd, (struct sockaddr *)&ss, &len) == 0)
        bound_port = ntohs(ss.ss_family == AF_INET6
                               ? ((struct sockaddr_in6 *)&ss)->sin6_port
                               : ((struct sockaddr_in *)&ss)->sin_port);
    }
  }
  freeaddrinfo(res);
  if (rc == 0 && n == 0)
    rc = GUST_EADDRNOTAVAIL;
  if (rc < 0) {
    for (i = 0; i < n; i++)
      close(fds[i]);
    return rc;
  }
  if (count != NULL)
    *count = n;
  return 0;
}

int gust_tcp_server_add_sockets(gust_tcp_server *srv, const int *fds,
                                size_t n) {
  size_t i, added = 0;
  int rc = 0;
  if (srv == NULL || (fds == NULL && n > 0))
    return GUST_EINVAL;
  if (srv->stopped)
    return GUST_ESTATE;
  rc = reserve(srv, n);
  if (rc < 0)
    return rc;
  for (i = 0; i < n; i++) {
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    int type = 0, fd;
    socklen_t tlen = sizeof(type);
    gust_tcp *t;
    if (fds[i] < 0 || getsockname(fds[i], (struct sockaddr *)&ss, &len) != 0 ||
        (ss.ss_family != AF_INET && ss.ss_family != AF_INET6) ||
        getsockopt(fds[i], SOL_SOCKET, SO_TYPE, &type, &tlen) != 0 ||
        type != SOCK_STREAM) {
      rc = GUST_EINVAL;
      break;
    }
    /* A duplicate is adopted, so that on failure the caller's fds are
     * untouched; they are closed once every one is accepting. */
    fd = fcntl(fds[i], F_DUPFD_CLOEXEC, 0);
    if (fd < 0) {
      rc = gust__errno_code(errno);
      break;
    }
    if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) != 0) {
      rc = gust__errno_code(errno);
      close(fd);
      break;
    }
    rc = gust__tcp_adopt(srv->loop, fd, ss.ss_family == AF_INET6 ? 6 : 4, &t);
    if (rc < 0) {
      close(fd);
      break;
    }
    srv->ls[srv->nls + added++] = t;
    rc = gust__tcp_adopt_listen(t, 0, on_accept, srv);
    if (rc < 0)
      break;
  }
  if (rc < 0) {
    for (i = 0; i < added; i++)
      gust_tcp_close(srv->ls[srv->nls + i], NULL);
    return rc;
  }
  srv->nls += added;
  for (i = 0; i < n; i++)
    close(fds[i]);
  return 0;
}

int gust_tcp_server_port(const gust_tcp_server *srv) {
  if (srv == NULL || srv->nls == 0)
    return GUST_ESTATE;
  return gust_tcp_local_port(srv->ls[0]);
}

size_t gust_tcp_server_listener_count(const gust_tcp_server *srv) {
  return srv != NULL ? srv->nls : 0;
}

void gust_tcp_server_stop(gust_tcp_server *srv) {
  size_t i;
  if (srv == NULL || srv->stopped)
    return;
  srv->stopped = 1;
  for (i = 0; i < srv->nls; i++)
    gust_tcp_close(srv->ls[i], NULL);
  srv->nls = 0;
}

void gust_tcp_server_free(gust_tcp_server *srv) {
  if (srv == NULL)
    return;
  gust_tcp_server_stop(srv);
  gust__free(srv->mem, srv->ls);
  gust__free(srv->mem, srv);
}
