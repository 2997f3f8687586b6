/* The backend-independent half of TCP handles: socket creation, binding as
 * Tornado's bind_sockets does, option setting, argument checks, the write
 * queue and the callbacks' bookkeeping. */
/* IOV_MAX and MSG_NOSIGNAL. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif
#include "config.h"

#include <gust/loop.h>

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "loop_int.h"

static gust_tcp *tcp_alloc(gust_loop *loop) {
  gust_tcp *t = gust__calloc(loop->mem, 1, sizeof(*t));
  if (t == NULL)
    return NULL;
  t->loop = loop;
  t->mem = loop->mem;
  t->fd = -1;
  t->next = loop->tcps;
  if (loop->tcps != NULL)
    loop->tcps->prev = t;
  loop->tcps = t;
  return t;
}

static void tcp_unlink(gust_tcp *t) {
  gust_loop *loop = t->loop;
  if (t->prev != NULL)
    t->prev->next = t->next;
  else if (loop->tcps == t)
    loop->tcps = t->next;
  if (t->next != NULL)
    t->next->prev = t->prev;
  t->prev = t->next = NULL;
}

/* Frees a handle that the backend never adopted. */
static void tcp_discard(gust_tcp *t) {
  tcp_unlink(t);
  if (t->fd >= 0)
    close(t->fd);
  gust__free(t->mem, t);
}

static int new_socket(int family) {
  int fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return gust__errno_code(errno);
  return fd;
}

/* ------------------------------------------------------------------ */
/* Listening                                                            */
/* ------------------------------------------------------------------ */

int gust__tcp_bind_fds(const char *host, int port,
                       const gust_tcp_listen_opts *opts, int *fds,
                       int *families, size_t max, size_t *count) {
  struct addrinfo hints, *res = NULL, *ai;
  char portbuf[16];
  int rc, backlog = 128, bound_port = 0, one = 1;
  size_t n = 0, i;
  *count = 0;
  if (fds == NULL || max == 0 || port < 0 || port > 65535)
    return GUST_EINVAL;
  if (opts != NULL && opts->backlog > 0)
    backlog = opts->backlog;
  memset(&hints, 0, sizeof(hints));
  hints.ai_family = AF_UNSPEC;
  if (opts != NULL && opts->family == 4)
    hints.ai_family = AF_INET;
  else if (opts != NULL && opts->family == 6)
    hints.ai_family = AF_INET6;
  else if (opts != NULL && opts->family != 0)
    return GUST_EINVAL;
#ifndef SO_REUSEPORT
  if (opts != NULL && opts->reuse_port)
    return GUST_ENOTSUP;
#endif
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_ADDRCONFIG;
  if (host != NULL && host[0] == '\0')
    host = NULL;
  snprintf(portbuf, sizeof(portbuf), "%d", port);
  rc = getaddrinfo(host, portbuf, &hints, &res);
  if (rc == EAI_MEMORY)
    return GUST_ENOMEM;
  if (rc != 0 && host == NULL) {
    /* AI_ADDRCONFIG finds nothing on a host with loopback only. */
    hints.ai_flags = AI_PASSIVE;
    rc = getaddrinfo(host, portbuf, &hints, &res);
  }
  if (rc != 0)
    return rc == EAI_MEMORY ? GUST_ENOMEM : GUST_ERESOLVE;

  rc = 0;
  for (ai = res; ai != NULL && n < max; ai = ai->ai_next) {
    struct addrinfo *prev;
    int fd, dup = 0;
    if (ai->ai_family != AF_INET && ai->ai_family != AF_INET6)
      continue;
    /* getaddrinfo may list an address twice (one per protocol). */
    for (prev = res; prev != ai; prev = prev->ai_next)
      if (prev->ai_addrlen == ai->ai_addrlen &&
          memcmp(prev->ai_addr, ai->ai_addr, ai->ai_addrlen) == 0)
        dup = 1;
    if (dup)
      continue;
    fd = new_socket(ai->ai_family);
    if (fd < 0) {
      /* An address family the kernel lacks is skipped, as bind_sockets. */
      if (fd == GUST_ENOTSUP)
        continue;
      rc = fd;
      break;
    }
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
#ifdef SO_REUSEPORT
    if (opts != NULL && opts->reuse_port &&
        setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) != 0) {
      rc = gust__errno_code(errno);
      close(fd);
      break;
    }
#endif
    if (ai->ai_family == AF_INET6)
      setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
    /* With port 0, later sockets reuse the port the first one got. */
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
      /* A host with IPv6 switched off still lists ::1 for "localhost":
       * skip that address, as bind_sockets does. */
      if (err == EADDRNOTAVAIL && ai->ai_family == AF_INET6)
        continue;
      rc = gust__errno_code(err);
      break;
    }
    if (listen(fd, backlog) != 0) {
      rc = gust__errno_code(errno);
      close(fd);
      break;
    }
    if (families != NULL)
      families[n] = ai->ai_family == AF_INET6 ? 6 : 4;
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
  *count = n;
  return 0;
}

