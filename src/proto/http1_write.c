/* HTTP/1.1 serializer: request and response heads from a header multimap,
 * body framing as Tornado chooses it, Content-Length accounting. */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "proto/http1_int.h"

static int err(gust_h1 *h, int code, const char *msg) {
  h->last_error = msg;
  return code;
}

static int errf(gust_h1 *h, int code, const char *fmt, ...) GUST_PRINTF(3, 4);
static int errf(gust_h1 *h, int code, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(h->last_buf, sizeof(h->last_buf), fmt, ap);
  va_end(ap);
  h->last_error = h->last_buf;
  return code;
}

const char *gust_h1_reason(int status) {
  switch (status) {
  case 100:
    return "Continue";
  case 101:
    return "Switching Protocols";
  case 103:
    return "Early Hints";
  case 200:
    return "OK";
  case 201:
    return "Created";
  case 202:
    return "Accepted";
  case 204:
    return "No Content";
  case 206:
    return "Partial Content";
  case 301:
    return "Moved Permanently";
  case 302:
    return "Found";
  case 303:
    return "See Other";
  case 304:
    return "Not Modified";
  case 307:
    return "Temporary Redirect";
  case 308:
    return "Permanent Redirect";
  case 400:
    return "Bad Request";
  case 401:
    return "Unauthorized";
  case 403:
    return "Forbidden";
  case 404:
    return "Not Found";
  case 405:
    return "Method Not Allowed";
  case 408:
    return "Request Timeout";
  case 411:
    return "Length Required";
  case 413:
    return "Content Too Large";
  case 414:
    return "URI Too Long";
  case 417:
    return "Expectation Failed";
  case 426:
    return "Upgrade Required";
  case 431:
    return "Request Header Fields Too Large";
  case 500:
    return "Internal Server Error";
  case 501:
    return "Not Implemented";
  case 502:
    return "Bad Gateway";
  case 503:
    return "Service Unavailable";
  case 505:
    return "HTTP Version Not Supported";
  default:
    return "";
  }
}

static int name_is(gust_slice s, const char *lower) {
  size_t i, n = strlen(lower);
  if (s.len != n)
    return 0;
  for (i = 0; i < n; i++)
    if (gust__lower(s.ptr[i]) != (uint8_t)lower[i])
      return 0;
  return 1;
}

static int has_token(gust_slice v, const char *tok) {
  size_t i = 0;
  while (i < v.len) {
    gust_slice t;
    size_t s = i;
    while (i < v.len && v.ptr[i] != ',')
      i++;
    t.ptr = v.ptr + s;
    t.len = i - s;
    if (name_is(gust_slice_trim(t), tok))
      return 1;
    i++;
  }
  return 0;
}

/* What the caller's headers say about framing and persistence, and the
 * bytes they take as `name: value\r\n` lines. */
typedef struct hdr_info {
  int has_cl, n_host, close, upgrade_hdr, conn_upgrade;
  uint64_t cl;
  size_t bytes;
} hdr_info;

/* The caller's fields: a header multimap or an array of fields. */
typedef struct fields_in {
  const gust_headers *hs;
  const gust_h1_field *f;
  size_t n;
} fields_in;

static int fields_next(const fields_in *in, size_t *it, gust_slice *n,
                       gust_slice *v) {
  if (in->hs != NULL)
    return gust_headers_next(in->hs, it, n, v);
  if (*it >= in->n)
    return 0;
  *n = in->f[*it].name;
  *v = in->f[*it].value;
  (*it)++;
  return 1;
}

static fields_in from_headers(const gust_headers *hs) {
  fields_in in;
  in.hs = hs;
  in.f = NULL;
  in.n = 0;
  return in;
}

