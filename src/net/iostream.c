/* IOStream: Tornado's buffered stream over a loop TCP handle, with an
 * optional Sans-IO TLS engine between the socket and the buffers. */
#include "config.h"

#include <gust/iostream.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <stdio.h>
#include <string.h>

#include "async/loop_int.h"
#include "base/base_int.h"
#include "net/iostream_int.h"

#define DEFAULT_MAX_BUFFER ((size_t)104857600)
#define DEFAULT_CHUNK      ((size_t)65536)

static const char MSG_CLOSED[] = "Stream is closed";

enum read_kind { R_NONE, R_BYTES, R_INTO, R_UNTIL, R_REGEX, R_CLOSE };

/* A write's future and the total of user bytes that must be sent for it. */
typedef struct wfut {
  gust_future *f;
  uint64_t index;
} wfut;

/* One gust_tcp_write(): the bytes live right after the header. */
typedef struct wchunk {
  gust_iostream *s;
  uint64_t index; /* user bytes fully sent once this chunk is */
  size_t len;
} wchunk;

/* The value of a read future. */
typedef struct rresult {
  gust_buf buf;
  size_t n;
} rresult;

struct gust_iostream {
  const gust_mem *mem;
  gust_loop *loop;
  gust_tcp *tcp; /* NULL once closed or handed to another stream */
  gust_tls *tls;
  size_t max_buffer, max_write, chunk;
  gust_iostream_opts opts;

  unsigned user_refs; /* references of the application (and start_tls) */
  unsigned busy;      /* inside one of our callbacks */
  int tcp_open;       /* the handle's close callback has not run yet */
  int tcp_reading;
  int closed;
  int eof;
  int err;
  char *errmsg;
  const char *call_err;
  gust_iostream_close_cb close_cb;
  void *close_ud;

  gust_buf rbuf;
  uint8_t *tlsin; /* ciphertext read buffer (TLS streams) */

  /* The pending read. */
  int rkind;
  gust_future *rf;
  size_t rn;
  int rpartial;
  uint8_t *rinto;
  uint8_t *delim;
  size_t dlen, rmax, scan;
  pcre2_code *re;
  pcre2_match_data *md;
  gust_iostream_data_cb rcb;
  void *rud;
  int in_read;
  int rpaused; /* gust__iostream_set_paused(): no delivery, and no reading
                  (1) or reading only until a byte or the end arrives (2) */

  /* PCRE2 contexts routed to `mem`, created on first use. */
  pcre2_general_context *pgen;
  pcre2_compile_context *pcomp;
  pcre2_match_context *pmatch;

  /* Writes. */
  uint64_t accepted; /* user bytes accepted by gust_iostream_write() */
  uint64_t enc;      /* user bytes handed to the TCP handle */
  uint64_t done;     /* user bytes whose TCP writes completed */
  wfut *wf;
  size_t wf_head, wf_n, wf_cap;
  gust_buf wpend; /* plaintext held until the TLS handshake completes */

  /* TLS. */
  int hs_done;
  gust_future *hsf; /* wait_for_handshake */
  gust_future *stf; /* start_tls: resolves with this stream */
};

static void try_read(gust_iostream *s);
static void update_reading(gust_iostream *s);
static void do_close(gust_iostream *s, int err, const char *msg);

/* ------------------------------------------------------------------ */
/* Helpers                                                              */
/* ------------------------------------------------------------------ */

static void set_call_err(gust_iostream *s, const char *msg) {
  s->call_err = msg;
}

static void rresult_free(void *v) {
  rresult *r = v;
  const gust_mem *mem = r->buf.mem;
  gust_buf_free(&r->buf);
  gust__free(mem, r);
}

static void unref_dtor(void *v) { gust_iostream_unref(v); }

static int quiet_error(int code) {
  return code == GUST_ECONNRESET || code == GUST_ETIMEDOUT ||
         code == GUST_ECANCELLED;
}

/* Appends a Python-style repr of bytes (b'...') to `out`. */
static void bytes_repr(gust_buf *out, const uint8_t *p, size_t n) {
  size_t i;
  gust_buf_append_str(out, "b'");
  for (i = 0; i < n; i++) {
    uint8_t c = p[i];
    if (c == '\\' || c == '\'')
      gust_buf_printf(out, "\\%c", c);
    else if (c == '\r')
      gust_buf_append_str(out, "\\r");
    else if (c == '\n')
      gust_buf_append_str(out, "\\n");
    else if (c == '\t')
      gust_buf_append_str(out, "\\t");
    else if (c < 0x20 || c >= 0x7f)
      gust_buf_printf(out, "\\x%02x", c);
    else
      gust_buf_append_byte(out, c);
  }
  gust_buf_append_byte(out, '\'');
}

static void maybe_free(gust_iostream *s) {
  if (s->user_refs != 0 || s->tcp_open || s->busy != 0)
    return;
  gust_buf_free(&s->rbuf);
  gust_buf_free(&s->wpend);
  gust__free(s->mem, s->tlsin);
  gust__free(s->mem, s->delim);
  if (s->md != NULL)
    pcre2_match_data_free(s->md);
  if (s->re != NULL)
    pcre2_code_free(s->re);
  if (s->pmatch != NULL)
    pcre2_match_context_free(s->pmatch);
  if (s->pcomp != NULL)
    pcre2_compile_context_free(s->pcomp);
  if (s->pgen != NULL)
    pcre2_general_context_free(s->pgen);
  gust_tls_free(s->tls);
  gust__free(s->mem, s->wf);
  gust__free(s->mem, s->errmsg);
  gust__free(s->mem, s);
}

/* ------------------------------------------------------------------ */
/* Creation and lifetime                                                */
/* ------------------------------------------------------------------ */

static void on_tcp_close(gust_tcp *tcp) {
  gust_iostream *s = gust_tcp_data(tcp);
  gust_iostream_close_cb cb = s->close_cb;
  s->tcp_open = 0;
  s->close_cb = NULL;
  if (cb != NULL) {
    s->busy++;
    cb(s, s->close_ud);
    s->busy--;
  }
  maybe_free(s);
}

