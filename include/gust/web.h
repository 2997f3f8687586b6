/* gust web layer: Tornado's web.Application and RequestHandler in C.
 *
 * An application (gust_web_app) is a list of routes and a set of settings.
 * It serves requests as a delegate of the HTTP server: each request that
 * matches a route gets a handler (gust_web_handler), an object that lives
 * for that request and runs the methods of the route's handler class (a
 * vtable, gust_web_handler_class), in Tornado's order:
 *
 *   initialize → [check_xsrf_cookie] → prepare → get/post/... → finish
 *   → on_finish → release
 *
 * Every step may be asynchronous: a method that sets *wait to a future
 * makes the handler wait for it before the next step; a failed future is an
 * error of that step. When the method returns (or its future resolves)
 * without having finished the response, the handler finishes it.
 *
 * Errors. A step returning a negative code (or a future failing with one)
 * ends the request through send_error: gust_web_http_error() raises an HTTP
 * error (Tornado's HTTPError: that status, logged as a warning); any other
 * code is an uncaught error (500, logged). gust_web_finish_early() is
 * Tornado's Finish: the response is finished as it stands and no later
 * step runs. An error after the head was sent cannot change the status:
 * the response is ended (or the connection closed) and the error logged.
 *
 * The response is buffered until gust_web_flush() or gust_web_finish().
 * Default headers are Server, Content-Type (text/html; charset=UTF-8) and
 * Date, then the application's default_headers, then the class's
 * set_default_headers hook. At finish, a buffered 200 answer to GET or HEAD
 * gets an ETag (SHA-1 of the body) and If-None-Match → 304 as Tornado;
 * compress_response gzips compressible bodies for clients that accept it.
 *
 * WebSocket routes: a class with `websocket` set upgrades GET requests
 * (gust_websocket_upgrade()) after initialize and prepare, which may refuse
 * (send_error, redirect); the handler then lives until the connection's
 * on_close.
 *
 * Static files: settings.static_path serves the directory under
 * static_url_prefix with gust_web_static_handler (also routable by hand),
 * streamed, with HEAD, Range, Last-Modified, ETag and versioned URLs.
 *
 * Threading: an application, its server and its handlers belong to one
 * loop and are used on that loop's thread. */
#ifndef GUST_WEB_H
#define GUST_WEB_H

#include <gust/base.h>
#include <gust/cookie.h>
#include <gust/future.h>
#include <gust/headers.h>
#include <gust/httpserver.h>
#include <gust/loop.h>
#include <gust/websocket.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The application (Tornado's Application: routes and settings) and one
 * request's handler instance (RequestHandler); both opaque. */
typedef struct gust_web_app gust_web_app;
typedef struct gust_web_handler gust_web_handler;

/* ------------------------------------------------------------------ */
/* Handler classes                                                      */
/* ------------------------------------------------------------------ */

/* A step of the handler (prepare, get, post, ...). Returns 0 or a negative
 * code (see "Errors" above); may set *wait to a future (its reference
 * passes to the handler) that the handler waits for before going on. */
typedef int (*gust_web_method)(gust_web_handler *h, gust_future **wait);

/* The WebSocket side of a route (Tornado's WebSocketHandler). Every
 * callback gets the handler of the upgraded request; NULL callbacks are
 * skipped. */
typedef struct gust_web_socket_class {
  /* Origin check; NULL = gust_ws_check_origin() (same host). */
  int (*check_origin)(gust_web_handler *h, gust_slice origin);
  /* Index of the chosen subprotocol among `offered`, or -1. */
  int (*select_subprotocol)(gust_web_handler *h, const gust_slice *offered,
                            size_t n);
  /* As gust_websocket_handler's open / on_message / on_ping / on_pong /
   * on_close, with the handler instead of user data. */
  int (*open)(gust_web_handler *h, gust_websocket *ws, gust_future **wait);
  int (*on_message)(gust_web_handler *h, gust_websocket *ws,
                    const gust_websocket_message *msg, gust_future **wait);
  void (*on_ping)(gust_web_handler *h, gust_websocket *ws, gust_slice data);
  void (*on_pong)(gust_web_handler *h, gust_websocket *ws, gust_slice data);
  void (*on_close)(gust_web_handler *h, gust_websocket *ws);
  /* Connection options (NULL = defaults; compression off). */
  const gust_websocket_opts *opts;
} gust_web_socket_class;

