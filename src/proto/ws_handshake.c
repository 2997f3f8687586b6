/* The WebSocket opening handshake: server-side validation in Tornado's
 * order, accept keys, origin and subprotocol helpers, the client's request
 * and response check, and the bounded Sec-WebSocket-Extensions parser. */
#include "base/base_int.h"

#include <gust/crypto.h>
#include <gust/ws.h>

static const char ws_guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
static const char b64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static void b64_encode(const uint8_t *in, size_t n, char *out) {
  size_t i;
  for (i = 0; i + 3 <= n; i += 3) {
    uint32_t v =
        ((uint32_t)in[i] << 16) | ((uint32_t)in[i + 1] << 8) | in[i + 2];
    *out++ = b64[v >> 18];
    *out++ = b64[(v >> 12) & 63];
    *out++ = b64[(v >> 6) & 63];
    *out++ = b64[v & 63];
  }
  if (n - i == 1) {
    uint32_t v = (uint32_t)in[i] << 16;
    *out++ = b64[v >> 18];
    *out++ = b64[(v >> 12) & 63];
    *out++ = '=';
    *out++ = '=';
  } else if (n - i == 2) {
    uint32_t v = ((uint32_t)in[i] << 16) | ((uint32_t)in[i + 1] << 8);
    *out++ = b64[v >> 18];
    *out++ = b64[(v >> 12) & 63];
    *out++ = b64[(v >> 6) & 63];
    *out++ = '=';
  }
  *out = '\0';
}

static int b64_value(uint8_t c) {
  if (c >= 'A' && c <= 'Z')
    return c - 'A';
  if (c >= 'a' && c <= 'z')
    return c - 'a' + 26;
  if (c >= '0' && c <= '9')
    return c - '0' + 52;
  if (c == '+')
    return 62;
  if (c == '/')
    return 63;
  return -1;
}

/* Returns 1 if `s` is base64 that decodes to exactly 16 bytes: 22
 * symbols and "==". */
static int key_valid(gust_slice s) {
  size_t i;
  if (s.len != GUST_WS_KEY_LEN || s.ptr[22] != '=' || s.ptr[23] != '=')
    return 0;
  for (i = 0; i < 22; i++)
    if (b64_value(s.ptr[i]) < 0)
      return 0;
  return 1;
}

int gust_ws_accept_key(const char *key, size_t key_len, char *out) {
  uint8_t digest[GUST_DIGEST_MAX];
  gust_slice parts[2];
  int rc;

  if (key == NULL || out == NULL)
    return GUST_EINVAL;
  parts[0].ptr = (const uint8_t *)key;
  parts[0].len = key_len;
  parts[0] = gust_slice_trim(parts[0]);
  parts[1] = gust_slice_cstr(ws_guid);
  rc = gust_hash(GUST_SHA1, parts, 2, digest);
  if (rc < 0)
    return rc;
  b64_encode(digest, 20, out);
  return 0;
}

static int default_random(void *buf, size_t n, void *user_data) {
  GUST__UNUSED(user_data);
  return gust_random_bytes(buf, n);
}

int gust_ws_client_key(char *out, gust_ws_random_fn random, void *user_data) {
  uint8_t raw[16];
  int rc;

  if (out == NULL)
    return GUST_EINVAL;
  if (random == NULL)
    random = default_random;
  rc = random(raw, sizeof raw, user_data);
  if (rc < 0)
    return rc;
  b64_encode(raw, sizeof raw, out);
  return 0;
}

int gust_ws_check_origin(gust_slice origin, gust_slice host) {
  size_t i, start, end;

  origin = gust_slice_trim(origin);
  host = gust_slice_trim(host);
  /* scheme "://" authority [path]; the authority is what Tornado compares
   * (urlparse(origin).netloc, lowercased). */
  for (i = 0; i + 2 < origin.len; i++)
    if (origin.ptr[i] == ':' && origin.ptr[i + 1] == '/' &&
        origin.ptr[i + 2] == '/')
      break;
  if (i == 0 || i + 2 >= origin.len)
    return 0;
  start = i + 3;
  for (end = start; end < origin.len; end++)
    if (origin.ptr[end] == '/' || origin.ptr[end] == '?' ||
        origin.ptr[end] == '#')
      break;
  if (end == start || end - start != host.len)
    return 0;
  for (i = 0; i < host.len; i++)
    if (gust__lower(origin.ptr[start + i]) != host.ptr[i])
      return 0;
  return 1;
}

static int refuse(gust_ws_verdict *v, int status, const char *body) {
  v->status = status;
  v->body = body;
  return GUST_EWS_HANDSHAKE;
}

