/* The HTTP server's request object: what a request head said, read once
 * into storage the request owns, plus lazily parsed arguments, uploaded
 * files and cookies (Tornado's HTTPServerRequest). */
#include "http/request_int.h"

#include <gust/httputil.h>

#include "base/base_int.h"

#include <netdb.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>

/* One (name, value) pair: offsets into the map's byte store, name and
 * value back to back. */
typedef struct args_pair {
  size_t off;
  size_t name_len;
  size_t value_len;
} args_pair;

struct gust_http_args {
  gust_buf bytes;
  args_pair *pairs;
  size_t n;
  size_t cap;
};

/* An uploaded file while parsing: offsets into the file byte store. */
typedef struct file_rec {
  size_t off;
  size_t name_len;
  size_t filename_len;
  size_t type_len;
  size_t body_len;
} file_rec;

/* Offsets of the request's strings inside `strs`. */
enum { S_METHOD, S_URI, S_PATH, S_QUERY, S_PROTO, S_HOST, S_HNAME, S_RIP, S_N };

struct gust_http_request {
  size_t refs;
  const gust_mem *mem;
  gust_http_server *server;
  gust_loop *loop;
  gust__http_conn *conn;
  int resp_state; /* once `conn` is NULL */
  void *user_data;
  int minor_version;
  int has_peer;
  gust_addr peer;
  double start_time;
  double finish_time;
  int finished;
  gust_buf strs; /* method, uri, path, query, ... each NUL-terminated */
  const char *s[S_N];
  gust_headers headers;
  gust_headers trailers;
  gust_buf body;

  int query_done;
  gust_http_args query_args;
  int body_done;
  gust_http_args body_args;
  gust_buf file_bytes;
  gust_http_file *files;
  size_t nfiles;
  int body_error;
  const char *body_error_msg;
  int all_done;
  gust_http_args all_args;
  gust_cookies *cookies;
};

/* ------------------------------------------------------------------ */
/* Argument maps                                                        */
/* ------------------------------------------------------------------ */

static void args_init(gust_http_args *a, const gust_mem *mem) {
  memset(a, 0, sizeof(*a));
  gust_buf_init(&a->bytes, mem);
}

static void args_free(gust_http_args *a) {
  gust__free(a->bytes.mem, a->pairs);
  gust_buf_free(&a->bytes);
  a->pairs = NULL;
  a->n = a->cap = 0;
}

static int args_grow(gust_http_args *a) {
  args_pair *p;
  size_t cap;
  if (a->n < a->cap)
    return 0;
  cap = a->cap != 0 ? a->cap * 2 : 8;
  if (cap > SIZE_MAX / sizeof(*p))
    return GUST_ENOMEM;
  p = (args_pair *)gust__realloc(a->bytes.mem, a->pairs, cap * sizeof(*p));
  if (p == NULL)
    return GUST_ENOMEM;
  a->pairs = p;
  a->cap = cap;
  return 0;
}

/* Adds a pair; on failure the map is unchanged. */
static int args_add(gust_http_args *a, const void *name, size_t name_len,
                    const void *value, size_t value_len) {
  size_t mark = a->bytes.len;
  int rc = args_grow(a);
  if (rc == 0)
    rc = gust_buf_append(&a->bytes, name, name_len);
  if (rc == 0)
    rc = gust_buf_append(&a->bytes, value, value_len);
  if (rc != 0) {
    gust_buf_truncate(&a->bytes, mark);
    return GUST_ENOMEM;
  }
  a->pairs[a->n].off = mark;
  a->pairs[a->n].name_len = name_len;
  a->pairs[a->n].value_len = value_len;
  a->n++;
  return 0;
}

static int args_copy(gust_http_args *dst, const gust_http_args *src) {
  size_t i;
  for (i = 0; i < src->n; i++) {
    const args_pair *p = &src->pairs[i];
    const uint8_t *b = src->bytes.ptr + p->off;
    int rc = args_add(dst, b, p->name_len, b + p->name_len, p->value_len);
    if (rc != 0)
      return rc;
  }
  return 0;
}

static int pair_is(const gust_http_args *a, size_t i, const char *name,
                   size_t len) {
  const args_pair *p = &a->pairs[i];
  return p->name_len == len &&
         (len == 0 || memcmp(a->bytes.ptr + p->off, name, len) == 0);
}