static int scan_fields(gust_h1 *h, const fields_in *in, hdr_info *hi) {
  size_t it = 0;
  gust_slice n, v;
  memset(hi, 0, sizeof(*hi));
  while (fields_next(in, &it, &n, &v)) {
    if (!gust_header_name_valid((const char *)n.ptr, n.len))
      return err(h, GUST_EINVAL, "invalid header name");
    if (!gust_header_value_valid((const char *)v.ptr, v.len)) {
      /* CR, LF and NUL are among the refused bytes: say so when present */
      if (memchr(v.ptr, '\r', v.len) != NULL ||
          memchr(v.ptr, '\n', v.len) != NULL || memchr(v.ptr, 0, v.len) != NULL)
        return errf(h, GUST_EINVAL,
                    "Illegal characters (CR or LF) in header: %.*s",
                    (int)(n.len > 64 ? 64 : n.len), (const char *)n.ptr);
      return errf(h, GUST_EINVAL, "invalid value for header %.*s",
                  (int)(n.len > 64 ? 64 : n.len), (const char *)n.ptr);
    }
    if (v.len > 0 && (v.ptr[0] == ' ' || v.ptr[0] == '\t' ||
                      v.ptr[v.len - 1] == ' ' || v.ptr[v.len - 1] == '\t'))
      return errf(h, GUST_EINVAL, "invalid value for header %.*s",
                  (int)(n.len > 64 ? 64 : n.len), (const char *)n.ptr);
    hi->bytes += n.len + v.len + 4;
    /* the names that matter have these lengths: most fields skip the
     * comparisons */
    if (n.len != 14 && n.len != 17 && n.len != 4 && n.len != 10 && n.len != 7)
      continue;
    if (name_is(n, "content-length")) {
      if (hi->has_cl)
        return err(h, GUST_EINVAL, "more than one Content-Length");
      if (gust_slice_to_u64(v, (uint64_t)INT64_MAX, &hi->cl) != 0)
        return errf(h, GUST_EINVAL,
                    "Only integer Content-Length is allowed: %.*s",
                    (int)(v.len > 32 ? 32 : v.len), (const char *)v.ptr);
      hi->has_cl = 1;
    } else if (name_is(n, "transfer-encoding")) {
      return err(h, GUST_EINVAL,
                 "Transfer-Encoding is chosen by the connection, not set");
    } else if (name_is(n, "host")) {
      hi->n_host++;
    } else if (name_is(n, "connection")) {
      if (has_token(v, "close"))
        hi->close = 1;
      if (has_token(v, "upgrade"))
        hi->conn_upgrade = 1;
    } else if (name_is(n, "upgrade")) {
      hi->upgrade_hdr = 1;
    }
  }
  return 0;
}

/* Writes the `name: value\r\n` lines at p (room checked by the caller);
 * returns the end. */
static uint8_t *copy_fields(uint8_t *p, const fields_in *in) {
  size_t it = 0;
  gust_slice n, v;
  while (fields_next(in, &it, &n, &v)) {
    memcpy(p, n.ptr, n.len);
    p += n.len;
    *p++ = ':';
    *p++ = ' ';
    if (v.len != 0)
      memcpy(p, v.ptr, v.len);
    p += v.len;
    *p++ = '\r';
    *p++ = '\n';
  }
  return p;
}

/* Queues a response head in one reservation: status line, the caller's
 * fields (scanned into `hi`), then `extra` lines (or NULL) and the blank
 * line. No printf: this runs once per response. */
