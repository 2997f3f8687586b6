/* gust testing helpers: Tornado's tornado.testing for C programs built on
 * gust (AsyncTestCase, AsyncHTTPTestCase, gen_test, ExpectLog's strictness
 * about mistakes), plus a TAP producer so that the tests run under prove
 * and automake's TAP driver.
 *
 *   static void test_hello(gust_test *t, void *ud) {
 *     gust_test_server_opts o = {0};
 *     gust_test_server *srv;
 *     const gust_fetch_response *r;
 *     o.request_cb = hello_handler;
 *     if (gust_test_server_start(t, &o, &srv) != 0)
 *       return;
 *     r = gust_test_fetch(srv, "/hello", NULL);
 *     GUST_IS_INT(r ? gust_fetch_response_code(r) : 0, 200, "GET /hello");
 *   }
 *
 *   int main(void) {
 *     gust_test_case("hello", test_hello, NULL);
 *     return gust_tap_done();
 *   }
 *
 * A test (gust_test) owns a fresh loop. It runs the loop only inside its
 * own calls (gust_test_wait(), gust_test_fetch(), ...), each bounded by the
 * test's timeout (5 s, or $GUST_ASYNC_TEST_TIMEOUT seconds, as Tornado's
 * ASYNC_TEST_TIMEOUT): a wait that times out fails the test with the list of
 * what was still pending on the loop. When the test ends it reports, as
 * failures, the mistakes Tornado's harness reports:
 *   - a future that failed and was released without anyone looking at its
 *     error (asyncio's "Future exception was never retrieved");
 *   - callbacks or timers still scheduled, fd or signal handlers still
 *     installed, TCP connections or listeners still open, thread-pool work
 *     still outstanding, once the test's own fixtures are gone;
 *   - a test that scheduled work but never ran its loop (Tornado: "should
 *     be decorated with gen_test").
 *
 * Linking: `pkg-config --cflags --libs gust-testing` (libgust-testing,
 * which needs libgust). The loop probes (gust_test_loop_*) are part of
 * libgust itself, as they read the loop's private state; they cost nothing
 * when unused.
 *
 * Threading: everything here is for a test program's main thread. The TAP
 * producer and the reporter are process-wide. */
#ifndef GUST_TESTING_H
#define GUST_TESTING_H

#include <gust/base.h>
#include <gust/future.h>
#include <gust/httpclient.h>
#include <gust/httpserver.h>
#include <gust/loop.h>
#include <gust/tls.h>
#include <gust/websocket.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------ */
/* TAP output (the style of gust's own t/tap.h)                        */
/* ------------------------------------------------------------------ */

/* Each check prints "ok N - name" or "not ok N - name" on stdout, with the
 * details of a failure as "# ..." lines on stderr. A program ends with
 * `return gust_tap_done();`, which prints the plan and returns the exit
 * status: 1 if a check failed, if the declared plan was not met, or if no
 * check ran at all (a test that checks nothing is a failure); 0 otherwise.
 * A program that exits without calling gust_tap_done() after its first
 * check prints a failing line and exits with status 1.
 *
 * Environment: GUST_TEST_RUN, comma-separated substrings, selects the
 * groups and cases whose name contains one of them (all when unset). */

/* Declares that `n` checks will run (optional: without it the plan is
 * printed by gust_tap_done()). */
GUST_EXTERN void gust_tap_plan(int n);

/* Arms the check that the program reaches gust_tap_done() at once: from
 * then on the program fails if it exits without calling it, even before
 * its first check. Without this call the first TAP output arms the
 * check, so that a program that links the library but prints no TAP is
 * not affected. Call it first thing in main(); calling it again is a
 * no-op. */
GUST_EXTERN void gust_tap_start(void);

/* Skips the whole program: prints "1..0 # SKIP reason" and exits with
 * status 0. Under CI (CI=true in the environment) a missing requirement is
 * a failure instead: prints "Bail out!" and exits with status 1. */
GUST_EXTERN void gust_tap_skip_all(const char *fmt, ...)
    GUST_PRINTF(1, 2) GUST_NORETURN;

/* Returns 1 when running under CI (CI=true in the environment), where a
 * missing requirement is a failure rather than a reason to skip; 0
 * otherwise. */
