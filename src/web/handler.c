/* The request handler's API: arguments, cookies, signed cookies, XSRF,
 * status and headers, the buffered body, flush / finish (ETag, 304,
 * Content-Length, compression) and errors. */
#include "web/web_int.h"

#include "base/base_int.h"

#include <gust/crypto.h>
#include <gust/http1.h>
#include <gust/httputil.h>
#include <gust/ws.h>

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* ------------------------------------------------------------------ */
/* Strings handed out to the application                                */
/* ------------------------------------------------------------------ */

/* Each block starts with its list link, padded so that the payload is
 * aligned for any pointer array. */
#define STR_HDR 16

static void *h_alloc(gust_web_handler *h, size_t n) {
  gust__web_str *s;
  if (n > SIZE_MAX - STR_HDR)
    return NULL;
  s = gust__malloc(h->mem, STR_HDR + n);
  if (s == NULL)
    return NULL;
  s->next = h->strs;
  h->strs = s;
  return (char *)s + STR_HDR;
}

char *gust__web_strdup(gust_web_handler *h, const void *p, size_t n) {
  char *s = h_alloc(h, n + 1);
  if (s == NULL)
    return NULL;
  if (n != 0)
    memcpy(s, p, n);
  s[n] = '\0';
  return s;
}

static int64_t now_wall(void) { return (int64_t)time(NULL); }

/* ------------------------------------------------------------------ */
/* Accessors                                                            */
/* ------------------------------------------------------------------ */

gust_http_request *gust_web_request(const gust_web_handler *h) {
  return h != NULL ? h->req : NULL;
}

gust_web_app *gust_web_app_of(const gust_web_handler *h) {
  return h != NULL ? h->app : NULL;
}

gust_loop *gust_web_loop(const gust_web_handler *h) {
  return h != NULL ? h->loop : NULL;
}

const gust_web_handler_class *gust_web_class(const gust_web_handler *h) {
  return h != NULL ? h->cls : NULL;
}

void *gust_web_class_data(const gust_web_handler *h) {
  return h != NULL ? h->class_data : NULL;
}

void *gust_web_state(const gust_web_handler *h) {
  return h != NULL ? h->state : NULL;
}

gust_websocket *gust_web_websocket(const gust_web_handler *h) {
  return h != NULL ? h->ws : NULL;
}

size_t gust_web_path_args_count(const gust_web_handler *h) {
  return h != NULL ? h->nargs : 0;
}

int gust_web_path_arg(const gust_web_handler *h, size_t index,
                      gust_slice *value) {
  if (h == NULL || index >= h->nargs || !h->present[index])
    return GUST_ENOTFOUND;
  if (value != NULL)
    *value = h->args[index];
  return 0;
}

int gust_web_finished(const gust_web_handler *h) {
  return h != NULL && h->finished;
}

int gust_web_headers_written(const gust_web_handler *h) {
  return h != NULL && h->headers_written;
}

int gust_web_get_status(const gust_web_handler *h) {
  return h != NULL ? h->status : 0;
}

const gust_headers *gust_web_response_headers(const gust_web_handler *h) {
  return h != NULL ? &h->headers : NULL;
}

/* ------------------------------------------------------------------ */
/* Arguments                                                            */
/* ------------------------------------------------------------------ */

static int is_space(uint8_t c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' ||
         c == '\f';
}

/* Tornado's decode_argument + control-character rule + strip. */
static int clean_arg(gust_web_handler *h, const char *name, gust_slice v,
                     int strip, const char **out) {
  char *s;
  size_t a = 0, b = v.len;
  if (!gust_utf8_valid(v.ptr, v.len))
    return gust_web_http_error(h, 400, "Invalid unicode in %s", name);
  s = gust__web_strdup(h, v.ptr, v.len);
  if (s == NULL)
    return GUST_ENOMEM;
  for (size_t i = 0; i < v.len; i++) {
    uint8_t c = (uint8_t)s[i];
    if (c <= 0x08 || (c >= 0x0e && c <= 0x1f))
      s[i] = ' ';
  }
  if (strip) {
    while (a < b && is_space((uint8_t)s[a]))
      a++;
    while (b > a && is_space((uint8_t)s[b - 1]))
      b--;
    s[b] = '\0';
  }
  *out = s + a;
  return 0;
}

static int args_of(gust_web_handler *h, gust_web_arg_source source,
                   const gust_http_args **args) {
  switch (source) {
  case GUST_WEB_ARGS_QUERY:
    return gust_http_request_query_arguments(h->req, args);
  case GUST_WEB_ARGS_BODY:
    return gust_http_request_body_arguments(h->req, args);
  case GUST_WEB_ARGS_ALL:
  default:
    return gust_http_request_arguments(h->req, args);
  }
}

int gust_web_get_argument_from(gust_web_handler *h, gust_web_arg_source source,
                               const char *name, const char *default_value,
                               int strip, const char **value) {
  const gust_http_args *args;
  gust_slice v;
  int rc;
  if (h == NULL || name == NULL || value == NULL)
    return GUST_EINVAL;
  *value = NULL;
  rc = args_of(h, source, &args);
  if (rc < 0)
    return rc;
  if (gust_http_args_get_last(args, name, &v) < 0) {
    if (default_value != NULL) {
      *value = default_value;
      return 0;
    }
    return gust_web_http_error(h, 400, "Missing argument %s", name);
  }
  return clean_arg(h, name, v, strip, value);
}