/* At most this many listeners come from one gust_tcp_listen() call. */
#define LISTEN_MAX 64

int gust_tcp_listen(gust_loop *loop, const char *host, int port,
                    const gust_tcp_listen_opts *opts, gust_tcp_accept_cb cb,
                    void *user_data, gust_tcp **out, size_t max,
                    size_t *count) {
  int fds[LISTEN_MAX], fams[LISTEN_MAX];
  int rc, backlog = 128;
  size_t nfd = 0, n = 0, i;
  if (count != NULL)
    *count = 0;
  if (loop == NULL || cb == NULL || out == NULL || max == 0)
    return GUST_EINVAL;
  if (opts != NULL && opts->backlog > 0)
    backlog = opts->backlog;
  rc = gust__tcp_bind_fds(host, port, opts, fds, fams,
                          max < LISTEN_MAX ? max : LISTEN_MAX, &nfd);
  if (rc < 0)
    return rc;
  for (i = 0; i < nfd; i++) {
    gust_tcp *t = tcp_alloc(loop);
    if (t == NULL) {
      rc = GUST_ENOMEM;
      break;
    }
    t->fd = fds[i];
    t->family = fams[i];
    t->accept_cb = cb;
    t->ud = user_data;
    rc = gust__loop_backend.tcp_open(t);
    if (rc < 0) {
      tcp_discard(t);
      i++; /* tcp_discard closed this fd */
      break;
    }
    out[n++] = t;
    rc = gust__loop_backend.tcp_listen(t, backlog);
    if (rc < 0) {
      i++;
      break;
    }
    t->state = GUST__TCP_LISTENING;
  }
  if (rc < 0) {
    /* fds not handed to a handle yet are closed here, handles below. */
    for (; i < nfd; i++)
      close(fds[i]);
    for (i = 0; i < n; i++) {
      gust_tcp_close(out[i], NULL);
      out[i] = NULL;
    }
    return rc;
  }
  if (count != NULL)
    *count = n;
  return 0;
}

int gust__tcp_on_connection(gust_tcp *server, int status) {
  gust_loop *loop = server->loop;
  gust_tcp *c;
  int rc;
  if (server->closing)
    return GUST_ECLOSED;
  if (status < 0) {
    server->accept_cb(server, NULL, status);
    return status;
  }
  c = tcp_alloc(loop);
  if (c == NULL) {
    server->accept_cb(server, NULL, GUST_ENOMEM);
    return GUST_ENOMEM;
  }
  c->family = server->family;
  rc = gust__loop_backend.tcp_accept(server, c);
  if (rc < 0) {
    tcp_unlink(c);
    gust__free(c->mem, c);
    if (rc != GUST_EAGAIN)
      server->accept_cb(server, NULL, rc);
    return rc;
  }
  c->state = GUST__TCP_CONNECTED;
  server->accept_cb(server, c, 0);
  return 0;
}