GUST_EXTERN int gust_tap_in_ci(void);

/* Records one check named by `fmt`; returns `cond` as 0 or 1. `file` and
 * `line` locate a failure in its diagnostic. Use GUST_OK(). */
GUST_EXTERN int gust_tap_ok_(int cond, const char *file, int line,
                             const char *fmt, ...) GUST_PRINTF(4, 5);

/* As gust_tap_ok_() for `got == want`; a failure shows both values. Use
 * GUST_IS_INT(). */
GUST_EXTERN int gust_tap_is_int_(long long got, long long want,
                                 const char *file, int line, const char *fmt,
                                 ...) GUST_PRINTF(5, 6);

/* As gust_tap_ok_() for two equal strings (NULL equals only NULL); a
 * failure shows both. Use GUST_IS_STR(). */
GUST_EXTERN int gust_tap_is_str_(const char *got, const char *want,
                                 const char *file, int line, const char *fmt,
                                 ...) GUST_PRINTF(5, 6);

/* As gust_tap_ok_() for two equal byte strings; a failure shows the first
 * differing offset and both strings around it. Use GUST_CMP_MEM(). */
GUST_EXTERN int gust_tap_cmp_mem_(const void *got, size_t got_len,
                                  const void *want, size_t want_len,
                                  const char *file, int line, const char *fmt,
                                  ...) GUST_PRINTF(7, 8);

/* The check macros: each records one TAP result with the caller's file
 * and line, takes a printf-style test name and returns 1 on success. */
#define GUST_OK(cond, ...)                                                     \
  gust_tap_ok_(!!(cond), __FILE__, __LINE__, __VA_ARGS__)
#define GUST_IS_INT(got, want, ...)                                            \
  gust_tap_is_int_((long long)(got), (long long)(want), __FILE__, __LINE__,    \
                   __VA_ARGS__)
#define GUST_IS_STR(got, want, ...)                                            \
  gust_tap_is_str_((got), (want), __FILE__, __LINE__, __VA_ARGS__)
#define GUST_CMP_MEM(got, got_len, want, want_len, ...)                        \
  gust_tap_cmp_mem_((got), (got_len), (want), (want_len), __FILE__, __LINE__,  \
                    __VA_ARGS__)

/* Records `n` skipped checks ("ok N # skip reason"). */
GUST_EXTERN void gust_tap_skip(int n, const char *fmt, ...) GUST_PRINTF(2, 3);

/* Marks the checks that follow, until gust_tap_todo_end(), as known
 * failures ("# TODO reason"): they are reported but do not fail the
 * program. */
GUST_EXTERN void gust_tap_todo_start(const char *fmt, ...) GUST_PRINTF(1, 2);
GUST_EXTERN void gust_tap_todo_end(void);

/* Prints a "# ..." diagnostic: gust_tap_diag() on stderr (shown by the
 * harnesses), gust_tap_note() on stdout. Every line of a multi-line
 * message gets its own "# ". */
GUST_EXTERN void gust_tap_diag(const char *fmt, ...) GUST_PRINTF(1, 2);
GUST_EXTERN void gust_tap_note(const char *fmt, ...) GUST_PRINTF(1, 2);

/* Stops the whole program: prints "Bail out! reason" and exits with
 * status 1. */
GUST_EXTERN void gust_tap_bail_out(const char *fmt, ...)
    GUST_PRINTF(1, 2) GUST_NORETURN;

/* Returns 1 if the group `name` is selected by GUST_TEST_RUN (always when
 * it is unset) and then prints a note naming it; 0 otherwise. */
GUST_EXTERN int gust_tap_group(const char *name);

/* Returns the number of failed checks so far (TODO checks excluded). */
GUST_EXTERN int gust_tap_failures(void);

/* Prints the plan if none was declared and returns the exit status (see
 * above). Call it once, last. */
GUST_EXTERN int gust_tap_done(void);

/* ------------------------------------------------------------------ */
/* Tests (Tornado's AsyncTestCase)                                      */
/* ------------------------------------------------------------------ */

/* One test case with its own fresh loop (opaque). */
typedef struct gust_test gust_test;

