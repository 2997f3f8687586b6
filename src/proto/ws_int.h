/* Internal interface between the WebSocket connection and its
 * permessage-deflate engine (never installed). */
#ifndef GUST_WS_INT_H
#define GUST_WS_INT_H

#include <gust/ws.h>

/* One compressor and one decompressor for a connection. */
typedef struct gust__ws_zip gust__ws_zip;

/* Creates the zlib streams for an endpoint of `role` with the agreed
 * parameters. level -1..9, mem_level 1..9. Returns 0, GUST_EINVAL or
 * GUST_ENOMEM. */
int gust__ws_zip_new(gust__ws_zip **out, const gust_mem *mem,
                     const gust_ws_deflate_params *p, gust_ws_role role,
                     int level, int mem_level);
void gust__ws_zip_free(gust__ws_zip *z);

/* Compresses `len` bytes of a message and appends the result to `out`.
 * With `fin` the message ends: the sync-flush tail is stripped (an empty
 * message gives one 00 byte) and the compressor is reset if the agreed
 * parameters forbid context takeover. Returns 0, GUST_ENOMEM or
 * GUST_EINTERNAL. */
int gust__ws_zip_deflate(gust__ws_zip *z, const uint8_t *data, size_t len,
                         int fin, gust_buf *out);

/* Inflates `len` bytes of a compressed message and appends the output to
 * `out`; with `fin` the 00 00 ff ff tail is added first. Stops with
 * GUST_EWS_TOOBIG as soon as out->len would pass `limit`. Returns 0,
 * GUST_EWS_TOOBIG, GUST_EWS_DEFLATE (corrupt data) or GUST_ENOMEM. */
int gust__ws_zip_inflate(gust__ws_zip *z, const uint8_t *data, size_t len,
                         int fin, gust_buf *out, uint64_t limit);

/* UTF-8 validation implementations, for tests and benchmarks. */
enum { GUST__UTF8_SCALAR = 0, GUST__UTF8_SSSE3 = 1, GUST__UTF8_AVX2 = 2 };

/* Selects the implementation gust_utf8_feed uses from now on (process
 * wide): a GUST__UTF8_* level, or -1 for the best the CPU has. Returns the
 * level chosen, or GUST_EINVAL if the CPU (or build) lacks it. */
int gust__utf8_set_level(int level);

/* Masking block widths, for tests and benchmarks: 8-byte words, 16-byte
 * vectors (SSE2, NEON), AVX2, AVX-512F. */
enum {
  GUST__MASK_WORDS = 0,
  GUST__MASK_VEC16 = 1,
  GUST__MASK_AVX2 = 2,
  GUST__MASK_AVX512 = 3
};

/* Selects the width gust_ws_mask and gust_ws_mask_copy use from now on
 * (process wide): a GUST__MASK_* level, or -1 for the best the CPU has.
 * Returns the level chosen, or GUST_EINVAL if the CPU (or build) lacks
 * it. */
int gust__ws_mask_set_level(int level);

#endif /* GUST_WS_INT_H */
