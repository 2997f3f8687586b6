/* bench/ws_load.c: a standalone WebSocket load generator (plain sockets,
 * epoll, one thread) for bench/ws_echo: non-pipelined echo round trips over
 * many connections, or many idle connections held open for memory figures.
 *
 * Usage: ws_load --port N [--host H] [--path P] [--connections C]
 *                [--size S] [--seconds T] [--warmup W] [--text] [--deflate]
 *                [--timeout SEC] [--idle N]
 *
 * Benchmark mode: opens C connections, each does the client handshake and
 * then round trips: one masked message of S bytes out, the whole echo back
 * (length, opcode and content checked), the next one out. W seconds of
 * warm-up are not counted, then T seconds are measured; prints round trips
 * per second (all connections together) and the latency distribution.
 *
 * Idle mode (--idle N): opens N connections, one echo on each, prints
 * "ready N deflate D compressed C" (D: connections with permessage-deflate,
 * C: echoes that came compressed) and holds them until stdin reaches end of
 * file or SIGINT/SIGTERM arrives, then closes them with close frames.
 *
 * --deflate offers "permessage-deflate; client_no_context_takeover;
 * server_no_context_takeover"; when the server accepts, every message is
 * sent compressed and echoes are inflated. Our messages never use context
 * takeover, so one deflate stream serves all connections; so does one
 * inflate stream when the server confirms server_no_context_takeover. A
 * server that answers a bare "permessage-deflate" (Tornado 6.2 drops
 * parameters without a value) keeps its context, and such a connection gets
 * an inflate stream of its own.
 *
 * Any protocol error, failed check, unexpected close or stall longer than
 * --timeout is reported on stderr and exits 1; bad usage exits 2. This is a
 * load generator: the masking keys and handshake keys come from a fast PRNG
 * seeded from /dev/urandom, not from a CSPRNG. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <zlib.h>

#define WS_GUID        "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
#define MAX_HEAD       8192
#define MAX_FRAME      (64u << 20)
#define MAX_HANDSHAKES 64 /* handshakes in flight at once (listen backlogs) */
#define STDIN_TAG      ((uint64_t)-1)
#define SIGNAL_TAG     ((uint64_t)-2)

/* ---- options and global state ---- */

static const char *opt_host = "127.0.0.1";
static const char *opt_path = "/";
static int opt_port = -1;
static long opt_connections = 100;
static long opt_size = 512;
static double opt_seconds = 5;
static double opt_warmup = 1;
static double opt_timeout = 10;
static int opt_text;
static int opt_deflate;
static long opt_idle = -1;

enum phase { PH_SETUP, PH_WARMUP, PH_MEASURE, PH_IDLE, PH_DRAIN };

static enum phase phase = PH_SETUP;
static int epfd = -1;
static struct sockaddr_storage peer;
static socklen_t peer_len;
static char host_header[300];

/* ---- small helpers ---- */

static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)))
__attribute__((noreturn));
static void fail(const char *fmt, ...) {
  va_list ap;
  fputs("ws_load: ", stderr);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
  exit(1);
}

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void *xmalloc(size_t n) {
  void *p = malloc(n ? n : 1);
  if (p == NULL)
    fail("out of memory (%zu bytes)", n);
  return p;
}

static void *xrealloc(void *p, size_t n) {
  p = realloc(p, n ? n : 1);
  if (p == NULL)
    fail("out of memory (%zu bytes)", n);
  return p;
}

/* xoshiro-style generators are overkill here: xorshift64* is fast and good
 * enough for masking keys and payload bytes. */
static uint64_t rng_state;

static uint64_t rng_next(void) {
  uint64_t x = rng_state;
  x ^= x >> 12;
  x ^= x << 25;
  x ^= x >> 27;
  rng_state = x;
  return x * 0x2545F4914F6CDD1DULL;
}

static void rng_seed(void) {
  int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
  ssize_t n = fd >= 0 ? read(fd, &rng_state, sizeof rng_state) : -1;
  if (fd >= 0)
    close(fd);
  if (n != (ssize_t)sizeof rng_state)
    fail("cannot read /dev/urandom");
  if (rng_state == 0)
    rng_state = 0x9E3779B97F4A7C15ULL;
}

/* ---- SHA-1 (FIPS 180-4) and base64, just enough for the handshake ---- */

struct sha1 {
  uint32_t h[5];
  uint64_t len;
  uint8_t buf[64];
  size_t fill;
};

static uint32_t rol32(uint32_t x, int n) { return (x << n) | (x >> (32 - n)); }