/* Class flags. */
#define GUST_WEB_STREAM_BODY                                                   \
  0x1 /* Tornado's stream_request_body: prepare                                \
         runs when the head arrives, the body                                  \
         goes to data_received piece by piece,                                 \
         the method runs after the last one */

/* A handler class: what a route runs. Zero-initialise and set what you
 * need; a method left NULL answers 405. The class must outlive every
 * application that routes to it. */
typedef struct gust_web_handler_class {
  const char *name;  /* for logs; NULL = "handler" */
  size_t state_size; /* bytes of zeroed per-request state allocated with
                        each handler (gust_web_state()) */
  unsigned flags;    /* GUST_WEB_STREAM_BODY */
  /* First call, with the route's class data (gust_web_class_data()). A
   * negative return ends the request with 500. */
  int (*initialize)(gust_web_handler *h);
  /* Adds or changes headers after the defaults (Tornado's
   * set_default_headers); also runs again after gust_web_clear(). */
  int (*set_default_headers)(gust_web_handler *h);
  /* The logged-in user (Tornado's get_current_user): append it to `user`
   * and return 1, return 0 for nobody, or a negative code. Called at most
   * once per request, by gust_web_current_user(). */
  int (*get_current_user)(gust_web_handler *h, gust_buf *user);
  gust_web_method prepare;
  gust_web_method get, head, post, put, del, patch, options;
  /* GUST_WEB_STREAM_BODY: a piece of the body (decompressed when the
   * server's decompress_request is on), valid only during the call. */
  int (*data_received)(gust_web_handler *h, gust_slice chunk,
                       gust_future **wait);
  /* The ETag of a buffered 200 answer to GET or HEAD (Tornado's
   * compute_etag): append it (quoted) to `etag` and return 1, return 0 for
   * none, or a negative code. NULL = the quoted SHA-1 of the body. */
  int (*compute_etag)(gust_web_handler *h, gust_slice body, gust_buf *etag);
  /* The response finished (Tornado's on_finish). */
  void (*on_finish)(gust_web_handler *h);
  /* The client went away before the response finished. */
  void (*on_connection_close)(gust_web_handler *h);
  /* Writes the body of an error response (Tornado's write_error); the
   * status is already set, the buffer cleared. `code` / `message` tell what
   * failed (0 / NULL when send_error was called directly). Return 0, or a
   * negative code (then a bare response ends the request). NULL = Tornado's
   * "<html><title>404: Not Found</title>..." page (with the error message
   * when settings.serve_traceback is on). */
  int (*write_error)(gust_web_handler *h, int status, int code,
                     const char *message);
  /* Last call: release what the state holds. */
  void (*release)(gust_web_handler *h);
  /* Non-NULL: a WebSocket route (`get` must then be NULL). */
  const gust_web_socket_class *websocket;
} gust_web_handler_class;

/* ------------------------------------------------------------------ */
/* The application                                                      */
/* ------------------------------------------------------------------ */

/* Settings (Tornado's Application settings). Zero-initialise, then set
 * what you need; strings and objects are copied or borrowed as said. */
