/* gust base layer: error codes, allocator hooks, slices, byte buffers,
 * iovec-shaped vectors and the logging hook shared by every module. */
#ifndef GUST_BASE_H
#define GUST_BASE_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* GUST_EXTERN marks the public symbols; everything else is hidden. */
#if defined(_WIN32)
#define GUST_EXTERN __declspec(dllexport)
#elif defined(__GNUC__) || defined(__clang__)
#define GUST_EXTERN __attribute__((visibility("default")))
#else
#define GUST_EXTERN
#endif

/* Function attributes where the compiler has them: GUST_PRINTF(fmt, args)
 * checks printf-style arguments, GUST_WARN_UNUSED warns when a result is
 * ignored, GUST_NORETURN marks a function that never returns (it exits). */
#if defined(__GNUC__) || defined(__clang__)
#define GUST_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#define GUST_WARN_UNUSED       __attribute__((warn_unused_result))
#define GUST_NORETURN          __attribute__((noreturn))
#else
#define GUST_PRINTF(fmt, args)
#define GUST_WARN_UNUSED
#define GUST_NORETURN
#endif

/* A signed byte count: >= 0 is a size, < 0 is a GUST_E* code. */
typedef ptrdiff_t gust_ssize;

/* ------------------------------------------------------------------ */
/* Errors                                                               */
/* ------------------------------------------------------------------ */

/* Every error code is negative and lies in [-999, -1]. Codes are never
 * renumbered; new ones are appended inside their module's range:
 *    -1 ..  -99  general             -300 .. -349  TLS and crypto
 *  -100 .. -199  HTTP/1.1            -350 .. -399  loop, sockets, resolver
 *  -200 .. -249  compression         -400 .. -449  cookies, signed values
 *  -250 .. -299  WebSocket           -450 .. -499  forms, multipart, web
 *
 * XX(NAME, value, fatal, "message"): "fatal" means the object that
 * returned the code is unusable afterwards and only answers with that
 * code; a non-fatal code leaves it usable (see gust_is_fatal()). */
