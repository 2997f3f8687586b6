/* Internal controls of IOStream for the HTTP server's connection loop.
 * Not installed. */
#ifndef GUST_NET_IOSTREAM_INT_H
#define GUST_NET_IOSTREAM_INT_H

#include <gust/iostream.h>

/* Pauses (non-zero) or resumes a streaming gust_iostream_read_until_close()
 * with a data callback: while paused nothing is read from the socket and
 * nothing is delivered; resuming delivers the buffered bytes at once
 * (the callback runs from this call). Other reads ignore the flag except
 * that the socket is not read while it is set. */
void gust__iostream_set_paused(gust_iostream *s, int paused);

/* Ends a streaming gust_iostream_read_until_close() with a data callback
 * without closing the stream: its future resolves with no bytes and the
 * stream becomes idle (the bytes still buffered stay readable). May be
 * called from the data callback. Returns 0 or GUST_ESTATE (no such read). */
int gust__iostream_stop_stream(gust_iostream *s);

/* Releases the read buffer's memory if it holds no bytes (an idle
 * keep-alive connection then holds no read buffer). */
void gust__iostream_trim(gust_iostream *s);

#endif /* GUST_NET_IOSTREAM_INT_H */