static void sha1_block(struct sha1 *s, const uint8_t *p) {
  uint32_t w[80], a, b, c, d, e, f, k, t;
  int i;
  for (i = 0; i < 16; i++)
    w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
           (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
  for (i = 16; i < 80; i++)
    w[i] = rol32(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
  a = s->h[0], b = s->h[1], c = s->h[2], d = s->h[3], e = s->h[4];
  for (i = 0; i < 80; i++) {
    if (i < 20)
      f = (b & c) | (~b & d), k = 0x5A827999;
    else if (i < 40)
      f = b ^ c ^ d, k = 0x6ED9EBA1;
    else if (i < 60)
      f = (b & c) | (b & d) | (c & d), k = 0x8F1BBCDC;
    else
      f = b ^ c ^ d, k = 0xCA62C1D6;
    t = rol32(a, 5) + f + e + k + w[i];
    e = d, d = c, c = rol32(b, 30), b = a, a = t;
  }
  s->h[0] += a, s->h[1] += b, s->h[2] += c, s->h[3] += d, s->h[4] += e;
}

static void sha1_init(struct sha1 *s) {
  static const uint32_t iv[5] = {0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476,
                                 0xC3D2E1F0};
  memcpy(s->h, iv, sizeof iv);
  s->len = 0;
  s->fill = 0;
}

static void sha1_update(struct sha1 *s, const void *data, size_t n) {
  const uint8_t *p = data;
  s->len += n;
  while (n > 0) {
    size_t take = 64 - s->fill < n ? 64 - s->fill : n;
    memcpy(s->buf + s->fill, p, take);
    s->fill += take, p += take, n -= take;
    if (s->fill == 64) {
      sha1_block(s, s->buf);
      s->fill = 0;
    }
  }
}

static void sha1_final(struct sha1 *s, uint8_t out[20]) {
  uint64_t bits = s->len * 8;
  uint8_t pad = 0x80, len[8];
  int i;
  sha1_update(s, &pad, 1);
  pad = 0;
  while (s->fill != 56)
    sha1_update(s, &pad, 1);
  for (i = 0; i < 8; i++)
    len[i] = (uint8_t)(bits >> (56 - 8 * i));
  sha1_update(s, len, 8);
  for (i = 0; i < 20; i++)
    out[i] = (uint8_t)(s->h[i / 4] >> (24 - 8 * (i % 4)));
}

/* base64 (RFC 4648, padded) of n bytes into out, which holds 4*ceil(n/3)+1. */
static void base64(const uint8_t *in, size_t n, char *out) {
  static const char tab[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  size_t i;
  for (i = 0; i + 2 < n; i += 3) {
    uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
    *out++ = tab[v >> 18], *out++ = tab[(v >> 12) & 63];
    *out++ = tab[(v >> 6) & 63], *out++ = tab[v & 63];
  }
  if (i < n) {
    uint32_t v = (uint32_t)in[i] << 16 | (i + 1 < n ? (uint32_t)in[i + 1] : 0)
                                             << 8;
    *out++ = tab[v >> 18], *out++ = tab[(v >> 12) & 63];
    *out++ = i + 1 < n ? tab[(v >> 6) & 63] : '=';
    *out++ = '=';
  }
  *out = '\0';
}

static void accept_value(const char *key, char out[29]) {
  struct sha1 s;
  uint8_t digest[20];
  sha1_init(&s);
  sha1_update(&s, key, strlen(key));
  sha1_update(&s, WS_GUID, sizeof WS_GUID - 1);
  sha1_final(&s, digest);
  base64(digest, 20, out);
}

/* The RFC 6455 §1.3 example, checked once at start so a broken SHA-1 can
 * never pass for a broken server. */
static void self_test(void) {
  char acc[29];
  accept_value("dGhlIHNhbXBsZSBub25jZQ==", acc);
  if (strcmp(acc, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=") != 0)
    fail("internal error: SHA-1/base64 self-test failed (%s)", acc);
}

/* ---- latency histogram: log-linear buckets, 64 per power of two ---- */

#define SUB_BITS 6
#define SUB      (1u << SUB_BITS)
#define NBUCKETS ((64 - SUB_BITS + 1) * SUB)

static uint64_t hist[NBUCKETS];
static uint64_t hist_count, hist_max, hist_sum;

static unsigned bucket_of(uint64_t v) {
  unsigned b;
  if (v < SUB)
    return (unsigned)v;
  b = 63u - (unsigned)__builtin_clzll(v); /* >= SUB_BITS */
  return (b - SUB_BITS + 1) * SUB +
         (unsigned)((v >> (b - SUB_BITS)) & (SUB - 1));
}

/* The middle of a bucket's range. */
static double bucket_value(unsigned i) {
  unsigned e;
  double lo, width;
  if (i < SUB)
    return i;
  e = i / SUB - 1; /* shift */
  lo = (double)((uint64_t)(SUB + i % SUB) << e);
  width = (double)((uint64_t)1 << e);
  return lo + width / 2;
}

static void hist_add(uint64_t ns) {
  hist[bucket_of(ns)]++;
  hist_count++;
  hist_sum += ns;
  if (ns > hist_max)
    hist_max = ns;
}

static double hist_quantile(double q) {
  uint64_t want = (uint64_t)(q * (double)hist_count + 0.999999), seen = 0;
  unsigned i;
  if (want == 0)
    want = 1;
  for (i = 0; i < NBUCKETS; i++) {
    seen += hist[i];
    if (seen >= want)
      return bucket_value(i);
  }
  return (double)hist_max;
}

/* ---- permessage-deflate: one stream per direction for all connections ---- */

static z_stream zdef, zinf; /* zinf: for servers without context takeover */
static uint8_t *zbuf;       /* compressed outgoing message */
static size_t zbuf_cap;
static uint8_t *inflated; /* inflated echo, opt_size + 1 bytes at most */

static void zlib_init(void) {
  if (deflateInit2(&zdef, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -15, 8,
                   Z_DEFAULT_STRATEGY) != Z_OK)
    fail("deflateInit2 failed");
  if (inflateInit2(&zinf, -15) != Z_OK)
    fail("inflateInit2 failed");
  zbuf_cap = deflateBound(&zdef, (uLong)opt_size) + 16;
  zbuf = xmalloc(zbuf_cap);
  inflated = xmalloc((size_t)opt_size + 1);
}

/* Compresses p[0..n) as one message; returns its length in zbuf. */
static size_t compress_message(const uint8_t *p, size_t n) {
  size_t len;
  deflateReset(&zdef); /* client_no_context_takeover */
  zdef.next_in = (Bytef *)(uintptr_t)p;
  zdef.avail_in = (uInt)n;
  zdef.next_out = zbuf;
  zdef.avail_out = (uInt)zbuf_cap;
  if (deflate(&zdef, Z_SYNC_FLUSH) != Z_OK || zdef.avail_in != 0 ||
      zdef.avail_out == 0)
    fail("deflate failed");
  len = zbuf_cap - zdef.avail_out;
  if (len < 4 || memcmp(zbuf + len - 4, "\0\0\xff\xff", 4) != 0)
    fail("deflate output does not end with 00 00 ff ff");
  len -= 4;
  if (len == 0) /* an empty message is a single 00 byte (RFC 7692 §7.2.3.6) */
    zbuf[len++] = 0;
  return len;
}

/* Inflates one echoed message with z (reset first unless takeover);
 * returns its length or -1 with *why set. */
static long inflate_message(z_stream *z, int takeover, const uint8_t *p,
                            size_t n, const char **why) {
  static const uint8_t tail[4] = {0, 0, 0xff, 0xff};
  size_t cap = (size_t)opt_size + 1;
  int r = Z_OK, pass;
  if (!takeover)
    inflateReset(z);
  z->next_out = inflated;
  z->avail_out = (uInt)cap;
  for (pass = 0; pass < 2 && r != Z_STREAM_END; pass++) {
    z->next_in = (Bytef *)(uintptr_t)(pass == 0 ? p : tail);
    z->avail_in = (uInt)(pass == 0 ? n : sizeof tail);
    while (z->avail_in > 0 && z->avail_out > 0) {
      r = inflate(z, Z_SYNC_FLUSH);
      if (r == Z_STREAM_END) {
        inflateReset(z); /* a final block ends this context */
        break;
      }
      if (r != Z_OK && r != Z_BUF_ERROR) {
        *why = z->msg ? z->msg : "inflate error";
        return -1;
      }
      if (r == Z_BUF_ERROR)
        break;
    }
  }
  if (z->avail_out == 0) {
    *why = "inflated echo longer than the message sent";
    return -1;
  }
  return (long)(cap - z->avail_out);
}

/* ---- connections ---- */

enum cstate {
  CS_FREE,
  CS_CONNECTING,
  CS_HANDSHAKE, /* request sent (or queued), reading the 101 */
  CS_OPEN,
  CS_CLOSE_SENT,     /* our close is out, waiting for the server's */
  CS_CLOSE_RECEIVED, /* both closes exchanged, waiting for TCP end of file */
  CS_DONE
};

struct conn {
  int fd;
  int id;
  enum cstate state;
  int want_out;   /* EPOLLOUT registered */
  int deflate;    /* permessage-deflate negotiated */
  z_stream *zown; /* the server keeps its context: our inflater for it */
  int waiting;    /* a message is out, its echo not complete */
  int echoes;     /* echoes received on this connection */
  char accept[29];
  uint8_t *out;
  size_t out_len, out_off, out_cap;
  uint8_t *in;
  size_t in_len, in_off, in_cap;
  uint8_t *msg; /* fragments of the echo being reassembled */
  size_t msg_len, msg_cap;
  int msg_open, msg_opcode, msg_rsv1;
  uint8_t *payload; /* the message in flight, unmasked */
  uint64_t seq;
  uint64_t sent_ns;
  uint64_t deadline_ns; /* 0: none */
};

static struct conn *conns;
static long nconns;
static long opened;       /* connections started so far */
static long handshaking;  /* connecting or in the handshake */
static long ready;        /* open and past their first echo */
static long finished;     /* done (closed cleanly) */
static uint64_t measured; /* round trips completed in PH_MEASURE */
static uint64_t total_trips;
static uint64_t compressed_echoes; /* echoes that came with RSV1 */

static void cfail(const struct conn *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3))) __attribute__((noreturn));
static void cfail(const struct conn *c, const char *fmt, ...) {
  static const char *names[] = {"free",    "connecting", "handshake", "open",
                                "closing", "closing",    "done"};
  va_list ap;
  fprintf(stderr, "ws_load: connection %d (%s, %d echoes): ", c->id,
          names[c->state], c->echoes);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
  exit(1);
}

static void set_events(struct conn *c, int want_out) {
  struct epoll_event ev;
  if (c->want_out == want_out)
    return;
  ev.events = EPOLLIN | (want_out ? EPOLLOUT : 0);
  ev.data.u64 = (uint64_t)c->id;
  if (epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev) != 0)
    cfail(c, "epoll_ctl: %s", strerror(errno));
  c->want_out = want_out;
}

/* Room for n more bytes in the output queue. */
static uint8_t *out_reserve(struct conn *c, size_t n) {
  if (c->out_off > 0 && c->out_off == c->out_len)
    c->out_off = c->out_len = 0;
  if (c->out_len + n > c->out_cap) {
    if (c->out_off > 0) {
      memmove(c->out, c->out + c->out_off, c->out_len - c->out_off);
      c->out_len -= c->out_off;
      c->out_off = 0;
    }
    if (c->out_len + n > c->out_cap) {
      c->out_cap = (c->out_len + n) * 2;
      c->out = xrealloc(c->out, c->out_cap);
    }
  }
  return c->out + c->out_len;
}

static void flush_out(struct conn *c) {
  while (c->out_off < c->out_len) {
    ssize_t n =
        send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        set_events(c, 1);
        return;
      }
      cfail(c, "send: %s", strerror(errno));
    }
    c->out_off += (size_t)n;
  }
  c->out_off = c->out_len = 0;
  set_events(c, 0);
}