/* 1 if `name` appears once with the value `want` (a repeated field reads
 * as a list, as "13, 8", which is not `want`). */
static int header_is(const gust_headers *h, const char *name,
                     const char *want) {
  gust_slice v;
  if (gust_headers_count_name(h, name) != 1 ||
      gust_headers_get(h, name, &v) < 0)
    return 0;
  return gust_slice_eq(gust_slice_trim(v), gust_slice_cstr(want));
}

int gust_ws_server_check(const gust_ws_request *req, gust_ws_verdict *v) {
  const gust_headers *h;
  gust_slice origin, host, key;
  int have_origin;

  if (req == NULL || v == NULL || req->headers == NULL)
    return GUST_EINVAL;
  h = req->headers;
  memset(v, 0, sizeof *v);
  if (req->method.len != 0 &&
      !gust_slice_eq(req->method, gust_slice_cstr("GET")))
    return refuse(v, 405, "Method Not Allowed");
  if (!gust_headers_has_token(h, "Upgrade", "websocket"))
    return refuse(v, 400, "Can \"Upgrade\" only to \"WebSocket\".");
  if (!gust_headers_has_token(h, "Connection", "upgrade"))
    return refuse(v, 400, "\"Connection\" must be \"Upgrade\".");
  have_origin = gust_headers_get(h, "Origin", &origin) == 0 ||
                gust_headers_get(h, "Sec-Websocket-Origin", &origin) == 0;
  if (have_origin) {
    int allowed;
    if (req->check_origin != NULL)
      allowed = req->check_origin(origin, h, req->origin_user_data);
    else
      allowed = gust_headers_get(h, "Host", &host) == 0 &&
                gust_ws_check_origin(origin, host);
    if (!allowed)
      return refuse(v, 403, "Cross origin websockets not allowed");
  }
  if (!header_is(h, "Sec-WebSocket-Version", "13")) {
    v->header_name = "Sec-WebSocket-Version";
    v->header_value = "13";
    return refuse(v, 426, "Upgrade Required");
  }
  if (gust_headers_get(h, "Host", &host) < 0 ||
      gust_headers_count_name(h, "Sec-WebSocket-Key") != 1 ||
      gust_headers_get(h, "Sec-WebSocket-Key", &key) < 0 ||
      !key_valid(gust_slice_trim(key)) || req->http_major < 1 ||
      (req->http_major == 1 && req->http_minor < 1) || req->has_body)
    return refuse(v, 400, "Missing/Invalid WebSocket headers");
  v->status = 101;
  v->key = gust_slice_trim(key);
  return 0;
}

int gust_ws_server_response(gust_headers *out, gust_slice key,
                            gust_slice subprotocol, gust_slice extensions) {
  char accept[GUST_WS_ACCEPT_LEN + 1];
  int rc;

  if (out == NULL)
    return GUST_EINVAL;
  if ((rc = gust_ws_accept_key((const char *)key.ptr, key.len, accept)) < 0)
    return rc;
  if ((rc = gust_headers_add_str(out, "Upgrade", "websocket")) < 0 ||
      (rc = gust_headers_add_str(out, "Connection", "Upgrade")) < 0 ||
      (rc = gust_headers_add_str(out, "Sec-WebSocket-Accept", accept)) < 0)
    return rc;
  if (subprotocol.len != 0 &&
      (rc = gust_headers_add(out, "Sec-WebSocket-Protocol", 22,
                             (const char *)subprotocol.ptr, subprotocol.len)) <
          0)
    return rc;
  if (extensions.len != 0 &&
      (rc = gust_headers_add(out, "Sec-WebSocket-Extensions", 24,
                             (const char *)extensions.ptr, extensions.len)) < 0)
    return rc;
  return 0;
}

/* RFC 9110 tchar. */
static int is_tchar(uint8_t c) {
  if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
      (c >= 'A' && c <= 'Z'))
    return 1;
  return c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static int is_token(gust_slice s) {
  size_t i;
  if (s.len == 0)
    return 0;
  for (i = 0; i < s.len; i++)
    if (!is_tchar(s.ptr[i]))
      return 0;
  return 1;
}

