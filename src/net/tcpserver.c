/* Tornado's TCPServer: listeners made here or handed in as bound sockets,
 * an accept loop that wraps each connection into a stream (plain or TLS)
 * for the application's callback, and stop. Also bind_sockets, for
 * listeners shared by forked workers. */
#include "config.h"

#include <gust/tcp.h>

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
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
  size_t n = 0;
  int rc = gust__tcp_bind_fds(host, port, lopts, fds, NULL, max, &n);
  if (count != NULL)
    *count = n;
  return rc;
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