static int stream_alloc(gust_iostream **out, gust_tcp *tcp,
                        const gust_iostream_opts *opts, const gust_mem *mem) {
  gust_iostream *s;
  mem = gust__mem(mem);
  s = gust__calloc(mem, 1, sizeof(*s));
  if (s == NULL)
    return GUST_ENOMEM;
  s->mem = mem;
  s->loop = gust_tcp_loop(tcp);
  s->tcp = tcp;
  if (opts != NULL)
    s->opts = *opts;
  s->max_buffer =
      s->opts.max_buffer_size ? s->opts.max_buffer_size : DEFAULT_MAX_BUFFER;
  s->max_write = s->opts.max_write_buffer_size;
  s->chunk = s->opts.read_chunk_size ? s->opts.read_chunk_size : DEFAULT_CHUNK;
  /* As Tornado: a chunk never exceeds half the read buffer limit. */
  if (s->chunk > s->max_buffer / 2)
    s->chunk = s->max_buffer / 2 ? s->max_buffer / 2 : 1;
  s->user_refs = 1;
  gust_buf_init(&s->rbuf, mem);
  gust_buf_init(&s->wpend, mem);
  *out = s;
  return 0;
}

/* Takes the handle: from here on the stream closes it. */
static void stream_adopt(gust_iostream *s) {
  s->tcp_open = 1;
  gust_tcp_set_data(s->tcp, s);
}

int gust_iostream_new(gust_iostream **out, gust_tcp *tcp,
                      const gust_iostream_opts *opts, const gust_mem *mem) {
  int rc;
  if (out == NULL || tcp == NULL)
    return GUST_EINVAL;
  *out = NULL;
  rc = stream_alloc(out, tcp, opts, mem);
  if (rc == 0)
    stream_adopt(*out);
  return rc;
}

static void flush_tls(gust_iostream *s);
static void tls_fail(gust_iostream *s, int rc);

static int tls_setup(gust_iostream *s, gust_tls_ctx *ctx, const char *host) {
  int rc;
  s->tlsin = gust__malloc(s->mem, s->chunk);
  if (s->tlsin == NULL)
    return GUST_ENOMEM;
  rc = gust_tls_new(ctx, host, s->mem, &s->tls);
  if (rc < 0)
    return rc;
  return 0;
}

/* Starts the handshake of a stream that owns its handle. */
static void tls_begin(gust_iostream *s) {
  int rc;
  s->busy++;
  rc = gust_tls_handshake(s->tls);
  flush_tls(s);
  if (rc < 0 && rc != GUST_EAGAIN)
    tls_fail(s, rc);
  else
    update_reading(s);
  s->busy--;
}

int gust_iostream_new_tls(gust_iostream **out, gust_tcp *tcp, gust_tls_ctx *ctx,
                          const char *server_hostname,
                          const gust_iostream_opts *opts, const gust_mem *mem) {
  gust_iostream *s;
  int rc;
  if (out == NULL || tcp == NULL || ctx == NULL)
    return GUST_EINVAL;
  *out = NULL;
  rc = stream_alloc(&s, tcp, opts, mem);
  if (rc < 0)
    return rc;
  rc = tls_setup(s, ctx, server_hostname);
  if (rc < 0) {
    s->user_refs = 0;
    maybe_free(s);
    return rc;
  }
  stream_adopt(s);
  tls_begin(s);
  *out = s;
  return 0;
}

gust_iostream *gust_iostream_ref(gust_iostream *s) {
  if (s != NULL)
    s->user_refs++;
  return s;
}

void gust_iostream_unref(gust_iostream *s) {
  if (s == NULL || s->user_refs == 0)
    return;
  if (--s->user_refs != 0)
    return;
  if (!s->closed) {
    s->busy++;
    do_close(s, 0, NULL);
    s->busy--;
  }
  maybe_free(s);
}

/* ------------------------------------------------------------------ */
/* Closing                                                              */
/* ------------------------------------------------------------------ */

static void clear_read(gust_iostream *s) {
  s->rkind = R_NONE;
  s->rf = NULL;
  s->rinto = NULL;
  s->rcb = NULL;
  s->rud = NULL;
  gust__free(s->mem, s->delim);
  s->delim = NULL;
  if (s->md != NULL)
    pcre2_match_data_free(s->md);
  s->md = NULL;
  if (s->re != NULL)
    pcre2_code_free(s->re);
  s->re = NULL;
}

/* Fails `f` and drops the stream's reference; without memory for the
 * message, the code's own message is used so that the future completes. */
static void fail_future(gust_future *f, int code, const char *msg) {
  if (gust_future_set_error(f, code, msg) == GUST_ENOMEM)
    gust_future_set_error(f, code, NULL);
  gust_future_unref(f);
}

/* fail_future() for the futures a closing stream fails. As Tornado's
 * _signal_closed, their error counts as looked at: a caller dropping the
 * future of an operation cut short by the close made no mistake (see
 * gust_test_loop_set_unobserved_hook()). */
static void fail_closed(gust_future *f, int code, const char *msg) {
  if (gust_future_set_error(f, code, msg) == GUST_ENOMEM)
    gust_future_set_error(f, code, NULL);
  (void)gust_future_error(f);
  gust_future_unref(f);
}

static void fail_read(gust_iostream *s) {
  gust_future *f = s->rf;
  clear_read(s);
  if (f != NULL)
    fail_closed(f, GUST_ECLOSED, MSG_CLOSED);
}

static int find_pos(gust_iostream *s, size_t *pos);
static void finish_read(gust_iostream *s, size_t pos);