static gust_slice pair_value(const gust_http_args *a, size_t i) {
  const args_pair *p = &a->pairs[i];
  gust_slice s;
  s.ptr = a->bytes.ptr + p->off + p->name_len;
  s.len = p->value_len;
  return s;
}

size_t gust_http_args_count(const gust_http_args *args, const char *name) {
  size_t i, len, n = 0;
  if (args == NULL || name == NULL)
    return 0;
  len = strlen(name);
  for (i = 0; i < args->n; i++)
    n += (size_t)pair_is(args, i, name, len);
  return n;
}

int gust_http_args_get(const gust_http_args *args, const char *name,
                       size_t index, gust_slice *value) {
  size_t i, len;
  if (args == NULL || name == NULL)
    return GUST_ENOTFOUND;
  len = strlen(name);
  for (i = 0; i < args->n; i++) {
    if (!pair_is(args, i, name, len))
      continue;
    if (index-- == 0) {
      if (value != NULL)
        *value = pair_value(args, i);
      return 0;
    }
  }
  return GUST_ENOTFOUND;
}

int gust_http_args_get_last(const gust_http_args *args, const char *name,
                            gust_slice *value) {
  size_t i, len;
  if (args == NULL || name == NULL)
    return GUST_ENOTFOUND;
  len = strlen(name);
  for (i = args->n; i-- > 0;) {
    if (pair_is(args, i, name, len)) {
      if (value != NULL)
        *value = pair_value(args, i);
      return 0;
    }
  }
  return GUST_ENOTFOUND;
}

int gust_http_args_next(const gust_http_args *args, size_t *iter,
                        gust_slice *name, gust_slice *value) {
  size_t i;
  if (args == NULL || iter == NULL || *iter >= args->n)
    return 0;
  i = (*iter)++;
  if (name != NULL) {
    name->ptr = args->bytes.ptr + args->pairs[i].off;
    name->len = args->pairs[i].name_len;
  }
  if (value != NULL)
    *value = pair_value(args, i);
  return 1;
}

/* ------------------------------------------------------------------ */
/* Head-time computations                                               */
/* ------------------------------------------------------------------ */

/* Python's str.strip() set for latin-1 text (Tornado reads headers as
 * latin-1). */
static int py_space(uint8_t c) {
  return c == ' ' || (c >= 0x09 && c <= 0x0d) || (c >= 0x1c && c <= 0x1f) ||
         c == 0x85 || c == 0xa0;
}

static gust_slice py_strip(const uint8_t *p, size_t len) {
  gust_slice s;
  while (len > 0 && py_space(p[0])) {
    p++;
    len--;
  }
  while (len > 0 && py_space(p[len - 1]))
    len--;
  s.ptr = p;
  s.len = len;
  return s;
}

/* Tornado's netutil.is_valid_ip: a numeric host getaddrinfo() accepts. */
static int valid_ip(gust_slice ip) {
  char tmp[128];
  struct addrinfo hints, *res = NULL;
  int rc;
  if (ip.len == 0 || ip.len >= sizeof(tmp) || memchr(ip.ptr, 0, ip.len))
    return 0;
  memcpy(tmp, ip.ptr, ip.len);
  tmp[ip.len] = '\0';
  memset(&hints, 0, sizeof(hints));
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICHOST;
  rc = getaddrinfo(tmp, "0", &hints, &res);
  if (res != NULL)
    freeaddrinfo(res);
  return rc == 0;
}

static int trusted(const char *const *list, gust_slice ip) {
  if (list == NULL)
    return 0;
  for (; *list != NULL; list++) {
    if (strlen(*list) == ip.len &&
        (ip.len == 0 || memcmp(*list, ip.ptr, ip.len) == 0))
      return 1;
  }
  return 0;
}

/* Tornado's _apply_xheaders address rule: the X-Real-Ip value, else the
 * rightmost X-Forwarded-For entry that is not a trusted downstream (the
 * leftmost when all are), else the peer; kept only if it is an IP. */