/* XOR with the key, 8 bytes at a time through memcpy (no aliasing games). */
static void mask_copy(uint8_t *dst, const uint8_t *src, size_t n,
                      const uint8_t key[4]) {
  uint64_t k8, w;
  uint32_t k4;
  size_t i = 0;
  memcpy(&k4, key, 4);
  k8 = (uint64_t)k4 << 32 | k4;
  for (; i + 8 <= n; i += 8) {
    memcpy(&w, src + i, 8);
    w ^= k8;
    memcpy(dst + i, &w, 8);
  }
  for (; i < n; i++)
    dst[i] = src[i] ^ key[i & 3];
}

/* Queues one masked frame. */
static void queue_frame(struct conn *c, int fin_rsv_opcode, const uint8_t *p,
                        size_t n) {
  uint8_t *f = out_reserve(c, n + 14), key[4];
  size_t h = 2;
  uint64_t r = rng_next();
  f[0] = (uint8_t)fin_rsv_opcode;
  if (n < 126) {
    f[1] = (uint8_t)(0x80 | n);
  } else if (n <= 0xffff) {
    f[1] = 0x80 | 126;
    f[2] = (uint8_t)(n >> 8), f[3] = (uint8_t)n;
    h = 4;
  } else {
    int i;
    f[1] = 0x80 | 127;
    for (i = 0; i < 8; i++)
      f[2 + i] = (uint8_t)((uint64_t)n >> (56 - 8 * i));
    h = 10;
  }
  memcpy(key, &r, 4);
  memcpy(f + h, key, 4);
  mask_copy(f + h + 4, p, n, key);
  c->out_len += h + 4 + n;
}