static void do_close(gust_iostream *s, int err, const char *msg) {
  gust_tcp *tcp = s->tcp;
  size_t i;
  if (s->closed)
    return;
  s->closed = 1;
  s->busy++;
  if (err < 0) {
    s->err = err;
    if (msg == NULL || msg[0] == '\0')
      msg = gust_strerror(err);
    s->errmsg = gust__strndup(s->mem, msg, strlen(msg));
  }
  if (s->tcp_reading)
    gust_tcp_read_stop(tcp);
  s->tcp_reading = 0;
  s->tcp = NULL;
  /* The pending read: resolved if the buffer satisfies it. A streaming
   * read whose peer ended while bytes were still buffered (a TLS record
   * and close_notify decrypted together) gets them first: now, or when
   * it is resumed if paused, or from the hand-over loop running. */
  if (s->rkind == R_CLOSE && s->rcb != NULL && s->rbuf.len > 0 && s->eof) {
    if (!s->rpaused && !s->in_read)
      try_read(s);
  } else if (s->rkind == R_CLOSE) {
    finish_read(s, s->rbuf.len);
  } else if (s->rkind != R_NONE) {
    size_t pos = 0;
    if (find_pos(s, &pos) == 1)
      finish_read(s, pos);
    else
      fail_read(s);
  }
  for (i = 0; i < s->wf_n; i++)
    fail_closed(s->wf[(s->wf_head + i) % s->wf_cap].f, GUST_ECLOSED,
                MSG_CLOSED);
  s->wf_n = 0;
  s->wf_head = 0;
  gust_buf_free(&s->wpend);
  if (s->hsf != NULL) {
    gust_future *f = s->hsf;
    s->hsf = NULL;
    fail_closed(f, s->err ? s->err : GUST_ECLOSED,
                s->err ? s->errmsg : MSG_CLOSED);
  }
  if (s->stf != NULL) {
    gust_future *f = s->stf;
    s->stf = NULL;
    fail_closed(f, s->err ? s->err : GUST_ECLOSED,
                s->err ? s->errmsg : MSG_CLOSED);
    /* The reference start_tls kept for the future's result. */
    s->user_refs--;
  }
  if (tcp != NULL)
    gust_tcp_close(tcp, on_tcp_close);
  s->busy--;
}

void gust_iostream_close(gust_iostream *s) {
  if (s == NULL)
    return;
  s->busy++;
  do_close(s, 0, NULL);
  s->busy--;
  maybe_free(s);
}

int gust_iostream_closed(const gust_iostream *s) { return s->closed; }

void gust_iostream_set_close_callback(gust_iostream *s,
                                      gust_iostream_close_cb cb,
                                      void *user_data) {
  s->close_cb = cb;
  s->close_ud = user_data;
  if (!s->closed)
    update_reading(s);
}

int gust_iostream_error(const gust_iostream *s) { return s->err; }

const char *gust_iostream_error_message(const gust_iostream *s) {
  if (s->err == 0)
    return NULL;
  return s->errmsg != NULL ? s->errmsg : gust_strerror(s->err);
}

const char *gust_iostream_call_error(const gust_iostream *s) {
  return s->call_err != NULL ? s->call_err : "";
}

/* ------------------------------------------------------------------ */
/* Reading from the socket                                              */
/* ------------------------------------------------------------------ */

/* Tornado reads while a read is pending; also, to notice a close, while
 * idle with an empty buffer and a close callback set (at most one chunk
 * then lands in the buffer). A TLS handshake in progress needs input too. */
static int want_read(const gust_iostream *s) {
  if (s->closed || s->eof || s->tcp == NULL)
    return 0;
  if (s->tls != NULL && !s->hs_done)
    return 1;
  if (s->rpaused)
    return s->rpaused == 2 && s->rbuf.len == 0;
  if (s->rkind != R_NONE)
    return 1;
  return s->close_cb != NULL && s->rbuf.len == 0;
}

/* One read buffer shared by the streaming reads of a thread: the backends
 * call on_alloc() right before reading and on_read() right after, and a
 * streaming read hands the bytes over at once, so a connection holds no
 * read buffer between reads. */
#define SCRATCH_SIZE 65536
static _Thread_local uint8_t scratch[SCRATCH_SIZE];

static int streaming(const gust_iostream *s) {
  return s->rkind == R_CLOSE && s->rcb != NULL && !s->rpaused && !s->in_read &&
         s->tls == NULL && s->rbuf.len == 0;
}

static void on_alloc(gust_tcp *tcp, size_t suggested, gust_vec *buf) {
  gust_iostream *s = gust_tcp_data(tcp);
  GUST__UNUSED(suggested);
  buf->base = NULL;
  buf->len = 0;
  if (streaming(s) && s->chunk <= SCRATCH_SIZE) {
    buf->base = scratch;
    buf->len = s->chunk;
    return;
  }
  if (s->tls != NULL) {
    buf->base = s->tlsin;
    buf->len = s->chunk;
  } else if (gust_buf_reserve(&s->rbuf, s->chunk) == 0) {
    buf->base = gust_buf_tail(&s->rbuf);
    buf->len = s->chunk;
  }
}

static void read_error(gust_iostream *s, int code) {
  if (code == GUST_EEOF) {
    do_close(s, 0, NULL);
    return;
  }
  if (!quiet_error(code))
    gust_log(GUST_LOG_GENERAL, GUST_LOG_WARNING, "error on read: %s",
             gust_strerror(code));
  do_close(s, code, NULL);
}

/* Checks the read buffer limit after bytes were added. */
static int check_max_buffer(gust_iostream *s) {
  static const char msg[] = "Reached maximum read buffer size";
  if (s->rbuf.len <= s->max_buffer)
    return 0;
  gust_log(GUST_LOG_GENERAL, GUST_LOG_WARNING, "error on read: %s", msg);
  do_close(s, GUST_EBUFFERFULL, msg);
  return -1;
}

/* Decrypts what the engine holds into the read buffer. */
static void tls_drain(gust_iostream *s) {
  while (!s->closed) {
    gust_ssize n;
    if (gust_buf_reserve(&s->rbuf, s->chunk) < 0) {
      do_close(s, GUST_ENOMEM, NULL);
      return;
    }
    n = gust_tls_read(s->tls, gust_buf_tail(&s->rbuf), s->chunk);
    flush_tls(s);
    if (n > 0) {
      gust_buf_commit(&s->rbuf, (size_t)n);
      if (check_max_buffer(s) < 0)
        return;
      continue;
    }
    if (n == GUST_EAGAIN) {
      if (s->eof)
        do_close(s, 0, NULL);
      return;
    }
    /* close_notify, or (as Python's suppress_ragged_eofs) a transport that
     * ended without it: both are a plain end of stream. */
    if (n == 0 || n == GUST_ETLS_TRUNCATED) {
      s->eof = 1;
      do_close(s, 0, NULL);
    } else
      tls_fail(s, (int)n);
    return;
  }
}

