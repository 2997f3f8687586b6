/* Shared helpers of the black-box HTTP server tests: see srv_common.h. */
#include "config.h"

#include "srv_common.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../tap.h"

#ifndef GUST_TOP_BUILDDIR
#define GUST_TOP_BUILDDIR "."
#endif

/* ------------------------------------------------------------------ */
/* Buffers                                                              */
/* ------------------------------------------------------------------ */

void dbuf_add(dbuf *b, const void *data, size_t len) {
  if (len == 0)
    return;
  if (b->len + len > b->cap) {
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + len)
      cap *= 2;
    uint8_t *p = realloc(b->p, cap);
    if (p == NULL)
      bail_out("out of memory");
    b->p = p;
    b->cap = cap;
  }
  memcpy(b->p + b->len, data, len);
  b->len += len;
}

void dbuf_adds(dbuf *b, const char *s) { dbuf_add(b, s, strlen(s)); }

void dbuf_consume(dbuf *b, size_t n) {
  if (n >= b->len) {
    b->len = 0;
    return;
  }
  memmove(b->p, b->p + n, b->len - n);
  b->len -= n;
}

void dbuf_free(dbuf *b) {
  free(b->p);
  b->p = NULL;
  b->len = b->cap = 0;
}

/* ------------------------------------------------------------------ */
/* The server child                                                     */
/* ------------------------------------------------------------------ */

/* Children still running, killed at exit. */
#define MAX_CHILDREN 16
static pid_t children[MAX_CHILDREN];
static int at_exit_set;

static void kill_children(void) {
  for (int i = 0; i < MAX_CHILDREN; i++) {
    if (children[i] > 0) {
      kill(children[i], SIGKILL);
      waitpid(children[i], NULL, 0);
      children[i] = 0;
    }
  }
}

static void track(pid_t pid, int add) {
  for (int i = 0; i < MAX_CHILDREN; i++) {
    if (add ? children[i] == 0 : children[i] == pid) {
      children[i] = add ? pid : 0;
      return;
    }
  }
}

const char *srv_hello_path(void) {
  const char *p = getenv("GUST_HELLO");
  return p != NULL && *p != '\0' ? p : GUST_TOP_BUILDDIR "/examples/hello";
}

double now_sec(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int raise_nofile(long n) {
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
    return -1;
  if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur >= (rlim_t)n)
    return 0;
  if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < (rlim_t)n)
    rl.rlim_max = (rlim_t)n;
  rl.rlim_cur = (rlim_t)n;
  return setrlimit(RLIMIT_NOFILE, &rl);
}

int srv_start(srv *s, const char *const *args, long nofile) {
  const char *path = srv_hello_path();
  const char *argv[32];
  int n = 0, pfd[2];
  argv[n++] = path;
  argv[n++] = "-p";
  argv[n++] = "0";
  argv[n++] = "--host";
  argv[n++] = "127.0.0.1";
  for (int i = 0; args != NULL && args[i] != NULL && n < 31; i++)
    argv[n++] = args[i];
  argv[n] = NULL;

  s->pid = -1;
  s->port = -1;
  s->out_fd = -1;
  if (access(path, X_OK) != 0) {
    diag("%s is not an executable: %s", path, strerror(errno));
    return -1;
  }
  if (!at_exit_set) {
    atexit(kill_children);
    at_exit_set = 1;
  }
  if (pipe(pfd) != 0)
    return -1;
  fflush(stdout);
  fflush(stderr);
  pid_t pid = fork();
  if (pid < 0) {
    close(pfd[0]);
    close(pfd[1]);
    return -1;
  }
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (nofile > 0 && raise_nofile(nofile) != 0)
      _exit(126);
    dup2(pfd[1], 1);
    close(pfd[0]);
    close(pfd[1]);
    signal(SIGPIPE, SIG_DFL);
    alarm(0);
    execv(path, (char *const *)argv);
    _exit(127);
  }
  close(pfd[1]);
  s->pid = pid;
  s->out_fd = pfd[0];
  track(pid, 1);

  /* Reads "listening on PORT\n" within a generous delay. */
  char line[128];
  size_t len = 0;
  double end = now_sec() + SRV_IO_TIMEOUT;
  while (len < sizeof(line) - 1) {
    struct pollfd p = {pfd[0], POLLIN, 0};
    int ms = (int)((end - now_sec()) * 1000);
    if (ms <= 0 || poll(&p, 1, ms) <= 0)
      break;
    if (read(pfd[0], line + len, 1) != 1)
      break;
    if (line[len] == '\n') {
      line[len] = '\0';
      int port;
      if (sscanf(line, "listening on %d", &port) == 1 && port > 0) {
        s->port = port;
        return 0;
      }
      len = 0; /* another line: keep looking */
      continue;
    }
    len++;
  }
  diag("%s did not print `listening on PORT`", path);
  srv_kill(s);
  return -1;
}