/* The next message: a fixed printable pattern per connection whose first
 * 16 bytes carry the sequence number, so a stale or repeated echo fails the
 * content check. Printable ASCII keeps --text valid UTF-8. */
static void send_message(struct conn *c, uint64_t now) {
  size_t n = (size_t)opt_size;
  int opcode = opt_text ? 1 : 2;
  c->seq++;
  if (n >= 16) {
    char hex[17];
    snprintf(hex, sizeof hex, "%016" PRIx64, c->seq);
    memcpy(c->payload, hex, 16);
  }
  if (c->deflate) {
    size_t z = compress_message(c->payload, n);
    queue_frame(c, 0x80 | 0x40 | opcode, zbuf, z);
  } else {
    queue_frame(c, 0x80 | opcode, c->payload, n);
  }
  c->waiting = 1;
  c->sent_ns = now;
  c->deadline_ns = now + (uint64_t)(opt_timeout * 1e9);
  flush_out(c);
}

static void send_close(struct conn *c, uint64_t now) {
  static const uint8_t code[2] = {1000 >> 8, 1000 & 0xff};
  queue_frame(c, 0x80 | 8, code, 2);
  c->state = CS_CLOSE_SENT;
  c->deadline_ns = now + (uint64_t)(opt_timeout * 1e9);
  flush_out(c);
}

static void conn_finish(struct conn *c) {
  epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
  close(c->fd);
  c->fd = -1;
  c->state = CS_DONE;
  c->deadline_ns = 0;
  finished++;
}

/* What a connection does once it has nothing in flight. */
static void next_step(struct conn *c, uint64_t now) {
  switch (phase) {
  case PH_SETUP:
  case PH_WARMUP:
  case PH_MEASURE:
    if (opt_idle < 0 || c->echoes == 0)
      send_message(c, now);
    break;
  case PH_IDLE:
    break;
  case PH_DRAIN:
    send_close(c, now);
    break;
  }
}

static void message_done(struct conn *c, int opcode, int rsv1, const uint8_t *p,
                         size_t n, uint64_t now) {
  const char *why = "";
  if (!c->waiting)
    cfail(c, "unsolicited %zu-byte message", n);
  if (opcode != (opt_text ? 1 : 2))
    cfail(c, "echo is a %s message, sent %s", opcode == 1 ? "text" : "binary",
          opt_text ? "text" : "binary");
  if (rsv1) {
    long len = c->zown ? inflate_message(c->zown, 1, p, n, &why)
                       : inflate_message(&zinf, 0, p, n, &why);
    if (len < 0)
      cfail(c, "cannot inflate the echo: %s", why);
    p = inflated;
    n = (size_t)len;
    compressed_echoes++;
  }
  if (n != (size_t)opt_size)
    cfail(c, "echo of %zu bytes, sent %ld", n, opt_size);
  if (memcmp(p, c->payload, n) != 0)
    cfail(c, "echo content differs from the message sent (seq %" PRIu64 ")",
          c->seq);
  c->waiting = 0;
  c->deadline_ns = 0;
  c->echoes++;
  total_trips++;
  if (phase == PH_MEASURE) {
    measured++;
    hist_add(now - c->sent_ns);
  }
  if (c->echoes == 1)
    ready++;
  next_step(c, now);
}

/* Frames in c->in from in_off; returns when a frame is incomplete. */
static void read_frames(struct conn *c, uint64_t now) {
  while (c->state == CS_OPEN || c->state == CS_CLOSE_SENT) {
    const uint8_t *f = c->in + c->in_off;
    size_t avail = c->in_len - c->in_off, h = 2;
    uint64_t len;
    int fin, rsv1, opcode;
    if (avail < 2)
      break;
    fin = f[0] & 0x80;
    rsv1 = f[0] & 0x40;
    opcode = f[0] & 0x0f;
    if (f[0] & 0x30)
      cfail(c, "frame with RSV2/RSV3 set (byte 0x%02x)", f[0]);
    if (f[1] & 0x80)
      cfail(c, "masked frame from the server");
    len = f[1] & 0x7f;
    if (len == 126) {
      if (avail < 4)
        break;
      len = (uint64_t)f[2] << 8 | f[3];
      h = 4;
      if (len < 126)
        cfail(c, "non-minimal 16-bit length %" PRIu64, len);
    } else if (len == 127) {
      int i;
      if (avail < 10)
        break;
      len = 0;
      for (i = 0; i < 8; i++)
        len = len << 8 | f[2 + i];
      h = 10;
      if (len >> 63)
        cfail(c, "64-bit length with the top bit set");
      if (len < 65536)
        cfail(c, "non-minimal 64-bit length %" PRIu64, len);
    }
    if (len > MAX_FRAME)
      cfail(c, "%" PRIu64 "-byte frame, over the %u-byte cap", len, MAX_FRAME);
    if (opcode >= 8) {
      if (!fin)
        cfail(c, "fragmented control frame (opcode %d)", opcode);
      if (len > 125)
        cfail(c, "control frame with a %" PRIu64 "-byte payload", len);
      if (rsv1)
        cfail(c, "RSV1 on a control frame");
    } else if (opcode == 0) {
      if (!c->msg_open)
        cfail(c, "continuation frame with no message open");
      if (rsv1)
        cfail(c, "RSV1 on a continuation frame");
    } else if (opcode == 1 || opcode == 2) {
      if (c->msg_open)
        cfail(c, "new data frame inside a fragmented message");
      if (rsv1 && !c->deflate)
        cfail(c, "RSV1 set without permessage-deflate");
    } else {
      cfail(c, "reserved opcode %d", opcode);
    }
    if (avail - h < len) {
      /* Make room for the whole frame. */
      size_t need = h + (size_t)len;
      if (c->in_off > 0) {
        memmove(c->in, c->in + c->in_off, avail);
        c->in_len = avail;
        c->in_off = 0;
      }
      if (need > c->in_cap) {
        c->in_cap = need;
        c->in = xrealloc(c->in, c->in_cap);
      }
      break;
    }
    c->in_off += h + (size_t)len;
    f += h;
    if (opcode == 8) {
      unsigned code = len >= 2 ? (unsigned)f[0] << 8 | f[1] : 1005;
      if (len == 1)
        cfail(c, "close frame with a 1-byte payload");
      if (c->state != CS_CLOSE_SENT)
        cfail(c, "unexpected close from the server, code %u%s%.*s", code,
              len > 2 ? ", reason: " : "", len > 2 ? (int)len - 2 : 0,
              (const char *)f + 2);
      c->state = CS_CLOSE_RECEIVED;
      return;
    }
    if (opcode == 9) { /* answer every ping at once, none after our close */
      if (c->state == CS_OPEN) {
        queue_frame(c, 0x80 | 0xA, f, (size_t)len);
        flush_out(c);
      }
      continue;
    }
    if (opcode == 0xA)
      continue;
    if (c->state == CS_CLOSE_SENT)
      continue; /* data after our close: ignored */
    if (fin && opcode != 0) {
      message_done(c, opcode, rsv1, f, (size_t)len, now);
      continue;
    }
    if (opcode != 0) {
      c->msg_open = 1;
      c->msg_opcode = opcode;
      c->msg_rsv1 = rsv1;
      c->msg_len = 0;
    }
    if (c->msg_len + len > MAX_FRAME)
      cfail(c, "fragmented echo over %u bytes", MAX_FRAME);
    if (c->msg_len + len > c->msg_cap) {
      c->msg_cap = (c->msg_len + (size_t)len) * 2;
      c->msg = xrealloc(c->msg, c->msg_cap);
    }
    memcpy(c->msg + c->msg_len, f, (size_t)len);
    c->msg_len += (size_t)len;
    if (fin) {
      c->msg_open = 0;
      message_done(c, c->msg_opcode, c->msg_rsv1, c->msg, c->msg_len, now);
    }
  }
  if (c->in_off == c->in_len)
    c->in_off = c->in_len = 0;
}