int gust_web_get_argument(gust_web_handler *h, const char *name,
                          const char *default_value, const char **value) {
  return gust_web_get_argument_from(h, GUST_WEB_ARGS_ALL, name, default_value,
                                    1, value);
}

int gust_web_get_arguments(gust_web_handler *h, gust_web_arg_source source,
                           const char *name, int strip,
                           const char *const **values, size_t *count) {
  const gust_http_args *args;
  const char **arr;
  size_t n;
  int rc;
  if (h == NULL || name == NULL || values == NULL || count == NULL)
    return GUST_EINVAL;
  *values = NULL;
  *count = 0;
  rc = args_of(h, source, &args);
  if (rc < 0)
    return rc;
  n = gust_http_args_count(args, name);
  if (n == 0)
    return 0;
  arr = h_alloc(h, n * sizeof *arr);
  if (arr == NULL)
    return GUST_ENOMEM;
  for (size_t i = 0; i < n; i++) {
    gust_slice v;
    gust_http_args_get(args, name, i, &v);
    rc = clean_arg(h, name, v, strip, &arr[i]);
    if (rc < 0)
      return rc;
  }
  *values = arr;
  *count = n;
  return 0;
}

/* ------------------------------------------------------------------ */
/* Request cookies, signed cookies, users                               */
/* ------------------------------------------------------------------ */

int gust_web_get_cookie(gust_web_handler *h, const char *name,
                        const char *default_value, const char **value) {
  gust_slice v;
  int rc;
  if (h == NULL || name == NULL || value == NULL)
    return GUST_EINVAL;
  *value = default_value;
  rc = gust_http_request_cookie(h->req, name, &v);
  if (rc == GUST_ENOTFOUND)
    return 0;
  if (rc < 0)
    return rc;
  *value = gust__web_strdup(h, v.ptr, v.len);
  return *value != NULL ? 0 : GUST_ENOMEM;
}

int gust_web_get_secure_cookie(gust_web_handler *h, const char *name,
                               double max_age_days, int min_version,
                               gust_buf *out) {
  gust_slice v;
  int rc;
  if (h == NULL || name == NULL || out == NULL)
    return GUST_EINVAL;
  if (h->app->st.cookie_secret == NULL)
    return GUST_ESTATE;
  rc = gust_http_request_cookie(h->req, name, &v);
  if (rc < 0)
    return rc;
  return gust_signed_value_decode(
      h->app->st.cookie_secret, name, (const char *)v.ptr, v.len, now_wall(),
      max_age_days > 0 ? max_age_days : GUST_SIGNED_MAX_AGE_DAYS, min_version,
      out);
}

int gust_web_get_secure_cookie_key_version(gust_web_handler *h,
                                           const char *name, int *key_version) {
  gust_slice v;
  int rc;
  if (h == NULL || name == NULL || key_version == NULL)
    return GUST_EINVAL;
  rc = gust_http_request_cookie(h->req, name, &v);
  if (rc < 0)
    return rc;
  return gust_signed_value_key_version((const char *)v.ptr, v.len, key_version);
}

int gust_web_current_user(gust_web_handler *h, gust_slice *user) {
  if (h == NULL)
    return GUST_EINVAL;
  if (h->user_state == 0) {
    int rc = 0;
    if (h->cls->get_current_user != NULL) {
      gust_buf_clear(&h->user);
      rc = h->cls->get_current_user(h, &h->user);
      if (rc < 0)
        return rc;
    }
    h->user_state = rc > 0 ? 2 : 1;
  }
  if (h->user_state == 2) {
    if (user != NULL)
      *user = gust_buf_slice(&h->user);
    return 1;
  }
  return 0;
}

int gust_web_authenticated(gust_web_handler *h) {
  const char *m, *login;
  gust_buf url;
  int rc;
  if (h == NULL)
    return GUST_EINVAL;
  rc = gust_web_current_user(h, NULL);
  if (rc != 0)
    return rc > 0 ? 0 : rc;
  m = gust_http_request_method(h->req);
  login = h->app->login_url;
  if (login == NULL || (strcmp(m, "GET") != 0 && strcmp(m, "HEAD") != 0))
    return gust_web_http_error(h, 403, NULL);
  gust_buf_init(&url, h->mem);
  rc = gust_buf_append_str(&url, login);
  if (rc == 0 && strchr(login, '?') == NULL) {
    gust_buf next;
    gust_buf_init(&next, h->mem);
    if (strstr(login, "://") != NULL)
      rc = gust_http_request_full_url(h->req, &next);
    else
      rc = gust_buf_append_str(&next, gust_http_request_uri(h->req));
    if (rc == 0)
      rc = gust_buf_append_str(&url, "?next=");
    if (rc == 0)
      rc = gust_url_escape(next.ptr, next.len, 1, &url);
    gust_buf_free(&next);
  }
  if (rc == 0)
    rc = gust_buf_append_byte(&url, 0);
  if (rc == 0)
    rc = gust_web_redirect(h, (const char *)url.ptr, 0);
  gust_buf_free(&url);
  if (rc < 0)
    return rc;
  return GUST_EWEB_FINISH;
}

