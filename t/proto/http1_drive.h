/* Test driver for the HTTP/1.1 connection: feeds an input in pieces (each
 * copied right before a guard page), drains the events and writes them as
 * a one-line transcript, so that whole, split and byte-by-byte runs can be
 * compared with each other and with an expected transcript. */
#ifndef GUST_T_HTTP1_DRIVE_H
#define GUST_T_HTTP1_DRIVE_H

#include <gust/http1.h>

#include <stddef.h>

typedef struct drive_opts {
  gust_h1_role role;
  const gust_h1_config *cfg; /* NULL = defaults */
  int respond;               /* server: 1 = answer each request with 200 and
                                Content-Length: 0; 2 = also 101 to upgrades
                                and 200 to CONNECT */
  int eof;                   /* feed EOF after the input */
  unsigned eof_flags;
  const char *method; /* client: request sent before reading */
  int upgrade;        /* client: that request asks to upgrade */
  const gust_mem *mem;
} drive_opts;

/* Runs `in` cut at the `ncuts` ascending offsets in `cuts`; the transcript
 * goes to `out` (reset first). Returns 0, or a negative code when the
 * connection could not be created or a call misbehaved (the transcript then
 * says what happened). */
int drive(const drive_opts *o, const void *in, size_t n, const size_t *cuts,
          size_t ncuts, gust_buf *out);

/* Checks a vector whole, at every split point (a sample of them for
 * inputs over 2 KiB) and one byte at a time against `want`. Three checks
 * named after `name`; `want` NULL means "an accepted request" (the
 * whole-input run must start with a REQ event and show no error). Returns
 * 1 if all passed. */
int check_vector(const char *name, const drive_opts *o, const void *in,
                 size_t n, const char *want);

/* As check_vector() with a NUL-terminated input. */
int check_str(const char *name, const drive_opts *o, const char *in,
              const char *want);

/* Server and client options with defaults. */
drive_opts server_opts(void);
drive_opts client_opts(const char *method);

#endif