/* Creates a test named `name` (copied; used in reports) with a fresh loop.
 * `mem` (NULL = default) is used for the test and its loop, servers and
 * client, and must outlive the test. The waits below arm timers on that
 * loop, so an allocator that fails on purpose (gust_failmem) belongs on
 * a plain loop of its own, not here. The timeout starts at
 * $GUST_ASYNC_TEST_TIMEOUT seconds, else 5. On success *out owns the test:
 * end it with gust_test_finish(). Returns 0, GUST_EINVAL (NULL out or
 * name), GUST_ENOMEM, or the loop's error (GUST_ESYS). */
GUST_EXTERN int gust_test_new(gust_test **out, const char *name,
                              const gust_mem *mem);

/* Ends the test (Tornado's tearDown): runs the functions registered with
 * gust_test_defer() (last first), releases what the helpers below made
 * (responses, messages, WebSocket connections, the HTTP client, the test
 * servers), runs the loop for a few iterations so that closes complete,
 * reports every mistake listed at the top of this header, and frees the
 * loop and the test. Returns the number of failures recorded over the
 * test's life (0: the test passed). NULL returns 0. */
GUST_EXTERN int gust_test_finish(gust_test *t);

/* The test's loop (borrowed, valid until gust_test_finish()). */
GUST_EXTERN gust_loop *gust_test_loop(const gust_test *t);

/* The test's allocator (never NULL). */
GUST_EXTERN const gust_mem *gust_test_mem(const gust_test *t);

/* The test's name (borrowed). */
GUST_EXTERN const char *gust_test_name(const gust_test *t);

/* Sets the bound of every later wait, in seconds (> 0; other values are
 * ignored). Tornado's gen_test(timeout=...). */
GUST_EXTERN void gust_test_set_timeout(gust_test *t, double seconds);

/* The current bound of a wait, in seconds. */
GUST_EXTERN double gust_test_timeout(const gust_test *t);

/* Records a failure of the test with a message (reported at once through
 * the reporter, prefixed with the test's name). */
GUST_EXTERN void gust_test_fail(gust_test *t, const char *fmt, ...)
    GUST_PRINTF(2, 3);

/* The number of failures recorded so far (by gust_test_fail(), timeouts,
 * unobserved errors). */
GUST_EXTERN int gust_test_failures(const gust_test *t);

/* Runs the loop until `f` (a future of the test's loop) is done (Tornado's
 * gen_test / run_sync). Returns 0 when it is done (look at its outcome);
 * GUST_ETIMEDOUT when the test's timeout expired first: the test has then
 * failed with "timed out after N s waiting for <what>" and the list of
 * what was still pending on the loop; GUST_ELOOPSTOPPED when
 * gust_loop_stop() ended the run (also a failure), GUST_EBUSY when called
 * from inside the loop (a failure too: waits do not nest), GUST_EINVAL for
 * a NULL future. `f` is left as it is. */
GUST_EXTERN int gust_test_wait(gust_test *t, gust_future *f);

/* Runs the loop until `cond(loop, user_data)` returns non-zero (checked
 * before waiting and after every iteration; Tornado's AsyncTestCase.stop /
 * wait). `what` (may be NULL) names the condition in a timeout's report.
 * Returns as gust_test_wait(). */
GUST_EXTERN int gust_test_run_until(gust_test *t, gust_loop_cond_fn cond,
                                    void *user_data, const char *what);

/* Runs the loop for `seconds` of real time (lets timers fire and closes
 * complete). Returns 0, GUST_EBUSY (inside the loop; a failure) or
 * GUST_ENOMEM. */
GUST_EXTERN int gust_test_run_for(gust_test *t, double seconds);

/* A cleanup function for gust_test_defer(). */
typedef void (*gust_test_cleanup_fn)(void *user_data);

/* Registers `fn(user_data)` to run when the test finishes, before the
 * helpers' own fixtures are released and before leftovers are looked for
 * (Tornado's addCleanup); cleanups run last-registered first. Returns 0,
 * GUST_EINVAL (NULL fn) or GUST_ENOMEM (then `fn` is called at once). */
GUST_EXTERN int gust_test_defer(gust_test *t, gust_test_cleanup_fn fn,
                                void *user_data);

/* A test body for gust_test_case(). */
typedef void (*gust_test_fn)(gust_test *t, void *user_data);