/* ------------------------------------------------------------------ */
/* Status, headers, body                                                */
/* ------------------------------------------------------------------ */

static int reason_ok(const char *r) {
  for (; *r; r++)
    if (*r == '\r' || *r == '\n' || *r == '\0')
      return 0;
  return 1;
}

int gust_web_set_status(gust_web_handler *h, int status, const char *reason) {
  char *r = NULL;
  if (h == NULL || status < 100 || status > 599)
    return GUST_EINVAL;
  if (h->headers_written)
    return GUST_ESTATE;
  if (reason != NULL) {
    if (!reason_ok(reason))
      return GUST_EINVAL;
    r = gust__strndup(h->mem, reason, strlen(reason));
    if (r == NULL)
      return GUST_ENOMEM;
  } else if (gust_h1_reason(status)[0] == '\0') {
    r = gust__strndup(h->mem, "Unknown", 7);
    if (r == NULL)
      return GUST_ENOMEM;
  }
  gust__free(h->mem, h->reason);
  h->reason = r;
  h->status = status;
  return 0;
}

static int header_check(gust_web_handler *h, const char *name,
                        const char *value) {
  if (h == NULL || name == NULL || value == NULL)
    return GUST_EINVAL;
  if (h->headers_written)
    return GUST_ESTATE;
  if (!gust_header_name_valid(name, strlen(name)) ||
      !gust_header_value_valid(value, strlen(value))) {
    gust_log(GUST_LOG_APPLICATION, GUST_LOG_WARNING,
             "Unsafe header value for %s", name);
    return GUST_EINVAL;
  }
  return 0;
}

int gust_web_set_header(gust_web_handler *h, const char *name,
                        const char *value) {
  int rc = header_check(h, name, value);
  return rc < 0 ? rc : gust_headers_set_str(&h->headers, name, value);
}

int gust_web_add_header(gust_web_handler *h, const char *name,
                        const char *value) {
  int rc = header_check(h, name, value);
  return rc < 0 ? rc : gust_headers_add_str(&h->headers, name, value);
}

int gust_web_clear_header(gust_web_handler *h, const char *name) {
  if (h == NULL || name == NULL)
    return GUST_EINVAL;
  if (h->headers_written)
    return GUST_ESTATE;
  gust_headers_remove(&h->headers, name);
  return 0;
}

/* Tornado's clear(): default status, headers and an empty body. */
static int reset(gust_web_handler *h) {
  char date[GUST_HTTPDATE_SIZE];
  size_t it = 0;
  gust_slice n, v;
  int rc = 0;
  gust_headers_clear(&h->headers);
  gust_buf_clear(&h->body);
  gust__free(h->mem, h->reason);
  h->reason = NULL;
  h->status = 200;
  if (h->app->server_header[0] != '\0')
    rc = gust_headers_set_str(&h->headers, "Server", h->app->server_header);
  if (rc == 0)
    rc = gust_headers_set_str(&h->headers, "Content-Type",
                              "text/html; charset=UTF-8");
  if (rc == 0 && gust_httpdate_format(now_wall(), date) == 0)
    rc = gust_headers_set_str(&h->headers, "Date", date);
  while (rc == 0 && gust_headers_next(&h->app->default_headers, &it, &n, &v))
    rc = gust_headers_set(&h->headers, (const char *)n.ptr, n.len,
                          (const char *)v.ptr, v.len);
  if (rc == 0 && h->cls != NULL && h->cls->set_default_headers != NULL)
    rc = h->cls->set_default_headers(h);
  return rc;
}

int gust_web_clear(gust_web_handler *h) {
  if (h == NULL)
    return GUST_EINVAL;
  if (h->headers_written)
    return GUST_ESTATE;
  return reset(h);
}

int gust__web_handler_init_response(gust_web_handler *h) { return reset(h); }

void gust__web_handler_free_response(gust_web_handler *h) {
  gust_headers_free(&h->headers);
  gust_buf_free(&h->body);
  for (size_t i = 0; i < h->ncookies; i++) {
    gust__free(h->mem, h->cookies[i].name);
    gust__free(h->mem, h->cookies[i].header);
  }
  gust__free(h->mem, h->cookies);
  gust_zip_resp_free(h->zip);
  if (h->gate != NULL) {
    gust_future_cancel(h->gate);
    gust_future_unref(h->gate);
  }
}

int gust_web_write(gust_web_handler *h, const void *data, size_t len) {
  if (h == NULL || (data == NULL && len > 0))
    return GUST_EINVAL;
  if (h->finished) {
    gust_log(GUST_LOG_APPLICATION, GUST_LOG_ERROR,
             "Cannot write() after finish()");
    return GUST_ESTATE;
  }
  return len ? gust_buf_append(&h->body, data, len) : 0;
}

int gust_web_write_str(gust_web_handler *h, const char *s) {
  if (s == NULL)
    return GUST_EINVAL;
  return gust_web_write(h, s, strlen(s));
}