static int xheaders_ip(gust_http_request *req, const gust__http_req_env *env,
                       gust_buf *tmp, gust_slice *ip) {
  gust_slice cand = *ip;
  int rc;
  gust_buf_clear(tmp);
  rc = gust_headers_get_joined(&req->headers, "X-Real-Ip", tmp);
  if (rc == GUST_ENOTFOUND) {
    rc = gust_headers_get_joined(&req->headers, "X-Forwarded-For", tmp);
    if (rc == 0) {
      /* An empty value may leave the buffer without memory. */
      const uint8_t *base = tmp->len != 0 ? tmp->ptr : (const uint8_t *)"";
      const uint8_t *p = base + tmp->len;
      for (;;) {
        const uint8_t *start = p;
        while (start > base && start[-1] != ',')
          start--;
        cand = py_strip(start, (size_t)(p - start));
        if (!trusted(env->trusted_downstream, cand) || start == base)
          break;
        p = start - 1;
      }
    }
  } else if (rc == 0) {
    cand = gust_buf_slice(tmp);
  }
  if (rc != 0)
    return rc == GUST_ENOTFOUND ? 0 : GUST_ENOMEM;
  if (valid_ip(cand))
    *ip = cand;
  return 0;
}

/* Tornado's _apply_xheaders scheme rule: X-Scheme, else X-Forwarded-Proto;
 * its last comma-separated element, stripped, if it is http or https. */
static int xheaders_proto(gust_http_request *req, gust_buf *tmp,
                          const char **proto) {
  int rc;
  const uint8_t *p;
  gust_slice last;
  gust_buf_clear(tmp);
  rc = gust_headers_get_joined(&req->headers, "X-Scheme", tmp);
  if (rc == GUST_ENOTFOUND)
    rc = gust_headers_get_joined(&req->headers, "X-Forwarded-Proto", tmp);
  if (rc == GUST_ENOTFOUND)
    return 0;
  if (rc != 0)
    return GUST_ENOMEM;
  if (tmp->len == 0)
    return 0; /* an empty value is ignored */
  p = tmp->ptr + tmp->len;
  while (p > tmp->ptr && p[-1] != ',')
    p--;
  last = py_strip(p, (size_t)(tmp->ptr + tmp->len - p));
  if (gust_slice_eq(last, gust_slice_cstr("http")))
    *proto = "http";
  else if (gust_slice_eq(last, gust_slice_cstr("https")))
    *proto = "https";
  return 0;
}

/* Appends `len` bytes and a NUL, recording the start offset. */
/* Appends the bytes and a NUL; *off gets where they start. */
static int put_str(gust_buf *b, size_t *off, const void *p, size_t len) {
  uint8_t *t;
  int rc = gust_buf_reserve(b, len + 1);
  if (rc != 0)
    return rc;
  *off = b->len;
  t = gust_buf_tail(b);
  if (len != 0)
    memcpy(t, p, len);
  t[len] = 0;
  return gust_buf_commit(b, len + 1);
}

/* Tornado's split_host_and_port on the lowercased host: "^(.+):(\d+)$"
 * splits off the port; anything else (including "[::1]") is kept whole. */
static size_t host_name_len(const uint8_t *h, size_t len) {
  size_t i = len;
  while (i > 0 && h[i - 1] >= '0' && h[i - 1] <= '9')
    i--;
  if (i < len && i >= 2 && h[i - 1] == ':')
    return i - 1;
  return len;
}