static void handshake_complete(gust_iostream *s) {
  s->hs_done = 1;
  if (s->wpend.len > 0) {
    gust_ssize n = gust_tls_write(s->tls, s->wpend.ptr, s->wpend.len);
    if (n < 0) {
      tls_fail(s, (int)n);
      return;
    }
    s->enc = s->accepted;
    flush_tls(s);
  }
  gust_buf_free(&s->wpend);
  if (s->closed)
    return;
  if (s->hsf != NULL) {
    gust_future *f = s->hsf;
    s->hsf = NULL;
    gust_future_set_result(f, NULL, NULL);
    gust_future_unref(f);
  }
  if (s->stf != NULL) {
    gust_future *f = s->stf;
    s->stf = NULL;
    /* The reference start_tls kept moves into the future's result. */
    if (gust_future_set_result(f, s, unref_dtor) < 0)
      s->user_refs--;
    gust_future_unref(f);
  }
}

/* Advances a TLS stream after ciphertext (or the end of it) arrived. */
static void tls_step(gust_iostream *s) {
  if (!s->hs_done) {
    int rc = gust_tls_handshake(s->tls);
    flush_tls(s);
    if (s->closed)
      return;
    if (rc == GUST_EAGAIN) {
      if (s->eof)
        tls_fail(s, GUST_ETLS_TRUNCATED);
      return;
    }
    if (rc < 0) {
      tls_fail(s, rc);
      return;
    }
    handshake_complete(s);
    if (s->closed)
      return;
  }
  tls_drain(s);
}

static void tls_fail(gust_iostream *s, int rc) {
  const char *msg = gust_tls_error_message(s->tls);
  if (msg == NULL || msg[0] == '\0')
    msg = gust_strerror(rc);
  if (rc != GUST_ETLS_TRUNCATED && !quiet_error(rc))
    gust_log(GUST_LOG_GENERAL, GUST_LOG_WARNING, "SSL Error on %d: %s",
             s->tcp != NULL ? gust_tcp_fd(s->tcp) : -1, msg);
  do_close(s, rc, msg);
}

static void on_read(gust_tcp *tcp, gust_ssize nread, const gust_vec *buf) {
  gust_iostream *s = gust_tcp_data(tcp);
  GUST__UNUSED(buf);
  if (s->closed)
    return;
  s->busy++;
  if (nread < 0) {
    s->tcp_reading = 0;
    if (s->tls != NULL && nread == GUST_EEOF) {
      s->eof = 1;
      gust_tls_feed_eof(s->tls);
      tls_step(s);
    } else {
      read_error(s, (int)nread);
    }
  } else if (nread > 0) {
    if (s->tls != NULL) {
      int rc = gust_tls_feed(s->tls, buf->base, (size_t)nread);
      if (rc < 0)
        tls_fail(s, rc);
      else
        tls_step(s);
    } else if (buf->base == scratch) {
      gust_slice d;
      d.ptr = scratch;
      d.len = (size_t)nread;
      if (streaming(s)) {
        s->in_read = 1;
        s->rcb(s, d, s->rud);
        s->in_read = 0;
      } else if (gust_buf_append(&s->rbuf, d.ptr, d.len) < 0) {
        read_error(s, GUST_ENOMEM);
      } else {
        check_max_buffer(s);
      }
    } else {
      gust_buf_commit(&s->rbuf, (size_t)nread);
      check_max_buffer(s);
    }
  }
  try_read(s);
  s->busy--;
  maybe_free(s);
}

static void update_reading(gust_iostream *s) {
  int want = want_read(s);
  if (want && !s->tcp_reading) {
    int rc = gust_tcp_read_start(s->tcp, on_alloc, on_read);
    if (rc < 0) {
      do_close(s, rc, NULL);
      return;
    }
    s->tcp_reading = 1;
  } else if (!want && s->tcp_reading) {
    gust_tcp_read_stop(s->tcp);
    s->tcp_reading = 0;
  }
}

/* ------------------------------------------------------------------ */
/* Reads                                                                */
/* ------------------------------------------------------------------ */

static const uint8_t *find_bytes(const uint8_t *h, size_t hn, const uint8_t *n,
                                 size_t nn) {
  const uint8_t *end;
  if (nn == 0 || hn < nn)
    return NULL;
  end = h + (hn - nn);
  while (h <= end) {
    const uint8_t *p = memchr(h, n[0], (size_t)(end - h) + 1);
    if (p == NULL)
      return NULL;
    if (memcmp(p, n, nn) == 0)
      return p;
    h = p + 1;
  }
  return NULL;
}

/* Returns 1 with *pos when the pending read can complete with *pos bytes, 0
 * when it needs more, GUST_ELIMIT when it can never complete, or another
 * negative code when matching failed. */
static int find_pos(gust_iostream *s, size_t *pos) {
  size_t len = s->rbuf.len;
  switch (s->rkind) {
  case R_BYTES:
  case R_INTO:
    if (len >= s->rn || (s->rpartial && len > 0)) {
      *pos = len < s->rn ? len : s->rn;
      return 1;
    }
    return 0;
  case R_CLOSE:
    if (s->closed) {
      *pos = len;
      return 1;
    }
    return 0;
  case R_UNTIL: {
    const uint8_t *p;
    if (len == 0)
      return 0;
    p = find_bytes(s->rbuf.ptr + s->scan, len - s->scan, s->delim, s->dlen);
    if (p != NULL) {
      size_t end = (size_t)(p - s->rbuf.ptr) + s->dlen;
      if (s->rmax != 0 && end > s->rmax)
        return GUST_ELIMIT;
      *pos = end;
      return 1;
    }
    if (s->rmax != 0 && len > s->rmax)
      return GUST_ELIMIT;
    s->scan = len >= s->dlen ? len - s->dlen + 1 : 0;
    return 0;
  }
  case R_REGEX: {
    int rc;
    if (len == 0)
      return 0;
    rc = pcre2_match(s->re, s->rbuf.ptr, len, 0, 0, s->md, s->pmatch);
    if (rc >= 0) {
      size_t end = pcre2_get_ovector_pointer(s->md)[1];
      if (s->rmax != 0 && end > s->rmax)
        return GUST_ELIMIT;
      *pos = end;
      return 1;
    }
    if (rc == PCRE2_ERROR_NOMATCH) {
      if (s->rmax != 0 && len > s->rmax)
        return GUST_ELIMIT;
      return 0;
    }
    return rc == PCRE2_ERROR_NOMEMORY ? GUST_ENOMEM : GUST_EINTERNAL;
  }
  default:
    return 0;
  }
}