#define GUST_ERRNO_MAP(XX)                                                     \
  /* general */                                                                \
  XX(NOMEM, -1, 1, "out of memory")                                            \
  XX(INVAL, -2, 0, "invalid argument")                                         \
  XX(RANGE, -3, 0, "value out of range")                                       \
  XX(OVERFLOW, -4, 0, "size or count overflows its type")                      \
  XX(NOTFOUND, -5, 0, "not found")                                             \
  XX(EXIST, -6, 0, "already exists")                                           \
  XX(AGAIN, -7, 0, "operation would block; try again later")                   \
  XX(BUSY, -8, 0, "resource busy")                                             \
  XX(STATE, -9, 0, "operation not valid in the object's current state")        \
  XX(CLOSED, -10, 1, "object or connection is closed")                         \
  XX(CANCELLED, -11, 0, "operation cancelled")                                 \
  XX(TIMEDOUT, -12, 0, "operation timed out")                                  \
  XX(NOTSUP, -13, 0, "operation not supported")                                \
  XX(BUFFERFULL, -14, 0, "buffer limit reached")                               \
  XX(QUEUEFULL, -15, 0, "queue is full")                                       \
  XX(QUEUEEMPTY, -16, 0, "queue is empty")                                     \
  XX(UNDERFLOW, -17, 0, "counter decremented below zero")                      \
  XX(EOF, -18, 1, "unexpected end of input")                                   \
  XX(IO, -19, 1, "input/output error")                                         \
  XX(INTERNAL, -20, 1, "internal error")                                       \
  XX(LIMIT, -21, 1, "configured limit exceeded")                               \
  XX(SYNTAX, -22, 1, "malformed input")                                        \
  XX(INJECTED, -23, 1, "allocation failure injected by a test")                \
  XX(SYS, -24, 1, "system call failed")                                        \
  XX(ACCES, -25, 0, "access denied")                                           \
  /* HTTP/1.1 (-100 .. -199) */                                                \
  XX(HTTP_SYNTAX, -100, 1, "malformed HTTP/1.1 message")                       \
  XX(HTTP_HEAD_SIZE, -101, 1, "HTTP message head too large")                   \
  XX(HTTP_TARGET_SIZE, -102, 1, "HTTP request target too long")                \
  XX(HTTP_BODY_SIZE, -103, 1, "HTTP message body too large")                   \
  XX(HTTP_VERSION, -104, 1, "HTTP version not supported")                      \
  XX(HTTP_CODING, -105, 1, "unsupported transfer coding")                      \
  XX(HTTP_FRAMING, -106, 1, "invalid or conflicting HTTP message framing")     \
  XX(HTTP_CHUNK, -107, 1, "malformed chunked transfer coding")                 \
  XX(HTTP_TRUNCATED, -108, 1, "connection closed inside an HTTP message")      \
  XX(HTTP_LENGTH, -109, 1, "body written does not match Content-Length")       \
  /* compression (-200 .. -249) */                                             \
  XX(ZIP_DATA, -200, 1, "corrupt compressed data")                             \
  XX(ZIP_TRUNCATED, -201, 1, "compressed stream ended early")                  \
  XX(ZIP_TOOBIG, -202, 1, "decompressed data exceeds the size limit")          \
  XX(ZIP_TRAILING, -203, 1, "data after the end of the compressed stream")     \
  XX(ZIP_CODING, -204, 0, "unsupported content coding")                        \
  /* WebSocket (-250 .. -299) */                                               \
  XX(WS_PROTOCOL, -250, 1, "WebSocket protocol violation")                     \
  XX(WS_UTF8, -251, 1, "invalid UTF-8 in WebSocket text")                      \
  XX(WS_TOOBIG, -252, 1, "WebSocket message too big")                          \
  XX(WS_POLICY, -253, 1, "WebSocket policy violation")                         \
  XX(WS_DEFLATE, -254, 1, "corrupt permessage-deflate data")                   \
  XX(WS_HANDSHAKE, -255, 0, "WebSocket handshake rejected")                    \
  XX(WS_EXTENSION, -256, 0, "WebSocket extension negotiation failed")          \
  /* TLS and crypto (-300 .. -349) */                                          \
  XX(CRYPTO, -300, 0, "cryptographic backend failure")                         \
  XX(TLS, -301, 1, "TLS protocol failure")                                     \
  XX(TLS_VERIFY, -302, 1, "peer certificate not trusted")                      \
  XX(TLS_EXPIRED, -303, 1, "peer certificate expired or not yet valid")        \
  XX(TLS_HOSTNAME, -304, 1, "peer certificate does not match the host name")   \
  XX(TLS_VERSION, -305, 1, "no TLS protocol version in common with the peer")  \
  XX(TLS_TRUNCATED, -306, 1, "TLS stream ended without close_notify")          \
  XX(TLS_ALERT, -307, 1, "peer aborted the TLS connection with an alert")      \
  XX(TLS_NOCERT, -308, 1, "peer sent no certificate but one is required")      \
  XX(TLS_CONFIG, -309, 0, "unusable TLS certificate, key, CA or option")       \
  /* loop, sockets, resolver (-350 .. -399) */                                 \
  XX(LOOPSTOPPED, -350, 0, "loop stopped before the condition was met")        \
  XX(ADDRINUSE, -351, 0, "address already in use")                             \
  XX(CONNREFUSED, -352, 1, "connection refused")                               \
  XX(CONNRESET, -353, 1, "connection reset by peer")                           \
  XX(RESOLVE, -354, 0, "name resolution failed")                               \
  XX(ADDRNOTAVAIL, -355, 0, "address not available")                           \
  XX(NETUNREACH, -356, 1, "network or host unreachable")                       \
  XX(MFILE, -357, 0, "too many open files")                                    \
  /* cookies, signed values, XSRF (-400 .. -449) */                            \
  XX(SIGNATURE, -400, 0, "signed value: invalid signature")                    \
  XX(EXPIRED, -401, 0, "signed value: expired")                                \
  XX(SIGNED_MALFORMED, -402, 0, "signed value: malformed")                     \
  XX(KEYVERSION, -403, 0, "signed value: unknown key version")                 \
  XX(SIGNED_VERSION, -404, 0, "signed value: format version refused")          \
  XX(SIGNED_FUTURE, -405, 0, "signed value: timestamp in the future")          \
  XX(SIGNED_TAMPERED, -406, 0, "signed value: tampered timestamp")             \
  XX(XSRF_MISSING, -410, 0, "'_xsrf' argument missing from POST")              \
  XX(XSRF_FORMAT, -411, 0, "'_xsrf' argument has invalid format")              \
  XX(XSRF_MISMATCH, -412, 0, "XSRF cookie does not match POST argument")       \
  XX(COOKIE_INVALID, -420, 0, "invalid cookie name, value or attribute")       \
  /* forms, multipart, web (-450 .. -499) */                                   \
  XX(MULTIPART, -450, 1, "invalid multipart/form-data body")                   \
  XX(BOUNDARY, -451, 0, "invalid multipart boundary")                          \
  XX(HTTPDATE, -452, 0, "invalid HTTP-date")                                   \
  XX(WEB_HTTP, -460, 0, "HTTP error raised by a request handler")              \
  XX(WEB_FINISH, -461, 0, "request finished early by its handler")