static int put_response_head(gust_h1 *h, int status, const char *reason,
                             const fields_in *in, const hdr_info *hi,
                             const char *extra1, const char *extra2) {
  size_t rlen = strlen(reason);
  size_t e1 = extra1 != NULL ? strlen(extra1) : 0;
  size_t e2 = extra2 != NULL ? strlen(extra2) : 0;
  size_t total = 13 + rlen + 2 + hi->bytes + e1 + e2 + 2;
  uint8_t *p;
  if (gust_buf_reserve(&h->out, total) != 0)
    return err(h, GUST_ENOMEM, "out of memory");
  p = gust_buf_tail(&h->out);
  memcpy(p, "HTTP/1.1 ", 9);
  p[9] = (uint8_t)('0' + status / 100);
  p[10] = (uint8_t)('0' + status / 10 % 10);
  p[11] = (uint8_t)('0' + status % 10);
  p[12] = ' ';
  p += 13;
  memcpy(p, reason, rlen);
  p += rlen;
  *p++ = '\r';
  *p++ = '\n';
  p = copy_fields(p, in);
  if (e1 != 0) {
    memcpy(p, extra1, e1);
    p += e1;
  }
  if (e2 != 0) {
    memcpy(p, extra2, e2);
    p += e2;
  }
  *p++ = '\r';
  *p++ = '\n';
  gust_buf_commit(&h->out, total);
  return 0;
}

static int put_headers(gust_buf *b, const gust_headers *hs) {
  size_t it = 0;
  gust_slice n, v;
  int rc = 0;
  if (hs == NULL)
    return 0;
  while (rc == 0 && gust_headers_next(hs, &it, &n, &v)) {
    rc |= gust_buf_append(b, n.ptr, n.len);
    rc |= gust_buf_append(b, ": ", 2);
    rc |= gust_buf_append(b, v.ptr, v.len);
    rc |= gust_buf_append(b, "\r\n", 2);
  }
  return rc;
}

/* Appends or rolls back: a failed call leaves the output as it was. */
static int commit(gust_h1 *h, size_t mark, int rc) {
  if (rc != 0) {
    gust_buf_truncate(&h->out, mark);
    return err(h, GUST_ENOMEM, "out of memory");
  }
  return 0;
}

static int reason_ok(const char *r) {
  for (; *r; r++) {
    uint8_t c = (uint8_t)*r;
    if ((c < 0x20 && c != '\t') || c == 0x7f)
      return 0;
  }
  return 1;
}

static int send_response(gust_h1 *h, int status, const char *reason,
                         const fields_in *in) {
  hdr_info hi;
  int rc, sw = 0, nobody, keep, interim;
  const char *conn = NULL;
  if (h->role != GUST_H1_SERVER)
    return err(h, GUST_ESTATE, "only a server sends responses");
  if (!h->req_seen || h->sstate != GUST__H1_S_IDLE ||
      h->rstate == GUST__H1_R_ERROR)
    return err(h, GUST_ESTATE, "no request waiting for a response");
  if (status < 100 || status > 599)
    return err(h, GUST_EINVAL, "status code out of range");
  if (reason == NULL)
    reason = gust_h1_reason(status);
  if (!reason_ok(reason))
    return err(h, GUST_EINVAL, "invalid character in reason phrase");
  rc = scan_fields(h, in, &hi);
  if (rc != 0)
    return rc;
  interim = status < 200 && status != 101;
  if (status < 200 || status == 204) {
    if (hi.has_cl)
      return err(h, GUST_EINVAL, "Content-Length on a response without body");
  }
  if (status == 101) {
    if (!h->req_upgrade)
      return err(h, GUST_EINVAL, "101 answer to a request without Upgrade");
    sw = 1;
  }
  if (h->req_connect && status >= 200 && status < 300) {
    if (hi.has_cl)
      return err(h, GUST_EINVAL, "Content-Length on a CONNECT tunnel");
    sw = 1;
  }
  if (interim)
    return put_response_head(h, status, reason, in, &hi, NULL, NULL);
  nobody = sw || status == 204 || status == 304 || h->req_head;
  keep = h->keep_alive && !hi.close && !(h->cfg.flags & GUST_H1_NO_KEEP_ALIVE);
  h->s_chunked = h->s_fixed = 0;
  if (nobody) {
    h->s_fixed = 1;
    h->s_left = 0;
  } else if (hi.has_cl) {
    h->s_fixed = 1;
    h->s_left = hi.cl;
  } else if (h->req_minor == 1) {
    h->s_chunked = 1;
  } else {
    keep = 0; /* delimited by the close */
  }
  if (!sw) {
    if (!keep && h->req_minor == 1 && !hi.close)
      conn = "Connection: close\r\n";
    else if (keep && h->req_minor == 0)
      conn = "Connection: keep-alive\r\n";
  }
  rc = put_response_head(h, status, reason, in, &hi,
                         h->s_chunked ? "Transfer-Encoding: chunked\r\n" : NULL,
                         conn);
  if (rc != 0)
    return rc;
  h->keep_alive = keep;
  h->resp_started = 1;
  h->sstate = sw ? GUST__H1_S_SWITCHED : GUST__H1_S_BODY;
  return 0;
}