typedef struct gust_web_settings {
  /* Secret(s) for signed cookies and nothing else: borrowed, must outlive
   * the application. A versioned table signs with its current key version
   * and reads every version it holds. NULL = signed cookies fail with
   * GUST_ESTATE ("cookie_secret is not set"). */
  const gust_secrets *cookie_secret;
  int xsrf_cookies;             /* check the XSRF token on unsafe methods */
  int xsrf_cookie_version;      /* 1 or 2 (0 = 2): format of the token */
  const char *xsrf_cookie_name; /* NULL = "_xsrf" (copied) */
  /* Attributes of the XSRF cookie (path "/" when NULL; copied). */
  const gust_cookie_attrs *xsrf_cookie_attrs;
  /* The XSRF cookie expires this many days after it was set; 0 = a
   * session cookie, or 30 days when a user is logged in (Tornado). */
  double xsrf_cookie_expires_days;
  int compress_response; /* gzip compressible bodies (Tornado's rules) */
  /* Static files: the directory (copied; NULL = none), the URL prefix
   * (NULL = "/static/") and the handler's options. */
  const char *static_path;
  const char *static_url_prefix;
  const char *static_default_filename; /* e.g. "index.html"; NULL = none */
  /* Headers added to every response after Server / Content-Type / Date
   * (copied; NULL = none). */
  const gust_headers *default_headers;
  const char *server_header; /* NULL = "gust/<version>"; "" = no Server */
  /* Error pages carry the error's code and message (Tornado's
   * serve_traceback); off by default: they leak internals. */
  int serve_traceback;
  /* Where gust_web_authenticated() sends anonymous GET/HEAD requests
   * (copied; NULL = 403 instead). */
  const char *login_url;
  /* The class and class data for requests no route matches; NULL = 404. */
  const gust_web_handler_class *default_handler;
  void *default_handler_data;
  /* Called after each request with its status (Tornado's log_request);
   * NULL = one line through gust's log at info level (warning for 4xx,
   * error for 5xx): "200 GET /path (1.2.3.4) 0.52ms". */
  void (*log_request)(gust_web_handler *h, void *user_data);
  void *user_data; /* for log_request and gust_web_app_user_data() */
} gust_web_settings;

/* Creates an application. `settings` (NULL = defaults) is copied, except
 * what it says is borrowed. `mem` (NULL = default) must outlive the
 * application. With static_path, the routes `<static_url_prefix>(.*)`,
 * `/(favicon\.ico)` and `/(robots\.txt)` are added first, as Tornado
 * does. *out owns the application (gust_web_app_free()). Returns 0,
 * GUST_EINVAL (a setting out of range) or GUST_ENOMEM. */
GUST_EXTERN int gust_web_app_new(gust_web_app **out, gust_loop *loop,
                                 const gust_web_settings *settings,
                                 const gust_mem *mem);

/* Adds a route: requests whose path (before '?', not decoded) matches the
 * whole of `pattern` (a PCRE2 regular expression in Python's syntax;
 * anchored at both ends; "$" optional) go to `cls` with `class_data`
 * (borrowed). The pattern's capturing groups are the handler's path
 * arguments, percent-decoded; named groups (?P<name>...) are also found by
 * name. `name` (NULL = unnamed; copied) names the route for
 * gust_web_app_reverse_url(). Routes are tried in the order they were
 * added; the first match wins. Returns 0, GUST_EINVAL (NULL argument, or a
 * WebSocket class with a `get`), GUST_ESYNTAX (the pattern does not
 * compile; gust_web_app_error() has PCRE2's message and offset),
 * GUST_EEXIST (the name is taken) or GUST_ENOMEM. */
GUST_EXTERN int gust_web_app_add(gust_web_app *app, const char *pattern,
                                 const gust_web_handler_class *cls,
                                 void *class_data, const char *name);

/* The message of the last failed call on the application ("" if none). */
GUST_EXTERN const char *gust_web_app_error(const gust_web_app *app);

/* Builds the path of the route called `name` with `args` (n strings, one
 * per group; each is percent-encoded) and appends it to `out` (Tornado's
 * reverse_url). Returns 0, GUST_ENOTFOUND (no such route), GUST_EINVAL
 * (wrong number of arguments, or a pattern that cannot be reversed:
 * nested groups or regular-expression syntax outside groups; the message
 * is in gust_web_app_error()) or GUST_ENOMEM. */
GUST_EXTERN int gust_web_app_reverse_url(gust_web_app *app, const char *name,
                                         const char *const *args, size_t n,
                                         gust_buf *out);

/* Appends the URL of static file `path` (relative to static_path) to
 * `out`: static_url_prefix + path, plus "?v=" and the first 32 hex digits
 * of the SHA-256 of the file's content when `include_version` (Tornado's
 * static_url; the hash is cached per file and recomputed when its size
 * or modification time changes). A file that cannot be read gets no
 * version (as Tornado) and a logged error. Returns 0, GUST_ESTATE (no
 * static_path), GUST_EINVAL or GUST_ENOMEM. */
GUST_EXTERN int gust_web_app_static_url(gust_web_app *app, const char *path,
                                        int include_version, gust_buf *out);