/* The error codes as constants: GUST_E<NAME> for every XX(NAME, ...) line
 * of GUST_ERRNO_MAP, e.g. GUST_ENOMEM. */
enum gust_errno {
#define GUST__ERRNO_ENUM(name, value, fatal, msg) GUST_E##name = (value),
  GUST_ERRNO_MAP(GUST__ERRNO_ENUM)
#undef GUST__ERRNO_ENUM
      GUST_EMIN_ = -999
};

/* Returns a static, human-readable message for a GUST_E* code (0 gives
 * "success"; an unknown code gives "unknown error"). Never NULL. */
GUST_EXTERN const char *gust_strerror(int code);

/* Returns the symbolic name of a code ("GUST_ENOMEM"; 0 gives "GUST_OK"),
 * or "GUST_E?" for an unknown code. Never NULL. */
GUST_EXTERN const char *gust_errname(int code);

/* Returns 1 when `code` leaves the object that returned it unusable (it will
 * answer every further call with the same code), 0 otherwise, including for
 * 0, positive values and unknown codes. */
GUST_EXTERN int gust_is_fatal(int code);

/* ------------------------------------------------------------------ */
/* Allocator hooks                                                      */
/* ------------------------------------------------------------------ */

/* Allocation functions with user data. Every allocation the library makes
 * goes through one of these tables. malloc/calloc/realloc return NULL on
 * failure; free accepts NULL. realloc(NULL, n) behaves as malloc(n). A
 * request for 0 bytes is never made. */
typedef struct gust_mem {
  void *(*malloc)(size_t size, void *user_data);
  void *(*calloc)(size_t nmemb, size_t size, void *user_data);
  void *(*realloc)(void *ptr, size_t size, void *user_data);
  void (*free)(void *ptr, void *user_data);
  void *user_data;
} gust_mem;

/* Returns the process-wide default allocator table (the C library's
 * allocator unless gust_mem_set_default() replaced it). Never NULL. */
GUST_EXTERN const gust_mem *gust_mem_default(void);

/* Replaces the process-wide default used by objects created with a NULL
 * allocator; NULL restores the C library's allocator. The table is not
 * copied and must outlive every object using it. Not thread-safe: call it
 * before any other gust function runs on another thread. */
GUST_EXTERN void gust_mem_set_default(const gust_mem *mem);

/* Allocation-failure injector for tests: an allocator that forwards to a
 * parent table, counts every allocation, fails on request, and tracks what
 * is still live so a test can assert that nothing leaked.
 *
 *   gust_failmem fm;
 *   gust_failmem_init(&fm, NULL);
 *   fm.fail_at = 3;              // the 3rd allocation from now returns NULL
 *   obj = gust_x_new(&fm.mem);   // use fm.mem as the object's allocator
 *   ...
 *   assert(fm.live_blocks == 0);
 *
 * The fields are public; `mem` is the table to hand to objects. A realloc
 * counts as an allocation; a failed realloc leaves the old block live. */
typedef struct gust_failmem {
  gust_mem mem;           /* hand &fm.mem to the object under test */
  const gust_mem *parent; /* where real allocations go */
  unsigned long fail_at;  /* fail the allocation with this ordinal (1-based);
                             0 = never */
  int fail_after;         /* if non-zero, every allocation after fail_at
                             fails too (not only that one) */
  unsigned long count;    /* allocations attempted so far */
  unsigned long failures; /* allocations refused so far */
  size_t live_blocks;     /* blocks allocated and not yet freed */
  size_t live_bytes;      /* bytes in those blocks */
  size_t peak_bytes;      /* highest live_bytes seen */
} gust_failmem;

/* Initialises `fm` to forward to `parent` (NULL = gust_mem_default()) with
 * no failure scheduled and all counters at zero. */
GUST_EXTERN void gust_failmem_init(gust_failmem *fm, const gust_mem *parent);

/* Resets the counters (not live_blocks/live_bytes, which describe memory
 * still held) and schedules a failure at allocation `fail_at` (0 = none). */
GUST_EXTERN void gust_failmem_reset(gust_failmem *fm, unsigned long fail_at);

/* ------------------------------------------------------------------ */
/* Slices and vectors                                                   */
/* ------------------------------------------------------------------ */

/* A read-only view of bytes owned by someone else. The function that hands
 * one out says until when it stays valid. */
