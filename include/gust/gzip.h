/* gust gzip: a Sans-IO streaming encoder and decoder over zlib for the gzip
 * format (RFC 1952), zlib-wrapped deflate (RFC 1950) and raw deflate
 * (RFC 1951). The caller hands input and pulls output into buffers of its
 * own choosing; no call produces more than the room it is given, and the
 * decoder refuses to produce more than a total-output cap (on by default).
 * All zlib memory goes through the object's gust_mem table. */
#ifndef GUST_GZIP_H
#define GUST_GZIP_H

#include <gust/base.h>
#include <gust/headers.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The framing around deflate data. */
typedef enum gust_zip_format {
  GUST_ZIP_GZIP = 1,   /* gzip member(s): header, deflate data, CRC-32 */
  GUST_ZIP_ZLIB = 2,   /* zlib wrapper: header, deflate data, Adler-32 */
  GUST_ZIP_RAW = 3,    /* raw deflate data, no wrapper */
  GUST_ZIP_DEFLATE = 4 /* decoding only: zlib-wrapped or raw, detected from
                          the first two bytes (HTTP "deflate" is sent both
                          ways); encoding with it gives zlib-wrapped data */
} gust_zip_format;

/* How much output an encoder call must produce. */
typedef enum gust_zip_flush {
  GUST_ZIP_NO_FLUSH = 0, /* let the compressor buffer as it likes */
  GUST_ZIP_SYNC = 1,     /* emit everything so far, ending on a byte
                            boundary (an empty stored block) */
  GUST_ZIP_FINISH = 2    /* end the stream (trailer included) */
} gust_zip_flush;

/* Default total-output cap of a decoder: 100 MiB, Tornado's default
 * max_body_size. */
#define GUST_ZIP_DEFAULT_MAX_OUTPUT ((uint64_t)100 * 1024 * 1024)

/* Decoder flags. */
enum {
  /* gzip only: a further member after the first is decoded and appended
   * (as `gzip -d` does); without it, bytes after the first member are
   * trailing data. */
  GUST_ZIP_MULTI_MEMBER = 1u << 0,
  /* Bytes after the end of the stream are dropped silently (Tornado's
   * decompressobj behaviour) instead of failing with GUST_EZIP_TRAILING. */
  GUST_ZIP_IGNORE_TRAILING = 1u << 1
};

/* A streaming encoder or decoder for one format (opaque). */
typedef struct gust_zip gust_zip;

/* Creates an encoder for `format` at compression `level` (0..9, or -1 for
 * zlib's default, 6). `mem` NULL uses gust_mem_default(). On success *out
 * owns the encoder (free it with gust_zip_free()).
 * Returns 0, GUST_EINVAL (bad format or level) or GUST_ENOMEM. */
GUST_EXTERN int gust_zip_encoder_new(gust_zip **out, const gust_mem *mem,
                                     gust_zip_format format, int level);

/* Creates a decoder for `format`. `max_output` caps the total decoded size
 * (0 = GUST_ZIP_DEFAULT_MAX_OUTPUT, UINT64_MAX = no cap); `flags` ORs the
 * GUST_ZIP_* decoder flags. Returns 0, GUST_EINVAL or GUST_ENOMEM. */
GUST_EXTERN int gust_zip_decoder_new(gust_zip **out, const gust_mem *mem,
                                     gust_zip_format format,
                                     uint64_t max_output, unsigned flags);

/* Frees the object and all its zlib state. NULL is accepted. */
GUST_EXTERN void gust_zip_free(gust_zip *z);

/* Encodes. Consumes input from *in / *in_len (both advanced past what was
 * taken) and writes at most `out_cap` bytes to `out`. With GUST_ZIP_SYNC
 * or GUST_ZIP_FINISH, call again with the same flush value (and the rest
 * of the input, possibly none) until *in_len is 0 and the return value is
 * below out_cap: then the flush is complete (for FINISH,
 * gust_zip_done() is then true). `out_cap` 0 is refused.
 * Returns the number of bytes written, GUST_EINVAL, GUST_ESTATE (used
 * after FINISH completed, or on a decoder), GUST_ENOMEM or GUST_EINTERNAL;
 * an error is fatal: the encoder answers every later call with it. */
GUST_EXTERN gust_ssize gust_zip_encode(gust_zip *z, const uint8_t **in,
                                       size_t *in_len, uint8_t *out,
                                       size_t out_cap, gust_zip_flush flush);