/* Runs one test case as a TAP check: if GUST_TEST_RUN selects `name`,
 * creates a test, calls `fn(t, user_data)`, finishes the test, and prints
 * "ok N - name" when neither a check inside it nor the test itself failed,
 * "not ok N - name" otherwise. Returns 1 (passed), 0 (failed) or -1 (not
 * selected). A test that cannot even be created is a failure. */
GUST_EXTERN int gust_test_case(const char *name, gust_test_fn fn,
                               void *user_data);

/* Receives each report of the harness: `message` (one or more lines, no
 * trailing newline) concerns test `t` (which may be partly torn down:
 * only gust_test_name() may be called). */
typedef void (*gust_test_report_fn)(const gust_test *t, const char *message,
                                    void *user_data);

/* Sets the process-wide reporter; NULL restores the default, which prints
 * each report as TAP diagnostics on stderr ("# " before every line). */
GUST_EXTERN void gust_test_set_reporter(gust_test_report_fn fn,
                                        void *user_data);

/* ------------------------------------------------------------------ */
/* A throwaway certificate                                              */
/* ------------------------------------------------------------------ */

/* A self-signed certificate with its key, generated at run time by the
 * TLS backend: EC P-256, SHA-256, subject CN=localhost, O=gust test,
 * subject alternative names DNS:localhost, IP:127.0.0.1 and IP:::1, valid
 * from an hour ago for one day, a random serial. */
typedef struct gust_test_cert gust_test_cert;

/* Generates a certificate and key into *out (owned by the caller: release
 * with gust_test_cert_free()). `mem` (NULL = default) holds the PEM texts
 * and must outlive the certificate. Returns 0, GUST_ENOMEM, or
 * GUST_ECRYPTO when the backend fails. */
GUST_EXTERN int gust_test_cert_new(gust_test_cert **out, const gust_mem *mem);

/* Releases a certificate. NULL is a no-op. */
GUST_EXTERN void gust_test_cert_free(gust_test_cert *c);

/* The certificate, PEM ("-----BEGIN CERTIFICATE-----"), and its private
 * key, PEM PKCS#8 ("-----BEGIN PRIVATE KEY-----"): views valid while the
 * certificate lives. */
GUST_EXTERN gust_slice gust_test_cert_pem(const gust_test_cert *c);
GUST_EXTERN gust_slice gust_test_cert_key_pem(const gust_test_cert *c);

/* Makes a server TLS context serving this certificate, or a client context
 * that trusts this certificate and nothing else (not the system store);
 * both otherwise with the defaults of <gust/tls.h>. *out is owned by the
 * caller (gust_tls_ctx_free()). `mem` as gust_tls_ctx_new(). Returns 0 or
 * an error of gust_tls_ctx_new() / gust_tls_ctx_use_cert_mem() /
 * gust_tls_ctx_load_ca_mem(). */
GUST_EXTERN int gust_test_cert_server_ctx(const gust_test_cert *c,
                                          const gust_mem *mem,
                                          gust_tls_ctx **out);
GUST_EXTERN int gust_test_cert_client_ctx(const gust_test_cert *c,
                                          const gust_mem *mem,
                                          gust_tls_ctx **out);

/* The test's own throwaway certificate, generated on first use, with a
 * server context serving it and a client context trusting only it (each
 * pointer may be NULL; all borrowed, valid until gust_test_finish()).
 * HTTPS test servers and the test's HTTP client use these. Returns 0 or an
 * error of gust_test_cert_new() and the context functions (the test has
 * then failed). */
GUST_EXTERN int gust_test_tls(gust_test *t, const gust_test_cert **cert,
                              gust_tls_ctx **server, gust_tls_ctx **client);

/* ------------------------------------------------------------------ */
/* HTTP and WebSocket (Tornado's AsyncHTTPTestCase)                     */
/* ------------------------------------------------------------------ */

/* A gust HTTP server listening on 127.0.0.1 on a port the kernel picked. */
typedef struct gust_test_server gust_test_server;

/* What a test server serves: exactly one of `request_cb` and
 * `start_request` (a delegate factory, e.g. a web application's or
 * gust_websocket_start_request), with `user_data` for it. */
