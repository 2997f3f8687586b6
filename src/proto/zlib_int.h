/* zlib allocation through gust_mem, shared by the gzip codec and the
 * WebSocket permessage-deflate engine (internal, never installed). */
#ifndef GUST_ZLIB_INT_H
#define GUST_ZLIB_INT_H

#include <gust/base.h>

#include <zlib.h>

/* Sets the allocation hooks of the zlib stream `s`, before its
 * deflateInit2/inflateInit2, so that zlib allocates through `mem` (which
 * must outlive the stream; NULL is not allowed: resolve it with gust__mem
 * first). An allocation whose size overflows fails as out of memory. */
void gust__zlib_use_mem(z_stream *s, const gust_mem *mem);

#endif /* GUST_ZLIB_INT_H */