int gust_web_writef(gust_web_handler *h, const char *fmt, ...) {
  va_list ap;
  int rc;
  if (h == NULL || fmt == NULL)
    return GUST_EINVAL;
  if (h->finished)
    return GUST_ESTATE;
  va_start(ap, fmt);
  rc = gust_buf_vprintf(&h->body, fmt, ap);
  va_end(ap);
  return rc;
}

int gust_web_write_json(gust_web_handler *h, const char *json, size_t len) {
  int rc;
  if (h == NULL || (json == NULL && len > 0))
    return GUST_EINVAL;
  if (h->finished)
    return GUST_ESTATE;
  if (!h->headers_written) {
    rc = gust_headers_set_str(&h->headers, "Content-Type",
                              "application/json; charset=UTF-8");
    if (rc < 0)
      return rc;
  }
  return gust_web_write(h, json, len);
}

int gust_json_quote(const void *text, size_t len, gust_buf *out) {
  static const char hex[] = "0123456789abcdef";
  const uint8_t *s = text;
  size_t mark;
  if (out == NULL || (text == NULL && len > 0))
    return GUST_EINVAL;
  if (!gust_utf8_valid(s, len))
    return GUST_EINVAL;
  mark = out->len;
  if (gust_buf_append_byte(out, '"') < 0)
    goto nomem;
  for (size_t i = 0; i < len; i++) {
    uint8_t c = s[i];
    const char *e = NULL;
    char u[7];
    switch (c) {
    case '"':
      e = "\\\"";
      break;
    case '\\':
      e = "\\\\";
      break;
    case '\n':
      e = "\\n";
      break;
    case '\r':
      e = "\\r";
      break;
    case '\t':
      e = "\\t";
      break;
    case '\b':
      e = "\\b";
      break;
    case '\f':
      e = "\\f";
      break;
    case '/':
      if (i > 0 && s[i - 1] == '<')
        e = "\\/";
      break;
    default:
      if (c < 0x20) {
        u[0] = '\\';
        u[1] = 'u';
        u[2] = '0';
        u[3] = '0';
        u[4] = hex[c >> 4];
        u[5] = hex[c & 15];
        u[6] = '\0';
        e = u;
      }
    }
    if ((e != NULL ? gust_buf_append_str(out, e)
                   : gust_buf_append_byte(out, c)) < 0)
      goto nomem;
  }
  if (gust_buf_append_byte(out, '"') < 0)
    goto nomem;
  return 0;
nomem:
  gust_buf_truncate(out, mark);
  return GUST_ENOMEM;
}

int gust_web_write_escaped(gust_web_handler *h, const void *text, size_t len) {
  if (h == NULL || (text == NULL && len > 0))
    return GUST_EINVAL;
  if (h->finished)
    return GUST_ESTATE;
  return gust_xhtml_escape(text, len, &h->body);
}

/* ------------------------------------------------------------------ */
/* Flush and finish                                                     */
/* ------------------------------------------------------------------ */

static int done_future(gust_web_handler *h, int code, gust_future **out) {
  gust_future *f;
  if (out == NULL)
    return 0;
  if (gust_future_new(&f, h->loop, NULL) < 0)
    return GUST_ENOMEM;
  if (code < 0)
    gust_future_set_error(f, code, gust_strerror(code));
  else
    gust_future_set_result(f, NULL, NULL);
  *out = f;
  return 0;
}

static int no_body_status(int s) {
  return s == 204 || s == 304 || (s >= 100 && s < 200);
}

static int do_flush(gust_web_handler *h, int finishing, gust_future **out) {
  gust_buf tmp;
  gust_slice data;
  int rc = 0;
  if (out != NULL)
    *out = NULL;
  gust_buf_init(&tmp, h->mem);
  data = gust_buf_slice(&h->body);
  if (!h->headers_written) {
    for (size_t i = 0; i < h->ncookies && rc == 0; i++)
      rc =
          gust_headers_add_str(&h->headers, "Set-Cookie", h->cookies[i].header);
    /* a range of the representation is not re-encoded (Content-Range
     * counts its bytes) */
    if (rc == 0 && h->app->st.compress_response && !h->zip_checked &&
        h->status != 206 && h->status != 416 &&
        gust_headers_get(&h->headers, "Content-Range", NULL) < 0) {
      gust_buf ae;
      h->zip_checked = 1;
      gust_buf_init(&ae, h->mem);
      if (gust_headers_get_joined(gust_http_request_headers(h->req),
                                  "Accept-Encoding", &ae) == GUST_ENOMEM)
        rc = GUST_ENOMEM;
      if (rc == 0)
        rc = gust_zip_resp_new(&h->zip, h->mem, (const char *)ae.ptr, ae.len);
      gust_buf_free(&ae);
    }
    if (rc == 0 && h->zip != NULL) {
      rc = gust_zip_resp_first(h->zip, &h->headers, data.ptr, data.len,
                               finishing, &tmp);
      data = gust_buf_slice(&tmp);
    }
    if (rc == 0)
      rc = gust_http_response_start(h->req, h->status, h->reason, &h->headers,
                                    NULL);
    if (rc < 0) {
      gust_buf_free(&tmp);
      return rc;
    }
    h->headers_written = 1;
  } else if (h->zip != NULL) {
    rc = gust_zip_resp_chunk(h->zip, data.ptr, data.len, finishing, &tmp);
    if (rc < 0) {
      gust_buf_free(&tmp);
      gust_http_request_close(h->req);
      return rc;
    }
    data = gust_buf_slice(&tmp);
  }
  if (!h->is_head && !no_body_status(h->status) && data.len > 0)
    rc = gust_http_response_write(h->req, data.ptr, data.len, out);
  else
    rc = done_future(h, 0, out);
  gust_buf_free(&tmp);
  gust_buf_clear(&h->body);
  return rc;
}