static void finish_read(gust_iostream *s, size_t pos) {
  gust_future *f = s->rf;
  uint8_t *into = s->rinto;
  int kind = s->rkind;
  rresult *r;
  int rc;
  clear_read(s);
  r = gust__malloc(s->mem, sizeof(*r));
  if (r == NULL) {
    gust_buf_consume(&s->rbuf, pos);
    fail_closed(f, GUST_ENOMEM, NULL);
    do_close(s, GUST_ENOMEM, NULL);
    return;
  }
  gust_buf_init(&r->buf, s->mem);
  r->n = pos;
  if (kind == R_INTO) {
    if (pos > 0)
      memcpy(into, s->rbuf.ptr, pos);
    gust_buf_consume(&s->rbuf, pos);
  } else if (pos > 0 && pos == s->rbuf.len) {
    r->buf = s->rbuf; /* hand the whole buffer over, no copy */
    gust_buf_init(&s->rbuf, s->mem);
  } else if (pos > 0) {
    if (gust_buf_append(&r->buf, s->rbuf.ptr, pos) < 0) {
      rresult_free(r);
      gust_buf_consume(&s->rbuf, pos);
      fail_closed(f, GUST_ENOMEM, NULL);
      do_close(s, GUST_ENOMEM, NULL);
      return;
    }
    gust_buf_consume(&s->rbuf, pos);
  }
  rc = gust_future_set_result(f, r, rresult_free);
  if (rc < 0) {
    rresult_free(r);
    if (rc == GUST_ENOMEM) {
      gust_future_set_error(f, GUST_ENOMEM, NULL);
      (void)gust_future_error(f); /* the close reports it (fail_closed) */
      do_close(s, GUST_ENOMEM, NULL);
    }
  }
  gust_future_unref(f);
}

static void unsatisfiable(gust_iostream *s) {
  gust_buf m;
  gust_buf_init(&m, s->mem);
  if (s->rkind == R_UNTIL) {
    gust_buf_append_str(&m, "delimiter ");
    bytes_repr(&m, s->delim, s->dlen);
  } else {
    gust_buf_append_str(&m, "regex ");
    bytes_repr(&m, s->delim, s->dlen);
  }
  gust_buf_printf(&m, " not found within %zu bytes", s->rmax);
  gust_log(GUST_LOG_GENERAL, GUST_LOG_INFO,
           "Unsatisfiable read, closing connection: %s",
           m.ptr != NULL ? (const char *)m.ptr : "delimiter not found");
  do_close(s, GUST_ELIMIT,
           m.ptr != NULL ? (const char *)m.ptr : "delimiter not found");
  gust_buf_free(&m);
}

/* Completes the pending read if the buffer allows, and adjusts reading. */
static void try_read(gust_iostream *s) {
  if (s->in_read)
    return;
  s->in_read = 1;
  s->busy++;
  while (s->rkind != R_NONE) {
    size_t pos = 0;
    int rc;
    if (s->rkind == R_CLOSE && s->rcb != NULL && s->rpaused)
      break;
    if (s->rkind == R_CLOSE && s->rcb != NULL && s->rbuf.len > 0) {
      /* Streaming: hand the bytes over and keep the buffer empty. */
      gust_buf tmp = s->rbuf;
      gust_buf_init(&s->rbuf, s->mem);
      s->rcb(s, gust_buf_slice(&tmp), s->rud);
      if (s->rbuf.cap == 0) {
        gust_buf_clear(&tmp);
        s->rbuf = tmp;
      } else {
        gust_buf_free(&tmp);
      }
      continue;
    }
    rc = find_pos(s, &pos);
    if (rc == GUST_ELIMIT) {
      unsatisfiable(s);
      break;
    }
    if (rc < 0) {
      do_close(s, rc, "regular expression matching failed");
      break;
    }
    if (rc == 1)
      finish_read(s, pos);
    else if (s->closed)
      fail_read(s);
    break;
  }
  update_reading(s);
  s->busy--;
  s->in_read = 0;
}

static int start_read(gust_iostream *s, int kind, gust_future **out) {
  int rc;
  if (out == NULL)
    return GUST_EINVAL;
  *out = NULL;
  if (s->rkind != R_NONE) {
    set_call_err(s, "Already reading");
    return GUST_EBUSY;
  }
  rc = gust_future_new(out, s->loop, s->mem);
  if (rc < 0)
    return rc;
  s->rkind = kind;
  s->rf = gust_future_ref(*out);
  s->scan = 0;
  return 0;
}

/* Runs a read just set up: done at once if the buffer satisfies it. */
static int begin_read(gust_iostream *s, gust_future **out) {
  s->busy++;
  if (s->closed && s->rkind != R_CLOSE) {
    size_t pos = 0;
    int rc = find_pos(s, &pos);
    if (rc == 1) {
      finish_read(s, pos);
    } else if (rc == 0) {
      gust_future *f = s->rf;
      clear_read(s);
      gust_future_unref(f);
      gust_future_unref(*out);
      *out = NULL;
      set_call_err(s, MSG_CLOSED);
      s->busy--;
      return GUST_ECLOSED;
    } else {
      fail_read(s);
    }
  } else {
    try_read(s);
  }
  s->busy--;
  maybe_free(s);
  return 0;
}

int gust_iostream_read_until(gust_iostream *s, const void *delim, size_t dlen,
                             size_t max_bytes, gust_future **out) {
  uint8_t *d;
  int rc;
  if (s == NULL || delim == NULL || dlen == 0)
    return GUST_EINVAL;
  d = gust__malloc(s->mem, dlen);
  if (d == NULL)
    return GUST_ENOMEM;
  rc = start_read(s, R_UNTIL, out);
  if (rc < 0) {
    gust__free(s->mem, d);
    return rc;
  }
  memcpy(d, delim, dlen);
  s->delim = d;
  s->dlen = dlen;
  s->rmax = max_bytes;
  return begin_read(s, out);
}