typedef struct gust_slice {
  const uint8_t *ptr;
  size_t len;
} gust_slice;

/* Returns a slice over the NUL-terminated string `s` (without the NUL);
 * NULL gives the empty slice. The slice borrows `s`. */
GUST_EXTERN gust_slice gust_slice_cstr(const char *s);

/* Returns 1 if the two slices hold the same bytes, 0 otherwise. */
GUST_EXTERN int gust_slice_eq(gust_slice a, gust_slice b);

/* Returns 1 if the slices are equal ignoring ASCII case, 0 otherwise. */
GUST_EXTERN int gust_slice_caseeq(gust_slice a, gust_slice b);

/* Returns the slice without leading and trailing spaces and tabs (OWS). */
GUST_EXTERN gust_slice gust_slice_trim(gust_slice s);

/* Parses the whole slice as a non-negative decimal integer (digits only, no
 * sign, no spaces) into *out. Returns 0, GUST_ESYNTAX if the slice is empty
 * or holds a non-digit, or GUST_EOVERFLOW if the value exceeds `max`. */
GUST_EXTERN int gust_slice_to_u64(gust_slice s, uint64_t max, uint64_t *out);

/* An iovec-shaped vector: same members, same order as POSIX struct iovec,
 * so an array of them can be passed to writev() after a cast. */
typedef struct gust_vec {
  void *base;
  size_t len;
} gust_vec;

/* Returns the total length of `n` vectors, or SIZE_MAX if it overflows. */
GUST_EXTERN size_t gust_vec_total(const gust_vec *vec, size_t n);

/* Advances the vector array past `bytes` written bytes, as after a partial
 * writev(): fully written entries are dropped from the front (*vec and *n
 * move) and the first partly written one is trimmed in place. Returns the
 * bytes that could not be skipped because the vectors ran out (0 normally). */
GUST_EXTERN size_t gust_vec_advance(gust_vec **vec, size_t *n, size_t bytes);

/* ------------------------------------------------------------------ */
/* Growable byte buffer                                                 */
/* ------------------------------------------------------------------ */

/* A growable byte buffer with cheap consumption from the front.
 *
 * Invariants (hold after every call, including failed ones):
 *  - cap == 0 exactly when no memory is held; then ptr == NULL, len == 0.
 *  - otherwise ptr == start of allocation + off, off + len < cap, and
 *    ptr[len] == 0 (a NUL always follows the live bytes, so text can be
 *    used as a C string; the NUL is not counted in len).
 *  - a failed call leaves the contents as they were.
 * Read `ptr` and `len` directly; change them only through the functions.
 * Growth is geometric (amortised O(1) appends); consumption moves no bytes
 * until the space is needed again. */
typedef struct gust_buf {
  uint8_t *ptr;        /* first live byte */
  size_t len;          /* live bytes */
  size_t off;          /* consumed bytes before ptr in the allocation */
  size_t cap;          /* size of the allocation */
  size_t max;          /* growth limit in live bytes; 0 = none */
  const gust_mem *mem; /* allocator (never NULL after init) */
} gust_buf;

/* Initialises an empty buffer that will allocate with `mem` (NULL =
 * default). Allocates nothing. */
GUST_EXTERN void gust_buf_init(gust_buf *buf, const gust_mem *mem);

/* Releases the buffer's memory and leaves it empty and reusable. */
GUST_EXTERN void gust_buf_free(gust_buf *buf);

/* Makes room for at least `extra` more bytes after the live ones without a
 * further allocation. Returns 0, GUST_ENOMEM, GUST_EOVERFLOW when the size
 * overflows, or GUST_EBUFFERFULL when len + extra would pass `max`. */
GUST_EXTERN int gust_buf_reserve(gust_buf *buf, size_t extra);

/* Appends `n` bytes (which may not point into the buffer's own free space;
 * they may point into its live bytes). Returns as gust_buf_reserve(). */
GUST_EXTERN int gust_buf_append(gust_buf *buf, const void *data, size_t n);

/* Appends one byte. Returns as gust_buf_reserve(). */
GUST_EXTERN int gust_buf_append_byte(gust_buf *buf, uint8_t byte);

/* Appends a NUL-terminated string without its NUL. */
GUST_EXTERN int gust_buf_append_str(gust_buf *buf, const char *s);

/* Appends printf-formatted text. Returns as gust_buf_reserve(), or
 * GUST_EINVAL for a format error. */
GUST_EXTERN int gust_buf_printf(gust_buf *buf, const char *fmt, ...)
    GUST_PRINTF(2, 3);