static int build_strings(gust_http_request *req, const gust_h1_event *head,
                         const gust__http_req_env *env) {
  size_t off[S_N], hlen, i;
  const uint8_t *t = head->target.ptr, *q;
  const char *proto = env->protocol != NULL ? env->protocol : "http";
  char peer_ip[64] = "0.0.0.0";
  gust_slice ip;
  gust_buf tmp;
  gust_buf *b = &req->strs;
  int rc;

  if (req->has_peer) {
    int fam = gust_addr_family(&req->peer);
    if ((fam == 4 || fam == 6) &&
        gust_addr_format(&req->peer, peer_ip, sizeof(peer_ip)) != 0)
      memcpy(peer_ip, "0.0.0.0", 8);
  }
  ip = gust_slice_cstr(peer_ip);
  gust_buf_init(&tmp, req->mem);
  rc = 0;
  if (env->xheaders) {
    /* `ip` may then point into tmp: it is copied before tmp is reused. */
    rc = xheaders_ip(req, env, &tmp, &ip);
  }
  if (rc == 0)
    rc = gust_buf_reserve(b, head->method.len + 2 * head->target.len +
                                 strlen(proto) + ip.len + 64);
  if (rc == 0)
    rc = put_str(b, &off[S_RIP], ip.ptr, ip.len);
  if (rc == 0 && env->xheaders)
    rc = xheaders_proto(req, &tmp, &proto);
  gust_buf_free(&tmp);
  if (rc == 0)
    rc = put_str(b, &off[S_METHOD], head->method.ptr, head->method.len);
  if (rc == 0)
    rc = put_str(b, &off[S_URI], t, head->target.len);
  q = head->target.len != 0 ? memchr(t, '?', head->target.len) : NULL;
  if (rc == 0)
    rc = put_str(b, &off[S_PATH], t, q ? (size_t)(q - t) : head->target.len);
  if (rc == 0)
    rc = q ? put_str(b, &off[S_QUERY], q + 1,
                     head->target.len - (size_t)(q - t) - 1)
           : put_str(b, &off[S_QUERY], "", 0);
  if (rc == 0)
    rc = put_str(b, &off[S_PROTO], proto, strlen(proto));
  if (rc == 0) {
    off[S_HOST] = b->len;
    rc = gust_headers_get_joined(&req->headers, "Host", b);
    if (rc == GUST_ENOTFOUND || (rc == 0 && b->len == off[S_HOST]))
      rc = gust_buf_append_str(b, "127.0.0.1");
    hlen = b->len - off[S_HOST];
    if (rc == 0)
      rc = gust_buf_append_byte(b, 0);
  }
  if (rc == 0) {
    off[S_HNAME] = b->len;
    rc = gust_buf_reserve(b, hlen + 1);
  }
  if (rc == 0) {
    uint8_t *dst = gust_buf_tail(b);
    const uint8_t *src = b->ptr + off[S_HOST];
    for (i = 0; i < hlen; i++)
      dst[i] = gust__lower(src[i]);
    hlen = host_name_len(dst, hlen);
    dst[hlen] = 0;
    rc = gust_buf_commit(b, hlen + 1);
  }
  if (rc != 0)
    return GUST_ENOMEM;
  for (i = 0; i < S_N; i++)
    req->s[i] = (const char *)b->ptr + off[i];
  return 0;
}

/* ------------------------------------------------------------------ */
/* Life cycle                                                           */
/* ------------------------------------------------------------------ */

static void body_parse_reset(gust_http_request *req) {
  args_free(&req->body_args);
  gust_buf_free(&req->file_bytes);
  gust__free(req->mem, req->files);
  req->files = NULL;
  req->nfiles = 0;
}

static void request_free(gust_http_request *req) {
  gust_buf_free(&req->strs);
  gust_headers_free(&req->headers);
  gust_headers_free(&req->trailers);
  gust_buf_free(&req->body);
  args_free(&req->query_args);
  body_parse_reset(req);
  args_free(&req->all_args);
  gust_cookies_free(req->cookies);
  gust__free(req->mem, req);
}

int gust__http_request_new(gust_http_request **out, const gust_mem *mem,
                           const gust_h1_event *head,
                           const gust__http_req_env *env) {
  gust_http_request *req;
  size_t i;
  int rc;
  if (out == NULL || head == NULL || env == NULL ||
      head->type != GUST_H1_REQUEST || (head->nfields != 0 && !head->fields))
    return GUST_EINVAL;
  mem = gust__mem(mem);
  req = (gust_http_request *)gust__calloc(mem, 1, sizeof(*req));
  if (req == NULL)
    return GUST_ENOMEM;
  req->refs = 1;
  req->mem = mem;
  req->server = env->server;
  req->loop = env->loop;
  req->minor_version = head->minor_version;
  req->start_time = env->start_time;
  if (env->peer != NULL) {
    req->peer = *env->peer;
    req->has_peer = 1;
  }
  gust_buf_init(&req->strs, mem);
  gust_headers_init(&req->headers, mem);
  gust_headers_init(&req->trailers, mem);
  gust_buf_init(&req->body, mem);
  args_init(&req->query_args, mem);
  args_init(&req->body_args, mem);
  args_init(&req->all_args, mem);
  gust_buf_init(&req->file_bytes, mem);
  {
    size_t bytes = 0;
    for (i = 0; i < head->nfields; i++)
      bytes += head->fields[i].name.len + head->fields[i].value.len;
    rc = gust_headers_reserve(&req->headers, head->nfields, bytes);
  }
  for (i = 0; i < head->nfields && rc == 0; i++) {
    const gust_h1_field *f = &head->fields[i];
    rc = gust_headers_add(&req->headers, (const char *)f->name.ptr, f->name.len,
                          (const char *)f->value.ptr, f->value.len);
  }
  if (rc == 0)
    rc = build_strings(req, head, env);
  if (rc != 0) {
    request_free(req);
    return rc == GUST_EINVAL ? GUST_EINVAL : GUST_ENOMEM;
  }
  *out = req;
  return 0;
}