/* The delegate factory serving this application: pass it with the
 * application as user data to gust_http_server_new(). */
GUST_EXTERN int gust_web_app_start_request(gust_http_server *srv,
                                           gust_http_request *req, void *app,
                                           const gust_http_delegate **delegate,
                                           void **ctx);

/* Creates an HTTP server for the application (gust_http_server_new() with
 * gust_web_app_start_request) and, when `port` >= 0, listens on
 * host:port (port 0 = ephemeral: gust_http_server_port() tells). The
 * server must be freed before the application. Returns as
 * gust_http_server_new() and gust_http_server_listen(). */
GUST_EXTERN int gust_web_app_listen(gust_web_app *app, const char *host,
                                    int port, const gust_http_server_opts *opts,
                                    gust_http_server **out);

/* The application's loop, and the user_data given in its settings. */
GUST_EXTERN gust_loop *gust_web_app_loop(const gust_web_app *app);
GUST_EXTERN void *gust_web_app_user_data(const gust_web_app *app);

/* Frees the application. Handlers still running keep what they need until
 * they end, so freeing from a handler is allowed. NULL is a no-op. */
GUST_EXTERN void gust_web_app_free(gust_web_app *app);

/* ------------------------------------------------------------------ */
/* The handler: request side                                            */
/* ------------------------------------------------------------------ */

/* Takes a reference to the handler and returns `h`, to finish the
 * request after the callback that received it returned. */
GUST_EXTERN gust_web_handler *gust_web_handler_ref(gust_web_handler *h);
/* Drops a reference taken with gust_web_handler_ref(). NULL is a no-op. */
GUST_EXTERN void gust_web_handler_unref(gust_web_handler *h);

/* The handler's request, application, loop and class (all borrowed,
 * valid while the handler lives). */
GUST_EXTERN gust_http_request *gust_web_request(const gust_web_handler *h);
GUST_EXTERN gust_web_app *gust_web_app_of(const gust_web_handler *h);
GUST_EXTERN gust_loop *gust_web_loop(const gust_web_handler *h);
GUST_EXTERN const gust_web_handler_class *
gust_web_class(const gust_web_handler *h);
/* The class data given with the route. */
GUST_EXTERN void *gust_web_class_data(const gust_web_handler *h);
/* The per-request state (state_size zeroed bytes; NULL when 0). */
GUST_EXTERN void *gust_web_state(const gust_web_handler *h);
/* The upgraded connection of a WebSocket route (NULL before the upgrade
 * and after on_close). */
GUST_EXTERN gust_websocket *gust_web_websocket(const gust_web_handler *h);

/* Path arguments: the pattern's groups, percent-decoded (Tornado decodes
 * them as UTF-8 text; gust keeps bytes). A group that did not take part in
 * the match is GUST_ENOTFOUND. */
GUST_EXTERN size_t gust_web_path_args_count(const gust_web_handler *h);
GUST_EXTERN int gust_web_path_arg(const gust_web_handler *h, size_t index,
                                  gust_slice *value);
GUST_EXTERN int gust_web_path_kwarg(const gust_web_handler *h, const char *name,
                                    gust_slice *value);

/* Where gust_web_get_argument_from() looks. */
typedef enum gust_web_arg_source {
  GUST_WEB_ARGS_ALL = 0,   /* query then body (Tornado's get_argument) */
  GUST_WEB_ARGS_QUERY = 1, /* get_query_argument */
  GUST_WEB_ARGS_BODY = 2   /* get_body_argument */
} gust_web_arg_source;

/* The last value of argument `name` (Tornado's get_argument): control
 * characters other than tab/newline/CR become spaces and, with `strip`,
 * surrounding white space goes; the text must be UTF-8. *value is a
 * NUL-terminated string owned by the handler. A missing argument gives
 * `default_value` when not NULL, else raises HTTP 400 "Missing argument
 * NAME" (returns GUST_EWEB_HTTP: return it from the step). Invalid UTF-8
 * raises 400 "Invalid unicode in NAME". Returns 0, GUST_EWEB_HTTP or
 * GUST_ENOMEM. */
GUST_EXTERN int gust_web_get_argument_from(gust_web_handler *h,
                                           gust_web_arg_source source,
                                           const char *name,
                                           const char *default_value, int strip,
                                           const char **value);
