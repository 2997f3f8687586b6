/* A 1 GiB streaming upload to examples/hello's POST /echo, read back while
 * it is being sent: the echoed bytes are compared with the sent ones (every
 * byte, regenerated from its offset) and the server's memory must stay
 * flat (peak RSS growth below 64 MiB). A Content-Length upload and a
 * chunked one.
 *
 * GUST_SRV_UPLOAD_MIB overrides the size (MiB) of the Content-Length
 * upload; the chunked one is a quarter of it. Under AddressSanitizer the
 * sizes are divided by four, the server's quarantine is shrunk and the
 * memory bound is relaxed (shadow memory and quarantine).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../tap.h"
#include "srv_common.h"

#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif
#ifndef UNDER_ASAN
#define UNDER_ASAN 0
#endif

#define MIB   (1024 * 1024)
#define BLOCK (64 * 1024)

/* The byte stream: 64-bit words splitmix64(i), little-endian. */
static uint64_t mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

/* Fills out[0..len) with the stream bytes at offset `off`. */
static void gen(uint64_t off, uint8_t *out, size_t len) {
  size_t i = 0;
  while (i < len) {
    uint64_t w = mix((off + i) / 8);
    unsigned b = (unsigned)((off + i) % 8);
    for (; b < 8 && i < len; b++, i++)
      out[i] = (uint8_t)(w >> (8 * b));
  }
}

/* Incremental reader of the echo response. */
typedef struct reader {
  dbuf head;
  int head_done, status, chunked, done, bad;
  uint64_t left;  /* bytes left in the Content-Length body or chunk */
  int cstate;     /* chunked: 0 size line, 1 data, 2 CRLF, 3 trailers */
  char line[128]; /* a chunk-size or trailer line */
  size_t line_len;
  uint64_t got;      /* body bytes received */
  uint64_t mismatch; /* first differing offset + 1, 0 = none */
  uint8_t want[BLOCK];
} reader;

static void body_bytes(reader *rd, const uint8_t *p, size_t n) {
  while (n > 0) {
    size_t k = n < BLOCK ? n : BLOCK;
    gen(rd->got, rd->want, k);
    if (rd->mismatch == 0 && memcmp(rd->want, p, k) != 0) {
      size_t j = 0;
      while (rd->want[j] == p[j])
        j++;
      rd->mismatch = rd->got + j + 1;
    }
    rd->got += k;
    p += k;
    n -= k;
  }
}

/* Feeds received bytes; sets done or bad. */
static void feed(reader *rd, const uint8_t *p, size_t n) {
  while (n > 0 && !rd->done && !rd->bad) {
    if (!rd->head_done) {
      dbuf_add(&rd->head, p, n);
      n = 0;
      resp r;
      memset(&r, 0, sizeof(r));
      long used = resp_parse(rd->head.p, rd->head.len, 1, 0, &r);
      if (used < 0) {
        rd->bad = 1;
        return;
      }
      if (used == 0)
        return;
      if (r.status == 100) {
        dbuf_consume(&rd->head, (size_t)used);
        n = 0;
        if (rd->head.len > 0) {
          /* Re-feed what followed the interim response. */
          dbuf rest = rd->head;
          memset(&rd->head, 0, sizeof(rd->head));
          feed(rd, rest.p, rest.len);
          dbuf_free(&rest);
        }
        return;
      }
      rd->head_done = 1;
      rd->status = r.status;
      rd->chunked = r.chunked;
      rd->left = r.clen;
      if (!r.chunked && !r.has_clen) {
        rd->bad = 1; /* the echo must frame its body */
        return;
      }
      dbuf rest = {0};
      dbuf_add(&rest, rd->head.p + used, rd->head.len - (size_t)used);
      resp_free(&r);
      if (!rd->chunked && rd->left == 0)
        rd->done = 1;
      if (rest.len > 0)
        feed(rd, rest.p, rest.len);
      dbuf_free(&rest);
      return;
    }
    if (!rd->chunked) {
      size_t k = n < rd->left ? n : (size_t)rd->left;
      body_bytes(rd, p, k);
      rd->left -= k;
      p += k;
      n -= k;
      if (rd->left == 0)
        rd->done = 1;
      if (n > 0)
        rd->bad = 1; /* bytes after the response */
      continue;
    }
    switch (rd->cstate) {
    case 0:
    case 3:
      if (rd->line_len >= sizeof(rd->line) - 1) {
        rd->bad = 1;
        return;
      }
      rd->line[rd->line_len++] = (char)*p++;
      n--;
      if (rd->line_len >= 2 && rd->line[rd->line_len - 2] == '\r' &&
          rd->line[rd->line_len - 1] == '\n') {
        rd->line[rd->line_len - 2] = '\0';
        if (rd->cstate == 3) {
          if (rd->line_len == 2)
            rd->done = 1;
        } else {
          char *e;
          rd->left = strtoull(rd->line, &e, 16);
          if (e == rd->line || (*e != '\0' && *e != ';')) {
            rd->bad = 1;
            return;
          }
          rd->cstate = rd->left == 0 ? 3 : 1;
        }
        rd->line_len = 0;
      }
      break;
    case 1: {
      size_t k = n < rd->left ? n : (size_t)rd->left;
      body_bytes(rd, p, k);
      rd->left -= k;
      p += k;
      n -= k;
      if (rd->left == 0)
        rd->cstate = 2;
      break;
    }
    case 2:
      if (*p != (rd->line_len == 0 ? '\r' : '\n')) {
        rd->bad = 1;
        return;
      }
      p++;
      n--;
      if (++rd->line_len == 2) {
        rd->line_len = 0;
        rd->cstate = 0;
      }
      break;
    }
  }
}

