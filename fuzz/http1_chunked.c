/* Fuzz target: the chunked decoder, behind a fixed request head so that
 * every input byte lands in chunk framing, data or trailers. */
#include "http1_fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static const char head[] = "POST / HTTP/1.1\r\nHost: a\r\n"
                             "Transfer-Encoding: chunked\r\n\r\n";
  gust_h1_config cfg;
  gust_h1 *h;
  if (size < 2)
    return 0;
  fuzz_config(&cfg, data[0]);
  cfg.max_head = cfg.max_head < 128 ? 128 : cfg.max_head;
  cfg.max_target = 8192;
  if (gust_h1_new(&h, (data[0] & 0x80) ? GUST_H1_CLIENT : GUST_H1_SERVER, &cfg,
                  NULL) != 0)
    return 0;
  if (data[0] & 0x80) {
    static const char resp[] = "HTTP/1.1 200 OK\r\n"
                               "Transfer-Encoding: chunked\r\n\r\n";
    fuzz_run(h, (const uint8_t *)resp, sizeof(resp) - 1, data + 2, size - 2,
             data[1], cfg.chunk_size, 0);
  } else {
    fuzz_run(h, (const uint8_t *)head, sizeof(head) - 1, data + 2, size - 2,
             data[1], cfg.chunk_size, 1);
  }
  gust_h1_free(h);
  return 0;
}