static void *pcre_malloc(PCRE2_SIZE n, void *ud) {
  return gust__malloc((const gust_mem *)ud, n);
}

static void pcre_free(void *p, void *ud) {
  gust__free((const gust_mem *)ud, p);
}

int gust_iostream_read_until_regex(gust_iostream *s, const char *pattern,
                                   size_t plen, size_t max_bytes,
                                   gust_future **out) {
  pcre2_code *re;
  pcre2_match_data *md;
  uint8_t *d;
  int err, rc;
  PCRE2_SIZE off;
  if (s == NULL || pattern == NULL)
    return GUST_EINVAL;
  if (s->rkind != R_NONE) {
    set_call_err(s, "Already reading");
    return GUST_EBUSY;
  }
  if (s->pgen == NULL) {
    s->pgen = pcre2_general_context_create(pcre_malloc, pcre_free,
                                           (void *)(uintptr_t)s->mem);
    if (s->pgen == NULL)
      return GUST_ENOMEM;
  }
  if (s->pcomp == NULL) {
    s->pcomp = pcre2_compile_context_create(s->pgen);
    if (s->pcomp == NULL)
      return GUST_ENOMEM;
  }
  if (s->pmatch == NULL) {
    s->pmatch = pcre2_match_context_create(s->pgen);
    if (s->pmatch == NULL)
      return GUST_ENOMEM;
  }
  re = pcre2_compile((PCRE2_SPTR)pattern, plen, 0, &err, &off, s->pcomp);
  if (re == NULL) {
    set_call_err(s, "invalid regular expression");
    return err == PCRE2_ERROR_HEAPLIMIT || err == PCRE2_ERROR_NOMEMORY
               ? GUST_ENOMEM
               : GUST_EINVAL;
  }
  md = pcre2_match_data_create_from_pattern(re, s->pgen);
  d = gust__malloc(s->mem, plen);
  if (md == NULL || d == NULL) {
    if (md != NULL)
      pcre2_match_data_free(md);
    pcre2_code_free(re);
    gust__free(s->mem, d);
    return GUST_ENOMEM;
  }
  rc = start_read(s, R_REGEX, out);
  if (rc < 0) {
    pcre2_match_data_free(md);
    pcre2_code_free(re);
    gust__free(s->mem, d);
    return rc;
  }
  if (plen > 0)
    memcpy(d, pattern, plen);
  s->delim = d;
  s->dlen = plen;
  s->re = re;
  s->md = md;
  s->rmax = max_bytes;
  return begin_read(s, out);
}

int gust_iostream_read_bytes(gust_iostream *s, size_t n, int partial,
                             gust_future **out) {
  int rc;
  if (s == NULL)
    return GUST_EINVAL;
  rc = start_read(s, R_BYTES, out);
  if (rc < 0)
    return rc;
  s->rn = n;
  s->rpartial = partial != 0;
  return begin_read(s, out);
}

int gust_iostream_read_into(gust_iostream *s, void *buf, size_t len,
                            int partial, gust_future **out) {
  int rc;
  if (s == NULL || (buf == NULL && len > 0))
    return GUST_EINVAL;
  rc = start_read(s, R_INTO, out);
  if (rc < 0)
    return rc;
  s->rn = len;
  s->rpartial = partial != 0;
  s->rinto = buf;
  return begin_read(s, out);
}

int gust_iostream_read_until_close(gust_iostream *s, gust_iostream_data_cb cb,
                                   void *user_data, gust_future **out) {
  int rc;
  if (s == NULL)
    return GUST_EINVAL;
  rc = start_read(s, R_CLOSE, out);
  if (rc < 0)
    return rc;
  s->rcb = cb;
  s->rud = user_data;
  return begin_read(s, out);
}

gust_slice gust_iostream_result(const gust_future *f) {
  gust_slice out = {NULL, 0};
  const rresult *r;
  if (f == NULL || !gust_future_done(f) || gust_future_error(f) != 0)
    return out;
  r = gust_future_result(f);
  if (r != NULL)
    out = gust_buf_slice(&r->buf);
  return out;
}

size_t gust_iostream_result_len(const gust_future *f) {
  const rresult *r;
  if (f == NULL || !gust_future_done(f) || gust_future_error(f) != 0)
    return 0;
  r = gust_future_result(f);
  return r != NULL ? r->n : 0;
}

int gust_iostream_reading(const gust_iostream *s) { return s->rkind != R_NONE; }

size_t gust_iostream_read_buffer_size(const gust_iostream *s) {
  return s->rbuf.len;
}

/* ------------------------------------------------------------------ */
/* Writes                                                               */
/* ------------------------------------------------------------------ */

static void resolve_writes(gust_iostream *s) {
  while (s->wf_n > 0 && s->wf[s->wf_head].index <= s->done) {
    gust_future *f = s->wf[s->wf_head].f;
    s->wf_head = (s->wf_head + 1) % s->wf_cap;
    s->wf_n--;
    gust_future_set_result(f, NULL, NULL);
    gust_future_unref(f);
  }
}

static void on_write(gust_tcp *tcp, int status, void *user_data) {
  wchunk *c = user_data;
  gust_iostream *s = c->s;
  uint64_t index = c->index;
  GUST__UNUSED(tcp);
  gust__free(s->mem, c);
  if (s->closed)
    return;
  s->busy++;
  if (status == 0) {
    if (index > s->done)
      s->done = index;
    resolve_writes(s);
  } else {
    if (!quiet_error(status))
      gust_log(GUST_LOG_GENERAL, GUST_LOG_WARNING, "Write error on %d: %s",
               gust_tcp_fd(s->tcp), gust_strerror(status));
    do_close(s, status, NULL);
  }
  s->busy--;
  maybe_free(s);
}

/* Sends `len` bytes as one TCP write that completes user bytes up to
 * s->enc. */