/* Uploads `total` bytes (chunked or with Content-Length) while reading the
 * echo; checks the result and the server's memory. */
static void upload(srv *s, uint64_t total, int chunked, long rss_limit_kib) {
  const char *name = chunked ? "chunked" : "Content-Length";
  static uint8_t out[BLOCK + 64], in[256 * 1024];
  static reader rd;
  char head[256];
  memset(&rd, 0, sizeof(rd));

  long rss0 = proc_status_kib(s->pid, "VmRSS");
  long hwm0 = proc_status_kib(s->pid, "VmHWM");
  long rss_max = rss0;
  int fd = conn_open(s->port);
  if (fd < 0) {
    ok(0, "%s upload: connect", name);
    return;
  }
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
  int hl = chunked ? snprintf(head, sizeof(head),
                              "POST /echo HTTP/1.1\r\nHost: a\r\n"
                              "Transfer-Encoding: chunked\r\n\r\n")
                   : snprintf(head, sizeof(head),
                              "POST /echo HTTP/1.1\r\nHost: a\r\n"
                              "Content-Length: %" PRIu64 "\r\n\r\n",
                              total);
  /* The pending output: out[opos..olen). */
  size_t olen = (size_t)hl, opos = 0;
  memcpy(out, head, olen);
  uint64_t sent = 0, next_sample = 0;
  int trailer_sent = 0, eof = 0, err = 0;
  double t0 = now_sec(), last_progress = t0;

  while (!rd.done && !rd.bad && !eof && !err) {
    if (opos == olen && !trailer_sent) {
      opos = olen = 0;
      if (sent < total) {
        size_t k = total - sent < BLOCK ? (size_t)(total - sent) : BLOCK;
        size_t pre = 0;
        if (chunked)
          pre = (size_t)snprintf((char *)out, 32, "%zx\r\n", k);
        gen(sent, out + pre, k);
        olen = pre + k;
        if (chunked) {
          memcpy(out + olen, "\r\n", 2);
          olen += 2;
        }
        sent += k;
      } else {
        if (chunked) {
          memcpy(out, "0\r\n\r\n", 5);
          olen = 5;
        }
        trailer_sent = 1;
      }
    }
    struct pollfd p = {fd, POLLIN | (opos < olen ? POLLOUT : 0), 0};
    int n = poll(&p, 1, 1000);
    if (n < 0 && errno == EINTR)
      continue;
    if (n == 0 && now_sec() - last_progress > SRV_IO_TIMEOUT) {
      diag("%s upload: no progress for %d s", name, SRV_IO_TIMEOUT);
      err = 1;
      break;
    }
    if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
      ssize_t r = recv(fd, in, sizeof(in), 0);
      if (r > 0) {
        feed(&rd, in, (size_t)r);
        last_progress = now_sec();
      } else if (r == 0) {
        eof = 1;
      } else if (errno != EAGAIN && errno != EINTR) {
        err = 1;
      }
    }
    if ((p.revents & POLLOUT) && opos < olen) {
      ssize_t w = send(fd, out + opos, olen - opos, MSG_NOSIGNAL);
      if (w > 0) {
        opos += (size_t)w;
        last_progress = now_sec();
      } else if (w < 0 && errno != EAGAIN && errno != EINTR) {
        err = 1;
      }
    }
    if (sent >= next_sample) {
      long rss = proc_status_kib(s->pid, "VmRSS");
      if (rss > rss_max)
        rss_max = rss;
      next_sample = sent + 16 * MIB;
    }
  }
  double secs = now_sec() - t0;
  close(fd);
  long hwm = proc_status_kib(s->pid, "VmHWM");
  long growth = (hwm > rss_max ? hwm : rss_max) - rss0;

  ok(!err && !eof && !rd.bad && rd.done,
     "%s upload: the echo response completes (%.1f s, %.0f MiB/s)", name, secs,
     secs > 0 ? (double)total / MIB / secs : 0.0);
  is_int(rd.status, 200, "%s upload: status 200", name);
  ok(sent == total && trailer_sent, "%s upload: all %" PRIu64 " bytes sent",
     name, total);
  ok(rd.got == total,
     "%s upload: byte count echoed (%" PRIu64 " of %" PRIu64 ")", name, rd.got,
     total);
  ok(rd.mismatch == 0, "%s upload: echoed content identical%s", name,
     rd.mismatch ? " (differs)" : "");
  if (rd.mismatch)
    diag("first difference at offset %" PRIu64, rd.mismatch - 1);
  ok(rss0 > 0 && growth < rss_limit_kib,
     "%s upload: server memory flat (RSS %ld KiB before, peak growth %ld "
     "KiB, VmHWM %ld -> %ld KiB)",
     name, rss0, growth, hwm0, hwm);
  dbuf_free(&rd.head);
}