int gust_web_flush(gust_web_handler *h, gust_future **out) {
  if (out != NULL)
    *out = NULL;
  if (h == NULL)
    return GUST_EINVAL;
  if (h->finished)
    return GUST_ESTATE;
  return do_flush(h, 0, out);
}

void gust__web_log_request(gust_web_handler *h) {
  int s = h->status;
  gust_log_level lv;
  if (h->app->st.log_request != NULL) {
    h->app->st.log_request(h, h->app->st.user_data);
    return;
  }
  lv = s < 400 ? GUST_LOG_INFO : s < 500 ? GUST_LOG_WARNING : GUST_LOG_ERROR;
  if (!gust_log_enabled(GUST_LOG_ACCESS, lv))
    return;
  gust_log(GUST_LOG_ACCESS, lv, "%d %s %s (%s) %.2fms", s,
           gust_http_request_method(h->req), gust_http_request_uri(h->req),
           gust_http_request_remote_ip(h->req),
           1000.0 * gust_http_request_request_time(h->req));
}

/* What finish does before the last flush: ETag and 304, the rules of
 * bodiless statuses, Content-Length. */
static int finish_head(gust_web_handler *h) {
  const char *m = gust_http_request_method(h->req);
  int rc = 0;
  if (h->status == 200 && (strcmp(m, "GET") == 0 || strcmp(m, "HEAD") == 0) &&
      gust_headers_get(&h->headers, "Etag", NULL) < 0) {
    gust_buf etag, inm;
    gust_buf_init(&etag, h->mem);
    gust_buf_init(&inm, h->mem);
    if (h->cls->compute_etag != NULL) {
      rc = h->cls->compute_etag(h, gust_buf_slice(&h->body), &etag);
      if (rc > 0)
        rc = 0;
      else if (rc == 0)
        gust_buf_clear(&etag);
    } else {
      rc = gust_etag_compute(h->body.ptr, h->body.len, &etag);
    }
    if (rc == 0 && etag.len > 0)
      rc = gust_headers_set(&h->headers, "Etag", 4, (const char *)etag.ptr,
                            etag.len);
    if (rc == 0 && etag.len > 0) {
      int got = gust_headers_get_joined(gust_http_request_headers(h->req),
                                        "If-None-Match", &inm);
      if (got == GUST_ENOMEM)
        rc = got;
      else if (got == 0 &&
               gust_etag_match((const char *)inm.ptr, inm.len,
                               (const char *)etag.ptr, etag.len)) {
        gust_buf_clear(&h->body);
        rc = gust_web_set_status(h, 304, NULL);
      }
    }
    gust_buf_free(&etag);
    gust_buf_free(&inm);
    if (rc < 0)
      return rc;
  }
  if (no_body_status(h->status)) {
    gust_buf_clear(&h->body);
    gust_headers_remove(&h->headers, "Content-Encoding");
    gust_headers_remove(&h->headers, "Content-Language");
    gust_headers_remove(&h->headers, "Content-Type");
  } else if (gust_headers_get(&h->headers, "Content-Length", NULL) < 0) {
    char n[24];
    snprintf(n, sizeof n, "%zu", h->body.len);
    rc = gust_headers_set_str(&h->headers, "Content-Length", n);
  }
  return rc;
}

int gust_web_finish(gust_web_handler *h, gust_future **out) {
  int rc = 0;
  if (out != NULL)
    *out = NULL;
  if (h == NULL)
    return GUST_EINVAL;
  if (h->finished) {
    gust_log(GUST_LOG_APPLICATION, GUST_LOG_ERROR, "finish() called twice");
    return GUST_ESTATE;
  }
  if (!h->headers_written)
    rc = finish_head(h);
  if (rc == 0)
    rc = do_flush(h, 1, NULL);
  if (rc == 0)
    rc = gust_http_response_finish(h->req, out);
  /* finished either way: a response that could not be completed ends with
   * the connection */
  h->finished = 1;
  if (rc < 0 && rc != GUST_ECLOSED) {
    gust_log(GUST_LOG_APPLICATION, GUST_LOG_ERROR,
             "%s %s: cannot finish the response: %s",
             gust_http_request_method(h->req), gust_http_request_uri(h->req),
             gust_strerror(rc));
    gust_http_request_close(h->req);
  }
  if (h->cls->on_finish != NULL)
    h->cls->on_finish(h);
  gust__web_log_request(h);
  return rc;
}

/* ------------------------------------------------------------------ */
/* Redirects and errors                                                 */
/* ------------------------------------------------------------------ */