int gust_h1_send_response(gust_h1 *h, int status, const char *reason,
                          const gust_headers *headers) {
  fields_in in = from_headers(headers);
  return send_response(h, status, reason, &in);
}

int gust_h1_send_response_fields(gust_h1 *h, int status, const char *reason,
                                 const gust_h1_field *fields, size_t n) {
  fields_in in;
  if (n != 0 && fields == NULL)
    return err(h, GUST_EINVAL, "no fields");
  in.hs = NULL;
  in.f = fields;
  in.n = n;
  return send_response(h, status, reason, &in);
}

int gust_h1_send_continue(gust_h1 *h) {
  size_t mark = h->out.len;
  if (h->role != GUST_H1_SERVER)
    return err(h, GUST_ESTATE, "only a server sends 100 Continue");
  if (!h->req_expect_100 || h->continue_sent || h->resp_started ||
      h->sstate != GUST__H1_S_IDLE)
    return 0;
  /* An announced body over the limit gets 413 when it starts (C7): the
   * client must not be told to send it. */
  if (h->rstate == GUST__H1_R_FIXED && h->left == h->content_length &&
      h->content_length > h->max_body)
    return 0;
  if (commit(h, mark,
             gust_buf_append_str(&h->out, "HTTP/1.1 100 Continue\r\n\r\n")))
    return GUST_ENOMEM;
  h->continue_sent = 1;
  return 0;
}

int gust_h1_send_error(gust_h1 *h) {
  size_t mark = h->out.len;
  int rc;
  if (h->role != GUST_H1_SERVER || h->rstate != GUST__H1_R_ERROR ||
      h->err_status == 0 || h->resp_started)
    return err(h, GUST_ESTATE, "no error response to send");
  if (h->cfg.flags & GUST_H1_TORNADO_ERRORS)
    rc = gust_buf_append_str(&h->out, "HTTP/1.1 400 Bad Request\r\n\r\n");
  else
    rc = gust_buf_printf(&h->out,
                         "HTTP/1.1 %d %s\r\nConnection: close\r\n"
                         "Content-Length: 0\r\n\r\n",
                         h->err_status, gust_h1_reason(h->err_status));
  if ((rc = commit(h, mark, rc)) != 0)
    return rc;
  h->resp_started = 1;
  h->sstate = GUST__H1_S_DONE;
  return 0;
}

static int is_method(const char *m, const char *want) {
  return strcmp(m, want) == 0;
}

