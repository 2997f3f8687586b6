/* Internal controls of IOStream for the HTTP server's connection loop.
 * Not installed. */
#ifndef GUST_NET_IOSTREAM_INT_H
#define GUST_NET_IOSTREAM_INT_H

#include <gust/iostream.h>

/* Pauses (non-zero) or resumes a streaming gust_iostream_read_until_close()
 * with a data callback: while paused nothing is read from the socket and
 * nothing is delivered; resuming delivers the buffered bytes at once
 * (the callback runs from this call). Other reads ignore the flag except
 * that the socket is not read while it is set. `paused` 2 is a pause that
 * still notices the peer leaving (Tornado's error listener): the socket
 * is read while nothing is buffered, so an end of stream or a reset
 * closes the stream, and the first bytes that arrive are kept for the
 * resume. */
void gust__iostream_set_paused(gust_iostream *s, int paused);

/* Ends a streaming gust_iostream_read_until_close() with a data callback
 * without closing the stream: its future resolves with no bytes and the
 * stream becomes idle (the bytes still buffered stay readable). May be
 * called from the data callback. Returns 0 or GUST_ESTATE (no such read). */
int gust__iostream_stop_stream(gust_iostream *s);

/* Releases the read buffer's memory if it holds no bytes (an idle
 * keep-alive connection then holds no read buffer). */
void gust__iostream_trim(gust_iostream *s);

/* Parking idle connections (the HTTP server, when a keep-alive
 * connection waits for its next request): the stream lets go of its TCP
 * handle, which goes on reading for a small record of the caller's, and a
 * new stream takes the handle back when bytes arrive.
 *
 * gust__iostream_release() takes the handle out of a plain (not TLS),
 * open stream with nothing buffered either way (no unread bytes, no write
 * pending) and no read pending but a streaming read_until_close with a
 * data callback, which ends without a result (its future resolves with no
 * bytes). The stream is then closed without closing the socket and
 * without running its close callback; the caller still drops its own
 * reference. The handle keeps reading if it was (*reading = 1): before
 * returning to the loop the caller must install its own reader with
 * gust__tcp_set_reader(); else the caller starts reading itself. May be
 * called from the stream's data callback. Returns the handle, or NULL when
 * the stream is not in that state (nothing changed). */
gust_tcp *gust__iostream_release(gust_iostream *s, int *reading);

/* gust_iostream_new() for a handle that is reading already (released by
 * gust__iostream_release()): the stream takes over its reads (no stop and
 * restart), so a streaming read can start at once. Returns 0, GUST_EINVAL
 * or GUST_ENOMEM (the handle then still reads for the caller). */
int gust__iostream_adopt_reading(gust_iostream **out, gust_tcp *tcp,
                                 const gust_iostream_opts *opts,
                                 const gust_mem *mem);

/* gust__iostream_adopt_reading() into a stream that gust__iostream_release()
 * emptied (and nothing used since), keeping its allocations: for servers
 * that reuse the stream objects of parked connections. The stream starts
 * over as new, with its options. Returns 0 or GUST_ESTATE (not such a
 * stream: nothing changed). */
int gust__iostream_reattach(gust_iostream *s, gust_tcp *tcp);

#endif /* GUST_NET_IOSTREAM_INT_H */