gust_ssize gust_ws_parse_protocols(const gust_headers *h, gust_slice *out,
                                   size_t max) {
  size_t cursor = 0, n = 0;
  gust_slice v;

  if (h == NULL || (out == NULL && max != 0))
    return GUST_EINVAL;
  while (gust_headers_get_next(h, "Sec-WebSocket-Protocol", &cursor, &v) == 0) {
    size_t i = 0;
    while (i <= v.len) {
      size_t j = i;
      gust_slice e;
      while (j < v.len && v.ptr[j] != ',')
        j++;
      e.ptr = v.ptr + i;
      e.len = j - i;
      e = gust_slice_trim(e);
      if (e.len != 0) {
        if (!is_token(e))
          return GUST_ESYNTAX;
        if (n == max)
          return GUST_ELIMIT;
        out[n++] = e;
      }
      i = j + 1;
    }
  }
  return (gust_ssize)n;
}

int gust_ws_select_subprotocol(const gust_headers *req,
                               const char *const *supported, size_t n_supported,
                               gust_slice *chosen) {
  gust_slice offered[GUST_WS_MAX_PROTOCOLS];
  gust_ssize n = gust_ws_parse_protocols(req, offered, GUST_WS_MAX_PROTOCOLS);
  gust_ssize i;
  size_t j;

  if (chosen == NULL)
    return GUST_EINVAL;
  chosen->ptr = NULL;
  chosen->len = 0;
  if (n < 0)
    return (int)n;
  for (i = 0; i < n; i++)
    for (j = 0; j < n_supported; j++)
      if (gust_slice_eq(offered[i], gust_slice_cstr(supported[j]))) {
        *chosen = offered[i];
        return 0;
      }
  return GUST_ENOTFOUND;
}

int gust_ws_client_request(gust_headers *out, const char *key,
                           const char *protocols, const char *extensions) {
  int rc;
  if (out == NULL || key == NULL)
    return GUST_EINVAL;
  if ((rc = gust_headers_add_str(out, "Upgrade", "websocket")) < 0 ||
      (rc = gust_headers_add_str(out, "Connection", "Upgrade")) < 0 ||
      (rc = gust_headers_add_str(out, "Sec-WebSocket-Key", key)) < 0 ||
      (rc = gust_headers_add_str(out, "Sec-WebSocket-Version", "13")) < 0)
    return rc;
  if (protocols != NULL &&
      (rc = gust_headers_add_str(out, "Sec-WebSocket-Protocol", protocols)) < 0)
    return rc;
  if (extensions != NULL &&
      (rc = gust_headers_add_str(out, "Sec-WebSocket-Extensions", extensions)) <
          0)
    return rc;
  return 0;
}

static int client_fail(const char **why, const char *msg) {
  if (why != NULL)
    *why = msg;
  return GUST_EWS_HANDSHAKE;
}

int gust_ws_client_check(int status, const gust_headers *resp, const char *key,
                         const char *const *offered, size_t n_offered,
                         gust_slice *chosen, const char **why) {
  char accept[GUST_WS_ACCEPT_LEN + 1];
  gust_slice got, proto;
  size_t i;
  int rc;

  if (resp == NULL || key == NULL)
    return GUST_EINVAL;
  if (chosen != NULL) {
    chosen->ptr = NULL;
    chosen->len = 0;
  }
  if (why != NULL)
    *why = NULL;
  if (status != 101)
    return client_fail(why, "server did not switch protocols");
  if (gust_headers_get(resp, "Upgrade", &got) < 0 ||
      !gust_slice_caseeq(gust_slice_trim(got), gust_slice_cstr("websocket")))
    return client_fail(why, "missing or wrong Upgrade header");
  if (!gust_headers_has_token(resp, "Connection", "upgrade"))
    return client_fail(why, "missing or wrong Connection header");
  if ((rc = gust_ws_accept_key(key, strlen(key), accept)) < 0)
    return rc;
  if (gust_headers_count_name(resp, "Sec-WebSocket-Accept") != 1 ||
      gust_headers_get(resp, "Sec-WebSocket-Accept", &got) < 0)
    return client_fail(why, "missing Sec-WebSocket-Accept");
  got = gust_slice_trim(got);
  if (!gust_const_time_eq(got.ptr, got.len, accept, GUST_WS_ACCEPT_LEN))
    return client_fail(why, "wrong Sec-WebSocket-Accept");
  switch (gust_headers_count_name(resp, "Sec-WebSocket-Protocol")) {
  case 0:
    return 0;
  case 1:
    break;
  default:
    return client_fail(why, "more than one Sec-WebSocket-Protocol");
  }
  gust_headers_get(resp, "Sec-WebSocket-Protocol", &proto);
  proto = gust_slice_trim(proto);
  for (i = 0; i < n_offered; i++)
    if (gust_slice_eq(proto, gust_slice_cstr(offered[i]))) {
      if (chosen != NULL)
        *chosen = proto;
      return 0;
    }
  return client_fail(why, "server chose a subprotocol that was not offered");
}

