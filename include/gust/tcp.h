/* gust TCP server and client: Tornado's TCPServer (listening on both
 * families, pre-bound sockets, TLS, graceful stop), fork_processes for
 * multi-process servers, and TCPClient (asynchronous resolution, happy
 * eyeballs, connect timeout, source address, TLS).
 *
 * Threading: every object here belongs to one loop and is used on that
 * loop's thread; gust_tcp_bind_sockets() and gust_fork_processes() use no
 * loop and are meant for a program's start-up. */
#ifndef GUST_TCP_H
#define GUST_TCP_H

#include <gust/base.h>
#include <gust/future.h>
#include <gust/iostream.h>
#include <gust/loop.h>
#include <gust/tls.h>

#include <sys/socket.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------ */
/* Socket addresses                                                     */
/* ------------------------------------------------------------------ */

/* An IPv4 or IPv6 socket address: `ss` holds a struct sockaddr_in or
 * sockaddr_in6 of `len` bytes. A plain value that may be copied. */
typedef struct gust_addr {
  struct sockaddr_storage ss;
  size_t len;
} gust_addr;

/* Fills *out from the numeric address `ip` (IPv4 or IPv6 literal) and
 * `port` (0..65535). Returns 0 or GUST_EINVAL. */
GUST_EXTERN int gust_addr_set(gust_addr *out, const char *ip, int port);

/* Returns 4 or 6, or GUST_EINVAL for anything else. */
GUST_EXTERN int gust_addr_family(const gust_addr *a);

/* Returns the port, or GUST_EINVAL. */
GUST_EXTERN int gust_addr_port(const gust_addr *a);

/* Writes the numeric address (without the port) as a NUL-terminated string
 * into `buf` of `cap` bytes (46 always suffice). Returns 0, GUST_EINVAL or
 * GUST_OVERFLOW (buffer too small). */
GUST_EXTERN int gust_addr_format(const gust_addr *a, char *buf, size_t cap);

/* ------------------------------------------------------------------ */
/* Resolvers (Tornado's Resolver / OverrideResolver idea)               */
/* ------------------------------------------------------------------ */

/* Receives a resolution: `status` 0 with `n` >= 1 addresses in preference
 * order (borrowed for the duration of the call), or a negative code
 * (GUST_ERESOLVE, GUST_ENOMEM, ...) with none. `token` is the one the
 * resolver was given. */
typedef void (*gust_resolve_done_fn)(void *token, int status,
                                     const gust_addr *addrs, size_t n);

/* A resolver: `resolve` turns `host` and `port` into addresses of `family`
 * (0 = any, 4, 6). It returns 0 and then calls `done(token, ...)` exactly
 * once, inside the call or on a later loop iteration; or it returns a
 * negative code and never calls `done`. `user_data` is the resolver's own.
 * Tests and applications use it to give exact address lists. */
typedef struct gust_resolver {
  int (*resolve)(gust_loop *loop, const char *host, int port, int family,
                 gust_resolve_done_fn done, void *token, void *user_data);
  void *user_data;
} gust_resolver;

/* The default resolver: getaddrinfo() on the loop's thread pool
 * (gust_loop_getaddrinfo()), addresses in the order the system gives; a
 * numeric IPv4 or IPv6 address is answered at once, inside the call. */
GUST_EXTERN const gust_resolver *gust_resolver_default(void);

/* ------------------------------------------------------------------ */
/* TCP client                                                           */
/* ------------------------------------------------------------------ */

/* Opens TCP (and TLS) connections (Tornado's TCPClient; opaque). */
typedef struct gust_tcp_client gust_tcp_client;

/* Options of one connect (all zero = defaults). Strings and the TLS
 * context are borrowed for the duration of the connect call only, except
 * `tls`, which must outlive the connection's stream. */
typedef struct gust_tcp_connect_opts {
  int family;                  /* 0 = any, 4 = IPv4 only, 6 = IPv6 only */
  const char *source_ip;       /* numeric local address to bind, NULL = any */
  int source_port;             /* local port to bind, 0 = any */
  double timeout;              /* seconds for the whole connect (resolution,
                                  connect, TLS handshake); <= 0 = none */
  double fallback_delay;       /* seconds before the second family is tried;
                                  <= 0 = 0.3 (Tornado's value) */
  gust_tls_ctx *tls;           /* client TLS context, NULL = plain TCP */
  const char *server_hostname; /* name for SNI and certificate checks;
                                  NULL = the host connected to */
  const gust_iostream_opts *stream; /* stream options, NULL = defaults
                                       (max_buffer_size lives here) */
} gust_tcp_connect_opts;