/* ---- handshake ---- */

static void start_connection(struct conn *c) {
  struct epoll_event ev;
  uint8_t key[16];
  char b64[25];
  uint64_t r0 = rng_next(), r1 = rng_next();
  int fd =
      socket(peer.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  int one = 1, n;
  if (fd < 0)
    cfail(c, "socket: %s", strerror(errno));
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  c->fd = fd;
  if (connect(fd, (struct sockaddr *)&peer, peer_len) != 0 &&
      errno != EINPROGRESS)
    cfail(c, "connect: %s", strerror(errno));
  c->state = CS_CONNECTING;
  c->want_out = 1;
  ev.events = EPOLLIN | EPOLLOUT;
  ev.data.u64 = (uint64_t)c->id;
  if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) != 0)
    cfail(c, "epoll_ctl: %s", strerror(errno));
  memcpy(key, &r0, 8);
  memcpy(key + 8, &r1, 8);
  base64(key, 16, b64);
  accept_value(b64, c->accept);
  n = snprintf((char *)out_reserve(c, 512), 512,
               "GET %s HTTP/1.1\r\n"
               "Host: %s\r\n"
               "Upgrade: websocket\r\n"
               "Connection: Upgrade\r\n"
               "Sec-WebSocket-Key: %s\r\n"
               "Sec-WebSocket-Version: 13\r\n"
               "%s"
               "\r\n",
               opt_path, host_header, b64,
               opt_deflate ? "Sec-WebSocket-Extensions: permessage-deflate; "
                             "client_no_context_takeover; "
                             "server_no_context_takeover\r\n"
                           : "");
  if (n <= 0 || n >= 512)
    cfail(c, "handshake request too long (--path?)");
  c->out_len += (size_t)n;
  c->deadline_ns = now_ns() + (uint64_t)(opt_timeout * 1e9);
  opened++;
  handshaking++;
}

static char *trim(char *s, char *end) {
  while (s < end && (*s == ' ' || *s == '\t'))
    s++;
  while (end > s && (end[-1] == ' ' || end[-1] == '\t'))
    end--;
  *end = '\0';
  return s;
}

/* Does the comma list contain the token (case-insensitive)? */
static int has_token(const char *list, const char *token) {
  size_t n = strlen(token);
  const char *p = list;
  while (*p) {
    const char *e;
    while (*p == ' ' || *p == '\t' || *p == ',')
      p++;
    e = p;
    while (*e && *e != ',')
      e++;
    {
      const char *t = e;
      while (t > p && (t[-1] == ' ' || t[-1] == '\t'))
        t--;
      if ((size_t)(t - p) == n && strncasecmp(p, token, n) == 0)
        return 1;
    }
    p = e;
  }
  return 0;
}

/* One Sec-WebSocket-Extensions value: only our offer may come back, with
 * server_no_context_takeover (RFC 7692 §7.1.1.1: a server accepting that
 * parameter must include it). */
