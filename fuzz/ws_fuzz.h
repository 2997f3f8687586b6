/* Entry point shared by the WebSocket fuzz targets and their replay
 * runner. */
#ifndef GUST_FUZZ_WS_FUZZ_H
#define GUST_FUZZ_WS_FUZZ_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif /* GUST_FUZZ_WS_FUZZ_H */