int gust_web_redirect(gust_web_handler *h, const char *url, int status) {
  int rc;
  if (h == NULL || url == NULL)
    return GUST_EINVAL;
  if (status == 0)
    status = 302;
  if (status < 300 || status > 399 || !reason_ok(url))
    return GUST_EINVAL;
  if (h->headers_written) {
    gust_log(GUST_LOG_APPLICATION, GUST_LOG_ERROR,
             "Cannot redirect after headers have been written");
    return GUST_ESTATE;
  }
  /* "//host" and "/\host" name another host in a browser: keep a path a
   * path */
  if (url[0] == '/' && (url[1] == '/' || url[1] == '\\')) {
    char *fixed;
    size_t skip = 1;
    while (url[skip] == '/' || url[skip] == '\\')
      skip++;
    fixed = gust__web_strdup(h, url + skip - 1, strlen(url + skip - 1));
    if (fixed == NULL)
      return GUST_ENOMEM;
    fixed[0] = '/';
    url = fixed;
  }
  rc = gust_web_set_status(h, status, NULL);
  if (rc == 0)
    rc = gust_web_set_header(h, "Location", url);
  if (rc == 0)
    rc = gust_web_finish(h, NULL);
  return rc == GUST_ECLOSED ? 0 : rc;
}

static int vset_err(gust_web_handler *h, int status, const char *reason,
                    const char *fmt, va_list ap) GUST_PRINTF(4, 0);
static int vset_err(gust_web_handler *h, int status, const char *reason,
                    const char *fmt, va_list ap) {
  gust__free(h->mem, h->err_reason);
  gust__free(h->mem, h->err_log);
  h->err_reason = NULL;
  h->err_log = NULL;
  h->err_status = status;
  if (reason != NULL)
    h->err_reason = gust__strndup(h->mem, reason, strlen(reason));
  if (fmt != NULL) {
    gust_buf b;
    gust_buf_init(&b, h->mem);
    if (gust_buf_vprintf(&b, fmt, ap) == 0)
      h->err_log = (char *)gust_buf_detach(&b, NULL);
    gust_buf_free(&b);
  }
  return GUST_EWEB_HTTP;
}

int gust_web_http_error(gust_web_handler *h, int status, const char *log_fmt,
                        ...) {
  va_list ap;
  int rc;
  if (h == NULL)
    return GUST_EINVAL;
  va_start(ap, log_fmt);
  rc = vset_err(h, status, NULL, log_fmt, ap);
  va_end(ap);
  return rc;
}

int gust_web_http_error_reason(gust_web_handler *h, int status,
                               const char *reason, const char *log_fmt, ...) {
  va_list ap;
  int rc;
  if (h == NULL)
    return GUST_EINVAL;
  va_start(ap, log_fmt);
  rc = vset_err(h, status, reason, log_fmt, ap);
  va_end(ap);
  return rc;
}

int gust_web_finish_early(gust_web_handler *h) {
  GUST__UNUSED(h);
  return GUST_EWEB_FINISH;
}

static int default_write_error(gust_web_handler *h, int status, int code,
                               const char *message) {
  const char *reason = h->reason != NULL ? h->reason : gust_h1_reason(status);
  if (h->app->st.serve_traceback && code != 0 && code != GUST_EWEB_HTTP) {
    int rc = gust_headers_set_str(&h->headers, "Content-Type",
                                  "text/plain; charset=UTF-8");
    if (rc == 0)
      rc = gust_web_writef(h, "%s: %s\n", gust_errname(code),
                           message != NULL ? message : gust_strerror(code));
    return rc;
  }
  return gust_web_writef(h,
                         "<html><title>%d: %s</title>"
                         "<body>%d: %s</body></html>",
                         status, reason, status, reason);
}

static int send_error(gust_web_handler *h, int status, const char *reason,
                      int code, const char *message) {
  int rc;
  if (h->headers_written) {
    gust_log(GUST_LOG_APPLICATION, GUST_LOG_ERROR,
             "Cannot send error response after headers written");
    if (!h->finished) {
      rc = gust_web_finish(h, NULL);
      if (rc < 0)
        gust_http_request_close(h->req);
    }
    return 0;
  }
  rc = reset(h);
  if (rc == 0 && gust_web_set_status(h, status, reason) < 0)
    rc = gust_web_set_status(h, 500, NULL);
  if (rc == 0) {
    rc = h->cls->write_error != NULL
             ? h->cls->write_error(h, h->status, code, message)
             : default_write_error(h, h->status, code, message);
    if (rc < 0)
      gust_log(GUST_LOG_APPLICATION, GUST_LOG_ERROR,
               "Uncaught exception in write_error: %s", gust_strerror(rc));
  }
  if (!h->finished) {
    rc = gust_web_finish(h, NULL);
    if (rc == GUST_ECLOSED)
      rc = 0;
  }
  return rc;
}

int gust_web_send_error(gust_web_handler *h, int status) {
  if (h == NULL)
    return GUST_EINVAL;
  if (h->finished)
    return GUST_ESTATE;
  return send_error(h, status, NULL, 0, NULL);
}