static int send_chunk(gust_iostream *s, const void *data, size_t len) {
  wchunk *c;
  gust_vec v;
  gust_ssize sent;
  int rc;
  /* Nothing queued: the kernel usually takes it all at once, with no copy,
   * no queued write and no readiness watcher. What it does not take is
   * queued below; a socket error closes the stream here. */
  v.base = (void *)(uintptr_t)data;
  v.len = len;
  sent = gust_tcp_try_write(s->tcp, &v, 1);
  if (sent < 0 && sent != GUST_EAGAIN && sent != GUST_ESTATE) {
    /* the socket failed (peer gone): as a failed queued write would, but
     * without handing the bytes to a backend that would try again */
    if (!quiet_error((int)sent))
      gust_log(GUST_LOG_GENERAL, GUST_LOG_WARNING, "Write error on %d: %s",
               gust_tcp_fd(s->tcp), gust_strerror((int)sent));
    do_close(s, (int)sent, NULL);
    return 0;
  }
  if (sent > 0) {
    data = (const uint8_t *)data + sent;
    len -= (size_t)sent;
    if (len == 0) {
      if (s->enc > s->done)
        s->done = s->enc;
      resolve_writes(s);
      return 0;
    }
  }
  if (len > SIZE_MAX - sizeof(wchunk))
    return GUST_EOVERFLOW;
  c = gust__malloc(s->mem, sizeof(wchunk) + len);
  if (c == NULL)
    return GUST_ENOMEM;
  c->s = s;
  c->index = s->enc;
  c->len = len;
  memcpy(c + 1, data, len);
  v.base = c + 1;
  v.len = len;
  rc = gust_tcp_write(s->tcp, &v, 1, on_write, c);
  if (rc < 0)
    gust__free(s->mem, c);
  return rc;
}

static void flush_tls(gust_iostream *s) {
  gust_slice o = gust_tls_pending_output(s->tls);
  int rc;
  if (o.len == 0)
    return;
  if (s->tcp == NULL) {
    gust_tls_consume_output(s->tls, o.len);
    return;
  }
  rc = send_chunk(s, o.ptr, o.len);
  gust_tls_consume_output(s->tls, o.len);
  if (rc < 0)
    do_close(s, rc, NULL);
}

static int wf_reserve(gust_iostream *s) {
  wfut *n;
  size_t cap, i;
  if (s->wf_n < s->wf_cap)
    return 0;
  cap = s->wf_cap ? s->wf_cap * 2 : 8;
  n = gust__malloc(s->mem, cap * sizeof(*n));
  if (n == NULL)
    return GUST_ENOMEM;
  for (i = 0; i < s->wf_n; i++)
    n[i] = s->wf[(s->wf_head + i) % s->wf_cap];
  gust__free(s->mem, s->wf);
  s->wf = n;
  s->wf_cap = cap;
  s->wf_head = 0;
  return 0;
}

int gust_iostream_write(gust_iostream *s, const void *data, size_t len,
                        gust_future **out) {
  gust_future *f = NULL;
  int rc;
  if (out != NULL)
    *out = NULL;
  if (s == NULL || (data == NULL && len > 0))
    return GUST_EINVAL;
  if (s->closed) {
    set_call_err(s, MSG_CLOSED);
    return GUST_ECLOSED;
  }
  if (s->max_write != 0 &&
      (s->accepted - s->done) + len > (uint64_t)s->max_write) {
    set_call_err(s, "Reached maximum write buffer size");
    return GUST_EBUFFERFULL;
  }
  if (out != NULL) {
    rc = wf_reserve(s);
    if (rc == 0)
      rc = gust_future_new(&f, s->loop, s->mem);
    if (rc < 0)
      return rc;
  }
  if (s->tls == NULL) {
    if (len > 0) {
      s->enc = s->accepted + len;
      rc = send_chunk(s, data, len);
      if (rc < 0) {
        s->enc = s->accepted;
        gust_future_unref(f);
        return rc;
      }
    }
    s->accepted += len;
  } else if (!s->hs_done) {
    if (len > 0 && (rc = gust_buf_append(&s->wpend, data, len)) < 0) {
      gust_future_unref(f);
      return rc;
    }
    s->accepted += len;
  } else if (len > 0) {
    gust_ssize n = gust_tls_write(s->tls, data, len);
    if (n < 0) {
      gust_future_unref(f);
      s->busy++;
      tls_fail(s, (int)n);
      s->busy--;
      set_call_err(s, MSG_CLOSED);
      return GUST_ECLOSED;
    }
    s->accepted += len;
    s->enc = s->accepted;
    s->busy++;
    flush_tls(s);
    s->busy--;
  }
  if (f != NULL) {
    if (s->closed) {
      fail_future(gust_future_ref(f), GUST_ECLOSED, MSG_CLOSED);
    } else {
      size_t slot = (s->wf_head + s->wf_n) % s->wf_cap;
      s->wf[slot].f = gust_future_ref(f);
      s->wf[slot].index = s->accepted;
      s->wf_n++;
      resolve_writes(s);
    }
    *out = f;
  }
  return 0;
}

int gust_iostream_writing(const gust_iostream *s) {
  return s->accepted > s->done;
}

size_t gust_iostream_write_buffer_size(const gust_iostream *s) {
  return (size_t)(s->accepted - s->done);
}

/* ------------------------------------------------------------------ */
/* TLS                                                                  */
/* ------------------------------------------------------------------ */

int gust_iostream_start_tls(gust_iostream *s, gust_tls_ctx *ctx,
                            const char *server_hostname, gust_future **out) {
  static const char not_idle[] = "IOStream is not idle; cannot convert to SSL";
  gust_iostream *ns;
  gust_future *f;
  int rc;
  if (out == NULL)
    return GUST_EINVAL;
  *out = NULL;
  if (s == NULL || ctx == NULL)
    return GUST_EINVAL;
  if (s->closed || s->tls != NULL || s->rkind != R_NONE ||
      s->accepted > s->done || s->rbuf.len > 0) {
    set_call_err(s, not_idle);
    return GUST_ESTATE;
  }
  rc = stream_alloc(&ns, s->tcp, &s->opts, s->mem);
  if (rc < 0)
    return rc;
  rc = tls_setup(ns, ctx, server_hostname);
  if (rc == 0)
    rc = gust_future_new(&f, s->loop, s->mem);
  if (rc < 0) {
    ns->user_refs = 0;
    maybe_free(ns);
    return rc;
  }
  /* Detach the handle from `s`: it is closed without closing the socket. */
  if (s->tcp_reading)
    gust_tcp_read_stop(s->tcp);
  s->tcp_reading = 0;
  s->tcp = NULL;
  s->closed = 1;
  s->tcp_open = 0;
  ns->close_cb = s->close_cb;
  ns->close_ud = s->close_ud;
  s->close_cb = NULL;
  stream_adopt(ns);
  ns->stf = gust_future_ref(f);
  *out = f;
  tls_begin(ns);
  return 0;
}