/* ------------------------------------------------------------------ */
/* Connecting                                                           */
/* ------------------------------------------------------------------ */

static void connect_timeout(gust_loop *loop, void *ud) {
  gust_tcp *t = ud;
  GUST__UNUSED(loop);
  t->connect_timer = (gust_timer){NULL, 0};
  gust__tcp_on_connect(t, GUST_ETIMEDOUT);
}

void gust__tcp_on_connect(gust_tcp *t, int status) {
  gust_tcp_connect_cb cb;
  /* The connect fields share storage with other kinds' fields: they only
   * mean something while connecting. */
  if (t->state != GUST__TCP_CONNECTING || t->connect_cb == NULL)
    return; /* not a connecting handle, or already reported (timeout) */
  cb = t->connect_cb;
  t->connect_cb = NULL;
  if (t->orphan)
    return; /* the loop and its timers are gone */
  gust_loop_cancel(t->loop, t->connect_timer);
  t->connect_timer = (gust_timer){NULL, 0};
  if (status == 0 && !t->closing)
    t->state = GUST__TCP_CONNECTED;
  cb(t, status);
}

int gust_tcp_connect_addr(gust_loop *loop, const void *addr, size_t addrlen,
                          double timeout, gust_tcp_connect_cb cb,
                          void *user_data, gust_tcp **out) {
  const struct sockaddr *sa = addr;
  gust_tcp *t;
  int fd, rc;
  if (out != NULL)
    *out = NULL;
  if (loop == NULL || sa == NULL || cb == NULL || out == NULL ||
      addrlen < sizeof(struct sockaddr_in) ||
      (sa->sa_family != AF_INET && sa->sa_family != AF_INET6) ||
      (sa->sa_family == AF_INET6 && addrlen < sizeof(struct sockaddr_in6)))
    return GUST_EINVAL;
  fd = new_socket(sa->sa_family);
  if (fd < 0)
    return fd;
  t = tcp_alloc(loop);
  if (t == NULL) {
    close(fd);
    return GUST_ENOMEM;
  }
  t->fd = fd;
  t->family = sa->sa_family == AF_INET6 ? 6 : 4;
  t->ud = user_data;
  rc = gust__loop_backend.tcp_open(t);
  if (rc < 0) {
    tcp_discard(t);
    return rc;
  }
  /* Connecting from here on, so that the connect fields are the live ones
   * before the timer is stored in them. */
  t->state = GUST__TCP_CONNECTING;
  if (timeout > 0) {
    rc = gust_loop_call_later(loop, timeout, connect_timeout, t,
                              &t->connect_timer);
    if (rc < 0) {
      gust_tcp_close(t, NULL);
      return rc;
    }
  }
  t->connect_cb = cb;
  rc = gust__loop_backend.tcp_connect(t, sa, (socklen_t)addrlen);
  if (rc < 0) {
    t->connect_cb = NULL;
    gust_loop_cancel(loop, t->connect_timer);
    gust_tcp_close(t, NULL);
    return rc;
  }
  *out = t;
  return 0;
}

int gust_tcp_connect(gust_loop *loop, const char *ip, int port, double timeout,
                     gust_tcp_connect_cb cb, void *user_data, gust_tcp **out) {
  struct sockaddr_in6 s6;
  struct sockaddr_in s4;
  if (out != NULL)
    *out = NULL;
  if (ip == NULL || port <= 0 || port > 65535)
    return GUST_EINVAL;
  memset(&s4, 0, sizeof(s4));
  memset(&s6, 0, sizeof(s6));
  if (inet_pton(AF_INET, ip, &s4.sin_addr) == 1) {
    s4.sin_family = AF_INET;
    s4.sin_port = htons((uint16_t)port);
    return gust_tcp_connect_addr(loop, &s4, sizeof(s4), timeout, cb, user_data,
                                 out);
  }
  if (inet_pton(AF_INET6, ip, &s6.sin6_addr) == 1) {
    s6.sin6_family = AF_INET6;
    s6.sin6_port = htons((uint16_t)port);
    return gust_tcp_connect_addr(loop, &s6, sizeof(s6), timeout, cb, user_data,
                                 out);
  }
  return GUST_EINVAL;
}