void gust__web_handle_error(gust_web_handler *h, int code,
                            const char *message) {
  int status = 500;
  const char *reason = NULL;
  h->step = GUST__WEB_S_DONE;
  if (code == GUST_EWEB_FINISH) {
    if (!h->finished && gust_web_finish(h, NULL) < 0)
      gust_http_request_close(h->req);
    return;
  }
  if (code == GUST_EWEB_HTTP) {
    status = h->err_status >= 100 && h->err_status <= 599 ? h->err_status : 500;
    reason = h->err_reason;
    if (h->err_log != NULL)
      gust_log(GUST_LOG_GENERAL, GUST_LOG_WARNING, "%d %s %s (%s): %s", status,
               gust_http_request_method(h->req), gust_http_request_uri(h->req),
               gust_http_request_remote_ip(h->req), h->err_log);
  } else {
    gust_log(GUST_LOG_APPLICATION, GUST_LOG_ERROR,
             "Uncaught exception %s %s (%s): %s: %s",
             gust_http_request_method(h->req), gust_http_request_uri(h->req),
             gust_http_request_remote_ip(h->req), gust_errname(code),
             message != NULL ? message : gust_strerror(code));
  }
  if (h->finished)
    return;
  send_error(h, status, reason, code, message);
}

/* ------------------------------------------------------------------ */
/* Response cookies                                                     */
/* ------------------------------------------------------------------ */

int gust_web_set_cookie(gust_web_handler *h, const char *name,
                        const void *value, size_t len,
                        const gust_cookie_attrs *attrs, double expires_days) {
  gust_cookie_attrs a;
  gust_buf v;
  char *hdr, *nm;
  size_t i;
  int rc;
  if (h == NULL || name == NULL || (value == NULL && len > 0))
    return GUST_EINVAL;
  if (h->headers_written)
    return GUST_ESTATE;
  memset(&a, 0, sizeof a);
  if (attrs != NULL)
    a = *attrs;
  if (a.path == NULL)
    a.path = "/";
  if (expires_days > 0 && !a.has_expires) {
    a.has_expires = 1;
    a.expires = now_wall() + (int64_t)(expires_days * 86400.0);
  }
  gust_buf_init(&v, h->mem);
  rc = gust_cookie_format(name, value, len, &a, &v);
  if (rc == 0)
    rc = gust_buf_append_byte(&v, 0);
  if (rc < 0) {
    gust_buf_free(&v);
    if (rc == GUST_ECOOKIE_INVALID)
      gust_log(GUST_LOG_APPLICATION, GUST_LOG_ERROR, "Invalid cookie %s", name);
    return rc;
  }
  hdr = (char *)gust_buf_detach(&v, NULL);
  gust_buf_free(&v);
  if (hdr == NULL)
    return GUST_ENOMEM;
  for (i = 0; i < h->ncookies; i++)
    if (strcmp(h->cookies[i].name, name) == 0) {
      gust__free(h->mem, h->cookies[i].header);
      h->cookies[i].header = hdr;
      return 0;
    }
  nm = gust__strndup(h->mem, name, strlen(name));
  if (nm == NULL) {
    gust__free(h->mem, hdr);
    return GUST_ENOMEM;
  }
  {
    gust__web_cookie *nc =
        gust__realloc(h->mem, h->cookies, (h->ncookies + 1) * sizeof *nc);
    if (nc == NULL) {
      gust__free(h->mem, hdr);
      gust__free(h->mem, nm);
      return GUST_ENOMEM;
    }
    h->cookies = nc;
  }
  h->cookies[h->ncookies].name = nm;
  h->cookies[h->ncookies].header = hdr;
  h->ncookies++;
  return 0;
}

int gust_web_clear_cookie(gust_web_handler *h, const char *name,
                          const char *path, const char *domain) {
  gust_cookie_attrs a;
  memset(&a, 0, sizeof a);
  a.path = path != NULL ? path : "/";
  a.domain = domain;
  a.has_expires = 1;
  a.expires = now_wall() - 365 * 86400;
  a.has_max_age = 1;
  a.max_age = 0;
  return gust_web_set_cookie(h, name, "", 0, &a, 0);
}

int gust_web_set_secure_cookie(gust_web_handler *h, const char *name,
                               const void *value, size_t len,
                               const gust_cookie_attrs *attrs,
                               double expires_days) {
  gust_buf sv;
  int rc;
  if (h == NULL || name == NULL || (value == NULL && len > 0))
    return GUST_EINVAL;
  if (h->app->st.cookie_secret == NULL) {
    gust_log(GUST_LOG_APPLICATION, GUST_LOG_ERROR,
             "cookie_secret is not set: cannot sign cookie %s", name);
    return GUST_ESTATE;
  }
  gust_buf_init(&sv, h->mem);
  rc = gust_signed_value_create(h->app->st.cookie_secret, name, value, len,
                                now_wall(), 2, &sv);
  if (rc == 0)
    rc = gust_web_set_cookie(h, name, sv.ptr, sv.len, attrs,
                             expires_days > 0 ? expires_days : 30);
  gust_buf_free(&sv);
  return rc;
}

/* ------------------------------------------------------------------ */
/* XSRF                                                                 */
/* ------------------------------------------------------------------ */

