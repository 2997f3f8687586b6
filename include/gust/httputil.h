/* gust HTTP utilities with Tornado's exact semantics: XHTML and URL
 * escaping, query-string and x-www-form-urlencoded parsing, a streaming
 * multipart/form-data parser with bounded memory, ETag matching for
 * If-None-Match, and HTTP-dates. All Sans-IO. */
#ifndef GUST_HTTPUTIL_H
#define GUST_HTTPUTIL_H

#include <gust/base.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------ */
/* Escaping                                                             */
/* ------------------------------------------------------------------ */

/* Appends `n` bytes with & < > " ' replaced by &amp; &lt; &gt; &quot; &#39;
 * (Tornado 6.2's bytes); every other byte passes through. Returns 0 or a
 * gust_buf error (`out` unchanged). */
GUST_EXTERN int gust_xhtml_escape(const uint8_t *s, size_t n, gust_buf *out);

/* Appends `n` bytes with character references replaced as Tornado 6.2
 * does: "&#" decimal ";", "&#x" hex ";" (x or X) and the 252 HTML 4 names
 * (case-sensitive, ';' required) become the UTF-8 of the code point; a
 * reference that does not parse, names an unknown entity, is above
 * U+10FFFF or is a surrogate stays as it is. Returns 0 or a gust_buf error
 * (`out` unchanged). */
GUST_EXTERN int gust_xhtml_unescape(const uint8_t *s, size_t n, gust_buf *out);

/* Appends `n` bytes percent-encoded as Python's quote_plus (plus != 0:
 * space becomes '+', '/' is encoded) or quote (plus == 0: space becomes
 * %20, '/' stays). A-Z a-z 0-9 _ . - ~ are never encoded; escapes use
 * uppercase hex. Returns 0 or a gust_buf error (`out` unchanged). */
GUST_EXTERN int gust_url_escape(const uint8_t *s, size_t n, int plus,
                                gust_buf *out);

/* Appends `n` bytes with %XX escapes (either case) decoded and, when
 * `plus` is non-zero, '+' turned into a space; a '%' not followed by two
 * hex digits stays as it is. The result is bytes (Tornado's
 * url_unescape(encoding=None)). Returns 0 or a gust_buf error. */
GUST_EXTERN int gust_url_unescape(const uint8_t *s, size_t n, int plus,
                                  gust_buf *out);

/* ------------------------------------------------------------------ */
/* URLs (RFC 3986)                                                      */
/* ------------------------------------------------------------------ */

/* Which optional components a split URL has (an empty query "?" is
 * present, an absent one is not). */
enum {
  GUST_URL_HAS_SCHEME = 1u << 0,
  GUST_URL_HAS_AUTHORITY = 1u << 1, /* "//" followed */
  GUST_URL_HAS_USERINFO = 1u << 2,
  GUST_URL_HAS_PORT = 1u << 3,
  GUST_URL_HAS_QUERY = 1u << 4,
  GUST_URL_HAS_FRAGMENT = 1u << 5
};

/* The components of a URI reference, as slices of the input (nothing is
 * decoded or case-folded). `host` of an IP literal is given without its
 * brackets ("::1" for "[::1]"). `port` is 0..65535 with
 * GUST_URL_HAS_PORT, else -1 (an empty port, "http://h:/", counts as
 * absent, as RFC 3986 allows). */
typedef struct gust_url {
  unsigned flags; /* GUST_URL_HAS_* */
  gust_slice scheme;
  gust_slice userinfo;
  gust_slice host;
  int port;
  gust_slice path; /* may be empty */
  gust_slice query;
  gust_slice fragment;
} gust_url;

/* Splits the URI reference `s` (`len` bytes; absolute, or relative such
 * as "/a?b" or "../c") per RFC 3986 section 3 into *u, whose slices
 * borrow `s` (an absent component is {NULL, 0}). A scheme ends at a ':'
 * that comes before any '/', '?' or '#'; an authority follows "//" up to
 * the next '/', '?' or '#', and its userinfo ends at its last '@'. Checks
 * what the generic syntax fixes, strictly in the authority:
 *  - no byte outside VCHAR (no space, control, or byte >= 0x80), and every
 *    '%' starts a two-hex-digit escape;
 *  - the scheme is a letter, then letters, digits, '+', '-' or '.';
 *  - userinfo and a reg-name host hold only unreserved and sub-delims
 *    characters and escapes (userinfo also ':' and '@'); the host may be
 *    empty;
 *  - an IP literal in brackets is an IPv6 address (IPvFuture "[v1.x]" and
 *    zone IDs "[fe80::1%25eth0]" are refused);
 *  - a port is digits only, at most 65535;
 *  - '[' and ']' appear nowhere else. The path, query and fragment take
 *    every other VCHAR ('{', '|', '^', a second '#' ...), as browsers
 *    send them.
 * Returns 0, GUST_ESYNTAX (malformed; *u undefined) or GUST_EINVAL (`u`
 * NULL, or `s` NULL with `len` > 0). */
