/* Tests of the opening-handshake helpers: accept keys (RFC vector), client
 * keys, Tornado's origin rule, the server's check order and status codes,
 * subprotocol parsing and selection, the client's response check and the
 * bounded Sec-WebSocket-Extensions parser. */
#include "../tap.h"

#include <gust/ws.h>

#include <stdio.h>
#include <string.h>

static int fixed_random(void *buf, size_t n, void *user_data) {
  (void)user_data;
  memset(buf, 0xAB, n);
  return 0;
}

static int failing_random(void *buf, size_t n, void *user_data) {
  (void)buf;
  (void)n;
  (void)user_data;
  return GUST_ECRYPTO;
}

static void test_keys(void) {
  char out[GUST_WS_ACCEPT_LEN + 1], key[GUST_WS_KEY_LEN + 1], key2[32];
  is_int(gust_ws_accept_key("dGhlIHNhbXBsZSBub25jZQ==", 24, out), 0,
         "keys: accept computed");
  is_str(out, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", "keys: RFC 6455 accept vector");
  is_int(gust_ws_accept_key(" dGhlIHNhbXBsZSBub25jZQ==\t", 26, out), 0,
         "keys: accept with OWS");
  is_str(out, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", "keys: OWS is trimmed");
  is_int(gust_ws_client_key(key, fixed_random, NULL), 0, "keys: client key");
  is_str(key, "q6urq6urq6urq6urq6urqw==", "keys: base64 of 16 RNG bytes");
  is_int(gust_ws_client_key(key, NULL, NULL), 0, "keys: default RNG");
  is_int(strlen(key), 24, "keys: 24 characters");
  gust_ws_client_key(key2, NULL, NULL);
  ok(strcmp(key, key2) != 0, "keys: fresh keys differ");
  is_int(gust_ws_client_key(key, failing_random, NULL), GUST_ECRYPTO,
         "keys: RNG failure reported");
}

static void test_origin(void) {
  static const struct {
    const char *origin, *host;
    int want;
  } t[] = {
      {"http://example.com", "example.com", 1},
      {"https://EXAMPLE.com", "example.com", 1},
      {"http://example.com:8080", "example.com:8080", 1},
      {"http://example.com/path?q", "example.com", 1},
      {"http://example.com:8080", "example.com", 0},
      {"http://example.com", "example.com:8080", 0},
      {"http://sub.example.com", "example.com", 0},
      {"example.com", "example.com", 0},
      {"http://", "example.com", 0},
      {"null", "example.com", 0},
      {"http://evil.com", "example.com", 0},
      {"http://example.com", "Example.com", 0},
  };
  size_t i;
  for (i = 0; i < sizeof t / sizeof t[0]; i++)
    is_int(gust_ws_check_origin(gust_slice_cstr(t[i].origin),
                                gust_slice_cstr(t[i].host)),
           t[i].want, "origin: %s vs Host %s", t[i].origin, t[i].host);
}

struct hcase {
  const char *name;
  const char *method;
  int minor;
  int body;
  const char *headers; /* "Name: value\n" lines */
  int status;
  const char *body_text;
};

#define GOOD_HEADERS                                                           \
  "Host: example.com\nUpgrade: websocket\nConnection: Upgrade\n"               \
  "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\nSec-WebSocket-Version: 13\n"

static const struct hcase hcases[] = {
    {"valid request", "GET", 1, 0, GOOD_HEADERS, 101, NULL},
    {"valid with same origin", "GET", 1, 0,
     GOOD_HEADERS "Origin: http://example.com\n", 101, NULL},
    {"case-insensitive tokens", "GET", 1, 0,
     "Host: example.com\nUpgrade: WebSocket\nConnection: keep-alive, UPGRADE\n"
     "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\nSec-WebSocket-Version: 13\n",
     101, NULL},
    {"POST", "POST", 1, 0, GOOD_HEADERS, 405, NULL},
    {"no Upgrade", "GET", 1, 0,
     "Host: example.com\nConnection: Upgrade\nSec-WebSocket-Version: 13\n", 400,
     "Can \"Upgrade\" only to \"WebSocket\"."},
    {"Upgrade h2c", "GET", 1, 0,
     "Host: a\nUpgrade: h2c\nConnection: Upgrade\nSec-WebSocket-Version: 13\n",
     400, "Can \"Upgrade\" only to \"WebSocket\"."},
    {"no Connection upgrade", "GET", 1, 0,
     "Host: a\nUpgrade: websocket\nConnection: keep-alive\n", 400,
     "\"Connection\" must be \"Upgrade\"."},
    {"cross origin", "GET", 1, 0, GOOD_HEADERS "Origin: http://evil.com\n", 403,
     "Cross origin websockets not allowed"},
    {"Sec-Websocket-Origin checked", "GET", 1, 0,
     GOOD_HEADERS "Sec-Websocket-Origin: http://evil.com\n", 403,
     "Cross origin websockets not allowed"},
    {"origin before version", "GET", 1, 0,
     "Host: example.com\nUpgrade: websocket\nConnection: Upgrade\n"
     "Origin: http://evil.com\nSec-WebSocket-Version: 8\n",
     403, "Cross origin websockets not allowed"},
    {"version missing", "GET", 1, 0,
     "Host: example.com\nUpgrade: websocket\nConnection: Upgrade\n"
     "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\n",
     426, NULL},
    {"version 8", "GET", 1, 0,
     "Host: example.com\nUpgrade: websocket\nConnection: Upgrade\n"
     "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\nSec-WebSocket-Version: 8\n",
     426, NULL},
    {"version 13 and 8 in two fields", "GET", 1, 0,
     "Host: example.com\nUpgrade: websocket\nConnection: Upgrade\n"
     "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\nSec-WebSocket-Version: 13\n"
     "Sec-WebSocket-Version: 8\n",
     426, NULL},
    {"version before key", "GET", 1, 0,
     "Host: example.com\nUpgrade: websocket\nConnection: Upgrade\n", 426, NULL},
    {"no Host", "GET", 1, 0,
     "Upgrade: websocket\nConnection: Upgrade\n"
     "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\nSec-WebSocket-Version: 13\n",
     400, "Missing/Invalid WebSocket headers"},
    {"no key", "GET", 1, 0,
     "Host: a\nUpgrade: websocket\nConnection: Upgrade\n"
     "Sec-WebSocket-Version: 13\n",
     400, "Missing/Invalid WebSocket headers"},
    {"key of 15 bytes", "GET", 1, 0,
     "Host: a\nUpgrade: websocket\nConnection: Upgrade\n"
     "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25j\nSec-WebSocket-Version: 13\n",
     400, "Missing/Invalid WebSocket headers"},
    {"key with bad character", "GET", 1, 0,
     "Host: a\nUpgrade: websocket\nConnection: Upgrade\n"
     "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25j*Q==\nSec-WebSocket-Version: 13\n",
     400, "Missing/Invalid WebSocket headers"},
    {"two keys", "GET", 1, 0,
     GOOD_HEADERS "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\n", 400,
     "Missing/Invalid WebSocket headers"},
    {"HTTP/1.0", "GET", 0, 0, GOOD_HEADERS, 400,
     "Missing/Invalid WebSocket headers"},
    {"request with body", "GET", 1, 1, GOOD_HEADERS, 400,
     "Missing/Invalid WebSocket headers"},
};

static void load_headers(gust_headers *h, const char *text) {
  while (*text) {
    const char *nl = strchr(text, '\n');
    const char *colon = strchr(text, ':');
    const char *v = colon + 1;
    while (*v == ' ')
      v++;
    if (gust_headers_add(h, text, (size_t)(colon - text), v, (size_t)(nl - v)) <
        0)
      bail_out("bad test header");
    text = nl + 1;
  }
}

static int allow_all(gust_slice origin, const gust_headers *req, void *ud) {
  (void)origin;
  (void)req;
  *(int *)ud += 1;
  return 1;
}

static void test_server_check(void) {
  size_t i;
  for (i = 0; i < sizeof hcases / sizeof hcases[0]; i++) {
    const struct hcase *c = &hcases[i];
    gust_headers h;
    gust_ws_request req;
    gust_ws_verdict v;
    int rc;
    gust_headers_init(&h, NULL);
    load_headers(&h, c->headers);
    memset(&req, 0, sizeof req);
    req.method = gust_slice_cstr(c->method);
    req.http_major = 1;
    req.http_minor = c->minor;
    req.has_body = c->body;
    req.headers = &h;
    rc = gust_ws_server_check(&req, &v);
    is_int(v.status, c->status, "server: %s -> %d", c->name, c->status);
    is_int(rc, c->status == 101 ? 0 : GUST_EWS_HANDSHAKE,
           "server: %s return code", c->name);
    if (c->body_text != NULL)
      is_str(v.body, c->body_text, "server: %s body text", c->name);
    if (c->status == 426)
      ok(v.header_name && !strcmp(v.header_name, "Sec-WebSocket-Version") &&
             !strcmp(v.header_value, "13"),
         "server: %s adds Sec-WebSocket-Version: 13", c->name);
    gust_headers_free(&h);
  }
  {
    gust_headers h;
    gust_ws_request req;
    gust_ws_verdict v;
    int calls = 0;
    gust_headers_init(&h, NULL);
    load_headers(&h, GOOD_HEADERS "Origin: http://evil.com\n");
    memset(&req, 0, sizeof req);
    req.http_major = 1;
    req.http_minor = 1;
    req.headers = &h;
    req.check_origin = allow_all;
    req.origin_user_data = &calls;
    is_int(gust_ws_server_check(&req, &v), 0,
           "server: custom origin check may allow");
    is_int(calls, 1, "server: origin callback called once");
    ok(gust_slice_eq(v.key, gust_slice_cstr("dGhlIHNhbXBsZSBub25jZQ==")),
       "server: key returned");
    is_int(gust_ws_server_check(NULL, &v), GUST_EINVAL, "server: NULL");
    gust_headers_free(&h);
  }
}

static void test_protocols(void) {
  gust_headers h;
  gust_slice out[GUST_WS_MAX_PROTOCOLS + 1], chosen;
  const char *sup[] = {"superchat", "chat"};
  const char *none[] = {"other"};
  int i;

  gust_headers_init(&h, NULL);
  load_headers(&h, "Sec-WebSocket-Protocol: chat, , superchat\n"
                   "Sec-WebSocket-Protocol:  v2.json \n");
  is_int(gust_ws_parse_protocols(&h, out, 8), 3,
         "protocols: three tokens over two fields");
  ok(gust_slice_eq(out[0], gust_slice_cstr("chat")) &&
         gust_slice_eq(out[1], gust_slice_cstr("superchat")) &&
         gust_slice_eq(out[2], gust_slice_cstr("v2.json")),
     "protocols: trimmed, in order");
  is_int(gust_ws_select_subprotocol(&h, sup, 2, &chosen), 0,
         "protocols: one selected");
  ok(gust_slice_eq(chosen, gust_slice_cstr("chat")),
     "protocols: the client's preference wins");
  is_int(gust_ws_select_subprotocol(&h, none, 1, &chosen), GUST_ENOTFOUND,
         "protocols: nothing in common");
  is_int(chosen.len, 0, "protocols: no choice means no header");
  is_int(gust_ws_parse_protocols(&h, out, 2), GUST_ELIMIT,
         "protocols: count bounded");
  gust_headers_clear(&h);
  load_headers(&h, "Sec-WebSocket-Protocol: a b\n");
  is_int(gust_ws_parse_protocols(&h, out, 8), GUST_ESYNTAX,
         "protocols: non-token refused");
  gust_headers_clear(&h);
  for (i = 0; i < GUST_WS_MAX_PROTOCOLS + 1; i++) {
    char name[16];
    snprintf(name, sizeof name, "p%d", i);
    gust_headers_add_str(&h, "Sec-WebSocket-Protocol", name);
  }
  is_int(gust_ws_select_subprotocol(&h, sup, 2, &chosen), GUST_ELIMIT,
         "protocols: selection bounded too");
  gust_headers_clear(&h);
  is_int(gust_ws_parse_protocols(&h, out, 8), 0, "protocols: none offered");
  gust_headers_free(&h);
}

static void test_client(void) {
  gust_headers req, resp;
  char key[GUST_WS_KEY_LEN + 1];
  const char *offered[] = {"chat", "superchat"};
  gust_slice chosen;
  gust_ws_request r;
  gust_ws_verdict v;
  const char *why = NULL;

  gust_headers_init(&req, NULL);
  gust_headers_init(&resp, NULL);
  gust_ws_client_key(key, NULL, NULL);
  gust_headers_add_str(&req, "Host", "example.com");
  is_int(gust_ws_client_request(&req, key, "chat, superchat",
                                "permessage-deflate; client_max_window_bits"),
         0, "client: request headers");
  memset(&r, 0, sizeof r);
  r.method = gust_slice_cstr("GET");
  r.http_major = 1;
  r.http_minor = 1;
  r.headers = &req;
  is_int(gust_ws_server_check(&r, &v), 0,
         "client: the server accepts the client's request");
  is_int(gust_ws_server_response(&resp, v.key, gust_slice_cstr("superchat"),
                                 gust_slice_cstr("")),
         0, "client: server response headers");
  ok(gust_headers_get(&resp, "Sec-WebSocket-Extensions", NULL) ==
         GUST_ENOTFOUND,
     "client: no extension header when none agreed");
  is_int(gust_ws_client_check(101, &resp, key, offered, 2, &chosen, &why), 0,
         "client: response verified");
  ok(gust_slice_eq(chosen, gust_slice_cstr("superchat")),
     "client: chosen subprotocol reported");
  is_int(gust_ws_client_check(403, &resp, key, offered, 2, &chosen, &why),
         GUST_EWS_HANDSHAKE, "client: status 403 fails");
  ok(why != NULL, "client: with a reason");
  is_int(gust_ws_client_check(101, &resp, key, offered, 1, &chosen, &why),
         GUST_EWS_HANDSHAKE, "client: unoffered subprotocol fails");
  is_int(gust_ws_client_check(101, &resp, "dGhlIHNhbXBsZSBub25jZQ==", offered,
                              2, &chosen, &why),
         GUST_EWS_HANDSHAKE, "client: wrong accept fails");
  gust_headers_set_str(&resp, "Upgrade", "h2c");
  is_int(gust_ws_client_check(101, &resp, key, offered, 2, &chosen, &why),
         GUST_EWS_HANDSHAKE, "client: wrong Upgrade fails");
  gust_headers_set_str(&resp, "Upgrade", "WebSocket");
  gust_headers_set_str(&resp, "Connection", "close");
  is_int(gust_ws_client_check(101, &resp, key, offered, 2, &chosen, &why),
         GUST_EWS_HANDSHAKE, "client: wrong Connection fails");
  gust_headers_set_str(&resp, "Connection", "upgrade");
  gust_headers_remove(&resp, "Sec-WebSocket-Protocol");
  is_int(gust_ws_client_check(101, &resp, key, offered, 2, &chosen, &why), 0,
         "client: no subprotocol is fine");
  gust_headers_remove(&resp, "Sec-WebSocket-Accept");
  is_int(gust_ws_client_check(101, &resp, key, offered, 2, &chosen, &why),
         GUST_EWS_HANDSHAKE, "client: missing accept fails");
  gust_headers_free(&req);
  gust_headers_free(&resp);
}

struct ecase {
  const char *name;
  const char *value;
  int rc;
  const char *dump; /* rendering of the parse */
};

static const struct ecase ecases[] = {
    {"one bare", "permessage-deflate", 0, "permessage-deflate;"},
    {"params", "permessage-deflate; client_max_window_bits; a=1", 0,
     "permessage-deflate(client_max_window_bits)(a=1);"},
    {"two elements", "a, b ;c=\"x\"", 0, "a;b(c=x);"},
    {"quoted escape", "a; b=\"1\\0\"", 0, "a(b=10);"},
    {"empty elements", " , ,a,, ", 0, "a;"},
    {"OWS around =", "a; b = 12", 0, "a(b=12);"},
    {"empty", "", 0, ""},
    {"missing param", "a;", GUST_ESYNTAX, NULL},
    {"missing name", "; a", GUST_ESYNTAX, NULL},
    {"missing value", "a; b=", GUST_ESYNTAX, NULL},
    {"quoted non-token", "a; b=\"x y\"", GUST_ESYNTAX, NULL},
    {"unterminated quote", "a; b=\"10", GUST_ESYNTAX, NULL},
    {"escape at end", "a; b=\"1\\", GUST_ESYNTAX, NULL},
    {"junk after name", "a b", GUST_ESYNTAX, NULL},
    {"nine elements", "a,b,c,d,e,f,g,h,i", GUST_ELIMIT, NULL},
    {"nine params", "a;b;c;d;e;f;g;h;i;j", GUST_ELIMIT, NULL},
};

static void dump_ext(const gust_ws_extensions *e, char *out, size_t cap) {
  size_t i, j, n = 0;
  out[0] = '\0';
  for (i = 0; i < e->count; i++) {
    n += (size_t)snprintf(out + n, cap - n, "%.*s", (int)e->ext[i].name.len,
                          (const char *)e->ext[i].name.ptr);
    for (j = 0; j < e->ext[i].n_params; j++) {
      const gust_ws_ext_param *p = &e->ext[i].params[j];
      n += (size_t)snprintf(out + n, cap - n, "(%.*s%s%.*s)", (int)p->name.len,
                            (const char *)p->name.ptr, p->has_value ? "=" : "",
                            (int)p->value.len, (const char *)p->value.ptr);
    }
    n += (size_t)snprintf(out + n, cap - n, ";");
  }
}

static void test_extensions(void) {
  size_t i;
  char dump[512];
  for (i = 0; i < sizeof ecases / sizeof ecases[0]; i++) {
    const struct ecase *c = &ecases[i];
    gust_ws_extensions e;
    size_t len = strlen(c->value);
    uint8_t *g = tap_guard_copy(c->value, len);
    int rc = gust_ws_extensions_parse_value(&e, (const char *)g, len, NULL);
    is_int(rc, c->rc, "extensions: %s (guard page)", c->name);
    if (c->dump != NULL) {
      dump_ext(&e, dump, sizeof dump);
      is_str(dump, c->dump, "extensions: %s parsed", c->name);
    }
    gust_ws_extensions_free(&e);
    tap_guard_free(g, len);
  }
  {
    gust_headers h;
    gust_ws_extensions e;
    char big[GUST_WS_EXT_MAX_BYTES + 8];
    gust_headers_init(&h, NULL);
    gust_headers_add_str(&h, "Sec-WebSocket-Extensions", "a; x=1");
    gust_headers_add_str(&h, "Sec-WebSocket-Extensions", "b");
    is_int(gust_ws_extensions_parse(&e, &h, NULL), 0,
           "extensions: repeated field");
    dump_ext(&e, dump, sizeof dump);
    is_str(dump, "a(x=1);b;", "extensions: repeated fields concatenate");
    gust_ws_extensions_free(&e);
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    gust_headers_add_str(&h, "Sec-WebSocket-Extensions", big);
    is_int(gust_ws_extensions_parse(&e, &h, NULL), GUST_ELIMIT,
           "extensions: total length bounded");
    gust_ws_extensions_free(&e);
    gust_headers_clear(&h);
    is_int(gust_ws_extensions_parse(&e, &h, NULL), 0, "extensions: no header");
    is_int(e.count, 0, "extensions: nothing offered");
    gust_ws_extensions_free(&e);
    gust_headers_free(&h);
  }
  {
    gust_failmem fm;
    gust_ws_extensions e;
    gust_failmem_init(&fm, NULL);
    fm.fail_at = 1;
    is_int(gust_ws_extensions_parse_value(&e, "a; b", 4, &fm.mem), GUST_ENOMEM,
           "extensions: allocation failure reported");
    gust_ws_extensions_free(&e);
    is_int(fm.live_blocks, 0, "extensions: nothing leaked");
  }
}

int main(void) {
  if (tap_group("keys"))
    test_keys();
  if (tap_group("origin"))
    test_origin();
  if (tap_group("server"))
    test_server_check();
  if (tap_group("protocols"))
    test_protocols();
  if (tap_group("client"))
    test_client();
  if (tap_group("extensions"))
    test_extensions();
  return done_testing();
}