gust_http_request *gust_http_request_ref(gust_http_request *req) {
  if (req != NULL)
    req->refs++;
  return req;
}

void gust_http_request_unref(gust_http_request *req) {
  if (req != NULL && --req->refs == 0)
    request_free(req);
}

int gust__http_request_append_body(gust_http_request *req, const void *data,
                                   size_t len) {
  int rc;
  if (len == 0)
    return 0;
  rc = gust_buf_append(&req->body, data, len);
  return rc == 0 ? 0 : GUST_ENOMEM;
}

int gust__http_request_set_trailers(gust_http_request *req,
                                    const gust_h1_field *fields, size_t n) {
  gust_headers h;
  size_t i;
  int rc = 0;
  gust_headers_init(&h, req->mem);
  for (i = 0; i < n && rc == 0; i++)
    rc = gust_headers_add(&h, (const char *)fields[i].name.ptr,
                          fields[i].name.len, (const char *)fields[i].value.ptr,
                          fields[i].value.len);
  if (rc != 0) {
    gust_headers_free(&h);
    return rc == GUST_EINVAL ? rc : GUST_ENOMEM;
  }
  gust_headers_free(&req->trailers);
  req->trailers = h;
  return 0;
}

void gust__http_request_set_conn(gust_http_request *req,
                                 gust__http_conn *conn) {
  req->conn = conn;
}

gust__http_conn *gust__http_request_conn(const gust_http_request *req) {
  return req->conn;
}

void gust__http_request_set_resp_state(gust_http_request *req, int state) {
  req->resp_state = state;
}

int gust__http_request_resp_state(const gust_http_request *req) {
  return req->resp_state;
}

void gust__http_request_set_finish_time(gust_http_request *req, double t) {
  req->finish_time = t;
  req->finished = 1;
}

/* ------------------------------------------------------------------ */
/* Accessors                                                            */
/* ------------------------------------------------------------------ */

const char *gust_http_request_method(const gust_http_request *req) {
  return req->s[S_METHOD];
}

const char *gust_http_request_uri(const gust_http_request *req) {
  return req->s[S_URI];
}

const char *gust_http_request_path(const gust_http_request *req) {
  return req->s[S_PATH];
}

const char *gust_http_request_query(const gust_http_request *req) {
  return req->s[S_QUERY];
}

const char *gust_http_request_version(const gust_http_request *req) {
  return req->minor_version == 0 ? "HTTP/1.0" : "HTTP/1.1";
}

const gust_headers *gust_http_request_headers(const gust_http_request *req) {
  return &req->headers;
}

const gust_headers *gust_http_request_trailers(const gust_http_request *req) {
  return &req->trailers;
}

const char *gust_http_request_remote_ip(const gust_http_request *req) {
  return req->s[S_RIP];
}

const gust_addr *gust_http_request_peer(const gust_http_request *req) {
  return req->has_peer ? &req->peer : NULL;
}

const char *gust_http_request_protocol(const gust_http_request *req) {
  return req->s[S_PROTO];
}

const char *gust_http_request_host(const gust_http_request *req) {
  return req->s[S_HOST];
}

const char *gust_http_request_host_name(const gust_http_request *req) {
  return req->s[S_HNAME];
}

int gust_http_request_full_url(const gust_http_request *req, gust_buf *out) {
  size_t mark;
  int rc;
  if (req == NULL || out == NULL)
    return GUST_EINVAL;
  mark = out->len;
  rc = gust_buf_printf(out, "%s://%s%s", req->s[S_PROTO], req->s[S_HOST],
                       req->s[S_URI]);
  if (rc != 0) {
    gust_buf_truncate(out, mark);
    return GUST_ENOMEM;
  }
  return 0;
}