int main(void) {
  uint64_t mib = UNDER_ASAN ? 256 : 1024;
  const char *env = getenv("GUST_SRV_UPLOAD_MIB");
  if (env != NULL && atoi(env) > 0)
    mib = (uint64_t)atoi(env);
  long limit_kib = (UNDER_ASAN ? 256 : 64) * 1024;
  if (UNDER_ASAN) {
    /* ASan's quarantine (256 MiB by default) would hold every freed
     * buffer: keep it small in the server so that RSS means something. */
    static char env_buf[1024];
    const char *old = getenv("ASAN_OPTIONS");
    snprintf(env_buf, sizeof(env_buf), "%s%squarantine_size_mb=16",
             old != NULL ? old : "", old != NULL && *old ? ":" : "");
    setenv("ASAN_OPTIONS", env_buf, 1);
  }
  srv s;
  if (srv_start(&s, NULL, 0) != 0) {
    ok(0, "examples/hello starts");
    return done_testing();
  }
  ok(1, "examples/hello listens on port %d", s.port);

  /* Warm up: one small echo, so that the baseline includes the first
   * connection's buffers. */
  {
    dbuf in = {0};
    resp r;
    memset(&r, 0, sizeof(r));
    int fd = conn_open(s.port);
    ok(fd >= 0 &&
           send_str(fd, "POST /echo HTTP/1.1\r\nHost: a\r\n"
                        "Content-Length: 5\r\n\r\nhello") == 0 &&
           read_response(fd, &in, 0, &r) == 1 && r.status == 200 &&
           r.body.len == 5,
       "a small echo works");
    if (fd >= 0)
      close(fd);
    resp_free(&r);
    dbuf_free(&in);
  }
  if (tap_group("content-length"))
    upload(&s, mib * MIB, 0, limit_kib);
  if (tap_group("chunked"))
    upload(&s, mib / 4 * MIB, 1, limit_kib);
  is_int(srv_stop(&s, 30), 0, "hello exits 0 on SIGTERM");
  return done_testing();
}
