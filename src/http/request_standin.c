/* A minimal request object (the contract of request_int.h) used until the
 * full one (src/http/request.c: arguments, files, cookies, xheaders) is
 * merged: request line, headers, trailers, body, peer, references. */
#include "config.h"

#include <gust/httpserver.h>

#include <string.h>

#include "base/base_int.h"
#include "http/request_int.h"

struct gust_http_request {
  size_t refs;
  const gust_mem *mem;
  char *line; /* method \0 uri \0 path \0 version \0 */
  const char *method, *uri, *path, *query, *version;
  gust_headers headers, trailers;
  gust_buf body;
  gust_addr peer;
  char remote_ip[64];
  char protocol[8];
  gust_http_server *server;
  gust_loop *loop;
  gust__http_conn *conn;
  void *user_data;
  double start_time, finish_time;
};

int gust__http_request_new(gust_http_request **out, const gust_mem *mem,
                           const gust_h1_event *head,
                           const gust__http_req_env *env) {
  gust_http_request *r;
  size_t ml = head->method.len, tl = head->target.len, i;
  char *p;
  const char *q;
  mem = gust__mem(mem);
  r = gust__calloc(mem, 1, sizeof(*r));
  if (r == NULL)
    return GUST_ENOMEM;
  r->mem = mem;
  r->refs = 1;
  r->line = gust__malloc(mem, ml + 2 * tl + 16);
  if (r->line == NULL) {
    gust__free(mem, r);
    return GUST_ENOMEM;
  }
  gust_headers_init(&r->headers, mem);
  gust_headers_init(&r->trailers, mem);
  gust_buf_init(&r->body, mem);
  p = r->line;
  memcpy(p, head->method.ptr, ml);
  p[ml] = '\0';
  r->method = p;
  p += ml + 1;
  memcpy(p, head->target.ptr, tl);
  p[tl] = '\0';
  r->uri = p;
  q = memchr(p, '?', tl);
  p += tl + 1;
  memcpy(p, r->uri, q != NULL ? (size_t)(q - r->uri) : tl);
  p[q != NULL ? (size_t)(q - r->uri) : tl] = '\0';
  r->path = p;
  r->query = q != NULL ? q + 1 : "";
  r->version = head->minor_version == 0 ? "HTTP/1.0" : "HTTP/1.1";
  for (i = 0; i < head->nfields; i++) {
    const gust_h1_field *f = &head->fields[i];
    if (gust_headers_add(&r->headers, (const char *)f->name.ptr, f->name.len,
                         (const char *)f->value.ptr,
                         f->value.len) == GUST_ENOMEM) {
      gust_http_request_unref(r);
      return GUST_ENOMEM;
    }
  }
  r->server = env->server;
  r->loop = env->loop;
  if (env->peer != NULL) {
    r->peer = *env->peer;
    if (gust_addr_format(&r->peer, r->remote_ip, sizeof(r->remote_ip)) != 0)
      r->remote_ip[0] = '\0';
  }
  strncpy(r->protocol, env->protocol != NULL ? env->protocol : "http",
          sizeof(r->protocol) - 1);
  r->start_time = env->start_time;
  *out = r;
  return 0;
}

int gust__http_request_append_body(gust_http_request *req, const void *data,
                                   size_t len) {
  return gust_buf_append(&req->body, data, len) == 0 ? 0 : GUST_ENOMEM;
}

int gust__http_request_set_trailers(gust_http_request *req,
                                    const gust_h1_field *fields, size_t n) {
  size_t i;
  for (i = 0; i < n; i++)
    if (gust_headers_add(&req->trailers, (const char *)fields[i].name.ptr,
                         fields[i].name.len, (const char *)fields[i].value.ptr,
                         fields[i].value.len) == GUST_ENOMEM)
      return GUST_ENOMEM;
  return 0;
}

void gust__http_request_set_conn(gust_http_request *req,
                                 gust__http_conn *conn) {
  req->conn = conn;
}

gust__http_conn *gust__http_request_conn(const gust_http_request *req) {
  return req->conn;
}

void gust__http_request_set_finish_time(gust_http_request *req, double t) {
  req->finish_time = t;
}

gust_http_request *gust_http_request_ref(gust_http_request *req) {
  req->refs++;
  return req;
}

void gust_http_request_unref(gust_http_request *req) {
  if (req == NULL || --req->refs != 0)
    return;
  gust_headers_free(&req->headers);
  gust_headers_free(&req->trailers);
  gust_buf_free(&req->body);
  gust__free(req->mem, req->line);
  gust__free(req->mem, req);
}

const char *gust_http_request_method(const gust_http_request *req) {
  return req->method;
}
const char *gust_http_request_uri(const gust_http_request *req) {
  return req->uri;
}
const char *gust_http_request_path(const gust_http_request *req) {
  return req->path;
}
const char *gust_http_request_query(const gust_http_request *req) {
  return req->query;
}
const char *gust_http_request_version(const gust_http_request *req) {
  return req->version;
}
const gust_headers *gust_http_request_headers(const gust_http_request *req) {
  return &req->headers;
}
const gust_headers *gust_http_request_trailers(const gust_http_request *req) {
  return &req->trailers;
}
const char *gust_http_request_remote_ip(const gust_http_request *req) {
  return req->remote_ip;
}
const gust_addr *gust_http_request_peer(const gust_http_request *req) {
  return &req->peer;
}
const char *gust_http_request_protocol(const gust_http_request *req) {
  return req->protocol;
}
double gust_http_request_start_time(const gust_http_request *req) {
  return req->start_time;
}
double gust_http_request_request_time(const gust_http_request *req) {
  double end = req->finish_time;
  if (end == 0)
    end = gust_loop_time(req->loop);
  return end - req->start_time;
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