int srv_wait(srv *s, double secs) {
  double end = now_sec() + secs;
  int status;
  if (s->pid <= 0)
    return -1;
  for (;;) {
    pid_t r = waitpid(s->pid, &status, WNOHANG);
    if (r == s->pid) {
      track(s->pid, 0);
      s->pid = -1;
      if (s->out_fd >= 0)
        close(s->out_fd);
      s->out_fd = -1;
      return status;
    }
    if (r < 0 || now_sec() > end)
      return -1;
    usleep(20000);
  }
}

int srv_stop(srv *s, double secs) {
  if (s->pid <= 0)
    return -1;
  kill(s->pid, SIGTERM);
  int st = srv_wait(s, secs);
  if (st == -1)
    srv_kill(s);
  return st;
}

void srv_kill(srv *s) {
  if (s->pid > 0) {
    kill(s->pid, SIGKILL);
    waitpid(s->pid, NULL, 0);
    track(s->pid, 0);
  }
  s->pid = -1;
  if (s->out_fd >= 0)
    close(s->out_fd);
  s->out_fd = -1;
}

long proc_status_kib(pid_t pid, const char *field) {
  char path[64], line[256];
  size_t flen = strlen(field);
  long v = -1;
  snprintf(path, sizeof(path), "/proc/%ld/status", (long)pid);
  FILE *f = fopen(path, "r");
  if (f == NULL)
    return -1;
  while (fgets(line, sizeof(line), f) != NULL) {
    if (strncmp(line, field, flen) == 0 && line[flen] == ':') {
      v = strtol(line + flen + 1, NULL, 10);
      break;
    }
  }
  fclose(f);
  return v;
}

/* ------------------------------------------------------------------ */
/* Connections                                                          */
/* ------------------------------------------------------------------ */

void conn_set_rcvtimeo(int fd, double secs) {
  struct timeval tv;
  tv.tv_sec = (time_t)secs;
  tv.tv_usec = (suseconds_t)((secs - (double)tv.tv_sec) * 1e6);
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
}

int conn_open(int port) {
  struct sockaddr_in sa;
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return -1;
  memset(&sa, 0, sizeof(sa));
  sa.sin_family = AF_INET;
  sa.sin_port = htons((uint16_t)port);
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  struct timeval tv = {SRV_IO_TIMEOUT, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
    int e = errno;
    close(fd);
    errno = e;
    return -1;
  }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  return fd;
}

int send_all(int fd, const void *data, size_t len) {
  const uint8_t *p = data;
  while (len > 0) {
    ssize_t w = send(fd, p, len, MSG_NOSIGNAL);
    if (w < 0 && errno == EINTR)
      continue;
    if (w <= 0)
      return -1;
    p += w;
    len -= (size_t)w;
  }
  return 0;
}

int send_str(int fd, const char *s) { return send_all(fd, s, strlen(s)); }

int read_to_eof(int fd, dbuf *b) {
  uint8_t tmp[16384];
  for (;;) {
    ssize_t r = read(fd, tmp, sizeof(tmp));
    if (r > 0) {
      dbuf_add(b, tmp, (size_t)r);
      continue;
    }
    if (r == 0)
      return 0;
    if (errno == EINTR)
      continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK)
      return -2;
    return -1;
  }
}

int wait_closed(int fd, double secs) {
  uint8_t tmp[4096];
  double end = now_sec() + secs;
  for (;;) {
    int ms = (int)((end - now_sec()) * 1000);
    if (ms <= 0)
      return 0;
    struct pollfd p = {fd, POLLIN, 0};
    int n = poll(&p, 1, ms);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return 0;
    ssize_t r = recv(fd, tmp, sizeof(tmp), MSG_DONTWAIT);
    if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR))
      return 1;
  }
}

/* ------------------------------------------------------------------ */
/* Responses                                                            */
/* ------------------------------------------------------------------ */

void resp_free(resp *r) { dbuf_free(&r->body); }

static const uint8_t *find_mem(const uint8_t *h, size_t hl, const char *n) {
  size_t nl = strlen(n);
  if (nl == 0 || hl < nl)
    return NULL;
  for (size_t i = 0; i + nl <= hl; i++)
    if (h[i] == (uint8_t)n[0] && memcmp(h + i, n, nl) == 0)
      return h + i;
  return NULL;
}

size_t count_mem(const uint8_t *hay, size_t len, const char *needle) {
  size_t n = 0, nl = strlen(needle);
  const uint8_t *p = hay, *end = hay + len;
  while (p < end) {
    const uint8_t *q = find_mem(p, (size_t)(end - p), needle);
    if (q == NULL)
      break;
    n++;
    p = q + nl;
  }
  return n;
}

int resp_header(const resp *r, const char *name, char *out, size_t outlen) {
  size_t nl = strlen(name);
  const char *line = strstr(r->head, "\r\n");
  while (line != NULL) {
    line += 2;
    const char *eol = strstr(line, "\r\n");
    if (eol == NULL || eol == line)
      break;
    if ((size_t)(eol - line) > nl && line[nl] == ':' &&
        strncasecmp(line, name, nl) == 0) {
      const char *v = line + nl + 1;
      while (v < eol && (*v == ' ' || *v == '\t'))
        v++;
      const char *ve = eol;
      while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
        ve--;
      size_t vl = (size_t)(ve - v);
      if (vl >= outlen)
        vl = outlen - 1;
      memcpy(out, v, vl);
      out[vl] = '\0';
      return 1;
    }
    line = eol;
  }
  return 0;
}