/* ------------------------------------------------------------------ */
/* Reading and writing                                                  */
/* ------------------------------------------------------------------ */

int gust_tcp_read_start(gust_tcp *tcp, gust_tcp_alloc_cb alloc_cb,
                        gust_tcp_read_cb read_cb) {
  int rc;
  if (tcp == NULL || alloc_cb == NULL || read_cb == NULL)
    return GUST_EINVAL;
  if (tcp->closing || tcp->state != GUST__TCP_CONNECTED)
    return GUST_ESTATE;
  if (tcp->reading)
    return GUST_EBUSY;
  tcp->alloc_cb = alloc_cb;
  tcp->read_cb = read_cb;
  rc = gust__loop_backend.tcp_read_start(tcp);
  if (rc == 0)
    tcp->reading = 1;
  return rc;
}

void gust__tcp_set_reader(gust_tcp *t, gust_tcp_alloc_cb alloc_cb,
                          gust_tcp_read_cb read_cb, void *user_data) {
  /* Reading implies GUST__TCP_CONNECTED and not closing (closing clears
   * t->reading): the read callbacks are the live member of the union. The
   * backends look the callbacks up at each alloc and read, so the read
   * goes on unchanged and the next one reaches the new owner. */
  if (t == NULL || !t->reading || alloc_cb == NULL || read_cb == NULL)
    return;
  t->alloc_cb = alloc_cb;
  t->read_cb = read_cb;
  t->ud = user_data;
}

int gust_tcp_read_stop(gust_tcp *tcp) {
  if (tcp == NULL)
    return GUST_EINVAL;
  if (tcp->reading && !tcp->closing)
    gust__loop_backend.tcp_read_stop(tcp);
  tcp->reading = 0;
  return 0;
}

int gust_tcp_write(gust_tcp *tcp, const gust_vec *vec, size_t n,
                   gust_tcp_write_cb cb, void *user_data) {
  gust__wreq *w;
  size_t total, i, size;
  int rc;
  if (tcp == NULL || (vec == NULL && n > 0))
    return GUST_EINVAL;
  if (tcp->closing || tcp->shut || tcp->state != GUST__TCP_CONNECTED)
    return GUST_ESTATE;
  total = gust_vec_total(vec, n);
  if (total == SIZE_MAX)
    return GUST_EOVERFLOW;
  if (n > (SIZE_MAX - sizeof(*w)) / sizeof(gust_vec))
    return GUST_EOVERFLOW;
  size = sizeof(*w) + (n > 0 ? n - 1 : 0) * sizeof(gust_vec);
  w = gust__malloc(tcp->mem, size);
  if (w == NULL)
    return GUST_ENOMEM;
  memset(w, 0, sizeof(*w));
  for (i = 0; i < n; i++)
    w->vecs[i] = vec[i];
  w->vec = w->vecs;
  /* An empty write is one empty vector: it still completes in order. */
  w->n = n > 0 ? n : 1;
  w->left = total;
  w->cb = cb;
  w->ud = user_data;
  if (tcp->wq_tail != NULL)
    tcp->wq_tail->next = w;
  else
    tcp->wq_head = w;
  tcp->wq_tail = w;
  tcp->wq_bytes += total;
  rc = gust__loop_backend.tcp_write(tcp, w);
  if (rc < 0) {
    /* Unqueue it again: it is the tail. */
    gust__wreq **pp = &tcp->wq_head;
    while (*pp != w)
      pp = &(*pp)->next;
    *pp = NULL;
    tcp->wq_tail = NULL;
    for (pp = &tcp->wq_head; *pp != NULL; pp = &(*pp)->next)
      tcp->wq_tail = *pp;
    tcp->wq_bytes -= total;
    gust__free(tcp->mem, w);
    return rc;
  }
  return 0;
}