static void check_extensions(struct conn *c, char *v, int *elements) {
  char *elem, *save_elem = NULL;
  if (!opt_deflate)
    cfail(c, "server answered Sec-WebSocket-Extensions \"%s\" to no offer", v);
  for (elem = strtok_r(v, ",", &save_elem); elem != NULL;
       elem = strtok_r(NULL, ",", &save_elem)) {
    char *param, *save_param = NULL;
    int first = 1, snct = 0, cnct = 0, smwb = 0;
    for (param = strtok_r(elem, ";", &save_param); param != NULL;
         param = strtok_r(NULL, ";", &save_param), first = 0) {
      char *eq = strchr(param, '='), *name, *value = NULL;
      if (eq != NULL) {
        *eq = '\0';
        value = trim(eq + 1, eq + 1 + strlen(eq + 1));
        if (value[0] == '"' && strlen(value) >= 2 &&
            value[strlen(value) - 1] == '"') {
          value[strlen(value) - 1] = '\0';
          value++;
        }
      }
      name = trim(param, param + strlen(param));
      if (first) {
        if (strcasecmp(name, "permessage-deflate") != 0 || value != NULL)
          cfail(c, "server chose the extension \"%s\", never offered", name);
        if (++*elements > 1)
          cfail(c, "server answered more than one extension");
        continue;
      }
      int *seen = NULL, valued = 0;
      if (strcasecmp(name, "server_no_context_takeover") == 0)
        seen = &snct;
      else if (strcasecmp(name, "client_no_context_takeover") == 0)
        seen = &cnct;
      else if (strcasecmp(name, "server_max_window_bits") == 0)
        seen = &smwb, valued = 1;
      if (seen == NULL || (*seen)++ || (value != NULL) != valued)
        cfail(c,
              "unexpected, repeated or malformed permessage-deflate "
              "parameter %s%s%s",
              name, value ? "=" : "", value ? value : "");
      /* Inflating with a 32 KiB window handles any smaller one. */
      if (valued && (strlen(value) < 1 || strlen(value) > 2 ||
                     value[0] == '0' || atoi(value) < 8 || atoi(value) > 15))
        cfail(c, "invalid server_max_window_bits=%s", value);
    }
    if (!snct) {
      /* RFC 7692 §7.1.1.1 says it must confirm it; Tornado 6.2 does not. */
      static int said;
      if (!said++)
        fprintf(stderr, "ws_load: note: the server accepted "
                        "permessage-deflate without server_no_context_"
                        "takeover: one inflate stream per connection\n");
      c->zown = xmalloc(sizeof *c->zown);
      memset(c->zown, 0, sizeof *c->zown);
      if (inflateInit2(c->zown, -15) != Z_OK)
        cfail(c, "inflateInit2 failed");
    }
    c->deflate = 1;
  }
}

/* Parses the response head once it is complete; returns 0 if incomplete. */
static int read_handshake(struct conn *c, uint64_t now) {
  char *head = (char *)c->in, *end, *line, *next;
  int got_upgrade = 0, got_connection = 0, got_accept = 0, elements = 0;
  size_t head_len;
  end = memmem(c->in, c->in_len, "\r\n\r\n", 4);
  if (end == NULL) {
    if (c->in_len > MAX_HEAD)
      cfail(c, "response head over %d bytes", MAX_HEAD);
    return 0;
  }
  head_len = (size_t)(end - head) + 4;
  *end = '\0';
  line = head;
  next = strstr(line, "\r\n");
  if (next != NULL)
    *next = '\0', next += 2;
  if (strncmp(line, "HTTP/1.1 ", 9) != 0 || strncmp(line + 9, "101", 3) != 0 ||
      (line[12] != ' ' && line[12] != '\0'))
    cfail(c, "handshake refused: \"%s\"", line);
  for (line = next; line != NULL && *line; line = next) {
    char *colon, *value;
    next = strstr(line, "\r\n");
    if (next != NULL)
      *next = '\0', next += 2;
    colon = strchr(line, ':');
    if (colon == NULL)
      cfail(c, "malformed header line \"%s\"", line);
    *colon = '\0';
    value = trim(colon + 1, colon + 1 + strlen(colon + 1));
    if (strcasecmp(line, "Upgrade") == 0) {
      if (strcasecmp(value, "websocket") != 0)
        cfail(c, "Upgrade: %s", value);
      got_upgrade = 1;
    } else if (strcasecmp(line, "Connection") == 0) {
      if (has_token(value, "upgrade"))
        got_connection = 1;
    } else if (strcasecmp(line, "Sec-WebSocket-Accept") == 0) {
      if (got_accept++ || strcmp(value, c->accept) != 0)
        cfail(c, "Sec-WebSocket-Accept \"%s\", expected \"%s\"", value,
              c->accept);
    } else if (strcasecmp(line, "Sec-WebSocket-Extensions") == 0) {
      check_extensions(c, value, &elements);
    } else if (strcasecmp(line, "Sec-WebSocket-Protocol") == 0) {
      cfail(c, "Sec-WebSocket-Protocol \"%s\" chosen, none offered", value);
    }
  }
  if (!got_upgrade)
    cfail(c, "101 without Upgrade: websocket");
  if (!got_connection)
    cfail(c, "101 without Connection: upgrade");
  if (!got_accept)
    cfail(c, "101 without Sec-WebSocket-Accept");
  if (opt_deflate && !c->deflate && c->id == 0)
    fprintf(stderr, "ws_load: note: the server declined permessage-deflate\n");
  /* Whatever follows the head is frames. */
  c->in_off = head_len;
  c->state = CS_OPEN;
  c->deadline_ns = 0;
  handshaking--;
  next_step(c, now);
  read_frames(c, now);
  return 1;
}

static void on_readable(struct conn *c, uint64_t now) {
  ssize_t n;
  if (c->in_len == c->in_cap) {
    if (c->in_off > 0) {
      memmove(c->in, c->in + c->in_off, c->in_len - c->in_off);
      c->in_len -= c->in_off;
      c->in_off = 0;
    } else {
      c->in_cap *= 2;
      c->in = xrealloc(c->in, c->in_cap);
    }
  }
  n = recv(c->fd, c->in + c->in_len, c->in_cap - c->in_len, 0);
  if (n < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
      return;
    cfail(c, "recv: %s", strerror(errno));
  }
  if (n == 0) {
    if (c->state == CS_CLOSE_RECEIVED) {
      conn_finish(c);
      return;
    }
    cfail(c, "server closed the TCP connection without a close frame");
  }
  c->in_len += (size_t)n;
  if (c->state == CS_HANDSHAKE) {
    read_handshake(c, now);
  } else if (c->state == CS_CLOSE_RECEIVED) {
    /* Bytes after the server's close are ignored. */
    c->in_off = c->in_len = 0;
  } else {
    read_frames(c, now);
  }
}

static void on_event(struct conn *c, uint32_t events, uint64_t now) {
  if (c->state == CS_CONNECTING) {
    int err = 0;
    socklen_t len = sizeof err;
    if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
      err = errno;
    if (err != 0)
      cfail(c, "connect to %s: %s", host_header, strerror(err));
    if (!(events & (EPOLLOUT | EPOLLIN | EPOLLERR | EPOLLHUP)))
      return;
    c->state = CS_HANDSHAKE;
    flush_out(c);
    if (!(events & EPOLLIN))
      return;
  }
  if ((events & EPOLLOUT) && c->fd >= 0)
    flush_out(c);
  if ((events & (EPOLLIN | EPOLLERR | EPOLLHUP)) && c->fd >= 0)
    on_readable(c, now);
}

