/* Fuzz target: the server side reading requests (pipelined, any split). */
#include "http1_fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  gust_h1_config cfg;
  gust_h1 *h;
  if (size < 2)
    return 0;
  fuzz_config(&cfg, data[0]);
  if (gust_h1_new(&h, GUST_H1_SERVER, &cfg, NULL) != 0)
    return 0;
  fuzz_run(h, NULL, 0, data + 2, size - 2, data[1], cfg.chunk_size, 1);
  gust_h1_free(h);
  return 0;
}