typedef struct gust_test_server_opts {
  gust_http_request_cb request_cb;
  gust_http_start_request_fn start_request;
  void *user_data;
  /* Server options (NULL = defaults), copied; its `tls` is ignored. */
  const gust_http_server_opts *http;
  /* Non-zero: serve HTTPS with the test's throwaway certificate (see
   * gust_test_tls()). */
  int https;
} gust_test_server_opts;

/* Starts a server on the test's loop (Tornado's get_app + get_http_server
 * + bind_unused_port). The test owns it and frees it when it finishes,
 * after the cleanups; *out (may be NULL) gets it, borrowed. Returns 0,
 * GUST_EINVAL (NULL opts, neither or both handlers), GUST_ENOMEM, or an
 * error of the certificate, gust_http_server_new() or its listen; every
 * error is also recorded as a failure of the test. */
GUST_EXTERN int gust_test_server_start(gust_test *t,
                                       const gust_test_server_opts *opts,
                                       gust_test_server **out);

/* Stops and frees a test server before the test finishes (its
 * connections are closed at once). NULL is a no-op. */
GUST_EXTERN void gust_test_server_free(gust_test_server *s);

/* The underlying server (borrowed). */
GUST_EXTERN gust_http_server *gust_test_server_http(const gust_test_server *s);

/* The port the server listens on. */
GUST_EXTERN int gust_test_server_port(const gust_test_server *s);

/* Returns "http://127.0.0.1:PORT" + `path` ("https://" for an HTTPS
 * server; Tornado's get_url), or with gust_test_server_ws_url() "ws://" /
 * "wss://". `path` should start with "/". The string is owned by the test
 * and valid until it finishes; NULL when out of memory (the test has then
 * failed). */
GUST_EXTERN const char *gust_test_server_url(gust_test_server *s,
                                             const char *path);
GUST_EXTERN const char *gust_test_server_ws_url(gust_test_server *s,
                                                const char *path);

/* The test's HTTP client (made on first use, freed when the test
 * finishes; borrowed). It trusts the test's throwaway certificate, not the
 * system store, for requests that bring no TLS options of their own. */
GUST_EXTERN gust_http_client *gust_test_http_client(gust_test *t);

/* Fetches `path` from the test server (a full http:// or https:// URL is
 * used as it is) with the test's client and runs the loop until the
 * response arrived (Tornado's AsyncHTTPTestCase.fetch, raise_error=False):
 * any status, and 599 with gust_fetch_response_error() for a failure to get
 * one, is a response. `options` (NULL = the defaults, with the request and
 * connect timeouts set to the test's timeout) gives every other field of
 * the request; its url is ignored. Returns the response, owned by the test
 * and valid until it finishes, or NULL when the wait itself failed
 * (timeout, out of memory, a refused request: the test has then failed,
 * with the reason). */
GUST_EXTERN const gust_fetch_response *
gust_test_fetch(gust_test_server *s, const char *path,
                const gust_fetch_request *options);

/* As gust_test_fetch() for a full URL, without a test server. */
GUST_EXTERN const gust_fetch_response *
gust_test_fetch_url(gust_test *t, const char *url,
                    const gust_fetch_request *options);

/* Opens a WebSocket connection to `path` on the test server (a full ws://,
 * wss://, http:// or https:// URL is used as it is) and runs the loop until
 * the handshake completed (Tornado's websocket_connect in a gen_test).
 * `opts` (NULL = defaults, reading with gust_test_ws_read()) as
 * gust_websocket_connect(); its client defaults to the test's. Returns the
 * connection, owned by the test (which drops its reference when it
 * finishes; a connection still open then is a mistake: close it with
 * gust_test_ws_close()), or NULL when the handshake failed or timed out
 * (the test has then failed with the reason). To test a refused
 * handshake, use gust_websocket_connect() with gust_test_wait(). */
GUST_EXTERN gust_websocket *
gust_test_ws_connect(gust_test_server *s, const char *path,
                     const gust_websocket_connect_opts *opts);

/* Reads the next message of `ws` (a connection without on_message) and
 * runs the loop until it arrived. Returns the message, owned by the test
 * and valid until it finishes, or NULL when the connection closed first
 * (not a failure: check gust_websocket_close_code()) or the wait failed
 * (timeout, GUST_EBUSY: the test has then failed). */