double gust_http_request_start_time(const gust_http_request *req) {
  return req->start_time;
}

double gust_http_request_request_time(const gust_http_request *req) {
  if (req->finished)
    return req->finish_time - req->start_time;
  if (req->loop == NULL)
    return 0.0;
  return gust_loop_time(req->loop) - req->start_time;
}

gust_slice gust_http_request_body(const gust_http_request *req) {
  return gust_buf_slice(&req->body);
}

gust_http_server *gust_http_request_server(const gust_http_request *req) {
  return req->server;
}

gust_loop *gust_http_request_loop(const gust_http_request *req) {
  return req->loop;
}

void gust_http_request_set_user_data(gust_http_request *req, void *user_data) {
  req->user_data = user_data;
}

void *gust_http_request_user_data(const gust_http_request *req) {
  return req->user_data;
}

/* ------------------------------------------------------------------ */
/* Arguments                                                            */
/* ------------------------------------------------------------------ */

/* Parses x-www-form-urlencoded bytes (Tornado's parse_qs_bytes with
 * keep_blank_values=True) into `a`. */
static int parse_form(gust_http_args *a, const gust_mem *mem,
                      const uint8_t *data, size_t len) {
  gust_form_iter it;
  gust_buf name, value;
  int rc;
  gust_form_iter_init(&it, data, len);
  gust_buf_init(&name, mem);
  gust_buf_init(&value, mem);
  while ((rc = gust_form_next(&it, &name, &value)) == 1) {
    rc = args_add(a, name.ptr, name.len, value.ptr, value.len);
    if (rc != 0)
      break;
  }
  gust_buf_free(&name);
  gust_buf_free(&value);
  return rc == 0 ? 0 : GUST_ENOMEM;
}

int gust_http_request_query_arguments(gust_http_request *req,
                                      const gust_http_args **out) {
  if (req == NULL || out == NULL)
    return GUST_EINVAL;
  if (!req->query_done) {
    const char *q = req->s[S_QUERY];
    int rc =
        parse_form(&req->query_args, req->mem, (const uint8_t *)q, strlen(q));
    if (rc != 0) {
      args_free(&req->query_args);
      return rc;
    }
    req->query_done = 1;
  }
  *out = &req->query_args;
  return 0;
}

static int starts_with(gust_slice s, const char *prefix) {
  size_t n = strlen(prefix);
  return s.len >= n && memcmp(s.ptr, prefix, n) == 0;
}

/* Adds a file record's strings to the file store. */
static int file_begin(gust_buf *fb, file_rec **recs, size_t *n, size_t *cap,
                      const gust_mem *mem, const gust_multipart_event *ev) {
  static const char unknown[] = "application/unknown";
  gust_slice ct = ev->content_type;
  file_rec *r;
  int rc;
  if (ct.len == 0)
    ct = gust_slice_cstr(unknown);
  if (*n == *cap) {
    size_t c = *cap != 0 ? *cap * 2 : 4;
    file_rec *p;
    if (c > SIZE_MAX / sizeof(*p))
      return GUST_ENOMEM;
    p = (file_rec *)gust__realloc(mem, *recs, c * sizeof(*p));
    if (p == NULL)
      return GUST_ENOMEM;
    *recs = p;
    *cap = c;
  }
  r = &(*recs)[*n];
  r->off = fb->len;
  r->name_len = ev->name.len;
  r->filename_len = ev->filename.len;
  r->type_len = ct.len;
  r->body_len = 0;
  rc = gust_buf_append(fb, ev->name.ptr, ev->name.len);
  if (rc == 0)
    rc = gust_buf_append(fb, ev->filename.ptr, ev->filename.len);
  if (rc == 0)
    rc = gust_buf_append(fb, ct.ptr, ct.len);
  if (rc != 0)
    return GUST_ENOMEM;
  (*n)++;
  return 0;
}

/* Runs the multipart parser over the body. Returns 0 with the parts
 * stored, GUST_ENOMEM, or another negative code for a malformed body
 * (with *msg set). */