/* Query-or-body argument, stripped. */
GUST_EXTERN int gust_web_get_argument(gust_web_handler *h, const char *name,
                                      const char *default_value,
                                      const char **value);
/* Every value of `name`, in order (Tornado's get_arguments): *count gets
 * their number and *values (may be NULL when *count is 0) an array owned
 * by the handler. Returns 0, GUST_EWEB_HTTP (invalid UTF-8) or
 * GUST_ENOMEM. */
GUST_EXTERN int gust_web_get_arguments(gust_web_handler *h,
                                       gust_web_arg_source source,
                                       const char *name, int strip,
                                       const char *const **values,
                                       size_t *count);

/* Value of cookie `name` from the request (NUL-terminated, owned by the
 * handler), or `default_value` (may be NULL) when absent. Returns 0 or
 * GUST_ENOMEM. */
GUST_EXTERN int gust_web_get_cookie(gust_web_handler *h, const char *name,
                                    const char *default_value,
                                    const char **value);

/* Verifies the signed cookie `name` with the application's cookie_secret
 * (Tornado's get_signed_cookie) and appends its value to `out`.
 * `max_age_days` <= 0 means 31; `min_version` 0 means 1. Returns 0,
 * GUST_ENOTFOUND (no such cookie), GUST_ESTATE (no cookie_secret) or an
 * error of gust_signed_value_decode() (bad signature, expired, ...): all
 * of them mean "no value". */
GUST_EXTERN int gust_web_get_secure_cookie(gust_web_handler *h,
                                           const char *name,
                                           double max_age_days, int min_version,
                                           gust_buf *out);
/* The key version of signed cookie `name` (without verifying it): as
 * gust_signed_value_key_version(), GUST_ENOTFOUND when absent. */
GUST_EXTERN int gust_web_get_secure_cookie_key_version(gust_web_handler *h,
                                                       const char *name,
                                                       int *key_version);

/* The current user (get_current_user's answer, asked once and kept):
 * *user gets it (owned by the handler) and 1 is returned, or 0 when
 * nobody is logged in (or the class has no get_current_user), or a
 * negative code. */
GUST_EXTERN int gust_web_current_user(gust_web_handler *h, gust_slice *user);

/* Tornado's @authenticated: returns 0 when a user is logged in. Else a
 * GET or HEAD is redirected to login_url (plus "?next=" and the request
 * URI, or the full URL when login_url is absolute, form-encoded; nothing
 * is added when login_url has a query already) and GUST_EWEB_FINISH is
 * returned; any other method, or no login_url, raises 403
 * (GUST_EWEB_HTTP). Return the code from the step. */
GUST_EXTERN int gust_web_authenticated(gust_web_handler *h);

/* ------------------------------------------------------------------ */
/* The handler: response side                                           */
/* ------------------------------------------------------------------ */

/* Sets the status; `reason` NULL = the standard phrase ("Unknown" for a
 * code without one, as Tornado 6.2). Returns 0, GUST_EINVAL (status
 * outside 100..599, or a reason with CR/LF), GUST_ESTATE (the head is
 * already sent) or GUST_ENOMEM. */
GUST_EXTERN int gust_web_set_status(gust_web_handler *h, int status,
                                    const char *reason);
GUST_EXTERN int gust_web_get_status(const gust_web_handler *h);

/* Response headers (Tornado's set_header / add_header / clear_header).
 * Returns 0, GUST_EINVAL (invalid name, or a value with CR, LF or NUL:
 * "Unsafe header value"), GUST_ESTATE (head already sent) or GUST_ENOMEM.
 */
GUST_EXTERN int gust_web_set_header(gust_web_handler *h, const char *name,
                                    const char *value);
GUST_EXTERN int gust_web_add_header(gust_web_handler *h, const char *name,
                                    const char *value);
GUST_EXTERN int gust_web_clear_header(gust_web_handler *h, const char *name);
/* The response headers so far (borrowed). */
GUST_EXTERN const gust_headers *
gust_web_response_headers(const gust_web_handler *h);

/* Appends to the response body. Returns 0, GUST_ESTATE ("Cannot write()
 * after finish()") or GUST_ENOMEM. */