/* The raw token from the XSRF cookie; 0 and h->xsrf_raw filled, or
 * GUST_ENOTFOUND when absent or undecodable. */
static int xsrf_cookie_raw(gust_web_handler *h, int64_t *ts) {
  gust_slice v;
  int rc = gust_http_request_cookie(h->req, h->app->xsrf_name, &v);
  if (rc < 0)
    return rc;
  gust_buf_clear(&h->xsrf_raw);
  rc = gust_xsrf_token_decode((const char *)v.ptr, v.len, &h->xsrf_raw, NULL,
                              ts);
  if (rc == GUST_ENOMEM)
    return rc;
  if (rc < 0 || h->xsrf_raw.len == 0)
    return GUST_ENOTFOUND;
  return 0;
}

int gust_web_xsrf_token(gust_web_handler *h, const char **token) {
  int64_t ts = 0;
  int rc, fresh = 0, version;
  gust_buf t;
  if (h == NULL || token == NULL)
    return GUST_EINVAL;
  *token = NULL;
  if (h->xsrf_token != NULL) {
    *token = h->xsrf_token;
    return 0;
  }
  rc = xsrf_cookie_raw(h, &ts);
  if (rc == GUST_ENOMEM)
    return rc;
  if (rc < 0) {
    uint8_t raw[GUST_XSRF_TOKEN_SIZE];
    rc = gust_xsrf_token_generate(raw);
    if (rc < 0)
      return rc;
    gust_buf_clear(&h->xsrf_raw);
    if (gust_buf_append(&h->xsrf_raw, raw, sizeof raw) < 0)
      return GUST_ENOMEM;
    ts = now_wall();
    fresh = 1;
  }
  version = h->app->st.xsrf_cookie_version ? h->app->st.xsrf_cookie_version : 2;
  gust_buf_init(&t, h->mem);
  rc = gust_xsrf_token_encode(h->xsrf_raw.ptr, h->xsrf_raw.len, ts, version,
                              NULL, &t);
  if (rc == 0) {
    h->xsrf_token = gust__web_strdup(h, t.ptr, t.len);
    if (h->xsrf_token == NULL)
      rc = GUST_ENOMEM;
  }
  gust_buf_free(&t);
  if (rc < 0)
    return rc;
  if (fresh) {
    const gust_cookie_attrs *a = h->app->st.xsrf_cookie_attrs;
    double days = h->app->st.xsrf_cookie_expires_days;
    if (days <= 0 && (a == NULL || !a->has_expires) &&
        gust_web_current_user(h, NULL) > 0)
      days = 30;
    rc = gust_web_set_cookie(h, h->app->xsrf_name, h->xsrf_token,
                             strlen(h->xsrf_token), a, days);
    if (rc < 0 && rc != GUST_ESTATE)
      return rc;
  }
  *token = h->xsrf_token;
  return 0;
}

int gust_web_xsrf_form_html(gust_web_handler *h, const char **html) {
  const char *tok;
  gust_buf b;
  int rc;
  if (h == NULL || html == NULL)
    return GUST_EINVAL;
  *html = NULL;
  rc = gust_web_xsrf_token(h, &tok);
  if (rc < 0)
    return rc;
  gust_buf_init(&b, h->mem);
  rc = gust_xsrf_form_html(tok, strlen(tok), &b);
  if (rc == 0) {
    *html = gust__web_strdup(h, b.ptr, b.len);
    if (*html == NULL)
      rc = GUST_ENOMEM;
  }
  gust_buf_free(&b);
  return rc;
}

int gust_web_check_xsrf_cookie(gust_web_handler *h) {
  const char *sub = NULL;
  gust_slice hv;
  int rc;
  const gust_headers *rh;
  if (h == NULL)
    return GUST_EINVAL;
  rc = gust_web_get_argument(h, "_xsrf", "", &sub);
  if (rc < 0)
    return rc;
  rh = gust_http_request_headers(h->req);
  if (sub[0] == '\0' && gust_headers_get(rh, "X-Xsrftoken", &hv) == 0 &&
      hv.len > 0)
    sub = gust__web_strdup(h, hv.ptr, hv.len);
  else if (sub[0] == '\0' && gust_headers_get(rh, "X-Csrftoken", &hv) == 0 &&
           hv.len > 0)
    sub = gust__web_strdup(h, hv.ptr, hv.len);
  if (sub == NULL)
    return GUST_ENOMEM;
  rc = xsrf_cookie_raw(h, NULL);
  if (rc == GUST_ENOMEM)
    return rc;
  rc = gust_xsrf_check(h->mem, sub, strlen(sub),
                       rc == 0 ? h->xsrf_raw.ptr : NULL,
                       rc == 0 ? h->xsrf_raw.len : 0);
  if (rc == GUST_ENOMEM)
    return rc;
  if (rc < 0)
    return gust_web_http_error(h, 403, "%s", gust_strerror(rc));
  return 0;
}

int gust_web_static_url(gust_web_handler *h, const char *path,
                        int include_version, gust_buf *out) {
  if (h == NULL)
    return GUST_EINVAL;
  return gust_web_app_static_url(h->app, path, include_version, out);
}