/* ---- the run ---- */

static double parse_num(const char *name, const char *s, double lo, double hi) {
  char *end;
  double v;
  errno = 0;
  v = strtod(s, &end);
  if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi) {
    fprintf(stderr, "ws_load: --%s: %s is not a number in [%g, %g]\n", name, s,
            lo, hi);
    exit(2);
  }
  return v;
}

static void usage(int status) {
  fputs("usage: ws_load --port N [--host H] [--path P] [--connections C]\n"
        "               [--size S] [--seconds T] [--warmup W] [--text]\n"
        "               [--deflate] [--timeout SEC] [--idle N]\n"
        "  defaults: --host 127.0.0.1 --path / --connections 100 --size 512\n"
        "            --seconds 5 --warmup 1 --timeout 10\n"
        "  --idle N: open N connections, one echo each, print \"ready N\n"
        "            deflate D compressed C\", hold them until stdin ends\n"
        "            or SIGINT/SIGTERM\n",
        status ? stderr : stdout);
  exit(status);
}

static void parse_args(int argc, char **argv) {
  static const struct option longopts[] = {
      {"host", required_argument, NULL, 'H'},
      {"port", required_argument, NULL, 'p'},
      {"path", required_argument, NULL, 'P'},
      {"connections", required_argument, NULL, 'c'},
      {"size", required_argument, NULL, 's'},
      {"seconds", required_argument, NULL, 't'},
      {"warmup", required_argument, NULL, 'w'},
      {"timeout", required_argument, NULL, 'T'},
      {"text", no_argument, NULL, 'x'},
      {"deflate", no_argument, NULL, 'z'},
      {"idle", required_argument, NULL, 'i'},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0}};
  int ch;
  while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
    switch (ch) {
    case 'H':
      opt_host = optarg;
      break;
    case 'p':
      opt_port = (int)parse_num("port", optarg, 1, 65535);
      break;
    case 'P':
      if (optarg[0] != '/' || strlen(optarg) > 200 ||
          strpbrk(optarg, " \r\n") != NULL) {
        fprintf(stderr, "ws_load: --path must start with / (200 bytes max)\n");
        exit(2);
      }
      opt_path = optarg;
      break;
    case 'c':
      opt_connections = (long)parse_num("connections", optarg, 1, 1000000);
      break;
    case 's':
      opt_size = (long)parse_num("size", optarg, 0, 16 << 20);
      break;
    case 't':
      opt_seconds = parse_num("seconds", optarg, 0.01, 1e6);
      break;
    case 'w':
      opt_warmup = parse_num("warmup", optarg, 0, 1e6);
      break;
    case 'T':
      opt_timeout = parse_num("timeout", optarg, 0.1, 1e6);
      break;
    case 'x':
      opt_text = 1;
      break;
    case 'z':
      opt_deflate = 1;
      break;
    case 'i':
      opt_idle = (long)parse_num("idle", optarg, 1, 1000000);
      break;
    case 'h':
      usage(0);
      break;
    default:
      usage(2);
    }
  }
  if (optind != argc) {
    fprintf(stderr, "ws_load: unexpected argument %s\n", argv[optind]);
    usage(2);
  }
  if (opt_port < 0) {
    fprintf(stderr, "ws_load: --port is required\n");
    usage(2);
  }
}

static void resolve(void) {
  struct addrinfo hints, *res;
  char port[8];
  int r;
  memset(&hints, 0, sizeof hints);
  hints.ai_socktype = SOCK_STREAM;
  snprintf(port, sizeof port, "%d", opt_port);
  r = getaddrinfo(opt_host, port, &hints, &res);
  if (r != 0)
    fail("%s: %s", opt_host, gai_strerror(r));
  memcpy(&peer, res->ai_addr, res->ai_addrlen);
  peer_len = res->ai_addrlen;
  freeaddrinfo(res);
  snprintf(host_header, sizeof host_header,
           strchr(opt_host, ':') ? "[%s]:%d" : "%s:%d", opt_host, opt_port);
}

static void raise_nofile(long want) {
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= (rlim_t)want)
    return;
  if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < (rlim_t)want)
    rl.rlim_max = (rlim_t)want; /* works as root only */
  rl.rlim_cur = (rlim_t)want;
  if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
    fail("cannot raise RLIMIT_NOFILE to %ld: %s", want, strerror(errno));
}

/* Stalls: a connection waiting longer than --timeout for anything. */
static void check_deadlines(uint64_t now) {
  long i;
  for (i = 0; i < opened; i++) {
    struct conn *c = &conns[i];
    if (c->deadline_ns == 0 || now < c->deadline_ns)
      continue;
    if (c->state == CS_CONNECTING || c->state == CS_HANDSHAKE)
      cfail(c, "no handshake response within %g s", opt_timeout);
    if (c->state == CS_OPEN)
      cfail(c, "no echo within %g s", opt_timeout);
    cfail(c, "the server did not complete the close within %g s", opt_timeout);
  }
}