GUST_EXTERN int gust_web_write(gust_web_handler *h, const void *data,
                               size_t len);
GUST_EXTERN int gust_web_write_str(gust_web_handler *h, const char *s);
GUST_EXTERN int gust_web_writef(gust_web_handler *h, const char *fmt, ...)
    GUST_PRINTF(2, 3);
/* Writes JSON text (`len` bytes, not checked) and sets Content-Type to
 * "application/json; charset=UTF-8" (Tornado's write(dict)). */
GUST_EXTERN int gust_web_write_json(gust_web_handler *h, const char *json,
                                    size_t len);
/* Appends `len` bytes of UTF-8 text as a JSON string literal to `out`,
 * escaping as Tornado's json_encode (also "</" as "<\/"). Returns 0,
 * GUST_EINVAL (invalid UTF-8) or GUST_ENOMEM. */
GUST_EXTERN int gust_json_quote(const void *text, size_t len, gust_buf *out);
/* Appends the HTML-escaped text to the body (xhtml_escape). */
GUST_EXTERN int gust_web_write_escaped(gust_web_handler *h, const void *text,
                                       size_t len);

/* Sends the head (first time) and what is buffered. *out (may be NULL)
 * receives a future resolved when the bytes reached the connection (wait
 * for it before writing more: flow control). Returns 0, GUST_ESTATE,
 * GUST_ECLOSED or GUST_ENOMEM. */
GUST_EXTERN int gust_web_flush(gust_web_handler *h, gust_future **out);

/* Finishes the response (Tornado's finish): ETag / 304, Content-Length,
 * compression, then on_finish. `out` (may be NULL) resolves once
 * everything is flushed. The handler is finished even when this fails: a
 * response that cannot be completed (GUST_ENOMEM) ends by closing the
 * connection. Returns 0, GUST_ESTATE ("finish() called twice"),
 * GUST_ECLOSED or GUST_ENOMEM. */
GUST_EXTERN int gust_web_finish(gust_web_handler *h, gust_future **out);

/* 1 once gust_web_finish() ran. */
GUST_EXTERN int gust_web_finished(const gust_web_handler *h);
/* 1 once the head was sent. */
GUST_EXTERN int gust_web_headers_written(const gust_web_handler *h);

/* Resets status, headers and body to their defaults (not possible after
 * the head was sent: GUST_ESTATE). */
GUST_EXTERN int gust_web_clear(gust_web_handler *h);

/* Redirects to `url` (Location, status 302; 301 when `status` is 301 ...
 * any 3xx allowed; 0 = 302) and finishes. A URL starting with "//" or
 * "/\" (which browsers read as another host) is refused unless it is
 * absolute: gust_web_redirect() rewrites such a path to start with one
 * "/". Returns 0, GUST_EINVAL (status not 3xx, CR/LF in the URL) or
 * GUST_ESTATE (head sent). */
GUST_EXTERN int gust_web_redirect(gust_web_handler *h, const char *url,
                                  int status);

/* Raises an HTTP error (Tornado's raise HTTPError(status, log_fmt, ...)):
 * records the status and the log message (may be NULL) on the handler and
 * returns GUST_EWEB_HTTP, to be returned from the step (or used as the
 * code of a failed future the step waits on). */
GUST_EXTERN int gust_web_http_error(gust_web_handler *h, int status,
                                    const char *log_fmt, ...) GUST_PRINTF(3, 4);
/* As gust_web_http_error() with a reason phrase for the status line. */
GUST_EXTERN int gust_web_http_error_reason(gust_web_handler *h, int status,
                                           const char *reason,
                                           const char *log_fmt, ...)
    GUST_PRINTF(4, 5);
/* Tornado's raise Finish(): returns GUST_EWEB_FINISH. The response is
 * finished as it stands once the step returns it. */
GUST_EXTERN int gust_web_finish_early(gust_web_handler *h);

/* Sends an error response now (Tornado's send_error): clears the buffer,
 * sets the status and runs write_error, then finishes. After the head
 * was sent it can only end the response. Returns 0 or a negative code. */
GUST_EXTERN int gust_web_send_error(gust_web_handler *h, int status);