/* Decodes. Consumes compressed input from *in / *in_len (advanced past
 * what was taken) and writes at most `out_cap` decoded bytes to `out`.
 * Input not consumed when the return value equals out_cap is still
 * pending: call again with it to pull more output. Once the stream has
 * ended (gust_zip_done()), further input is trailing data: an error
 * unless the flags say otherwise. Returns the number of bytes written
 * (0 when more input is needed), or GUST_EZIP_DATA (corrupt data, bad
 * check value), GUST_EZIP_TOOBIG (the cap was passed), GUST_EZIP_TRAILING,
 * GUST_ENOMEM, GUST_EINVAL or GUST_ESTATE; errors are fatal. */
GUST_EXTERN gust_ssize gust_zip_decode(gust_zip *z, const uint8_t **in,
                                       size_t *in_len, uint8_t *out,
                                       size_t out_cap);

/* Tells a decoder that the input is over. Returns 0 when the stream ended
 * properly, GUST_EZIP_TRUNCATED when it did not (the error sticks), or the
 * decoder's earlier fatal error. */
GUST_EXTERN int gust_zip_decode_end(gust_zip *z);

/* Non-zero once the stream is complete: the encoder finished, or the
 * decoder saw the end of the (last) stream. */
GUST_EXTERN int gust_zip_done(const gust_zip *z);

/* Total bytes consumed and produced so far. */
GUST_EXTERN uint64_t gust_zip_total_in(const gust_zip *z);
GUST_EXTERN uint64_t gust_zip_total_out(const gust_zip *z);

/* Decoder: changes the output cap given to gust_zip_decoder_new() (0 =
 * GUST_ZIP_DEFAULT_MAX_OUTPUT). Output already above the new cap fails at
 * the next gust_zip_decode() with GUST_EZIP_TOOBIG. */
GUST_EXTERN void gust_zip_set_max_output(gust_zip *z, uint64_t max_output);

/* Maps an HTTP content-coding name (case-insensitive, surrounding spaces
 * ignored) to a decoding format: "gzip" and "x-gzip" give GUST_ZIP_GZIP,
 * "deflate" gives GUST_ZIP_DEFLATE. Anything else (including "identity",
 * "br", a list) gives GUST_EZIP_CODING: unknown codings are never decoded.
 */
GUST_EXTERN int gust_zip_coding(const char *name, size_t len);

/* ------------------------------------------------------------------ */
/* HTTP integration, for the server and the client alike               */
/* ------------------------------------------------------------------ */

/* A body decoder driven by a gust_h1 connection's events: request bodies
 * in a server (Tornado's decompress_request), response bodies in a client
 * (decompress_response). */
typedef struct gust_zip_body gust_zip_body;

/* Flags for gust_zip_body_start(). */
enum {
  /* Also decode "x-gzip" and "deflate" (zlib-wrapped or raw). Without it
   * only "gzip" is decoded, as Tornado does. */
  GUST_ZIP_BODY_DEFLATE = 1u << 0
};

/* Looks at the message head's Content-Encoding in `headers`. When it names
 * a coding to decode (compared ignoring case: "gzip", and with
 * GUST_ZIP_BODY_DEFLATE "x-gzip" and "deflate"), the field is removed, its
 * value is stored as X-Consumed-Content-Encoding, and a decoder is stored
 * in *out: decoded pieces are at most `chunk_size` bytes (0 = 65536) and
 * their total at most `max_size` bytes (0 = GUST_ZIP_DEFAULT_MAX_OUTPUT,
 * Tornado's max_body_size). Any other Content-Encoding (or none) leaves
 * `headers` unchanged and *out NULL: the body is not decoded.
 * Returns 1 (decoder created), 0 (nothing to decode), GUST_EINVAL or
 * GUST_ENOMEM (headers unchanged). Free with gust_zip_body_free(). */
GUST_EXTERN int gust_zip_body_start(gust_zip_body **out, const gust_mem *mem,
                                    gust_headers *headers, unsigned flags,
                                    size_t chunk_size, uint64_t max_size);

/* Hands the bytes of one DATA event to the decoder. The bytes are not
 * copied: pull every piece with gust_zip_body_next() before the next call
 * on the connection. Returns 0, GUST_ESTATE (input still pending) or the
 * decoder's fatal error. */
GUST_EXTERN int gust_zip_body_feed(gust_zip_body *b, const void *data,
                                   size_t len);

