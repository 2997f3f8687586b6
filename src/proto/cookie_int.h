/* Internal codecs shared by the cookie module's sources: base64, hex and
 * the "N|" version prefix that signed values and XSRF tokens start with. */
#ifndef GUST_PROTO_COOKIE_INT_H
#define GUST_PROTO_COOKIE_INT_H

#include <gust/base.h>

/* Appends the standard base64 (with '=' padding) of n bytes. Returns 0 or a
 * gust_buf error; on error `out` is unchanged. */
int gust__b64_encode(gust_buf *out, const uint8_t *data, size_t n);

/* Appends the bytes encoded by strict standard base64: length a multiple of
 * 4, alphabet A-Z a-z 0-9 + /, at most two '=' and only at the end. Unused
 * low bits of the last symbol are ignored, as Python does. Returns 0,
 * GUST_ESYNTAX for bad input, or a gust_buf error; `out` is unchanged on
 * error. */
int gust__b64_decode(gust_buf *out, const uint8_t *s, size_t n);

/* Appends lowercase hex of n bytes, optionally XORed with a cyclic 4-byte
 * mask (mask NULL = none). Returns 0 or a gust_buf error. */
int gust__hex_encode(gust_buf *out, const uint8_t *data, size_t n,
                     const uint8_t *mask);

/* Appends the bytes of an even-length hex string (either case), optionally
 * XORed with a cyclic 4-byte mask. Returns 0, GUST_ESYNTAX, or a gust_buf
 * error; `out` is unchanged on error. */
int gust__hex_decode(gust_buf *out, const uint8_t *s, size_t n,
                     const uint8_t *mask);

/* Matches Python's `^([1-9][0-9]*)\|(.*)$` (no DOTALL): returns 1 and the
 * number (saturated at INT64_MAX) in *version and the length of the prefix
 * including '|' in *prefix_len when it matches, 0 otherwise. */
int gust__version_prefix(const uint8_t *s, size_t n, int64_t *version,
                         size_t *prefix_len);

/* Parses digits only (at least one) into *out, refusing values above
 * INT64_MAX. Returns 0 or GUST_ESYNTAX. */
int gust__parse_digits(const uint8_t *s, size_t n, int64_t *out);

#endif /* GUST_PROTO_COOKIE_INT_H */