/* ------------------------------------------------------------------ */
/* Sec-WebSocket-Extensions                                             */
/* ------------------------------------------------------------------ */

void gust_ws_extensions_free(gust_ws_extensions *ext) {
  if (ext == NULL)
    return;
  gust_buf_free(&ext->text);
  ext->count = 0;
}

static void skip_ows(const uint8_t *p, size_t n, size_t *i) {
  while (*i < n && (p[*i] == ' ' || p[*i] == '\t'))
    (*i)++;
}

static gust_slice take_token(const uint8_t *p, size_t n, size_t *i) {
  gust_slice s;
  s.ptr = p + *i;
  while (*i < n && is_tchar(p[*i]))
    (*i)++;
  s.len = (size_t)(p + *i - s.ptr);
  return s;
}

/* Parses the joined text in ext->text in place (quoted strings are
 * unescaped over themselves, which never makes them longer). */
static int parse_ext_text(gust_ws_extensions *ext) {
  uint8_t *p = ext->text.ptr;
  size_t n = ext->text.len, i = 0;

  for (;;) {
    gust_ws_ext *e;
    skip_ows(p, n, &i);
    if (i == n)
      return 0;
    if (p[i] == ',') { /* empty list element */
      i++;
      continue;
    }
    if (ext->count == GUST_WS_EXT_MAX)
      return GUST_ELIMIT;
    e = &ext->ext[ext->count++];
    memset(e, 0, sizeof *e);
    e->name = take_token(p, n, &i);
    if (e->name.len == 0)
      return GUST_ESYNTAX;
    for (;;) {
      gust_ws_ext_param *pa;
      skip_ows(p, n, &i);
      if (i == n)
        return 0;
      if (p[i] == ',') {
        i++;
        break;
      }
      if (p[i] != ';')
        return GUST_ESYNTAX;
      i++;
      skip_ows(p, n, &i);
      if (e->n_params == GUST_WS_EXT_PARAMS_MAX)
        return GUST_ELIMIT;
      pa = &e->params[e->n_params++];
      pa->name = take_token(p, n, &i);
      if (pa->name.len == 0)
        return GUST_ESYNTAX;
      skip_ows(p, n, &i);
      if (i < n && p[i] == '=') {
        i++;
        skip_ows(p, n, &i);
        pa->has_value = 1;
        if (i < n && p[i] == '"') {
          uint8_t *w = p + i;
          pa->value.ptr = w;
          i++;
          while (i < n && p[i] != '"') {
            if (p[i] == '\\') {
              if (++i == n)
                return GUST_ESYNTAX;
            }
            *w++ = p[i++];
          }
          if (i == n)
            return GUST_ESYNTAX;
          i++; /* closing quote */
          pa->value.len = (size_t)(w - pa->value.ptr);
          if (!is_token(pa->value))
            return GUST_ESYNTAX;
        } else {
          pa->value = take_token(p, n, &i);
          if (pa->value.len == 0)
            return GUST_ESYNTAX;
        }
      }
    }
  }
}

int gust_ws_extensions_parse_value(gust_ws_extensions *out, const char *value,
                                   size_t len, const gust_mem *mem) {
  int rc;
  if (out == NULL || (value == NULL && len != 0))
    return GUST_EINVAL;
  out->count = 0;
  gust_buf_init(&out->text, mem);
  if (len > GUST_WS_EXT_MAX_BYTES)
    return GUST_ELIMIT;
  if (len == 0)
    return 0;
  if ((rc = gust_buf_append(&out->text, value, len)) < 0)
    return rc;
  return parse_ext_text(out);
}

int gust_ws_extensions_parse(gust_ws_extensions *out, const gust_headers *h,
                             const gust_mem *mem) {
  size_t cursor = 0;
  gust_slice v;
  int rc;

  if (out == NULL || h == NULL)
    return GUST_EINVAL;
  out->count = 0;
  gust_buf_init(&out->text, mem);
  while (gust_headers_get_next(h, "Sec-WebSocket-Extensions", &cursor, &v) ==
         0) {
    if (out->text.len + v.len + 1 > GUST_WS_EXT_MAX_BYTES)
      return GUST_ELIMIT;
    if (out->text.len != 0 && (rc = gust_buf_append_byte(&out->text, ',')) < 0)
      return rc;
    if (v.len != 0 && (rc = gust_buf_append(&out->text, v.ptr, v.len)) < 0)
      return rc;
  }
  if (out->text.len == 0)
    return 0;
  return parse_ext_text(out);
}