/* Creates a client that resolves with `resolver` (NULL = the default one;
 * the struct is copied, its user data borrowed and must outlive every
 * connect). `mem` (NULL = default) is used for every allocation of the
 * client and its connects and must outlive them. On success *out owns the
 * client (release with gust_tcp_client_free()). Returns 0, GUST_EINVAL or
 * GUST_ENOMEM. */
GUST_EXTERN int gust_tcp_client_new(gust_tcp_client **out, gust_loop *loop,
                                    const gust_resolver *resolver,
                                    const gust_mem *mem);

/* Frees the client. Connects in progress go on to their end; their futures
 * stay valid. NULL is a no-op. */
GUST_EXTERN void gust_tcp_client_free(gust_tcp_client *c);

/* Connects to `host` (a name or numeric address) and `port` (1..65535):
 * resolves it, then tries the addresses of the first family in order and,
 * after `fallback_delay` or as soon as the first family's attempt fails,
 * those of the other family in parallel (happy eyeballs); the first
 * connection wins and every other attempt is closed. With `opts->tls` the
 * TLS handshake then runs (server name `server_hostname` or `host`). On
 * success *out is a new future (owned by the caller: unref it) that
 * resolves with the connected stream — take it with
 * gust_tcp_client_take_stream() — or fails with GUST_ETIMEDOUT ("Timeout"),
 * GUST_ERESOLVE, the last connect error (GUST_ECONNREFUSED, ...) or a TLS
 * error. Cancelling the future stops the connect at once (its sockets are
 * closed); merely dropping it lets the connect run to its end, then closes
 * the connection. Returns 0, GUST_EINVAL or GUST_ENOMEM (then no future). */
GUST_EXTERN int gust_tcp_client_connect(gust_tcp_client *c, const char *host,
                                        int port,
                                        const gust_tcp_connect_opts *opts,
                                        gust_future **out);

/* As gust_tcp_client_connect() without the stream: the future resolves
 * with the connected gust_tcp (take it with gust_tcp_client_take_tcp()).
 * `opts->tls` and `opts->stream` must be NULL (GUST_EINVAL otherwise). */
GUST_EXTERN int gust_tcp_client_connect_tcp(gust_tcp_client *c,
                                            const char *host, int port,
                                            const gust_tcp_connect_opts *opts,
                                            gust_future **out);

/* Takes the stream out of a successful gust_tcp_client_connect() future
 * (`f` must come from one of the connect functions): the caller owns its
 * reference from now on (gust_iostream_unref() it, which also closes it).
 * Returns NULL if the future did not succeed or the stream was already
 * taken. A stream never taken is closed when the future is freed. */
GUST_EXTERN gust_iostream *gust_tcp_client_take_stream(gust_future *f);

/* As gust_tcp_client_take_stream() for gust_tcp_client_connect_tcp():
 * the caller owns the handle (gust_tcp_close() it), e.g. to hand it to
 * gust_iostream_new(). */
GUST_EXTERN gust_tcp *gust_tcp_client_take_tcp(gust_future *f);

/* Copies the address a successful connect future connected to into *out.
 * Returns 0 or GUST_ESTATE (not a successful connect future). */
GUST_EXTERN int gust_tcp_client_peer(const gust_future *f, gust_addr *out);

/* ------------------------------------------------------------------ */
/* TCP server                                                           */
/* ------------------------------------------------------------------ */

/* Accepts TCP (and TLS) connections (Tornado's TCPServer; opaque). */
typedef struct gust_tcp_server gust_tcp_server;

/* A new connection (Tornado's handle_stream): the receiver owns the
 * stream's one reference and must eventually gust_iostream_unref() it
 * (which closes it if still open). With TLS the handshake has started;
 * gust_iostream_wait_for_handshake() tells when it is done.
 * `peer` is the client's address, borrowed for the call. */
typedef void (*gust_tcp_stream_cb)(gust_tcp_server *srv, gust_iostream *stream,
                                   const gust_addr *peer, void *user_data);

/* Server options (all zero = defaults). */
typedef struct gust_tcp_server_opts {
  gust_tls_ctx *tls; /* server TLS context (borrowed, must outlive the
                        server and its streams), NULL = plain TCP */
  const gust_iostream_opts *stream; /* copied; NULL = defaults */
} gust_tcp_server_opts;

/* Creates a server that calls `cb(srv, stream, peer, user_data)` for every
 * accepted connection. `mem` (NULL = default) must outlive the server and
 * its streams. On success *out owns the server (gust_tcp_server_free()).
 * Returns 0, GUST_EINVAL or GUST_ENOMEM. */
