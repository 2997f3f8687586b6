/* Fuzz target: the client side reading responses to GET, HEAD, CONNECT or
 * an upgrade request, chosen by the input. */
#include "http1_fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static const char *const methods[] = {"GET", "HEAD", "CONNECT", "POST"};
  gust_h1_config cfg;
  gust_headers hs;
  gust_h1 *h;
  const char *m;
  if (size < 2)
    return 0;
  fuzz_config(&cfg, data[0]);
  if (gust_h1_new(&h, GUST_H1_CLIENT, &cfg, NULL) != 0)
    return 0;
  m = methods[(data[1] >> 4) & 3];
  gust_headers_init(&hs, NULL);
  gust_headers_add_str(&hs, "Host", "fuzz.example");
  if (data[1] & 0x80) {
    gust_headers_add_str(&hs, "Upgrade", "websocket");
    gust_headers_add_str(&hs, "Connection", "Upgrade");
  }
  if (gust_h1_send_request(h, m, strcmp(m, "CONNECT") == 0 ? "h:443" : "/",
                           &hs) == 0 &&
      !(data[1] & 0x08))
    gust_h1_send_end(h);
  gust_headers_free(&hs);
  fuzz_run(h, NULL, 0, data + 2, size - 2, data[1], cfg.chunk_size, 0);
  gust_h1_free(h);
  return 0;
}