static int parse_multipart(gust_http_request *req, gust_slice ct,
                           file_rec **recs, size_t *nrecs, const char **msg) {
  gust_multipart *mp = NULL;
  gust_multipart_event ev;
  gust_slice boundary;
  size_t pos = 0, cap = 0;
  int rc, cur_file = 0, finished = 0;
  rc = gust_multipart_boundary((const char *)ct.ptr, ct.len, &boundary);
  if (rc == 0)
    rc = gust_multipart_new(&mp, req->mem, boundary.ptr, boundary.len, NULL);
  if (rc == GUST_EBOUNDARY) {
    *msg = "multipart boundary not found";
    return rc;
  }
  if (rc != 0)
    return GUST_ENOMEM;
  for (;;) {
    rc = gust_multipart_next(mp, &ev);
    if (rc != 0)
      break;
    if (ev.type == GUST_MULTIPART_END)
      break;
    switch (ev.type) {
    case GUST_MULTIPART_NEED_DATA:
      if (pos < req->body.len) {
        size_t n = req->body.len - pos;
        if (n > 65536)
          n = 65536;
        rc = gust_multipart_feed(mp, req->body.ptr + pos, n);
        pos += n;
      } else if (!finished) {
        rc = gust_multipart_finish(mp);
        finished = 1;
      } else {
        rc = GUST_EMULTIPART;
      }
      break;
    case GUST_MULTIPART_PART:
      cur_file = ev.is_file;
      if (cur_file)
        rc = file_begin(&req->file_bytes, recs, nrecs, &cap, req->mem, &ev);
      else
        rc = args_add(&req->body_args, ev.name.ptr, ev.name.len, "", 0);
      break;
    case GUST_MULTIPART_DATA:
      if (cur_file) {
        rc = gust_buf_append(&req->file_bytes, ev.data.ptr, ev.data.len);
        if (rc == 0)
          (*recs)[*nrecs - 1].body_len += ev.data.len;
      } else {
        rc = gust_buf_append(&req->body_args.bytes, ev.data.ptr, ev.data.len);
        if (rc == 0)
          req->body_args.pairs[req->body_args.n - 1].value_len += ev.data.len;
      }
      if (rc != 0)
        rc = GUST_ENOMEM;
      break;
    default:
      break;
    }
    if (rc != 0)
      break;
  }
  if (rc != 0 && rc != GUST_ENOMEM) {
    *msg = gust_multipart_errmsg(mp);
    if (*msg == NULL)
      *msg = gust_strerror(rc);
  }
  gust_multipart_free(mp);
  return rc;
}

/* Tornado's parse_body_arguments, run once. */
static int parse_body(gust_http_request *req) {
  gust_buf ct, ce;
  gust_slice cts;
  file_rec *recs = NULL;
  size_t nrecs = 0, i;
  const char *msg = NULL, *kind = NULL;
  int rc, form, multi;
  if (req->body_done)
    return 0;
  gust_buf_init(&ct, req->mem);
  gust_buf_init(&ce, req->mem);
  rc = gust_headers_get_joined(&req->headers, "Content-Type", &ct);
  if (rc == GUST_ENOTFOUND)
    rc = 0;
  cts = gust_buf_slice(&ct);
  form = starts_with(cts, "application/x-www-form-urlencoded");
  multi = starts_with(cts, "multipart/form-data");
  if (rc == 0 && (form || multi)) {
    rc = gust_headers_get_joined(&req->headers, "Content-Encoding", &ce);
    if (rc == 0 && !gust_slice_caseeq(gust_slice_trim(gust_buf_slice(&ce)),
                                      gust_slice_cstr("identity"))) {
      gust_log(GUST_LOG_GENERAL, GUST_LOG_WARNING,
               "Unsupported Content-Encoding: %.*s", (int)ce.len,
               ce.len != 0 ? (const char *)ce.ptr : "");
      req->body_error = GUST_EZIP_CODING;
      req->body_error_msg = "Unsupported Content-Encoding";
      form = multi = 0;
    } else if (rc == GUST_ENOTFOUND) {
      rc = 0;
    }
  }
  if (rc == 0 && form) {
    rc = parse_form(&req->body_args, req->mem, req->body.ptr, req->body.len);
  } else if (rc == 0 && multi) {
    rc = parse_multipart(req, cts, &recs, &nrecs, &msg);
    kind = "Invalid multipart/form-data";
  }
  if (rc == 0 && nrecs != 0) {
    req->files =
        (gust_http_file *)gust__calloc(req->mem, nrecs, sizeof(*req->files));
    if (req->files == NULL)
      rc = GUST_ENOMEM;
  }
  if (rc == 0) {
    for (i = 0; i < nrecs; i++) {
      const uint8_t *p = req->file_bytes.ptr + recs[i].off;
      gust_http_file *f = &req->files[i];
      f->name.ptr = p;
      f->name.len = recs[i].name_len;
      p += recs[i].name_len;
      f->filename.ptr = p;
      f->filename.len = recs[i].filename_len;
      p += recs[i].filename_len;
      f->content_type.ptr = p;
      f->content_type.len = recs[i].type_len;
      p += recs[i].type_len;
      f->body.ptr = p;
      f->body.len = recs[i].body_len;
    }
    req->nfiles = nrecs;
  } else if (rc != GUST_ENOMEM && kind != NULL) {
    gust_log(GUST_LOG_GENERAL, GUST_LOG_WARNING, "%s: %s", kind, msg);
    req->body_error = rc;
    req->body_error_msg = msg;
    rc = 0;
    body_parse_reset(req);
  }
  gust__free(req->mem, recs);
  gust_buf_free(&ct);
  gust_buf_free(&ce);
  if (rc != 0) {
    body_parse_reset(req);
    req->body_error = 0;
    req->body_error_msg = NULL;
    return GUST_ENOMEM;
  }
  req->body_done = 1;
  return 0;
}