GUST_EXTERN const gust_websocket_message *gust_test_ws_read(gust_test *t,
                                                            gust_websocket *ws);

/* Starts the closing handshake of `ws` with `code` and `reason` (as
 * gust_websocket_close()) and runs the loop until the connection is
 * closed. Returns 0, an error of gust_websocket_close(), or a wait's error
 * (the test has then failed). */
GUST_EXTERN int gust_test_ws_close(gust_test *t, gust_websocket *ws,
                                   unsigned code, const char *reason);

/* ------------------------------------------------------------------ */
/* Loop probes (implemented in libgust)                                 */
/* ------------------------------------------------------------------ */

/* What may still be pending on a loop. */
typedef enum gust_test_pending_kind {
  GUST_TEST_PENDING_CALLBACK = 1,   /* gust_loop_call_soon(), not run yet */
  GUST_TEST_PENDING_THREADSAFE = 2, /* gust_loop_call_soon_threadsafe() */
  GUST_TEST_PENDING_TIMER = 3,      /* a timer not run nor cancelled */
  GUST_TEST_PENDING_FD = 4,         /* an fd handler installed */
  GUST_TEST_PENDING_SIGNAL = 5,     /* a signal handler installed */
  GUST_TEST_PENDING_TCP = 6,        /* a TCP handle not closed yet */
  GUST_TEST_PENDING_WORK = 7        /* thread-pool work not completed */
} gust_test_pending_kind;

/* One pending item, valid during the call that hands it out. */
typedef struct gust_test_pending {
  gust_test_pending_kind kind;
  /* The callback (cast back to its own type to call it; compare it with
   * your functions to recognise it), NULL for TCP handles and work. */
  void (*fn)(void);
  void *user_data;  /* its user data; TCP: gust_tcp_data() */
  double due_in;    /* timers: seconds until due (< 0: overdue) */
  int fd;           /* fd handlers and TCP handles: the fd (-1: none) */
  int events;       /* fd handlers: GUST_LOOP_READ / GUST_LOOP_WRITE bits */
  int signum;       /* signal handlers: the signal */
  gust_tcp *tcp;    /* TCP handles (borrowed) */
  int tcp_listener; /* TCP: 1 for a listener, 0 for a connection */
  int tcp_closing;  /* TCP: 1 once gust_tcp_close() was called */
  size_t count;     /* work: items outstanding; 1 for everything else */
} gust_test_pending;

/* Receives one pending item. */
typedef void (*gust_test_pending_fn)(const gust_test_pending *item,
                                     void *user_data);

/* Calls `fn(item, user_data)` (fn may be NULL: only count) for everything
 * pending on `loop`, in the order of the kinds above (timers by due time),
 * and returns the number of items. The callback must not change the
 * loop. */
GUST_EXTERN size_t gust_test_loop_pending(gust_loop *loop,
                                          gust_test_pending_fn fn,
                                          void *user_data);

/* Appends to `out` one line per pending item of `loop` ("timer
 * on_timeout (0x...) due in 4.98 s", "TCP connection fd 9 127.0.0.1:41022
 * -> 127.0.0.1:36107", ...; callback names are found where the dynamic
 * symbol table has them) and returns the number of items, or GUST_ENOMEM. */
GUST_EXTERN int gust_test_loop_describe(gust_loop *loop, gust_buf *out);

/* Returns the number of loop iterations that have run callbacks so far:
 * 0 for a loop that never ran. */
GUST_EXTERN uint64_t gust_test_loop_iterations(const gust_loop *loop);

/* Receives the error of a future released without anyone having read it. */
typedef void (*gust_test_unobserved_fn)(gust_loop *loop, int code,
                                        const char *message, void *user_data);

/* Makes `loop` call `fn` (NULL: nothing) whenever one of its futures is
 * freed in the failed state and its error was never read: not with
 * gust_future_error() nor gust_future_error_message(), not passed on to
 * another future (gust_future_chain(), the combinators). Cancelled futures
 * are never reported. A test sets this hook on its loop. */
GUST_EXTERN void gust_test_loop_set_unobserved_hook(gust_loop *loop,
                                                    gust_test_unobserved_fn fn,
                                                    void *user_data);

#ifdef __cplusplus
}
#endif

#endif /* GUST_TESTING_H */