/* CPU time (user + system) this process has used, in seconds. */
static double cpu_seconds(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
         (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static void report(uint64_t t_start, uint64_t t_measure, uint64_t t_end,
                   double cpu) {
  double secs = (double)(t_end - t_measure) / 1e9;
  printf("target: %s%s, %ld connections, %ld-byte %s messages, "
         "permessage-deflate %s\n",
         host_header, opt_path, nconns, opt_size, opt_text ? "text" : "binary",
         !opt_deflate       ? "not offered"
         : conns[0].deflate ? "negotiated"
                            : "declined");
  printf("warm-up: %.3f s, measured: %.3f s\n",
         (double)(t_measure - t_start) / 1e9, secs);
  printf("round trips: %" PRIu64 " (all phases: %" PRIu64
         ", compressed echoes: %" PRIu64 ")\n",
         measured, total_trips, compressed_echoes);
  printf("msgs/s: %.1f\n", secs > 0 ? (double)measured / secs : 0.0);
  if (hist_count > 0) {
    printf("latency p50: %.3f ms\n", hist_quantile(0.50) / 1e6);
    printf("latency p99: %.3f ms\n", hist_quantile(0.99) / 1e6);
    printf("latency max: %.3f ms\n", (double)hist_max / 1e6);
    printf("latency mean: %.3f ms\n",
           (double)hist_sum / (double)hist_count / 1e6);
  }
  /* Near 100 %: the generator, not the server, may set the figure. */
  printf("ws_load cpu: %.1f %% of one core\n", secs > 0 ? cpu / secs * 100 : 0);
  fflush(stdout);
}

int main(int argc, char **argv) {
  struct epoll_event events[256], ev;
  sigset_t sigs;
  int sfd, stdin_polled = 0, stop = 0;
  double cpu_measure = 0;
  uint64_t t_start = 0, t_measure = 0, t_end = 0, last_check = 0, now;
  long i;

  parse_args(argc, argv);
  self_test();
  rng_seed();
  resolve();
  nconns = opt_idle > 0 ? opt_idle : opt_connections;
  raise_nofile(nconns + 64);
  if (opt_deflate)
    zlib_init();

  epfd = epoll_create1(EPOLL_CLOEXEC);
  if (epfd < 0)
    fail("epoll_create1: %s", strerror(errno));
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGINT);
  sigaddset(&sigs, SIGTERM);
  sigaddset(&sigs, SIGHUP);
  sigprocmask(SIG_BLOCK, &sigs, NULL);
  sfd = signalfd(-1, &sigs, SFD_NONBLOCK | SFD_CLOEXEC);
  if (sfd < 0)
    fail("signalfd: %s", strerror(errno));
  ev.events = EPOLLIN;
  ev.data.u64 = SIGNAL_TAG;
  if (epoll_ctl(epfd, EPOLL_CTL_ADD, sfd, &ev) != 0)
    fail("epoll_ctl: %s", strerror(errno));

  conns = calloc((size_t)nconns, sizeof *conns);
  if (conns == NULL)
    fail("out of memory");
  for (i = 0; i < nconns; i++) {
    struct conn *c = &conns[i];
    size_t j;
    c->id = (int)i;
    c->fd = -1;
    c->in_cap = 4096 + (size_t)opt_size + (size_t)opt_size / 8;
    c->in = xmalloc(c->in_cap);
    c->payload = xmalloc((size_t)opt_size);
    for (j = 0; j < (size_t)opt_size; j++)
      c->payload[j] = (uint8_t)(' ' + rng_next() % 95);
  }

  t_start = now_ns();
  while (!stop || finished < opened) {
    int n, k, timeout = 20;
    now = now_ns();
    while (phase == PH_SETUP && opened < nconns && handshaking < MAX_HANDSHAKES)
      start_connection(&conns[opened]);

    /* Phase changes. */
    if (phase == PH_SETUP && ready == nconns) {
      if (opt_idle > 0) {
        long negotiated = 0;
        for (i = 0; i < nconns; i++)
          negotiated += conns[i].deflate;
        phase = PH_IDLE;
        printf("ready %ld deflate %ld compressed %" PRIu64 "\n", nconns,
               negotiated, compressed_echoes);
        fflush(stdout);
        ev.events = EPOLLIN;
        ev.data.u64 = STDIN_TAG;
        stdin_polled = epoll_ctl(epfd, EPOLL_CTL_ADD, 0, &ev) == 0;
        if (!stdin_polled)
          fprintf(stderr,
                  "ws_load: stdin cannot be polled (%s); holding "
                  "until SIGINT/SIGTERM\n",
                  strerror(errno));
        timeout = 1000;
      } else {
        phase = PH_WARMUP;
        t_start = now;
      }
    }
    if (phase == PH_WARMUP && now - t_start >= (uint64_t)(opt_warmup * 1e9)) {
      phase = PH_MEASURE;
      t_measure = now;
      cpu_measure = cpu_seconds();
    }
    if (phase == PH_MEASURE &&
        now - t_measure >= (uint64_t)(opt_seconds * 1e9)) {
      t_end = now;
      stop = 1;
      /* Figures first: the closing handshake below can still fail. */
      report(t_start, t_measure, t_end, cpu_seconds() - cpu_measure);
    }
    if (stop && phase != PH_DRAIN) {
      phase = PH_DRAIN;
      for (i = 0; i < opened; i++) {
        struct conn *c = &conns[i];
        if (c->state == CS_OPEN && !c->waiting)
          send_close(c, now);
        else if (c->state == CS_CONNECTING || c->state == CS_HANDSHAKE)
          conn_finish(c); /* interrupted during setup */
      }
    }
    if (stop && finished >= opened)
      break;
    if (phase == PH_IDLE)
      timeout = 1000;

    n = epoll_wait(epfd, events, 256, timeout);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      fail("epoll_wait: %s", strerror(errno));
    }
    now = now_ns();
    for (k = 0; k < n; k++) {
      uint64_t tag = events[k].data.u64;
      if (tag == SIGNAL_TAG) {
        struct signalfd_siginfo si;
        if (read(sfd, &si, sizeof si) == (ssize_t)sizeof si) {
          if (phase != PH_IDLE)
            fail("interrupted by signal %u", si.ssi_signo);
          stop = 1;
        }
      } else if (tag == STDIN_TAG) {
        char buf[512];
        ssize_t r = read(0, buf, sizeof buf);
        if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR)) {
          epoll_ctl(epfd, EPOLL_CTL_DEL, 0, NULL);
          stop = 1;
        }
      } else if (conns[tag].fd >= 0) {
        on_event(&conns[tag], events[k].events, now);
      }
    }
    if (now - last_check >= 100000000u) { /* every 100 ms is enough */
      check_deadlines(now);
      last_check = now;
    }
  }

  if (opt_idle > 0) {
    fprintf(stderr,
            "ws_load: closed %ld idle connections (%" PRIu64 " echoes, %" PRIu64
            " of them compressed)\n",
            finished, total_trips, compressed_echoes);
    return 0;
  }
  if (measured == 0)
    fail("no round trip completed in the measured window");
  return 0;
}