int gust_http_request_body_arguments(gust_http_request *req,
                                     const gust_http_args **out) {
  int rc;
  if (req == NULL || out == NULL)
    return GUST_EINVAL;
  rc = parse_body(req);
  if (rc != 0)
    return rc;
  *out = &req->body_args;
  return 0;
}

int gust_http_request_arguments(gust_http_request *req,
                                const gust_http_args **out) {
  const gust_http_args *q, *b;
  int rc;
  if (req == NULL || out == NULL)
    return GUST_EINVAL;
  if (!req->all_done) {
    rc = gust_http_request_query_arguments(req, &q);
    if (rc == 0)
      rc = gust_http_request_body_arguments(req, &b);
    if (rc == 0)
      rc = args_copy(&req->all_args, q);
    if (rc == 0)
      rc = args_copy(&req->all_args, b);
    if (rc != 0) {
      args_free(&req->all_args);
      return GUST_ENOMEM;
    }
    req->all_done = 1;
  }
  *out = &req->all_args;
  return 0;
}

int gust_http_request_body_error(const gust_http_request *req,
                                 const char **message) {
  if (message != NULL)
    *message = req->body_error_msg;
  return req->body_error;
}

int gust_http_request_files_next(gust_http_request *req, size_t *iter,
                                 const gust_http_file **file) {
  int rc;
  if (req == NULL || iter == NULL)
    return GUST_EINVAL;
  rc = parse_body(req);
  if (rc != 0)
    return rc;
  if (*iter >= req->nfiles)
    return 0;
  if (file != NULL)
    *file = &req->files[*iter];
  (*iter)++;
  return 1;
}

/* ------------------------------------------------------------------ */
/* Cookies                                                              */
/* ------------------------------------------------------------------ */

int gust_http_request_cookies(gust_http_request *req,
                              const gust_cookies **out) {
  if (req == NULL || out == NULL)
    return GUST_EINVAL;
  if (req->cookies == NULL) {
    gust_cookies *jar;
    gust_slice v;
    size_t cursor = 0;
    int rc = gust_cookies_new(&jar, req->mem);
    if (rc != 0)
      return GUST_ENOMEM;
    /* Each Cookie line on its own (Tornado would join them with ','). */
    while (gust_headers_get_next(&req->headers, "Cookie", &cursor, &v) == 0) {
      rc = gust_cookies_parse(jar, (const char *)v.ptr, v.len);
      if (rc == GUST_ENOMEM) {
        gust_cookies_free(jar);
        return rc;
      }
      if (rc != 0)
        break; /* over the cookie limit: keep what was read */
    }
    req->cookies = jar;
  }
  *out = req->cookies;
  return 0;
}

int gust_http_request_cookie(gust_http_request *req, const char *name,
                             gust_slice *value) {
  const gust_cookies *jar;
  int rc;
  if (name == NULL)
    return GUST_EINVAL;
  rc = gust_http_request_cookies(req, &jar);
  if (rc != 0)
    return rc;
  return gust_cookies_get(jar, name, value);
}
