/* Shared helpers of the black-box HTTP server tests (t/http/srv_*.c).
 *
 * Each test runs examples/hello as a child process on an ephemeral port
 * and talks to it over raw loopback sockets: start and stop the server,
 * open connections, send bytes, and read responses with a small
 * independent HTTP/1.1 response reader (Content-Length, chunked, or
 * read-until-close framing), so that the server's framing is checked by
 * code that shares nothing with it. Every child is killed when the test
 * program exits, and a child dies with its test (PR_SET_PDEATHSIG).
 */
#ifndef GUST_T_SRV_COMMON_H
#define GUST_T_SRV_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Generous per-operation timeout for socket reads and writes (seconds). */
#define SRV_IO_TIMEOUT 30

/* A running examples/hello. */
typedef struct srv {
  pid_t pid;
  int port;
  int out_fd; /* read end of the child's stdout */
} srv;

/* A growable byte buffer. */
typedef struct dbuf {
  uint8_t *p;
  size_t len, cap;
} dbuf;

void dbuf_add(dbuf *b, const void *data, size_t len);
void dbuf_adds(dbuf *b, const char *s);
/* Drops the first `n` bytes. */
void dbuf_consume(dbuf *b, size_t n);
void dbuf_free(dbuf *b);

/* Path of examples/hello: $GUST_HELLO, else the build tree's. */
const char *srv_hello_path(void);

/* Starts hello with `-p 0` and the NULL-terminated `args` (may be NULL);
 * `nofile` > 0 raises RLIMIT_NOFILE of the child to it before exec. Waits
 * for `listening on PORT`. Returns 0, or -1 (with a diagnostic). */
int srv_start(srv *s, const char *const *args, long nofile);

/* Sends SIGTERM and waits up to `secs` seconds; returns the wait status,
 * or -1 on timeout (the child is then killed). */
int srv_stop(srv *s, double secs);

/* Waits up to `secs` seconds for the child to exit without signalling it;
 * returns the wait status or -1 (the child keeps running). */
int srv_wait(srv *s, double secs);

/* Kills the child at once (SIGKILL) and reaps it. */
void srv_kill(srv *s);

/* Resident set size and its peak of a process, in KiB (-1 on error). */
long proc_status_kib(pid_t pid, const char *field);

/* Raises this process's RLIMIT_NOFILE to at least `n`; 0 or -1. */
int raise_nofile(long n);

/* Monotonic seconds. */
double now_sec(void);

/* A blocking loopback connection with SRV_IO_TIMEOUT read/write timeouts,
 * or -1. */
int conn_open(int port);
/* Sets the receive timeout of `fd` (seconds). */
void conn_set_rcvtimeo(int fd, double secs);

/* Writes everything; 0 or -1. */
int send_all(int fd, const void *data, size_t len);
int send_str(int fd, const char *s);

/* Reads into `b` until EOF, an error or the receive timeout. Returns 0 on
 * a clean EOF, -1 on a read error (errno kept: ECONNRESET ...), -2 on
 * timeout. */
int read_to_eof(int fd, dbuf *b);

/* Returns 1 if the server closed `fd` within `secs` seconds (EOF or reset;
 * any bytes read are dropped), 0 if it stayed open. */
int wait_closed(int fd, double secs);

/* One parsed response. */
typedef struct resp {
  int status;
  int conn_close;   /* Connection: close present */
  int has_clen;     /* Content-Length present */
  uint64_t clen;    /* its value */
  int chunked;      /* Transfer-Encoding: chunked */
  size_t head_len;  /* bytes of the head */
  char head[16384]; /* the head, NUL-terminated (truncated if longer) */
  dbuf body;        /* the decoded body */
} resp;

void resp_free(resp *r);

/* Parses one complete response from the start of `in` (`no_body`: answer
 * to HEAD; `eof`: the peer has closed, so a read-until-close body ends at
 * the end of `in`). Returns the bytes used (> 0) when the response is
 * complete, 0 if more bytes are needed, -1 if the bytes are not a valid
 * response. */
long resp_parse(const uint8_t *in, size_t len, int no_body, int eof, resp *r);

/* Finds a header value in a parsed head (case-insensitive name); copies
 * it to `out` and returns 1, or 0 if absent. */
int resp_header(const resp *r, const char *name, char *out, size_t outlen);

/* Reads one response from `fd`, using and refilling `in` (bytes after the
 * response stay in `in`). Returns 1 complete, 0 the connection closed
 * before a complete response, -1 error/timeout or bad bytes. */
int read_response(int fd, dbuf *in, int no_body, resp *r);

/* Counts occurrences of `needle` in `hay`. */
size_t count_mem(const uint8_t *hay, size_t len, const char *needle);

#endif /* GUST_T_SRV_COMMON_H */