gust_ssize gust_tcp_try_write(gust_tcp *tcp, const gust_vec *vec, size_t n) {
  struct msghdr msg;
  ssize_t got;
  if (tcp == NULL || (vec == NULL && n > 0))
    return GUST_EINVAL;
  if (tcp->closing || tcp->shut || tcp->state != GUST__TCP_CONNECTED ||
      tcp->fd < 0)
    return GUST_ESTATE;
  /* Queued writes go first; the backends own the socket's write side
   * until the queue is empty (libuv: no uv_write is in flight then). */
  if (tcp->wq_head != NULL)
    return GUST_EAGAIN;
  if (n == 0)
    return 0;
  memset(&msg, 0, sizeof(msg));
  msg.msg_iov = (struct iovec *)(uintptr_t)vec;
  msg.msg_iovlen = n < IOV_MAX ? n : IOV_MAX;
  do
    got = sendmsg(tcp->fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
  while (got < 0 && errno == EINTR);
  if (got < 0)
    return errno == EAGAIN || errno == EWOULDBLOCK ? GUST_EAGAIN
                                                   : gust__errno_code(errno);
  return (gust_ssize)got;
}

void gust__tcp_on_write(gust_tcp *t, int status) {
  gust__wreq *w = t->wq_head;
  if (w == NULL)
    return;
  t->wq_head = w->next;
  if (t->wq_head == NULL)
    t->wq_tail = NULL;
  t->wq_bytes -= w->left;
  if (w->cb != NULL && !t->orphan)
    w->cb(t, status, w->ud);
  gust__free(t->mem, w);
}

size_t gust_tcp_write_queue_size(const gust_tcp *tcp) {
  return tcp != NULL ? tcp->wq_bytes : 0;
}

int gust_tcp_shutdown(gust_tcp *tcp, gust_tcp_shutdown_cb cb) {
  int rc;
  if (tcp == NULL)
    return GUST_EINVAL;
  if (tcp->closing || tcp->shut || tcp->state != GUST__TCP_CONNECTED)
    return GUST_ESTATE;
  tcp->shutdown_cb = cb;
  rc = gust__loop_backend.tcp_shutdown(tcp);
  if (rc == 0)
    tcp->shut = 1;
  else
    tcp->shutdown_cb = NULL;
  return rc;
}

void gust__tcp_on_shutdown(gust_tcp *t, int status) {
  gust_tcp_shutdown_cb cb = t->shutdown_cb;
  t->shutdown_cb = NULL;
  if (status == 0)
    t->wrote_eof = 1;
  if (cb != NULL && !t->orphan)
    cb(t, status);
}

/* ------------------------------------------------------------------ */
/* Closing                                                              */
/* ------------------------------------------------------------------ */

void gust_tcp_close(gust_tcp *tcp, gust_tcp_close_cb cb) {
  if (tcp == NULL || tcp->closing)
    return;
  tcp->closing = 1;
  tcp->close_cb = cb;
  tcp->reading = 0;
  gust__loop_backend.tcp_close(tcp);
}

void gust__tcp_on_close(gust_tcp *t) {
  gust_tcp_close_cb cb = t->close_cb;
  int connecting = t->state == GUST__TCP_CONNECTING;
  if (connecting && t->connect_cb != NULL)
    gust__tcp_on_connect(t, GUST_ECANCELLED);
  while (t->wq_head != NULL)
    gust__tcp_on_write(t, GUST_ECANCELLED);
  if (t->shutdown_cb != NULL)
    gust__tcp_on_shutdown(t, GUST_ECANCELLED);
  if (!t->orphan) {
    if (connecting)
      gust_loop_cancel(t->loop, t->connect_timer);
    tcp_unlink(t);
    if (cb != NULL)
      cb(t);
  }
  gust__free(t->mem, t);
}

/* Closes still-open handles when their loop is freed: no callback runs. */
void gust__tcp_orphan_all(gust_loop *loop) {
  while (loop->tcps != NULL) {
    gust_tcp *t = loop->tcps;
    tcp_unlink(t);
    t->orphan = 1;
    if (t->state == GUST__TCP_CONNECTING) {
      gust_loop_cancel(loop, t->connect_timer);
      t->connect_timer = (gust_timer){NULL, 0};
    }
    if (!t->closing) {
      t->closing = 1;
      t->reading = 0;
      gust__loop_backend.tcp_close(t);
    }
  }
}

void gust__tcp_run_closing(gust_loop *loop) {
  gust_tcp *list = NULL;
  /* The list is newest first: complete the closes in the order asked. */
  while (loop->closing != NULL) {
    gust_tcp *t = loop->closing;
    loop->closing = t->close_next;
    t->close_next = list;
    list = t;
  }
  while (list != NULL) {
    gust_tcp *t = list;
    list = t->close_next;
    if (loop->freeing)
      t->orphan = 1;
    gust__tcp_on_close(t);
  }
}

void gust__tcp_close_later(gust_tcp *t) {
  gust_loop *loop = t->loop;
  if (t->orphan) {
    gust__tcp_on_close(t);
    return;
  }
  t->close_next = loop->closing;
  loop->closing = t;
  if (!loop->dispatching)
    gust__loop_backend.set_ready(loop, 1);
}

/* ------------------------------------------------------------------ */
/* Options and accessors                                                */
/* ------------------------------------------------------------------ */

int gust_tcp_nodelay(gust_tcp *tcp, int on) {
  int v = on != 0;
  if (tcp == NULL)
    return GUST_EINVAL;
  if (tcp->closing || tcp->fd < 0)
    return GUST_ESTATE;
  if (setsockopt(tcp->fd, IPPROTO_TCP, TCP_NODELAY, &v, sizeof(v)) != 0)
    return GUST_ESYS;
  return 0;
}

int gust_tcp_keepalive(gust_tcp *tcp, int on, unsigned delay) {
  int v = on != 0;
  if (tcp == NULL || (on && (delay < 1 || delay > 32767)))
    return GUST_EINVAL;
  if (tcp->closing || tcp->fd < 0)
    return GUST_ESTATE;
  if (setsockopt(tcp->fd, SOL_SOCKET, SO_KEEPALIVE, &v, sizeof(v)) != 0)
    return GUST_ESYS;
#ifdef TCP_KEEPIDLE
  if (on) {
    int d = (int)delay;
    if (setsockopt(tcp->fd, IPPROTO_TCP, TCP_KEEPIDLE, &d, sizeof(d)) != 0)
      return GUST_ESYS;
  }
#endif
  return 0;
}

int gust_tcp_local_port(const gust_tcp *tcp) {
  struct sockaddr_storage ss;
  socklen_t len = sizeof(ss);
  if (tcp == NULL || tcp->fd < 0)
    return GUST_EINVAL;
  if (getsockname(tcp->fd, (struct sockaddr *)&ss, &len) != 0)
    return GUST_ESYS;
  if (ss.ss_family == AF_INET)
    return ntohs(((struct sockaddr_in *)&ss)->sin_port);
  if (ss.ss_family == AF_INET6)
    return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
  return GUST_ENOTSUP;
}

int gust_tcp_family(const gust_tcp *tcp) {
  return tcp != NULL ? (int)tcp->family : GUST_EINVAL;
}

int gust_tcp_fd(const gust_tcp *tcp) {
  return tcp != NULL ? tcp->fd : GUST_EINVAL;
}

gust_loop *gust_tcp_loop(const gust_tcp *tcp) {
  return tcp != NULL ? tcp->loop : NULL;
}

void gust_tcp_set_data(gust_tcp *tcp, void *user_data) {
  if (tcp != NULL)
    tcp->ud = user_data;
}

void *gust_tcp_data(const gust_tcp *tcp) {
  return tcp != NULL ? tcp->ud : NULL;
}