int gust_h1_send_request(gust_h1 *h, const char *method, const char *target,
                         const gust_headers *headers) {
  hdr_info hi;
  fields_in in;
  size_t i, mark = h->out.len;
  int rc;
  if (h->role != GUST_H1_CLIENT)
    return err(h, GUST_ESTATE, "only a client sends requests");
  if (h->sstate != GUST__H1_S_IDLE || h->rstate != GUST__H1_R_HEAD)
    return err(h, GUST_ESTATE, "a request is already in progress");
  if (method == NULL || !gust_header_name_valid(method, strlen(method)))
    return err(h, GUST_EINVAL, "method is not a token");
  if (target == NULL || target[0] == '\0')
    return err(h, GUST_EINVAL, "empty request target");
  for (i = 0; target[i]; i++) {
    uint8_t c = (uint8_t)target[i];
    if (c < 0x21 || c == 0x7f)
      return err(h, GUST_EINVAL, "invalid character in request target");
  }
  in = from_headers(headers);
  rc = scan_fields(h, &in, &hi);
  if (rc != 0)
    return rc;
  if (hi.n_host != 1)
    return err(h, GUST_EINVAL, "a request needs exactly one Host header");
  h->s_chunked = h->s_fixed = 0;
  if (hi.has_cl) {
    h->s_fixed = 1;
    h->s_left = hi.cl;
  } else if (is_method(method, "POST") || is_method(method, "PUT") ||
             is_method(method, "PATCH")) {
    h->s_chunked = 1;
  } else {
    h->s_fixed = 1;
    h->s_left = 0;
  }
  rc = gust_buf_append_str(&h->out, method);
  rc |= gust_buf_append_byte(&h->out, ' ');
  rc |= gust_buf_append_str(&h->out, target);
  rc |= gust_buf_append(&h->out, " HTTP/1.1\r\n", 11);
  rc |= put_headers(&h->out, headers);
  if (h->s_chunked)
    rc |= gust_buf_append_str(&h->out, "Transfer-Encoding: chunked\r\n");
  rc |= gust_buf_append(&h->out, "\r\n", 2);
  if ((rc = commit(h, mark, rc)) != 0)
    return rc;
  if (hi.close || (h->cfg.flags & GUST_H1_NO_KEEP_ALIVE))
    h->keep_alive = 0;
  h->req_head = is_method(method, "HEAD");
  h->req_connect = is_method(method, "CONNECT");
  h->req_upgrade = hi.upgrade_hdr && hi.conn_upgrade;
  h->sstate = GUST__H1_S_BODY;
  return 0;
}

int gust_h1_send_data(gust_h1 *h, const void *data, size_t len) {
  size_t mark = h->out.len;
  int rc;
  if (h->sstate != GUST__H1_S_BODY)
    return err(h, GUST_ESTATE, "no message body is open");
  if (len == 0)
    return 0;
  if (h->s_fixed && (uint64_t)len > h->s_left) {
    h->sstate = GUST__H1_S_ERROR;
    h->keep_alive = 0;
    return err(h, GUST_EHTTP_LENGTH,
               "Tried to write more data than Content-Length");
  }
  if (h->s_chunked) {
    char line[20];
    size_t n = gust__u64_hex(line, len);
    line[n++] = '\r';
    line[n++] = '\n';
    rc = gust_buf_append(&h->out, line, n);
    rc |= gust_buf_append(&h->out, data, len);
    rc |= gust_buf_append(&h->out, "\r\n", 2);
  } else {
    rc = gust_buf_append(&h->out, data, len);
  }
  if ((rc = commit(h, mark, rc)) != 0)
    return rc;
  if (h->s_fixed)
    h->s_left -= len;
  return 0;
}

int gust_h1_send_end(gust_h1 *h) {
  size_t mark = h->out.len;
  if (h->sstate != GUST__H1_S_BODY)
    return err(h, GUST_ESTATE, "no message body is open");
  if (h->s_fixed && h->s_left > 0) {
    h->sstate = GUST__H1_S_ERROR;
    h->keep_alive = 0;
    return errf(h, GUST_EHTTP_LENGTH,
                "Tried to write %llu bytes less than Content-Length",
                (unsigned long long)h->s_left);
  }
  if (h->s_chunked &&
      commit(h, mark, gust_buf_append(&h->out, "0\r\n\r\n", 5)) != 0)
    return GUST_ENOMEM;
  h->sstate = GUST__H1_S_DONE;
  return 0;
}

gust_slice gust_h1_pending_output(const gust_h1 *h) {
  return gust_buf_slice(&h->out);
}

void gust_h1_consume_output(gust_h1 *h, size_t n) {
  gust_buf_consume(&h->out, n);
}