/* Parses the chunked body starting at `p`; returns the bytes used, 0 if
 * incomplete, -1 if invalid. */
static long parse_chunked(const uint8_t *p, size_t len, dbuf *body) {
  size_t pos = 0;
  body->len = 0;
  for (;;) {
    const uint8_t *eol = find_mem(p + pos, len - pos, "\r\n");
    if (eol == NULL)
      return 0;
    size_t line_end = (size_t)(eol - p);
    uint64_t size = 0;
    size_t i = pos;
    if (i == line_end || !isxdigit(p[i]))
      return -1;
    for (; i < line_end && isxdigit(p[i]); i++) {
      if (size >> 59)
        return -1;
      int c = p[i];
      size = size * 16 + (uint64_t)(c <= '9'   ? c - '0'
                                    : c <= 'F' ? c - 'A' + 10
                                               : c - 'a' + 10);
    }
    if (i != line_end && p[i] != ';')
      return -1;
    pos = line_end + 2;
    if (size == 0) {
      /* Trailers, then an empty line. */
      for (;;) {
        eol = find_mem(p + pos, len - pos, "\r\n");
        if (eol == NULL)
          return 0;
        size_t l = (size_t)(eol - (p + pos));
        pos += l + 2;
        if (l == 0)
          return (long)pos;
      }
    }
    if (len - pos < size + 2)
      return 0;
    dbuf_add(body, p + pos, (size_t)size);
    pos += (size_t)size;
    if (p[pos] != '\r' || p[pos + 1] != '\n')
      return -1;
    pos += 2;
  }
}

long resp_parse(const uint8_t *in, size_t len, int no_body, int eof, resp *r) {
  const uint8_t *end = find_mem(in, len, "\r\n\r\n");
  char v[256];
  if (end == NULL)
    return len >= 8 && memcmp(in, "HTTP/1.", 7) != 0 ? -1 : 0;
  size_t hl = (size_t)(end - in) + 4;
  if (hl < 13 || memcmp(in, "HTTP/1.", 7) != 0 || in[8] != ' ' ||
      !isdigit(in[9]) || !isdigit(in[10]) || !isdigit(in[11]))
    return -1;
  r->status = (in[9] - '0') * 100 + (in[10] - '0') * 10 + (in[11] - '0');
  r->head_len = hl;
  size_t cp = hl < sizeof(r->head) - 1 ? hl : sizeof(r->head) - 1;
  memcpy(r->head, in, cp);
  r->head[cp] = '\0';
  r->conn_close = 0;
  r->has_clen = 0;
  r->clen = 0;
  r->chunked = 0;
  r->body.len = 0;
  if (resp_header(r, "Connection", v, sizeof(v)))
    for (const char *c = v; *c != '\0'; c++)
      if (strncasecmp(c, "close", 5) == 0)
        r->conn_close = 1;
  if (resp_header(r, "Transfer-Encoding", v, sizeof(v))) {
    if (strcasecmp(v, "chunked") != 0)
      return -1;
    r->chunked = 1;
  }
  if (resp_header(r, "Content-Length", v, sizeof(v))) {
    char *e;
    errno = 0;
    unsigned long long n = strtoull(v, &e, 10);
    if (*e != '\0' || errno != 0 || v[0] == '\0')
      return -1;
    r->has_clen = 1;
    r->clen = n;
  }
  if (r->status == 100)
    return (long)hl; /* an interim response: the caller reads on */
  if (no_body || r->status == 204 || r->status == 304)
    return (long)hl;
  if (r->chunked) {
    long used = parse_chunked(in + hl, len - hl, &r->body);
    return used <= 0 ? used : (long)hl + used;
  }
  if (r->has_clen) {
    if (len - hl < r->clen)
      return 0;
    dbuf_add(&r->body, in + hl, (size_t)r->clen);
    return (long)(hl + r->clen);
  }
  if (!eof)
    return 0;
  dbuf_add(&r->body, in + hl, len - hl);
  return (long)len;
}

int read_response(int fd, dbuf *in, int no_body, resp *r) {
  uint8_t tmp[65536];
  int eof = 0;
  for (;;) {
    if (in->len > 0) {
      long used = resp_parse(in->p, in->len, no_body, eof, r);
      if (used < 0)
        return -1;
      if (used > 0) {
        dbuf_consume(in, (size_t)used);
        if (r->status == 100)
          continue;
        return 1;
      }
    }
    if (eof)
      return 0;
    ssize_t n = read(fd, tmp, sizeof(tmp));
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return -1;
    if (n == 0)
      eof = 1;
    else
      dbuf_add(in, tmp, (size_t)n);
  }
}