int gust_iostream_wait_for_handshake(gust_iostream *s, gust_future **out) {
  gust_future *f;
  int rc;
  if (out == NULL)
    return GUST_EINVAL;
  *out = NULL;
  if (s == NULL || s->tls == NULL)
    return GUST_EINVAL;
  if (s->hsf != NULL) {
    set_call_err(s, "Already waiting");
    return GUST_EBUSY;
  }
  rc = gust_future_new(&f, s->loop, s->mem);
  if (rc < 0)
    return rc;
  if (s->hs_done) {
    rc = gust_future_set_result(f, NULL, NULL);
  } else if (s->closed) {
    rc = gust_future_set_error(f, s->err ? s->err : GUST_ECLOSED,
                               s->err ? s->errmsg : MSG_CLOSED);
    if (rc == GUST_ENOMEM)
      rc = gust_future_set_error(f, s->err ? s->err : GUST_ECLOSED, NULL);
  } else {
    s->hsf = gust_future_ref(f);
    rc = 0;
  }
  if (rc < 0) {
    gust_future_unref(f);
    return rc;
  }
  *out = f;
  return 0;
}

gust_tls *gust_iostream_tls(const gust_iostream *s) { return s->tls; }

gust_tcp *gust_iostream_tcp(const gust_iostream *s) { return s->tcp; }

gust_loop *gust_iostream_loop(const gust_iostream *s) { return s->loop; }

/* ------------------------------------------------------------------ */
/* Internal controls for the HTTP server (iostream_int.h)               */
/* ------------------------------------------------------------------ */

void gust__iostream_set_paused(gust_iostream *s, int paused) {
  paused = paused == 2 ? 2 : paused != 0;
  if (s->rpaused == paused)
    return;
  s->rpaused = paused;
  if (s->closed && !(s->rkind == R_CLOSE && s->rcb != NULL && !paused))
    return;
  s->busy++;
  if (paused)
    update_reading(s);
  else
    try_read(s);
  s->busy--;
  maybe_free(s);
}

int gust__iostream_stop_stream(gust_iostream *s) {
  gust_future *f;
  if (s->rkind != R_CLOSE || s->rcb == NULL)
    return GUST_ESTATE;
  f = s->rf;
  clear_read(s);
  s->rpaused = 0;
  gust_future_set_result(f, NULL, NULL);
  gust_future_unref(f);
  if (!s->closed && !s->in_read)
    update_reading(s);
  return 0;
}

gust_tcp *gust__iostream_release(gust_iostream *s, int *reading) {
  gust_tcp *tcp;
  gust_future *f;
  if (s == NULL || s->closed || s->tls != NULL || s->tcp == NULL ||
      s->rbuf.len != 0 || s->accepted != s->done ||
      gust_tcp_write_queue_size(s->tcp) != 0 || s->wf_n != 0 ||
      (s->rkind != R_NONE && !(s->rkind == R_CLOSE && s->rcb != NULL)))
    return NULL;
  tcp = s->tcp;
  *reading = s->tcp_reading;
  f = s->rkind != R_NONE ? s->rf : NULL;
  clear_read(s);
  s->rpaused = 0;
  /* Closed without closing the socket, as start_tls does; with tcp NULL
   * and tcp_reading 0, nothing below touches the handle again. */
  s->tcp = NULL;
  s->tcp_reading = 0;
  s->tcp_open = 0;
  s->closed = 1;
  s->close_cb = NULL;
  s->close_ud = NULL;
  gust_tcp_set_data(tcp, NULL);
  if (f != NULL) {
    gust_future_set_result(f, NULL, NULL);
    gust_future_unref(f);
  }
  return tcp;
}

int gust__iostream_adopt_reading(gust_iostream **out, gust_tcp *tcp,
                                 const gust_iostream_opts *opts,
                                 const gust_mem *mem) {
  int rc;
  if (out == NULL || tcp == NULL)
    return GUST_EINVAL;
  *out = NULL;
  rc = stream_alloc(out, tcp, opts, mem);
  if (rc < 0)
    return rc;
  stream_adopt(*out);
  gust__tcp_set_reader(tcp, on_alloc, on_read, *out);
  (*out)->tcp_reading = 1;
  return 0;
}

int gust__iostream_reattach(gust_iostream *s, gust_tcp *tcp) {
  gust_iostream keep;
  if (s == NULL || tcp == NULL || !s->closed || s->tcp != NULL || s->tcp_open ||
      s->busy != 0 || s->user_refs != 1 || s->tls != NULL || s->wf_n != 0 ||
      s->rkind != R_NONE || s->hsf != NULL || s->stf != NULL)
    return GUST_ESTATE;
  /* Keep the allocations and the settings; everything else starts over
   * as in a new stream (zero, as calloc left it). */
  keep = *s;
  gust__free(keep.mem, keep.errmsg);
  gust__free(keep.mem, keep.tlsin);
  memset(s, 0, sizeof(*s));
  s->mem = keep.mem;
  s->loop = gust_tcp_loop(tcp);
  s->tcp = tcp;
  s->opts = keep.opts;
  s->max_buffer = keep.max_buffer;
  s->max_write = keep.max_write;
  s->chunk = keep.chunk;
  s->wf = keep.wf;
  s->wf_cap = keep.wf_cap;
  s->pgen = keep.pgen;
  s->pcomp = keep.pcomp;
  s->pmatch = keep.pmatch;
  s->rbuf = keep.rbuf;
  s->wpend = keep.wpend;
  gust_buf_clear(&s->rbuf);
  gust_buf_clear(&s->wpend);
  s->user_refs = 1;
  stream_adopt(s);
  gust__tcp_set_reader(tcp, on_alloc, on_read, s);
  s->tcp_reading = 1;
  return 0;
}

void gust__iostream_trim(gust_iostream *s) {
  if (s->rbuf.len == 0 && !s->in_read)
    gust_buf_free(&s->rbuf);
}
