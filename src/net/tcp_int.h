/* Internal helpers shared by the TCP server and client: wrapping sockets
 * the module created itself into loop TCP handles. Not installed. */
#ifndef GUST_NET_TCP_INT_H
#define GUST_NET_TCP_INT_H

#include <gust/tcp.h>

/* Wraps the socket `fd` (IPv4 or IPv6, nonblocking) into a new handle of
 * `loop` in the NEW state. On success the handle owns `fd`; on failure the
 * fd stays the caller's. Returns 0, GUST_ENOMEM or a backend error. */
int gust__tcp_adopt(gust_loop *loop, int fd, int family, gust_tcp **out);

/* Makes the adopted handle `t` listen (backlog 128 unless `backlog` > 0)
 * and report connections to `cb` with `user_data`. */
int gust__tcp_adopt_listen(gust_tcp *t, int backlog, gust_tcp_accept_cb cb,
                           void *user_data);

/* As gust_tcp_connect_addr() without a timeout, binding the new socket to
 * `src` first (its family must be the one of `dst`). */
int gust__tcp_connect_from(gust_loop *loop, const gust_addr *dst,
                           const gust_addr *src, gust_tcp_connect_cb cb,
                           void *user_data, gust_tcp **out);

#endif /* GUST_NET_TCP_INT_H */