/* Pulls the next decoded piece (1..chunk_size bytes) into *piece, valid
 * until the next call on `b`. Returns 1 (a piece), 0 (the input fed so far
 * is used up) or a fatal error: GUST_EZIP_TOOBIG ("decompressed body too
 * large"), GUST_EZIP_DATA, GUST_EZIP_TRAILING, GUST_ENOMEM. A server
 * answers these with 400 and closes, as Tornado does. */
GUST_EXTERN int gust_zip_body_next(gust_zip_body *b, gust_slice *piece);

/* At END_MESSAGE: returns 0 when the compressed stream ended properly,
 * GUST_EZIP_TRUNCATED otherwise, or the earlier fatal error. */
GUST_EXTERN int gust_zip_body_finish(gust_zip_body *b);

/* Returns a static message for the decoder's last error ("" if none), in
 * Tornado's words where it has some ("decompressed body too large"). */
GUST_EXTERN const char *gust_zip_body_error(const gust_zip_body *b);

/* Total decoded bytes so far. */
GUST_EXTERN uint64_t gust_zip_body_total(const gust_zip_body *b);

/* Changes the cap on the decoded total (0 = GUST_ZIP_DEFAULT_MAX_OUTPUT),
 * e.g. when the application changed the body limit of this request. A
 * total already above the new cap is the error GUST_EZIP_TOOBIG from then
 * on (gust_zip_body_next() and gust_zip_body_finish() return it). */
GUST_EXTERN void gust_zip_body_set_max_size(gust_zip_body *b,
                                            uint64_t max_size);

/* Frees the decoder (NULL is accepted). */
GUST_EXTERN void gust_zip_body_free(gust_zip_body *b);

/* Client: asks for compressed responses (Tornado's decompress_response):
 * sets Accept-Encoding to "gzip". Returns as gust_headers_set(). */
GUST_EXTERN int gust_zip_request_headers(gust_headers *headers);

/* Response compression as Tornado's GZipContentEncoding does it. */
typedef struct gust_zip_resp gust_zip_resp;

/* Minimum size of a body sent in one go for it to be compressed, and the
 * compression level. */
#define GUST_ZIP_RESP_MIN_LENGTH 1024
#define GUST_ZIP_RESP_LEVEL      6

/* Creates the response transform for one request. `accept_encoding` is
 * the request's Accept-Encoding (all values joined; NULL or empty if
 * none): compression is possible iff it contains "gzip". Returns 0,
 * GUST_EINVAL or GUST_ENOMEM. */
GUST_EXTERN int gust_zip_resp_new(gust_zip_resp **out, const gust_mem *mem,
                                  const char *accept_encoding, size_t len);

/* Transforms the first flush, before the head is sent: appends
 * "Accept-Encoding" to Vary (", "-joined to an existing value), then
 * compresses iff the request accepts gzip, the Content-Type (before any
 * ';') starts with "text/" or is one of the compressible application and
 * image types, no Content-Encoding is set and, when `finishing` (the whole
 * body is here), it has at least GUST_ZIP_RESP_MIN_LENGTH bytes. When
 * compressing: sets Content-Encoding: gzip, compresses `chunk` at level 6
 * ending with a sync flush (or the end of the stream when `finishing`),
 * and a Content-Length is replaced by the compressed size when finishing
 * and removed otherwise (the body is then chunked). The bytes to send
 * (the chunk itself when not compressing) are appended to `out`.
 * Returns 0, GUST_ESTATE (called twice), GUST_EINVAL or GUST_ENOMEM (out
 * keeps its former bytes; `headers` may have Vary appended; the transform
 * is then unusable). */
GUST_EXTERN int gust_zip_resp_first(gust_zip_resp *r, gust_headers *headers,
                                    const void *chunk, size_t len,
                                    int finishing, gust_buf *out);

/* Transforms a later flush: compressed with one sync flush (or ended when
 * `finishing`) if the first flush chose compression, else passed through.
 * Appends the bytes to send to `out`. Returns 0, GUST_ESTATE (before
 * gust_zip_resp_first(), after finishing or after a failure), or
 * GUST_ENOMEM, after which the response cannot be completed (out keeps
 * its former bytes; close the connection). */
GUST_EXTERN int gust_zip_resp_chunk(gust_zip_resp *r, const void *chunk,
                                    size_t len, int finishing, gust_buf *out);

/* 1 if the response is being compressed (known after the first flush). */
GUST_EXTERN int gust_zip_resp_active(const gust_zip_resp *r);

/* Frees the transform (NULL is accepted). */
GUST_EXTERN void gust_zip_resp_free(gust_zip_resp *r);

#ifdef __cplusplus
}
#endif

#endif /* GUST_GZIP_H */
