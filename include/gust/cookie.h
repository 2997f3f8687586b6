/* gust cookies: signed values (Tornado's secure cookies, v1 and v2, with
 * key rotation), XSRF tokens, Cookie header parsing and Set-Cookie
 * formatting, byte-compatible with Tornado. Everything here is Sans-IO: the
 * current time is an argument, randomness comes from gust_random_bytes()
 * unless the caller supplies the bytes. */
#ifndef GUST_COOKIE_H
#define GUST_COOKIE_H

#include <gust/base.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------ */
/* Secrets                                                              */
/* ------------------------------------------------------------------ */

/* The key material for signed values: either one secret, or a table of
 * versioned secrets plus the current key version (Tornado's secret_key
 * dict with the key_version setting). Immutable once built, so one object
 * may be shared by any number of threads for create and decode. */
typedef struct gust_secrets gust_secrets;

/* Creates a single-secret object holding a copy of `len` bytes at `secret`
 * (a text secret is passed as its UTF-8 bytes). `mem` is the allocator
 * (NULL = default). The caller owns *out and releases it with
 * gust_secrets_free(). Returns 0, GUST_EINVAL (out NULL, or secret NULL with
 * len > 0) or GUST_ENOMEM. */
GUST_EXTERN int gust_secrets_new(gust_secrets **out, const gust_mem *mem,
                                 const uint8_t *secret, size_t len);

/* Creates an empty versioned table whose current key version (the one new
 * values are signed with) is `current_version` (>= 0). Add keys with
 * gust_secrets_add(); creating a value fails with GUST_EKEYVERSION until the
 * current version has a key. Ownership as gust_secrets_new(). Returns 0,
 * GUST_EINVAL or GUST_ENOMEM. */
GUST_EXTERN int gust_secrets_new_versioned(gust_secrets **out,
                                           const gust_mem *mem,
                                           int current_version);

/* Adds a copy of the key `secret` (`len` bytes) under `version` (>= 0) to a
 * versioned table. Returns 0, GUST_EINVAL (single-secret object, negative
 * version, NULL secret with len > 0), GUST_EEXIST (version already present)
 * or GUST_ENOMEM (the table is unchanged). */
GUST_EXTERN int gust_secrets_add(gust_secrets *secrets, int version,
                                 const uint8_t *secret, size_t len);

/* Returns 1 if `secrets` is a versioned table, 0 if it is one secret. */
GUST_EXTERN int gust_secrets_is_versioned(const gust_secrets *secrets);

/* Releases the object and wipes the key bytes. NULL is a no-op. */
GUST_EXTERN void gust_secrets_free(gust_secrets *secrets);

/* ------------------------------------------------------------------ */
/* Signed values                                                        */
/* ------------------------------------------------------------------ */

/* Defaults, as in Tornado. */
#define GUST_SIGNED_VERSION_DEFAULT  2 /* format written by default */
#define GUST_SIGNED_MIN_VERSION      1 /* oldest format accepted by default */
#define GUST_SIGNED_MAX_AGE_DAYS     31.0    /* default max_age_days */
#define GUST_SIGNED_FUTURE_SLACK_SEC 2678400 /* v1: 31 days ahead at most */

/* Signs `len` bytes at `value` (any bytes) under `name` (NUL-terminated,
 * used as raw bytes) at time `now` (seconds since the epoch, >= 0) and
 * appends the signed value (ASCII text) to `out`.
 *
 * `version` is 1 (legacy: base64|ts|HMAC-SHA1) or 2 (Tornado's default:
 * length-prefixed fields and HMAC-SHA256); 0 means 2. Version 2 writes the
 * secrets' current key version ("0" for a single secret); version 1 needs a
 * single secret. Nothing is retained; `out` is unchanged on error.
 *
 * Returns 0, GUST_EINVAL (NULL argument, negative `now`, unknown version,
 * or version 1 with a versioned table), GUST_EKEYVERSION (the current key
 * version has no key), GUST_ECRYPTO, or a gust_buf error (GUST_ENOMEM,
 * GUST_EBUFFERFULL). */
GUST_EXTERN int gust_signed_value_create(const gust_secrets *secrets,
                                         const char *name, const uint8_t *value,
                                         size_t len, int64_t now, int version,
                                         gust_buf *out);

