/* gust header multimap: the ordered, case-insensitive name/value store that
 * every HTTP module uses for request and response headers. */
#ifndef GUST_HEADERS_H
#define GUST_HEADERS_H

#include <gust/base.h>

#ifdef __cplusplus
extern "C" {
#endif

/* An ordered multimap of header fields.
 *
 * - Names are compared ignoring ASCII case; the spelling given to add() is
 *   kept and returned by iteration and serialisation.
 * - Insertion order is kept across names and within one name.
 * - A name may have several values; get() returns the first, get_joined()
 *   all of them joined with ",", get_next() walks them one by one.
 * - Names must be RFC 9110 tokens; values may not contain control
 *   characters other than HTAB (so no CR, LF or NUL; obs-text bytes
 *   0x80-0xFF are stored as given). add() and
 *   set() refuse the rest with GUST_EINVAL, so a header stored here can
 *   always be serialised without injection.
 * - The object copies every name and value it is given. Slices it returns
 *   stay valid until the next call that modifies the map.
 *
 * The struct is public only so that it can live on the stack or inside
 * another object; treat its members as private. */
typedef struct gust_header_entry_ {
  uint32_t name_off; /* offsets into the string arena */
  uint32_t name_len;
  uint32_t value_off;
  uint32_t value_len;
} gust_header_entry_;

/* The header map; initialise with gust_headers_init(), release with
 * gust_headers_free(). Members are private. */
typedef struct gust_headers {
  gust_header_entry_ *entries;
  size_t count;   /* entries in use */
  size_t cap;     /* entries allocated */
  gust_buf arena; /* names and values, back to back */
  size_t dead;    /* arena bytes belonging to removed entries */
} gust_headers;

/* Initialises an empty map allocating with `mem` (NULL = default). */
GUST_EXTERN void gust_headers_init(gust_headers *h, const gust_mem *mem);

/* Releases all memory; the map is empty and reusable afterwards. */
GUST_EXTERN void gust_headers_free(gust_headers *h);

/* Removes every field but keeps the memory for reuse. */
GUST_EXTERN void gust_headers_clear(gust_headers *h);

/* Makes room for `fields` more fields holding `bytes` more bytes of names
 * and values, so that adding them allocates nothing (a map filled from a
 * parsed head is sized once). Returns 0, GUST_ENOMEM or GUST_EOVERFLOW;
 * the map's contents are unchanged either way. */
GUST_EXTERN int gust_headers_reserve(gust_headers *h, size_t fields,
                                     size_t bytes);

/* Returns the number of fields (each value of a repeated name counts). */
GUST_EXTERN size_t gust_headers_count(const gust_headers *h);

/* Appends a field. Returns 0, GUST_EINVAL (name not a token, empty name, or
 * a control character other than HTAB in the value), GUST_ENOMEM, or
 * GUST_EOVERFLOW (map over 4 GiB). On failure the map is unchanged. */
GUST_EXTERN int gust_headers_add(gust_headers *h, const char *name,
                                 size_t name_len, const char *value,
                                 size_t value_len);

/* As gust_headers_add() with NUL-terminated name and value. */
GUST_EXTERN int gust_headers_add_str(gust_headers *h, const char *name,
                                     const char *value);

/* Replaces every value of `name` by this one value, at the position of the
 * first existing value (appended if the name is new). Returns as add(). */
GUST_EXTERN int gust_headers_set(gust_headers *h, const char *name,
                                 size_t name_len, const char *value,
                                 size_t value_len);

/* As gust_headers_set() with NUL-terminated name and value. */
GUST_EXTERN int gust_headers_set_str(gust_headers *h, const char *name,
                                     const char *value);

/* Finds the first value of `name` and stores it in *value (which may be
 * NULL to test presence). Returns 0, or GUST_ENOTFOUND. */
GUST_EXTERN int gust_headers_get(const gust_headers *h, const char *name,
                                 gust_slice *value);

/* Walks the values of `name` in order. Start with *cursor = 0; each call
 * stores the next value and advances *cursor. Returns 0, or GUST_ENOTFOUND
 * when there is no further value. */
GUST_EXTERN int gust_headers_get_next(const gust_headers *h, const char *name,
                                      size_t *cursor, gust_slice *value);

/* Returns how many values `name` has (0 if none). */
GUST_EXTERN size_t gust_headers_count_name(const gust_headers *h,
                                           const char *name);

/* Appends every value of `name`, joined with ",", to `out` (Tornado's
 * HTTPHeaders[name]). Returns 0, GUST_ENOTFOUND (out unchanged) or the
 * codes of gust_buf_append(). */
GUST_EXTERN int gust_headers_get_joined(const gust_headers *h, const char *name,
                                        gust_buf *out);

/* Returns 1 if any value of the list field `name` (e.g. Connection,
 * Transfer-Encoding) has `token` as one of its comma-separated elements,
 * compared ignoring case and surrounding whitespace; 0 otherwise. */
GUST_EXTERN int gust_headers_has_token(const gust_headers *h, const char *name,
                                       const char *token);

/* Removes every value of `name`. Returns the number removed (0 if none). */
GUST_EXTERN size_t gust_headers_remove(gust_headers *h, const char *name);

/* Iterates over all fields in insertion order. Start with *iter = 0; each
 * call stores the next field's name and value and returns 1, or returns 0
 * at the end. Either output pointer may be NULL. */
GUST_EXTERN int gust_headers_next(const gust_headers *h, size_t *iter,
                                  gust_slice *name, gust_slice *value);

/* Copies every field of `src` to the end of `dst`. Returns 0,
 * GUST_EINVAL if dst == src, or GUST_ENOMEM/GUST_EOVERFLOW (dst
 * unchanged). */
GUST_EXTERN int gust_headers_copy(gust_headers *dst, const gust_headers *src);

/* Returns 1 if the bytes form a valid field name (a non-empty RFC 9110
 * token), 0 otherwise. */
GUST_EXTERN int gust_header_name_valid(const char *name, size_t len);

/* Returns 1 if the bytes may be stored as a field value (no control
 * character other than HTAB: no CR, LF, NUL or DEL), 0 otherwise. */
GUST_EXTERN int gust_header_value_valid(const char *value, size_t len);

#ifdef __cplusplus
}
#endif

#endif /* GUST_HEADERS_H */