GUST_EXTERN int gust_url_split(gust_url *u, const char *s, size_t len);

/* Resolves the reference `ref` against the absolute URL `base` (which
 * must have a scheme) per RFC 3986 section 5.2 (strict: a reference with
 * a scheme is taken as it is), removing dot segments, and appends the
 * result to `out`: an HTTP redirect's Location resolved against the
 * request's URL. The result is recomposed (section 5.3) from the
 * components as written, the authority copied whole: nothing is decoded
 * or case-folded, so dot-segment removal is the only normalization. A
 * path that would start with "//" without an authority gets "/." in front
 * so that the result splits back the same. The reference's fragment, if
 * any, is kept; the base's never is. `base` and `ref` must not point into
 * `out`'s memory. Returns 0, GUST_ESYNTAX (either input malformed, or
 * `base` not absolute), GUST_EINVAL (a NULL argument, or an input inside
 * `out`) or a gust_buf error; `out` is unchanged on error. */
GUST_EXTERN int gust_url_resolve(const char *base, size_t blen, const char *ref,
                                 size_t rlen, gust_buf *out);

/* ------------------------------------------------------------------ */
/* Query strings and application/x-www-form-urlencoded bodies           */
/* ------------------------------------------------------------------ */

/* An iterator over the fields of a query string or urlencoded body. It
 * borrows the input, which must outlive it; set it up with
 * gust_form_iter_init() and treat the members as private. */
typedef struct gust_form_iter {
  const uint8_t *data;
  size_t len;
  size_t pos;
} gust_form_iter;

/* Starts iterating over `len` bytes at `data` (no leading '?'). */
GUST_EXTERN void gust_form_iter_init(gust_form_iter *it, const uint8_t *data,
                                     size_t len);

/* Gets the next field as Tornado's parse_qs_bytes(keep_blank_values=True)
 * sees it: fields split on '&', empty ones skipped, name and value split
 * at the first '=' (none: empty value), '+' and %XX decoded in both. The
 * decoded name and value replace the contents of `name` and `value`.
 * Returns 1 for a field, 0 at the end, or a gust_buf error. */
GUST_EXTERN int gust_form_next(gust_form_iter *it, gust_buf *name,
                               gust_buf *value);

/* ------------------------------------------------------------------ */
/* multipart/form-data                                                  */
/* ------------------------------------------------------------------ */

/* A streaming multipart/form-data parser: bytes in with
 * gust_multipart_feed(), events out with gust_multipart_next(). Memory is
 * bounded by the limits: a part's data is handed out in pieces as it
 * arrives, never accumulated. */
typedef struct gust_multipart gust_multipart;

/* Bounds of the multipart parser (a zero member takes its default). */
typedef struct gust_multipart_limits {
  size_t max_header_size; /* bytes of one part's header block; default 16384 */
  size_t max_parts;       /* parts in one body; default 10000 */
  size_t max_buffer;      /* bytes one feed call may add; default 1048576 */
} gust_multipart_limits;

/* What gust_multipart_next() reports. */
typedef enum gust_multipart_event_type {
  GUST_MULTIPART_NEED_DATA = 0, /* feed more bytes (or finish) */
  GUST_MULTIPART_PART = 1,      /* a part begins: name, filename, type */
  GUST_MULTIPART_DATA = 2,      /* a piece of the current part's body */
  GUST_MULTIPART_PART_END = 3,  /* the current part is complete */
  GUST_MULTIPART_END = 4        /* the closing boundary was read */
} gust_multipart_event_type;

/* One event. Slices stay valid until the next call on the parser. */
typedef struct gust_multipart_event {
  gust_multipart_event_type type;
  gust_slice name;         /* PART: the form field name */
  gust_slice filename;     /* PART: the file name (is_file) */
  gust_slice content_type; /* PART: Content-Type, "application/unknown"
                              for files without one; empty for fields */
  int is_file;             /* PART: 1 when a non-empty filename was given */
  gust_slice data;         /* DATA: the bytes, never empty */
} gust_multipart_event;

/* Extracts the boundary from a Content-Type value ("multipart/form-data;
 * boundary=..."), dropping surrounding quotes as Tornado does, and sets
 * *boundary to a slice of `content_type`. Returns 0, GUST_EBOUNDARY (not
 * multipart/form-data, no boundary, or one that is empty or longer than
 * 70 bytes) or GUST_EINVAL. */