/* Verifies the signed value `signed_value` (`len` bytes, e.g. a cookie
 * value after unquoting) for `name` at time `now`, and appends the original
 * bytes to `value_out`.
 *
 * `max_age_days` (Tornado default 31, may be fractional) bounds the age of
 * the embedded timestamp; `min_version` is the oldest format accepted (0
 * means 1; 2 refuses legacy v1 values). The format version is detected as
 * Tornado does; versions 3..999 are refused. A versioned table needs v2.
 * Nothing is retained; `value_out` is unchanged on error.
 *
 * Returns 0, or one of:
 *   GUST_EINVAL           NULL argument, NaN max_age_days, min_version > 2
 *   GUST_ESIGNED_VERSION  empty value, version < min_version, version 3..999,
 *                         or a v1 value offered to a versioned table
 *   GUST_ESIGNED_MALFORMED  wrong field structure, non-digit numbers,
 *                         invalid base64 payload
 *   GUST_EKEYVERSION      v2 key version not in the table
 *   GUST_ESIGNATURE       HMAC mismatch, or (v2) the name field differs
 *   GUST_EEXPIRED         timestamp older than now - max_age_days
 *   GUST_ESIGNED_FUTURE   v1 timestamp more than 31 days ahead of now
 *   GUST_ESIGNED_TAMPERED v1 timestamp with a leading zero
 *   GUST_ECRYPTO, GUST_ENOMEM, GUST_EBUFFERFULL */
GUST_EXTERN int gust_signed_value_decode(const gust_secrets *secrets,
                                         const char *name,
                                         const char *signed_value, size_t len,
                                         int64_t now, double max_age_days,
                                         int min_version, gust_buf *value_out);

/* Reads the key version embedded in a v2 signed value without verifying
 * it (to pick a key or to see whether a value needs re-signing after a
 * rotation). Returns 0 and sets *key_version, GUST_ENOTFOUND for a v1 (or
 * empty) value, which has none, GUST_ESIGNED_VERSION for versions 3..999,
 * GUST_ESIGNED_MALFORMED for a broken v2 value (or a key version above
 * INT_MAX), or GUST_EINVAL for NULL arguments. */
GUST_EXTERN int gust_signed_value_key_version(const char *signed_value,
                                              size_t len, int *key_version);

/* ------------------------------------------------------------------ */
/* XSRF tokens                                                          */
/* ------------------------------------------------------------------ */

/* Size of a freshly generated raw XSRF token. */
#define GUST_XSRF_TOKEN_SIZE 16

/* Fills `token` with GUST_XSRF_TOKEN_SIZE fresh random bytes. Returns 0 or
 * GUST_ECRYPTO. */
GUST_EXTERN int gust_xsrf_token_generate(uint8_t token[GUST_XSRF_TOKEN_SIZE]);

/* Appends the text form of the raw token (`len` bytes) to `out`:
 *   version 1:  lowercase hex of the token (stable across requests);
 *   version 2:  "2|" hex(mask) "|" hex(token XOR mask) "|" timestamp, the
 *               4-byte mask applied cyclically; 0 means version 2.
 * `mask` gives the 4 mask bytes (NULL = fresh random bytes, what a server
 * does on every request); `timestamp` (>= 0) is the token's creation time.
 * Returns 0, GUST_EINVAL, GUST_ECRYPTO or a gust_buf error; `out` is
 * unchanged on error. */
GUST_EXTERN int gust_xsrf_token_encode(const uint8_t *token, size_t len,
                                       int64_t timestamp, int version,
                                       const uint8_t *mask, gust_buf *out);

/* Decodes a token in either form, as Tornado does: a "2|mask|masked|ts"
 * value is unmasked (mask exactly 4 bytes of hex, ts digits); another
 * "N|" prefix is invalid; anything else is v1: hex-decoded when it is
 * valid hex, else taken as raw bytes. The timestamp is never checked. The
 * raw token is appended to `token_out`; `version` and `timestamp` (either
 * may be NULL) receive the version and v2 timestamp (0 for v1).
 * Returns 0, GUST_EXSRF_FORMAT, GUST_EINVAL or a gust_buf error;
 * `token_out` is unchanged on error. */
GUST_EXTERN int gust_xsrf_token_decode(const char *text, size_t len,
                                       gust_buf *token_out, int *version,
                                       int64_t *timestamp);

/* Checks a submitted token (form argument `_xsrf`, else the X-Xsrftoken,
 * else the X-Csrftoken header; NULL or empty if none) against the raw token
 * `expected` (`expected_len` bytes, decoded from the XSRF cookie; NULL when
 * the cookie was absent or invalid, which can never match). The unmasked
 * bytes are compared in constant time, so v1 and v2 encodings of one token
 * are interchangeable. `mem` is used for scratch memory (NULL = default).
 * Returns 0 when they match, or GUST_EXSRF_MISSING, GUST_EXSRF_FORMAT,
 * GUST_EXSRF_MISMATCH (Tornado's three 403 reasons, as gust_strerror()
 * texts), or GUST_ENOMEM. */
GUST_EXTERN int gust_xsrf_check(const gust_mem *mem, const char *submitted,
                                size_t submitted_len, const uint8_t *expected,
                                size_t expected_len);

/* Appends Tornado's hidden form field to `out`:
 *   <input type="hidden" name="_xsrf" value="TOKEN"/>
 * with `token_text` (`len` bytes, an encoded token) XHTML-escaped.
 * Returns 0, GUST_EINVAL or a gust_buf error. */
GUST_EXTERN int gust_xsrf_form_html(const char *token_text, size_t len,
                                    gust_buf *out);