GUST_EXTERN int gust_tcp_server_new(gust_tcp_server **out, gust_loop *loop,
                                    const gust_tcp_server_opts *opts,
                                    gust_tcp_stream_cb cb, void *user_data,
                                    const gust_mem *mem);

/* Starts accepting on `port` of `host` (NULL or "" = every local address,
 * both families; see gust_tcp_listen() for `lopts`, e.g. reuse_port). May be
 * called more than once. Returns 0, GUST_ESTATE after a stop, or an error
 * of gust_tcp_listen(); on failure nothing new is listening. */
GUST_EXTERN int gust_tcp_server_listen(gust_tcp_server *srv, const char *host,
                                       int port,
                                       const gust_tcp_listen_opts *lopts);

/* Creates, binds and listens on sockets for `port` of `host` as
 * gust_tcp_listen() does, without a loop (Tornado's bind_sockets): the
 * way to share listening sockets between processes made by
 * gust_fork_processes(). Up to `max` nonblocking, close-on-exec fds are
 * stored in `fds` (owned by the caller), their number in *count. Returns
 * 0, GUST_EINVAL, GUST_EADDRINUSE, GUST_ERESOLVE, GUST_EADDRNOTAVAIL,
 * GUST_ENOTSUP, GUST_EMFILE or GUST_ESYS; on failure no fd is left open. */
GUST_EXTERN int gust_tcp_bind_sockets(const char *host, int port,
                                      const gust_tcp_listen_opts *lopts,
                                      int *fds, size_t max, size_t *count);

/* Starts accepting on `n` listening (or bound) IPv4/IPv6 stream sockets
 * (Tornado's add_sockets); listen() is called on each again with a
 * backlog of 128. On success the server owns the fds and closes
 * them when stopped; on failure they stay the caller's and nothing new is
 * accepting. Returns 0, GUST_EINVAL (not an IPv4/IPv6 stream socket),
 * GUST_ESTATE after a stop, GUST_ENOMEM or GUST_ESYS. */
GUST_EXTERN int gust_tcp_server_add_sockets(gust_tcp_server *srv,
                                            const int *fds, size_t n);

/* The local port of the first listener, or GUST_ESTATE if none. */
GUST_EXTERN int gust_tcp_server_port(const gust_tcp_server *srv);

/* Number of listeners currently accepting. */
GUST_EXTERN size_t gust_tcp_server_listener_count(const gust_tcp_server *srv);

/* Stops accepting (Tornado's stop): every listener is closed, so new
 * connections are refused, while streams already handed out are left
 * alone. Connections the kernel queued but that were not accepted yet are
 * dropped. Later listen/add_sockets calls fail with GUST_ESTATE. Calling
 * it again is a no-op. */
GUST_EXTERN void gust_tcp_server_stop(gust_tcp_server *srv);

/* Stops the server if needed and frees it. NULL is a no-op. */
GUST_EXTERN void gust_tcp_server_free(gust_tcp_server *srv);

/* ------------------------------------------------------------------ */
/* Multi-process (Tornado's fork_processes)                             */
/* ------------------------------------------------------------------ */

/* Returns the number of online CPUs (at least 1). */
GUST_EXTERN int gust_cpu_count(void);

/* Starts `num` worker processes (<= 0: gust_cpu_count(); at most 1024) with
 * fork() and supervises them. Call it before creating any loop, typically after
 * gust_tcp_bind_sockets(); each worker then makes its own loop and server
 * and adds the inherited sockets (or listens with reuse_port itself).
 *
 * In a worker it returns 0 and stores the worker's task id (0..num-1) in
 * *task_id. In the parent it does not return while workers run: a worker
 * killed by a signal or exiting with a non-zero status is restarted with
 * the same task id (logged as a warning), a worker exiting with status 0 is
 * not. The parent returns 1 once every worker exited cleanly (the program
 * should then exit with status 0, as Tornado's parent does), GUST_ELIMIT
 * when more than `max_restarts` restarts were needed (< 0 = 100; message
 * "Too many child restarts, giving up"; the remaining workers keep
 * running), or GUST_ESYS if fork() failed: the workers already started are
 * then stopped (SIGTERM, SIGKILL after 5 s) and reaped, since nobody would
 * supervise them. `task_id` may be NULL. */
GUST_EXTERN int gust_fork_processes(int num, int max_restarts, int *task_id);

/* The task id of this worker process, or -1 in a process that is not a
 * worker of gust_fork_processes(). */
GUST_EXTERN int gust_task_id(void);

#ifdef __cplusplus
}
#endif

#endif /* GUST_TCP_H */