GUST_EXTERN int gust_multipart_boundary(const char *content_type, size_t len,
                                        gust_slice *boundary);

/* Creates a parser for `boundary` (copied; 1..70 bytes) with `limits`
 * (NULL = defaults; zero fields take their default) and allocator `mem`
 * (NULL = default). The caller owns *out (gust_multipart_free()). Returns
 * 0, GUST_EBOUNDARY, GUST_EINVAL or GUST_ENOMEM. */
GUST_EXTERN int gust_multipart_new(gust_multipart **out, const gust_mem *mem,
                                   const uint8_t *boundary, size_t len,
                                   const gust_multipart_limits *limits);

/* Releases the parser. NULL is a no-op. */
GUST_EXTERN void gust_multipart_free(gust_multipart *mp);

/* Adds `len` input bytes (copied). Call it after gust_multipart_next()
 * returned NEED_DATA. Returns 0, GUST_ELIMIT (more than max_buffer bytes
 * would be held), GUST_ENOMEM, or the parser's fatal error. */
GUST_EXTERN int gust_multipart_feed(gust_multipart *mp, const uint8_t *data,
                                    size_t len);

/* Marks the end of input: a body that has not reached its closing
 * boundary then fails with GUST_EMULTIPART at the next gust_multipart_next().
 * Returns 0. */
GUST_EXTERN int gust_multipart_finish(gust_multipart *mp);

/* Produces the next event into *ev. As in Tornado >= 6.5 (and Debian's
 * 6.2), a part without headers, without a "form-data" disposition or
 * without a name makes the whole body invalid. Returns 0, or a fatal
 * error: GUST_EMULTIPART (malformed body, or end of input before the
 * closing boundary), GUST_ELIMIT (header block or part count over the
 * limit), GUST_ENOMEM. After an error every call returns the same code. */
GUST_EXTERN int gust_multipart_next(gust_multipart *mp,
                                    gust_multipart_event *ev);

/* Returns a static message for the parser's fatal error (Tornado's text
 * where it has one, e.g. "multipart/form-data missing name"), or NULL when
 * there was none. */
GUST_EXTERN const char *gust_multipart_errmsg(const gust_multipart *mp);

/* Returns how many input bytes the parser has consumed; after an error,
 * roughly where the offending piece starts (0 for a NULL parser). */
GUST_EXTERN uint64_t gust_multipart_offset(const gust_multipart *mp);

/* ------------------------------------------------------------------ */
/* ETags and HTTP-dates                                                 */
/* ------------------------------------------------------------------ */

/* Appends Tornado's default ETag for a body: '"' + lowercase hex SHA-1 of
 * the bytes + '"'. Returns 0, GUST_ECRYPTO or a gust_buf error. */
GUST_EXTERN int gust_etag_compute(const uint8_t *body, size_t len,
                                  gust_buf *out);

/* Returns 1 if the If-None-Match value `inm` matches the ETag `etag` as
 * Tornado >= 4.2 decides (tokens `*` or [W/]"..." are extracted, the rest
 * ignored; `*` matches only as the first token; otherwise weak comparison,
 * W/ stripped from both sides), 0 otherwise (also for an empty etag). */
GUST_EXTERN int gust_etag_match(const char *inm, size_t inm_len,
                                const char *etag, size_t etag_len);

/* Size of a formatted HTTP-date including the NUL. */
#define GUST_HTTPDATE_SIZE 30

/* Writes `t` (seconds since the epoch) as an IMF-fixdate, e.g. "Sun, 06 Nov
 * 1994 08:49:37 GMT", NUL-terminated, into `out`. Returns 0, or GUST_ERANGE
 * for a time before year 0 or after year 9999. */
GUST_EXTERN int gust_httpdate_format(int64_t t, char out[GUST_HTTPDATE_SIZE]);

/* Parses an HTTP-date in any of the three RFC 9110 formats into seconds
 * since the epoch: IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT"), RFC 850
 * ("Sunday, 06-Nov-94 08:49:37 GMT"; a two-digit year 69..99 is 19xx and
 * 00..68 is 20xx, as Python's email.utils reads it) and asctime ("Sun Nov
 * 6 08:49:37 1994"). Day names must match the form (short or long) but
 * are not checked against the date; surrounding blanks are allowed.
 * Returns 0, GUST_EHTTPDATE or GUST_EINVAL. */
GUST_EXTERN int gust_httpdate_parse(const char *s, size_t len, int64_t *t);

#ifdef __cplusplus
}
#endif

#endif /* GUST_HTTPUTIL_H */
