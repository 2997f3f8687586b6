/* Fuzz target for the WebSocket handshake header parsers: the input is a
 * list of "Name: value" lines, used as a request (server check,
 * subprotocols, extension offers and their negotiation) and as a response
 * (client check, deflate response check). Invariants: verdicts come from
 * the documented set, an accepted deflate answer parses again, nothing
 * leaks. */
#include "ws_fuzz.h"

#include <gust/ws.h>

#include <stdlib.h>
#include <string.h>

static void load(gust_headers *h, const uint8_t *p, size_t n) {
  size_t i = 0;
  while (i < n) {
    size_t j = i, colon = 0, v;
    while (j < n && p[j] != '\n')
      j++;
    while (colon < j - i && p[i + colon] != ':')
      colon++;
    if (colon < j - i) {
      v = i + colon + 1;
      while (v < j && p[v] == ' ')
        v++;
      /* invalid names or values are refused by the map; that is fine */
      (void)gust_headers_add(h, (const char *)p + i, colon, (const char *)p + v,
                             j - v);
    }
    i = j + 1;
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  gust_failmem fm;
  gust_headers h;
  gust_ws_request req;
  gust_ws_verdict v;
  gust_ws_extensions ext;
  gust_slice protos[GUST_WS_MAX_PROTOCOLS], chosen;
  const char *sup[] = {"chat", "v2.json"};
  gust_ws_deflate_params agreed;
  gust_buf resp;
  int rc, accepted;

  gust_failmem_init(&fm, NULL);
  gust_headers_init(&h, &fm.mem);
  gust_buf_init(&resp, &fm.mem);
  load(&h, data, size);

  memset(&req, 0, sizeof req);
  req.method = gust_slice_cstr("GET");
  req.http_major = 1;
  req.http_minor = 1;
  req.headers = &h;
  rc = gust_ws_server_check(&req, &v);
  if (rc == 0 ? v.status != 101
              : rc != GUST_EWS_HANDSHAKE ||
                    (v.status != 400 && v.status != 403 && v.status != 426))
    abort();

  if (gust_ws_parse_protocols(&h, protos, GUST_WS_MAX_PROTOCOLS) >
      GUST_WS_MAX_PROTOCOLS)
    abort();
  rc = gust_ws_select_subprotocol(&h, sup, 2, &chosen);
  if (rc == 0 && !gust_slice_eq(chosen, gust_slice_cstr("chat")) &&
      !gust_slice_eq(chosen, gust_slice_cstr("v2.json")))
    abort();

  rc = gust_ws_extensions_parse(&ext, &h, &fm.mem);
  if (rc == 0) {
    if (ext.count > GUST_WS_EXT_MAX)
      abort();
    rc = gust_ws_deflate_negotiate(&ext, NULL, &agreed, &resp);
    if (rc == 1) {
      gust_ws_extensions back;
      if (gust_ws_extensions_parse_value(&back, (const char *)resp.ptr,
                                         resp.len, &fm.mem) != 0 ||
          back.count != 1)
        abort();
      gust_ws_extensions_free(&back);
    } else if (rc != 0) {
      abort();
    }
    rc = gust_ws_deflate_check_response(&ext, NULL, &agreed, &accepted);
    if (rc != 0 && rc != GUST_EWS_EXTENSION)
      abort();
  }
  gust_ws_extensions_free(&ext);

  rc = gust_ws_client_check(101, &h, "dGhlIHNhbXBsZSBub25jZQ==", sup, 2,
                            &chosen, NULL);
  if (rc != 0 && rc != GUST_EWS_HANDSHAKE)
    abort();

  gust_buf_free(&resp);
  gust_headers_free(&h);
  if (fm.live_blocks != 0)
    abort();
  return 0;
}
