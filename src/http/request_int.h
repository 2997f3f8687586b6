/* Internal contract between the HTTP server's connection code
 * (src/http/httpserver.c) and the request object (src/http/request.c).
 * Not installed. */
#ifndef GUST_HTTP_REQUEST_INT_H
#define GUST_HTTP_REQUEST_INT_H

#include <gust/httpserver.h>

/* The connection serving a request (defined in httpserver.c). */
typedef struct gust__http_conn gust__http_conn;

/* What the server knows about the connection when a head arrives. */
typedef struct gust__http_req_env {
  gust_http_server *server;
  gust_loop *loop;
  const gust_addr *peer; /* socket peer (copied) */
  const char *protocol;  /* "http" / "https" (copied) */
  int xheaders;          /* apply X-Real-Ip / X-Forwarded-* rules */
  const char *const *trusted_downstream; /* NULL-terminated or NULL */
  double start_time;                     /* gust_loop_time() at the head */
} gust__http_req_env;

/* Creates a request with one reference from a REQUEST event of the http1
 * state machine: copies method, target, version and fields into storage
 * the request owns, splits path and query, computes host, host_name,
 * remote_ip and protocol (xheaders rules from `env`). The event's slices
 * are not kept. Returns 0, GUST_ENOMEM or GUST_EINVAL. */
int gust__http_request_new(gust_http_request **out, const gust_mem *mem,
                           const gust_h1_event *head,
                           const gust__http_req_env *env);

/* Appends body bytes (request-callback API). Returns 0, GUST_ENOMEM. */
int gust__http_request_append_body(gust_http_request *req, const void *data,
                                   size_t len);

/* Stores trailer fields of a chunked body (copied). Returns 0 or
 * GUST_ENOMEM. */
int gust__http_request_set_trailers(gust_http_request *req,
                                    const gust_h1_field *fields, size_t n);

/* Links the request to its connection (NULL once the connection is done
 * with it: the response functions then answer GUST_ECLOSED). */
void gust__http_request_set_conn(gust_http_request *req, gust__http_conn *conn);
gust__http_conn *gust__http_request_conn(const gust_http_request *req);

/* The response state (0 none, 1 started, 2 finished) the request keeps
 * once its connection let go of it: gust_http_response_state() reports it
 * from then on. */
void gust__http_request_set_resp_state(gust_http_request *req, int state);
int gust__http_request_resp_state(const gust_http_request *req);

/* Marks the response finished, for request_time(). */
void gust__http_request_set_finish_time(gust_http_request *req, double t);

/* Connections that left the HTTP server by an upgrade (WebSocket) stay
 * known to it, so that a graceful shutdown can end them too and waits for
 * them, and freeing the server drops them. */
typedef struct gust__http_upgraded gust__http_upgraded;
struct gust__http_upgraded {
  gust__http_upgraded *prev, *next;
  gust_http_server *srv; /* NULL once untracked or the server is gone */
  /* Asks the connection to end: gracefully (shutdown; `now` 0) or at once
   * (the shutdown timed out, or the server is freed; `now` 1). It
   * untracks itself once closed (not from inside this call). */
  void (*end)(gust__http_upgraded *u, int now);
};

/* Tracks `u` on `srv` (sets u->srv). */
void gust__http_server_track(gust_http_server *srv, gust__http_upgraded *u);

/* Stops tracking `u` (no-op when it is not tracked); a graceful shutdown
 * waiting for it may complete. */
void gust__http_server_untrack(gust__http_upgraded *u);

/* 1 while the server shuts down (no new upgrade should start). */
int gust__http_server_shutting_down(const gust_http_server *srv);

#endif /* GUST_HTTP_REQUEST_INT_H */