/* ------------------------------------------------------------------ */
/* Cookie and Set-Cookie headers                                         */
/* ------------------------------------------------------------------ */

/* The cookies of a request, parsed from Cookie header values. */
typedef struct gust_cookies gust_cookies;

/* Creates an empty cookie jar (allocator `mem`, NULL = default). The
 * caller owns *out and releases it with gust_cookies_free(). Returns 0,
 * GUST_EINVAL or GUST_ENOMEM. */
GUST_EXTERN int gust_cookies_new(gust_cookies **out, const gust_mem *mem);

/* Releases the jar. NULL is a no-op. */
GUST_EXTERN void gust_cookies_free(gust_cookies *cookies);

/* Parses one Cookie header value (`len` bytes) into the jar as Tornado
 * does: pieces split on ';', each split at its first '=' (none: empty name,
 * the piece is the value), blanks trimmed, empty pairs skipped, quoted
 * values unquoted with Python's rules (\ooo octal, \c), a later duplicate
 * replacing an earlier one, and names that are empty, contain a byte
 * outside A-Z a-z 0-9 !#$%&'*+-.^_`|~: or equal a cookie attribute name
 * dropped. The jar copies what it keeps. Returns 0, GUST_EINVAL, GUST_ELIMIT
 * (more than 4096 cookies in the jar) or GUST_ENOMEM (the jar then holds
 * the cookies parsed before the failure). */
GUST_EXTERN int gust_cookies_parse(gust_cookies *cookies, const char *header,
                                   size_t len);

/* Returns the number of cookies in the jar. */
GUST_EXTERN size_t gust_cookies_count(const gust_cookies *cookies);

/* Gets cookie number `index` (in order of first appearance) as slices
 * valid until the jar is next changed or freed. Returns 0 or GUST_ERANGE. */
GUST_EXTERN int gust_cookies_at(const gust_cookies *cookies, size_t index,
                                gust_slice *name, gust_slice *value);

/* Looks up the cookie `name` (NUL-terminated, exact bytes). On success sets
 * *value to a slice valid until the jar is next changed or freed. Returns
 * 0 or GUST_ENOTFOUND. */
GUST_EXTERN int gust_cookies_get(const gust_cookies *cookies, const char *name,
                                 gust_slice *value);

/* Unquotes one cookie value with Python's rules (only when it is at least 2
 * bytes long and starts and ends with '"'), appending the result to `out`.
 * Returns 0 or a gust_buf error. */
GUST_EXTERN int gust_cookie_unquote(const uint8_t *value, size_t len,
                                    gust_buf *out);

/* Appends `value` the way Python's SimpleCookie writes it: bare when every
 * byte is in A-Z a-z 0-9 !#$%&'*+-.^_`|~: (and it is not empty), otherwise
 * in double quotes with '"' and '\' backslash-escaped and ',' ';' and bytes
 * 0x00-0x1F, 0x7F-0xFF as \ooo. Returns 0 or a gust_buf error. */
GUST_EXTERN int gust_cookie_quote(const uint8_t *value, size_t len,
                                  gust_buf *out);

/* Optional attributes of a Set-Cookie header. Zero-initialise, then set
 * what you need (Tornado's set_cookie uses path "/" by default). */
typedef struct gust_cookie_attrs {
  const char *domain;   /* Domain=; NULL = absent */
  const char *path;     /* Path=; NULL = absent */
  int has_expires;      /* non-zero: write expires= from `expires` */
  int64_t expires;      /* seconds since the epoch, written as an HTTP-date */
  int has_max_age;      /* non-zero: write Max-Age= from `max_age` */
  int64_t max_age;      /* seconds */
  int secure;           /* non-zero: write Secure */
  int httponly;         /* non-zero: write HttpOnly */
  const char *samesite; /* SameSite= ("Strict", "Lax", "None"); NULL = absent */
} gust_cookie_attrs;

/* Appends the value of a Set-Cookie header (without "Set-Cookie: ") to
 * `out`, byte for byte as Tornado's set_cookie writes it: "name=value",
 * the value quoted as gust_cookie_quote() does, then the attributes in
 * Python's order and spelling, joined by "; ":
 *   Domain=..; expires=<HTTP-date>; HttpOnly; Max-Age=..; Path=..;
 *   SameSite=..; Secure
 * Boolean attributes are present or absent, never "false". `attrs` may be
 * NULL. Returns 0, GUST_EINVAL (NULL name/out, or value NULL with len > 0),
 * GUST_ECOOKIE_INVALID (a name or value byte in 0x00-0x20, a name that is
 * empty, holds a byte outside the legal set or is an attribute name, or an
 * attribute holding a control byte or ';'), or a gust_buf error. `out` is
 * unchanged on error. */
GUST_EXTERN int gust_cookie_format(const char *name, const uint8_t *value,
                                   size_t len, const gust_cookie_attrs *attrs,
                                   gust_buf *out);

#ifdef __cplusplus
}
#endif

#endif /* GUST_COOKIE_H */
