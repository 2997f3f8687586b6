/* Internal interfaces between the parts of the web layer (application and
 * handler core, static files). Not installed. */
#ifndef GUST_WEB_INT_H
#define GUST_WEB_INT_H

#include <gust/gzip.h>
#include <gust/web.h>

/* Content versions of static files (static_url's ?v=), cached per
 * absolute path and recomputed when the file's size or modification time
 * changes. */
typedef struct gust__web_vcache gust__web_vcache;

int gust__web_vcache_new(gust__web_vcache **out, const gust_mem *mem);
void gust__web_vcache_free(gust__web_vcache *c);

/* Stores in `hex` the version of the file at `abspath` (the first 32
 * lowercase hex digits of the SHA-256 of its content, NUL-terminated),
 * reading the file only when the cache has no entry for its current size
 * and modification time. Returns 0, GUST_ENOTFOUND (no such regular file),
 * GUST_EIO (unreadable) or GUST_ENOMEM. */
int gust__web_vcache_get(gust__web_vcache *c, const char *abspath,
                         char hex[33]);

/* Resolves `rel` (`len` bytes: a '/'-separated path relative to `root`,
 * already percent-decoded) to an absolute path under `root`, following
 * symbolic links, and writes it NUL-terminated into `out` (cleared first).
 * Returns 0, GUST_ENOTFOUND (nothing there), GUST_EACCES (the resolved
 * path is outside the root, or `rel` holds a NUL byte), or GUST_ENOMEM. */
int gust__web_static_resolve(const char *root, const char *rel, size_t len,
                             gust_buf *out);

/* The application's static settings and version cache (NULL when no
 * static_path is set). */
const char *gust__web_app_static_path(const gust_web_app *app);
const char *gust__web_app_static_prefix(const gust_web_app *app);
const char *gust__web_app_static_default(const gust_web_app *app);
gust__web_vcache *gust__web_app_vcache(gust_web_app *app);

/* The class data the application passes to gust_web_static_handler for
 * its static_path routes. */
const gust_web_static_opts *gust__web_app_static_opts(const gust_web_app *app);

/* ------------------------------------------------------------------ */
/* Shared between app.c and handler.c                                   */
/* ------------------------------------------------------------------ */

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

/* A route: compiled pattern, class, and what reverse_url needs. */
typedef struct gust__web_route {
  char *pattern; /* as given */
  char *name;    /* NULL when unnamed */
  pcre2_code *re;
  pcre2_match_data *md;
  uint32_t ngroups;
  const gust_web_handler_class *cls;
  void *class_data;
  /* reverse_url: ngroups + 1 literal pieces around the groups, or NULL
   * with rev_error set when the pattern cannot be reversed */
  char **pieces;
  const char *rev_error;
} gust__web_route;

struct gust_web_app {
  gust_loop *loop;
  const gust_mem *mem;
  size_t refs; /* the owner's + one per live handler */
  int freed;
  gust_web_settings st; /* copy; string fields point at the copies below */
  char *xsrf_name, *static_path, *static_prefix, *static_default;
  char *server_header, *login_url;
  char *xsrf_domain, *xsrf_path, *xsrf_samesite;
  gust_cookie_attrs xsrf_attrs;
  gust_headers default_headers;
  gust_web_static_opts static_opts;
  gust__web_vcache *vcache;
  gust__web_route *routes;
  size_t nroutes, cap;
  pcre2_general_context *pgen;
  pcre2_compile_context *pcomp;
  pcre2_match_context *pmatch;
  char err[256];
};

/* A pending Set-Cookie (one per name, as Tornado's _new_cookie). */
typedef struct gust__web_cookie {
  char *name;
  char *header; /* the formatted header value */
} gust__web_cookie;

/* A string handed out to the application, freed with the handler. */
typedef struct gust__web_str {
  struct gust__web_str *next;
} gust__web_str;

enum {
  GUST__WEB_S_CHECK,
  GUST__WEB_S_XSRF,
  GUST__WEB_S_PREPARE,
  GUST__WEB_S_BODY,
  GUST__WEB_S_METHOD,
  GUST__WEB_S_FINISH,
  GUST__WEB_S_DONE
};

struct gust_web_handler {
  size_t refs;
  gust_web_app *app;
  const gust_mem *mem;
  gust_loop *loop;
  const gust_web_handler_class *cls;
  void *class_data;
  const gust__web_route *route; /* NULL for the default handler */
  gust_http_request *req;       /* one reference held */
  void *state;
  /* path arguments: decoded bytes in argbuf */
  size_t nargs;
  gust_slice *args;
  uint8_t *present;
  gust_buf argbuf;
  /* response */
  int status;
  char *reason;
  gust_headers headers;
  gust_buf body;
  gust__web_cookie *cookies;
  size_t ncookies;
  gust_zip_resp *zip;
  int zip_checked;
  int headers_written;
  int finished;
  int is_head;
  /* execution */
  int step;
  int running;       /* the step chain holds a reference */
  int waiting;       /* a step's future is pending */
  gust_future *gate; /* holds the body back while prepare waits */
  int in_request;    /* between start_request and finish/close/detach */
  int body_done;     /* the delegate's finish ran */
  int conn_closed;
  int stream_body;
  int initialized;
  int err_status; /* from gust_web_http_error() */
  char *err_reason;
  char *err_log;
  /* handed-out strings */
  gust__web_str *strs;
  /* cookies and users */
  int xsrf_done;
  gust_buf xsrf_raw;
  const char *xsrf_token;
  int user_state; /* 0 unknown, 1 nobody, 2 user */
  gust_buf user;
  /* WebSocket routes */
  gust_websocket *ws;
  gust_websocket_handler wsh;
};

/* handler.c: the response and request sides used by app.c */
int gust__web_handler_init_response(gust_web_handler *h);
void gust__web_handler_free_response(gust_web_handler *h);
/* Ends a step with an error (see web.h "Errors"); `message` may be NULL. */
void gust__web_handle_error(gust_web_handler *h, int code, const char *message);
/* A copy of `n` bytes, NUL-terminated, freed with the handler. */
char *gust__web_strdup(gust_web_handler *h, const void *s, size_t n);
/* Runs log_request (after finish). */
void gust__web_log_request(gust_web_handler *h);

#endif /* GUST_WEB_INT_H */