GUST_EXTERN int gust_buf_vprintf(gust_buf *buf, const char *fmt, va_list ap)
    GUST_PRINTF(2, 0);

/* Returns a pointer to the writable space after the live bytes (at least
 * what the last successful gust_buf_reserve() asked for). Write into it,
 * then call gust_buf_commit() with the number of bytes written. */
GUST_EXTERN uint8_t *gust_buf_tail(gust_buf *buf);

/* Adds `n` bytes written at gust_buf_tail() to the live bytes. `n` must not
 * exceed the space reserved. Returns 0, or GUST_EINVAL if it does. */
GUST_EXTERN int gust_buf_commit(gust_buf *buf, size_t n);

/* Drops `n` bytes from the front (all of them if n >= len). */
GUST_EXTERN void gust_buf_consume(gust_buf *buf, size_t n);

/* Shortens the live bytes to `n` (no effect if n >= len). */
GUST_EXTERN void gust_buf_truncate(gust_buf *buf, size_t n);

/* Empties the buffer but keeps its memory for reuse. */
GUST_EXTERN void gust_buf_clear(gust_buf *buf);

/* Takes the bytes out of the buffer: returns a NUL-terminated block that
 * the caller owns and must release with buf->mem's free (*len_out gets the
 * length without the NUL); the buffer is left empty. An empty buffer gives
 * a freshly allocated "" block. Returns NULL on out of memory, in which
 * case the buffer is unchanged. */
GUST_EXTERN uint8_t *gust_buf_detach(gust_buf *buf, size_t *len_out);

/* Returns the live bytes as a slice, valid until the next call that
 * changes the buffer. */
GUST_EXTERN gust_slice gust_buf_slice(const gust_buf *buf);

/* ------------------------------------------------------------------ */
/* Logging                                                              */
/* ------------------------------------------------------------------ */

/* Severity of a log record, on the scale of Python's logging module. */
typedef enum gust_log_level {
  GUST_LOG_DEBUG = 10,
  GUST_LOG_INFO = 20,
  GUST_LOG_WARNING = 30,
  GUST_LOG_ERROR = 40,
  GUST_LOG_OFF = 100
} gust_log_level;

/* Categories mirror Tornado's loggers: access (one line per request),
 * application (errors in application code), general (everything else about
 * the network: bad input, timeouts) and gen (futures and coroutines). */
typedef enum gust_log_category {
  GUST_LOG_GENERAL = 0,
  GUST_LOG_ACCESS = 1,
  GUST_LOG_APPLICATION = 2,
  GUST_LOG_GEN = 3,
  GUST_LOG_CATEGORY_COUNT_ = 4
} gust_log_category;

/* Receives one formatted log record (no trailing newline). `msg` is valid
 * only during the call. */
typedef void (*gust_log_fn)(gust_log_category category, gust_log_level level,
                            const char *msg, void *user_data);

/* Installs `fn` as the log handler (NULL restores the default handler,
 * which writes "[W gust.general] message" lines to stderr). Not thread-safe
 * with respect to concurrent logging: install it at start-up. */
GUST_EXTERN void gust_log_set_handler(gust_log_fn fn, void *user_data);

/* Sets the lowest level delivered for `category` (default
 * GUST_LOG_WARNING); GUST_LOG_OFF silences it. An out-of-range category
 * sets every category. */
GUST_EXTERN void gust_log_set_level(gust_log_category category,
                                    gust_log_level level);

/* Returns 1 if a record of this level in this category would be delivered.
 * Use it to skip building expensive messages. */
GUST_EXTERN int gust_log_enabled(gust_log_category category,
                                 gust_log_level level);

/* Formats and delivers a record. Messages longer than 4 KiB are cut. */
GUST_EXTERN void gust_log(gust_log_category category, gust_log_level level,
                          const char *fmt, ...) GUST_PRINTF(3, 4);
GUST_EXTERN void gust_vlog(gust_log_category category, gust_log_level level,
                           const char *fmt, va_list ap) GUST_PRINTF(3, 0);

/* Returns the category's Tornado-style logger name, e.g. "gust.access". */
GUST_EXTERN const char *gust_log_category_name(gust_log_category category);

/* ------------------------------------------------------------------ */
/* Version                                                              */
/* ------------------------------------------------------------------ */

/* Returns the library version as "MAJOR.MINOR.PATCH". */
GUST_EXTERN const char *gust_version(void);

/* Returns the version as MAJOR * 10000 + MINOR * 100 + PATCH. */
GUST_EXTERN int gust_version_number(void);

#ifdef __cplusplus
}
#endif

#endif /* GUST_BASE_H */