/* Sets a cookie (Tornado's set_cookie): `attrs` (NULL = path "/"; a NULL
 * path in attrs also means "/"); `expires_days` > 0 sets expires that many
 * days from now when attrs has none. Returns 0, GUST_ECOOKIE_INVALID
 * ("Invalid cookie"), GUST_ESTATE or GUST_ENOMEM. Setting the same name
 * twice replaces the first (Tornado keeps one per name). */
GUST_EXTERN int gust_web_set_cookie(gust_web_handler *h, const char *name,
                                    const void *value, size_t len,
                                    const gust_cookie_attrs *attrs,
                                    double expires_days);
/* Deletes a cookie in the browser: empty value, expires a year ago and
 * Max-Age=0, with the given path (NULL = "/") and domain. */
GUST_EXTERN int gust_web_clear_cookie(gust_web_handler *h, const char *name,
                                      const char *path, const char *domain);
/* Signs and sets a cookie (Tornado's set_signed_cookie: v2 with the
 * current key version; `expires_days` 0 = 30). Returns as
 * gust_web_set_cookie(), or GUST_ESTATE when cookie_secret is not set. */
GUST_EXTERN int gust_web_set_secure_cookie(gust_web_handler *h,
                                           const char *name, const void *value,
                                           size_t len,
                                           const gust_cookie_attrs *attrs,
                                           double expires_days);

/* The XSRF token for this request (masked, as the xsrf_cookie_version
 * setting says), creating the raw token and setting the cookie when the
 * request brought none: NUL-terminated, owned by the handler. Returns 0,
 * GUST_ECRYPTO or GUST_ENOMEM. */
GUST_EXTERN int gust_web_xsrf_token(gust_web_handler *h, const char **token);
/* `<input type="hidden" name="_xsrf" value="..."/>` for forms (owned by
 * the handler). */
GUST_EXTERN int gust_web_xsrf_form_html(gust_web_handler *h, const char **html);
/* Tornado's check_xsrf_cookie: returns 0, or raises 403 with Tornado's
 * message ("'_xsrf' argument missing from POST", "'_xsrf' argument has
 * invalid format", "XSRF cookie does not match POST argument") and returns
 * GUST_EWEB_HTTP. Runs automatically before prepare when xsrf_cookies is
 * on, for every method but GET, HEAD and OPTIONS. */
GUST_EXTERN int gust_web_check_xsrf_cookie(gust_web_handler *h);

/* Appends the static URL of `path` (gust_web_app_static_url()). */
GUST_EXTERN int gust_web_static_url(gust_web_handler *h, const char *path,
                                    int include_version, gust_buf *out);

/* ------------------------------------------------------------------ */
/* Static files                                                         */
/* ------------------------------------------------------------------ */

/* Class data of gust_web_static_handler for a route added by hand (the
 * route's first group is the file path). */
typedef struct gust_web_static_opts {
  const char *root;             /* directory served (borrowed) */
  const char *default_filename; /* served for a directory; NULL = none */
} gust_web_static_opts;

/* Tornado's StaticFileHandler: GET and HEAD of files under the root.
 * Streams the file in 64 KiB pieces, waiting for each to be flushed (never
 * the whole file in memory); HEAD never reads it. Answers Range (one range:
 * 206 with Content-Range; unsatisfiable: 416 with "bytes * /SIZE"),
 * If-None-Match and If-Modified-Since (304), sets Last-Modified, ETag (from
 * size and modification time), Accept-Ranges, Content-Type (from the
 * extension; application/octet-stream otherwise), and for a versioned URL
 * (?v=) Cache-Control: max-age=315360000 and Expires. Paths are checked
 * after resolving symbolic links: anything outside the root is 403, a
 * directory without default_filename 403, a missing file 404; a directory
 * URL without the final '/' is redirected (403 when it starts with "//"). */
extern GUST_EXTERN const gust_web_handler_class gust_web_static_handler;

/* The Content-Type gust gives a file name (by its extension, case
 * insensitive): "text/html", "text/css", "text/javascript",
 * "application/json", "image/png", ...; "application/octet-stream" when
 * unknown. Never NULL. */
GUST_EXTERN const char *gust_web_mime_type(const char *filename);

#ifdef __cplusplus
}
#endif

#endif /* GUST_WEB_H */
