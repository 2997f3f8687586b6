/* Static files: gust_web_static_handler over loopback, as the application
 * routes it for static_path and as a route added by hand, talked to with
 * gust's HTTP client and with raw sockets for what a client library will
 * not send. The fixtures (files, directories, symbolic links, a FIFO) are
 * made in a temporary directory and removed at the end. Tornado's
 * StaticFileTest cases that apply are here, named after them. */
#define _GNU_SOURCE
#include <gust/crypto.h>
#include <gust/httpclient.h>
#include <gust/httputil.h>
#include <gust/web.h>

#include <dirent.h>
#include <ftw.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <time.h>

#include <gust/testing.h>

#include "../net/tcp_common.h"

static gust_loop *loop;

/* ------------------------------------------------------------------ */
/* Fixtures                                                             */
/* ------------------------------------------------------------------ */

#define BIG_SIZE   ((size_t)3 * 1024 * 1024 + 12345) /* not a piece multiple */
#define HUGE_SIZE  ((size_t)16 * 1024 * 1024)
#define RANGE_TEXT "0123456789abcdefghij" /* 20 bytes */

static char base[PATH_MAX];    /* the temporary directory */
static char root[PATH_MAX];    /* base/root: what is served */
static char outside[PATH_MAX]; /* base/outside: never served */
static char sibling[PATH_MAX]; /* base/rootx: shares root's prefix */
static uint8_t *big;           /* content of root/big.bin */

static void path_of(char *out, const char *dir, const char *rel) {
  if ((size_t)snprintf(out, PATH_MAX, "%s/%s", dir, rel) >= PATH_MAX)
    bail_out("path too long");
}

static void write_file(const char *dir, const char *rel, const void *data,
                       size_t len) {
  char p[PATH_MAX];
  FILE *f;
  path_of(p, dir, rel);
  f = fopen(p, "wb");
  if (f == NULL || (len > 0 && fwrite(data, 1, len, f) != len) ||
      fclose(f) != 0)
    bail_out("cannot write %s: %s", p, strerror(errno));
}

static void write_str(const char *dir, const char *rel, const char *s) {
  write_file(dir, rel, s, strlen(s));
}

static void make_dir(const char *dir, const char *rel) {
  char p[PATH_MAX];
  path_of(p, dir, rel);
  if (mkdir(p, 0755) != 0)
    bail_out("mkdir %s: %s", p, strerror(errno));
}

static void make_link(const char *target, const char *rel) {
  char p[PATH_MAX];
  path_of(p, root, rel);
  if (symlink(target, p) != 0)
    bail_out("symlink %s: %s", p, strerror(errno));
}

/* Sets the modification time of root/rel (seconds, nanoseconds). */
static void set_mtime(const char *rel, time_t sec, long nsec) {
  struct timespec ts[2];
  char p[PATH_MAX];
  path_of(p, root, rel);
  ts[0].tv_sec = sec;
  ts[0].tv_nsec = nsec;
  ts[1] = ts[0];
  if (utimensat(AT_FDCWD, p, ts, 0) != 0)
    bail_out("utimensat %s: %s", p, strerror(errno));
}

static int rm_one(const char *p, const struct stat *st, int type,
                  struct FTW *ftw);

/* Removes what runs killed before their cleanup (a sanitizer's abort, a
 * timeout) left: /tmp/gust-static-PID-* of processes that are gone. */
static void sweep_stale(void) {
  DIR *d = opendir("/tmp");
  struct dirent *e;
  char p[PATH_MAX];
  int pid;
  if (d == NULL)
    return;
  while ((e = readdir(d)) != NULL)
    if (sscanf(e->d_name, "gust-static-%d-", &pid) == 1 && pid > 0 &&
        kill((pid_t)pid, 0) != 0 && errno == ESRCH) {
      snprintf(p, sizeof(p), "/tmp/%s", e->d_name);
      nftw(p, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    }
  closedir(d);
}

static void fixtures_make(void) {
  char p[PATH_MAX];
  size_t i;
  uint32_t x = 12345;
  sweep_stale();
  snprintf(base, sizeof(base), "/tmp/gust-static-%d-XXXXXX", (int)getpid());
  if (mkdtemp(base) == NULL)
    bail_out("mkdtemp: %s", strerror(errno));
  path_of(root, base, "root");
  path_of(outside, base, "outside");
  path_of(sibling, base, "rootx");
  make_dir(base, "root");
  make_dir(base, "outside");
  make_dir(base, "rootx");
  write_str(outside, "secret.txt", "TOP SECRET outside\n");
  write_str(sibling, "secret.txt", "TOP SECRET sibling\n");

  big = malloc(BIG_SIZE);
  if (big == NULL)
    bail_out("malloc");
  for (i = 0; i < BIG_SIZE; i++) {
    x = x * 1103515245u + 12345u;
    big[i] = (uint8_t)(x >> 16);
  }
  write_file(root, "big.bin", big, BIG_SIZE);
  {
    FILE *f;
    path_of(p, root, "big.txt");
    f = fopen(p, "w");
    for (i = 0; f != NULL && i < 20000; i++)
      fprintf(f, "line %06zu of a compressible text file\n", i);
    if (f == NULL || fclose(f) != 0)
      bail_out("big.txt");
  }
  write_str(root, "hello.txt", "Hello, world!\n");
  write_str(root, "range.txt", RANGE_TEXT);
  write_file(root, "empty.txt", "", 0);
  write_str(root, "robots.txt", "User-agent: *\nDisallow: /\n");
  write_str(root, "favicon.ico", "ICO");
  write_str(root, "index.html", "<p>root index</p>\n");
  write_str(root, "a.css", "body{}");
  write_str(root, "a.js", "x=1");
  write_str(root, "a.json", "{}");
  write_str(root, "a.png", "PNG");
  write_str(root, "a.svg", "<svg/>");
  write_str(root, "a.gz", "GZ");
  write_str(root, "a.tar.gz", "TGZ");
  write_str(root, "A.HTML", "<b>upper</b>");
  write_str(root, "noext", "?");
  write_str(root, "version.txt", "version one\n");
  write_str(root, "with space.txt", "spaced\n");
  make_dir(root, "sub");
  write_str(root, "sub/index.html", "<p>sub index</p>\n");
  write_str(root, "sub/inner.txt", "inner\n");
  make_dir(root, "emptydir");
  make_dir(root, "escdir"); /* a directory whose default file escapes */
  path_of(p, outside, "secret.txt");
  make_link(p, "escdir/index.html");
  make_link(p, "outlink.txt");
  make_link(outside, "outdir");
  path_of(p, sibling, "secret.txt");
  make_link(p, "sibling.txt");
  make_link("hello.txt", "inlink.txt");
  make_link("sub", "insub");
  make_link("loop1", "loop2");
  make_link("loop2", "loop1");
  path_of(p, root, "fifo");
  if (mkfifo(p, 0644) != 0)
    bail_out("mkfifo: %s", strerror(errno));
}

static int rm_one(const char *p, const struct stat *st, int type,
                  struct FTW *ftw) {
  (void)st;
  (void)ftw;
  if (type == FTW_DP)
    return rmdir(p);
  return unlink(p);
}

/* Also run at exit, so that a bail-out leaves nothing behind. */
static void fixtures_remove(void) {
  if (base[0] != '\0')
    nftw(base, rm_one, 16, FTW_DEPTH | FTW_PHYS);
  base[0] = '\0';
  free(big);
  big = NULL;
}

/* How many of this process's descriptors are open on root/rel. */
static int fds_open_on(const char *rel) {
  char want[PATH_MAX], real[PATH_MAX], p[PATH_MAX], l[PATH_MAX];
  DIR *d = opendir("/proc/self/fd");
  struct dirent *e;
  int n = 0;
  path_of(want, root, rel);
  if (realpath(want, real) == NULL || d == NULL) {
    if (d != NULL)
      closedir(d);
    return -1;
  }
  while ((e = readdir(d)) != NULL) {
    ssize_t k;
    snprintf(p, sizeof(p), "/proc/self/fd/%s", e->d_name);
    k = readlink(p, l, sizeof(l) - 1);
    if (k <= 0)
      continue;
    l[k] = '\0';
    if (strcmp(l, real) == 0)
      n++;
  }
  closedir(d);
  return n;
}

/* ------------------------------------------------------------------ */
/* The application                                                      */
/* ------------------------------------------------------------------ */

static struct {
  gust_web_app *app;
  gust_test_server *ts; /* the test's server for the application */
  gust_http_server *srv;
  gust_http_client *cli;      /* the test's client */
  gust_web_static_opts files; /* /files/(.*): with index.html */
  gust_web_static_opts nodef; /* /nodef/(.*): no default filename */
  int port;
} S;

static int compress_on; /* compress_response for the next app_start() */

static void app_start(void) {
  gust_web_settings st;
  gust_test_server_opts so;
  int rc;
  memset(&S, 0, sizeof(S));
  memset(&st, 0, sizeof(st));
  st.static_path = root;
  st.compress_response = compress_on;
  S.files.root = root;
  S.files.default_filename = "index.html";
  S.nodef.root = root;
  rc = gust_web_app_new(&S.app, loop, &st, NULL);
  if (rc == 0)
    rc = gust_web_app_add(S.app, "/files/(.*)", &gust_web_static_handler,
                          &S.files, NULL);
  if (rc == 0)
    rc = gust_web_app_add(S.app, "/nodef/(.*)", &gust_web_static_handler,
                          &S.nodef, NULL);
  if (rc == 0)
    rc = gust_web_app_add(S.app, "/(.*)", &gust_web_static_handler, &S.files,
                          NULL);
  if (rc != 0)
    bail_out("app: %s (%s)", gust_errname(rc),
             S.app != NULL ? gust_web_app_error(S.app) : "");
  memset(&so, 0, sizeof(so));
  so.start_request = gust_web_app_start_request;
  so.user_data = S.app;
  if (gust_test_server_start(t_current, &so, &S.ts) != 0)
    bail_out("listen");
  S.srv = gust_test_server_http(S.ts);
  S.port = gust_test_server_port(S.ts);
  S.cli = gust_test_http_client(t_current);
  if (S.cli == NULL)
    bail_out("client");
}

/* Frees the server (the test's, or one the application made itself)
 * before the application, as gust_web_app_listen() requires. The test's
 * client stays, without the connections it kept to this server. */
static void app_stop_in(double secs) {
  gust_http_client_close_idle(S.cli);
  gust_test_run_for(t_current, secs);
  if (S.ts != NULL)
    gust_test_server_free(S.ts);
  else
    gust_http_server_free(S.srv);
  gust_test_run_for(t_current, secs);
  gust_web_app_free(S.app);
  memset(&S, 0, sizeof(S));
}

static void app_stop(void) { app_stop_in(0.02); }

/* The URL of `fmt` on the application's server (Tornado's get_url). */
static const char *url(const char *fmt, ...) TAP_PRINTF(1, 2);
static const char *url(const char *fmt, ...) {
  static char bufs[8][1024];
  static int next;
  char path[900];
  char *b = bufs[next++ % 8];
  const char *u;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(path, sizeof(path), fmt, ap);
  va_end(ap);
  if (S.ts != NULL) {
    if ((u = gust_test_server_url(S.ts, path)) == NULL)
      bail_out("url");
    return u;
  }
  snprintf(b, 1024, "http://127.0.0.1:%d%s", S.port, path);
  return b;
}

/* ------------------------------------------------------------------ */
/* Fetching                                                             */
/* ------------------------------------------------------------------ */

/* A request: method (NULL = GET), path, and up to three header lines
 * "Name: value" (NULL-terminated list). */
static gust_future *fetchv(const char *method, const char *path,
                           const char *const *hdrs) {
  gust_fetch_request r;
  gust_headers h;
  gust_future *f = NULL;
  int rc;
  gust_headers_init(&h, NULL);
  for (; hdrs != NULL && *hdrs != NULL; hdrs++) {
    const char *colon = strchr(*hdrs, ':');
    if (colon == NULL || gust_headers_add(&h, *hdrs, (size_t)(colon - *hdrs),
                                          colon + 2, strlen(colon + 2)) != 0)
      bail_out("bad header %s", *hdrs);
  }
  gust_fetch_request_init(&r, url("%s", path));
  r.follow_redirects = 0;
  r.decompress_response = 0;
  r.headers = &h;
  if (method != NULL) {
    r.method = method;
    if (strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0) {
      r.body = "x=1";
      r.body_len = 3;
    }
  }
  rc = gust_http_client_fetch(S.cli, &r, &f);
  gust_headers_free(&h);
  if (rc != 0)
    bail_out("fetch %s: %s (%s)", path, gust_errname(rc),
             gust_http_client_last_error(S.cli));
  if (t_run_future(f) != 0)
    bail_out("fetch %s did not complete", path);
  if (gust_fetch_response_of(f) == NULL)
    bail_out("no response for %s", path);
  return f;
}

static gust_future *get(const char *path) { return fetchv(NULL, path, NULL); }

static gust_future *get_h(const char *path, const char *h1) {
  const char *hs[2];
  hs[0] = h1;
  hs[1] = NULL;
  return fetchv(NULL, path, hs);
}

static gust_future *head_h(const char *path, const char *h1) {
  const char *hs[2];
  hs[0] = h1;
  hs[1] = NULL;
  return fetchv("HEAD", path, h1 != NULL ? hs : NULL);
}

static int code(gust_future *f) {
  return gust_fetch_response_code(gust_fetch_response_of(f));
}

static const char *hdr(gust_future *f, const char *name) {
  static char bufs[8][512];
  static int next;
  char *b = bufs[next++ % 8];
  gust_slice v;
  if (gust_headers_get(gust_fetch_response_headers(gust_fetch_response_of(f)),
                       name, &v) != 0)
    return "(none)";
  snprintf(b, 512, "%.*s", (int)v.len, (const char *)v.ptr);
  return b;
}

static gust_slice body(gust_future *f) {
  return gust_fetch_response_body(gust_fetch_response_of(f));
}

static int body_is(gust_future *f, const char *want, const char *name) {
  gust_slice b = body(f);
  return cmp_mem(b.ptr, b.len, want, strlen(want), "%s", name);
}

/* Fetches `path` and checks status and body in one go; frees the future. */
static void expect(const char *method, const char *path, int status,
                   const char *want_body, const char *name) {
  gust_future *f = fetchv(method, path, NULL);
  int st = code(f);
  if (want_body != NULL) {
    gust_slice b = body(f);
    ok(st == status && b.len == strlen(want_body) &&
           (b.len == 0 || memcmp(b.ptr, want_body, b.len) == 0),
       "%s", name);
    if (st != status)
      diag("status %d, want %d", st, status);
  } else {
    is_int(st, status, "%s", name);
  }
  gust_future_unref(f);
}

/* ------------------------------------------------------------------ */
/* Raw requests                                                         */
/* ------------------------------------------------------------------ */

typedef struct raw_resp {
  char data[65536];
  size_t len;
  int status;
} raw_resp;

static int raw_connect(int rcvbuf) {
  struct sockaddr_in a;
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    bail_out("socket: %s", strerror(errno));
  if (rcvbuf > 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
  memset(&a, 0, sizeof(a));
  a.sin_family = AF_INET;
  a.sin_port = htons((uint16_t)S.port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0)
    bail_out("connect: %s", strerror(errno));
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
  return fd;
}

/* What a raw socket has read so far, for gust_test_run_until(). */
typedef struct raw_reader {
  int fd;
  char *buf;
  size_t cap;
  size_t len;    /* bytes kept in buf */
  size_t total;  /* bytes read, kept or not */
  size_t enough; /* stop once total reaches this (0: at end of stream) */
  int eof;
} raw_reader;

/* Reads what is there; done at end of stream, when buf is full, or when
 * `enough` bytes came. */
static int raw_read_done(gust_loop *l, void *ud) {
  raw_reader *rd = ud;
  (void)l;
  for (;;) {
    char scratch[4096];
    int keep = rd->len < rd->cap;
    ssize_t n = keep ? recv(rd->fd, rd->buf + rd->len, rd->cap - rd->len, 0)
                     : recv(rd->fd, scratch, sizeof(scratch), 0);
    if (n > 0) {
      if (keep)
        rd->len += (size_t)n;
      rd->total += (size_t)n;
      if ((rd->enough > 0 && rd->total >= rd->enough) ||
          (rd->enough == 0 && rd->len == rd->cap))
        return 1;
      continue;
    }
    if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) {
      rd->eof = 1;
      return 1;
    }
    return 0;
  }
}

static void raw_readable(gust_loop *l, int fd, int events, void *ud) {
  (void)l;
  (void)fd;
  (void)events;
  (void)ud; /* raw_read_done() reads, once this iteration is over */
}

/* Runs the loop until raw_read_done() says `rd` is done. The socket is
 * watched too: the loop must wake when data arrives, as the server may
 * have nothing to do meanwhile (a full send buffer that a small read does
 * not make writable again). */
static void raw_wait(raw_reader *rd, const char *what) {
  gust_loop *l = gust_test_loop(t_current);
  if (gust_loop_add_handler(l, rd->fd, GUST_LOOP_READ, raw_readable, NULL) != 0)
    bail_out("cannot watch a raw socket");
  gust_test_run_until(t_current, raw_read_done, rd, what);
  gust_loop_remove_handler(l, rd->fd);
}

/* Writes what can be written; done once everything went. */
typedef struct raw_writer {
  int fd;
  const char *data;
  size_t len, off;
} raw_writer;

static int raw_write_done(gust_loop *l, void *ud) {
  raw_writer *w = ud;
  (void)l;
  while (w->off < w->len) {
    ssize_t n = send(w->fd, w->data + w->off, w->len - w->off, MSG_NOSIGNAL);
    if (n <= 0)
      return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) ? 0 : 1;
    w->off += (size_t)n;
  }
  return 1;
}

/* Sends `req` on a new connection and reads until the server closes it
 * (send "Connection: close"). */
static void raw(const char *req, raw_resp *r) {
  raw_writer w;
  raw_reader rd;
  memset(r, 0, sizeof(*r));
  memset(&w, 0, sizeof(w));
  memset(&rd, 0, sizeof(rd));
  w.fd = rd.fd = raw_connect(0);
  w.data = req;
  w.len = strlen(req);
  rd.buf = r->data;
  rd.cap = sizeof(r->data) - 1;
  gust_test_run_until(t_current, raw_write_done, &w, "a raw request sent");
  raw_wait(&rd, "the server to close a raw connection");
  close(rd.fd);
  r->len = rd.len;
  r->data[r->len] = '\0';
  if (r->len >= 12 && strncmp(r->data, "HTTP/1.", 7) == 0)
    r->status = atoi(r->data + 9);
}

static int raw_status(const char *target) {
  char req[2048];
  raw_resp *r = malloc(sizeof(*r));
  int st;
  if (r == NULL)
    bail_out("malloc");
  snprintf(req, sizeof(req),
           "GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", target);
  raw(req, r);
  st = r->status;
  if (strstr(r->data, "TOP SECRET") != NULL) {
    diag("%s leaked a file outside the root", target);
    st = -1;
  }
  free(r);
  return st;
}

/* ------------------------------------------------------------------ */
/* Tests                                                                */
/* ------------------------------------------------------------------ */

static void t_mime(void) {
  static const struct {
    const char *name, *type;
  } cases[] = {
      {"a.html", "text/html"},
      {"A.HTM", "text/html"},
      {"x/y.Css", "text/css"},
      {"app.js", "text/javascript"},
      {"mod.mjs", "text/javascript"},
      {"d.json", "application/json"},
      {"r.txt", "text/plain"},
      {"f.xml", "text/xml"},
      {"i.svg", "image/svg+xml"},
      {"i.png", "image/png"},
      {"i.jpg", "image/jpeg"},
      {"i.JPEG", "image/jpeg"},
      {"i.gif", "image/gif"},
      {"favicon.ico", "image/vnd.microsoft.icon"},
      {"i.webp", "image/webp"},
      {"i.avif", "image/avif"},
      {"i.bmp", "image/bmp"},
      {"f.woff", "font/woff"},
      {"f.woff2", "font/woff2"},
      {"f.ttf", "font/ttf"},
      {"f.otf", "font/otf"},
      {"f.eot", "application/vnd.ms-fontobject"},
      {"d.pdf", "application/pdf"},
      {"a.zip", "application/zip"},
      {"a.gz", "application/gzip"},
      {"a.tar.gz", "application/gzip"},
      {"a.tgz", "application/gzip"},
      {"a.svgz", "application/gzip"},
      {"a.tar", "application/x-tar"},
      {"a.bz2", "application/octet-stream"},
      {"a.xz", "application/octet-stream"},
      {"a.br", "application/octet-stream"},
      {"m.wasm", "application/wasm"},
      {"v.mp4", "video/mp4"},
      {"v.webm", "video/webm"},
      {"s.mp3", "audio/mpeg"},
      {"s.ogg", "audio/ogg"},
      {"s.wav", "audio/x-wav"},
      {"s.flac", "audio/flac"},
      {"t.csv", "text/csv"},
      {"README.md", "text/markdown"},
      {"app.js.map", "application/json"},
      {"noext", "application/octet-stream"},
      {".bashrc", "application/octet-stream"},
      {"dir.d/file", "application/octet-stream"},
      {"trailing.", "application/octet-stream"},
      {"x.unknownext", "application/octet-stream"},
      {"x.averyveryverylongextension", "application/octet-stream"},
      {"", "application/octet-stream"},
  };
  size_t i;
  int bad = 0;
  for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    const char *got = gust_web_mime_type(cases[i].name);
    if (strcmp(got, cases[i].type) != 0) {
      diag("%s: got %s, want %s", cases[i].name, got, cases[i].type);
      bad++;
    }
  }
  ok(bad == 0, "static: mime table (%zu names)", i);
  is_str(gust_web_mime_type(NULL), "application/octet-stream",
         "static: mime of NULL");
}

static void t_basic(void) {
  gust_future *f;
  struct stat st;
  char p[PATH_MAX], date[GUST_HTTPDATE_SIZE], etag[64];
  app_start();
  path_of(p, root, "hello.txt");
  stat(p, &st);
  gust_httpdate_format((int64_t)st.st_mtime, date);
  snprintf(etag, sizeof(etag), "\"%llx-%llx\"", (unsigned long long)st.st_mtime,
           (unsigned long long)st.st_size);

  f = get("/static/hello.txt");
  is_int(code(f), 200, "static: GET 200");
  body_is(f, "Hello, world!\n", "static: GET body");
  is_str(hdr(f, "Content-Type"), "text/plain", "static: GET Content-Type");
  is_str(hdr(f, "Content-Length"), "14", "static: GET Content-Length");
  is_str(hdr(f, "Accept-Ranges"), "bytes", "static: Accept-Ranges");
  is_str(hdr(f, "Last-Modified"), date, "static: Last-Modified is the mtime");
  is_str(hdr(f, "Etag"), etag, "static: ETag from mtime and size");
  is_str(hdr(f, "Cache-Control"), "(none)",
         "static: no Cache-Control without v");
  is_str(hdr(f, "Expires"), "(none)", "static: no Expires without v");
  gust_future_unref(f);

  /* test_static_files */
  expect(NULL, "/robots.txt", 200, "User-agent: *\nDisallow: /\n",
         "static: /robots.txt");
  expect(NULL, "/favicon.ico", 200, "ICO", "static: /favicon.ico");
  f = get("/favicon.ico");
  is_str(hdr(f, "Content-Type"), "image/vnd.microsoft.icon",
         "static: favicon Content-Type");
  gust_future_unref(f);
  expect(NULL, "/static/with%20space.txt", 200, "spaced\n",
         "static: percent-decoded path");
  expect(NULL, "/files/sub/inner.txt", 200, "inner\n",
         "static: route added by hand");

  /* an empty file */
  f = get("/static/empty.txt");
  ok(code(f) == 200 && body(f).len == 0 &&
         strcmp(hdr(f, "Content-Length"), "0") == 0,
     "static: empty file");
  gust_future_unref(f);

  /* test_static_404 */
  expect(NULL, "/static/blarg", 404, NULL, "static: missing file 404");
  expect(NULL, "/static/sub/nope/deeper", 404, NULL,
         "static: missing directory 404");
  expect(NULL, "/static/hello.txt/", 404, NULL,
         "static: file with a trailing slash 404");
  expect(NULL, "/static/hello.txt/x", 404, NULL,
         "static: file used as a directory 404");

  /* HEAD only stats: a file this process cannot read still has its
   * headers; GET cannot open it (403). Root reads everything: skipped. */
  if (geteuid() != 0) {
    char q[PATH_MAX];
    write_str(root, "secret.bin", "unreadable");
    path_of(q, root, "secret.bin");
    chmod(q, 0);
    f = head_h("/static/secret.bin", NULL);
    ok(code(f) == 200 && strcmp(hdr(f, "Content-Length"), "10") == 0,
       "static: HEAD of an unreadable file only stats it");
    gust_future_unref(f);
    expect(NULL, "/static/secret.bin", 403, NULL,
           "static: GET of an unreadable file 403");
    unlink(q);
  } else {
    skip(2, "running as root: every file is readable");
  }

  /* only GET and HEAD */
  expect("POST", "/static/hello.txt", 405, NULL, "static: POST 405");
  expect("PUT", "/static/hello.txt", 405, NULL, "static: PUT 405");
  expect("DELETE", "/static/hello.txt", 405, NULL, "static: DELETE 405");
  expect("OPTIONS", "/static/hello.txt", 405, NULL, "static: OPTIONS 405");
  app_stop();
}

static void t_big(void) {
  gust_future *f;
  gust_slice b;
  char n[32];
  app_start();
  snprintf(n, sizeof(n), "%zu", BIG_SIZE);
  f = get("/static/big.bin");
  b = body(f);
  is_int(code(f), 200, "static: big file 200");
  is_str(hdr(f, "Content-Length"), n, "static: big file Content-Length");
  cmp_mem(b.ptr, b.len, big, BIG_SIZE, "static: big file body streamed");
  is_str(hdr(f, "Content-Type"), "application/octet-stream",
         "static: unknown extension is octet-stream");
  is_str(hdr(f, "Transfer-Encoding"), "(none)", "static: big file not chunked");
  gust_future_unref(f);
  is_int(fds_open_on("big.bin"), 0, "static: big file closed after GET");

  /* HEAD: the same headers, no body */
  f = head_h("/static/big.bin", NULL);
  ok(code(f) == 200 && body(f).len == 0, "static: HEAD 200 without body");
  is_str(hdr(f, "Content-Length"), n, "static: HEAD Content-Length");
  ok(strcmp(hdr(f, "Etag"), "(none)") != 0 &&
         strcmp(hdr(f, "Last-Modified"), "(none)") != 0 &&
         strcmp(hdr(f, "Accept-Ranges"), "bytes") == 0,
     "static: HEAD has ETag, Last-Modified, Accept-Ranges");
  gust_future_unref(f);

  /* a range across pieces, in the middle */
  f = get_h("/static/big.bin", "Range: bytes=100000-2200000");
  b = body(f);
  is_int(code(f), 206, "static: big range 206");
  snprintf(n, sizeof(n), "bytes 100000-2200000/%zu", BIG_SIZE);
  is_str(hdr(f, "Content-Range"), n, "static: big range Content-Range");
  cmp_mem(b.ptr, b.len, big + 100000, 2100001, "static: big range body");
  gust_future_unref(f);

  /* the last bytes of the file */
  f = get_h("/static/big.bin", "Range: bytes=-70000");
  b = body(f);
  ok(code(f) == 206 && b.len == 70000 &&
         memcmp(b.ptr, big + BIG_SIZE - 70000, 70000) == 0,
     "static: big suffix range");
  gust_future_unref(f);
  app_stop();
}

static void t_types(void) {
  static const struct {
    const char *path, *type;
  } cases[] = {
      {"/static/a.css", "text/css"},
      {"/static/a.js", "text/javascript"},
      {"/static/a.json", "application/json"},
      {"/static/a.png", "image/png"},
      {"/static/a.svg", "image/svg+xml"},
      {"/static/A.HTML", "text/html"},
      {"/static/noext", "application/octet-stream"},
      {"/files/", "text/html"},
  };
  size_t i;
  gust_future *f;
  app_start();
  for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    f = get(cases[i].path);
    ok(code(f) == 200 && strcmp(hdr(f, "Content-Type"), cases[i].type) == 0,
       "static: Content-Type of %s", cases[i].path);
    if (code(f) != 200 || strcmp(hdr(f, "Content-Type"), cases[i].type) != 0)
      diag("got %d %s", code(f), hdr(f, "Content-Type"));
    gust_future_unref(f);
  }
  /* test_static_compressed_files: a .gz file is sent as it is */
  f = get("/static/a.gz");
  ok(code(f) == 200 &&
         strcmp(hdr(f, "Content-Type"), "application/gzip") == 0 &&
         strcmp(hdr(f, "Content-Encoding"), "(none)") == 0,
     "static: .gz is application/gzip, no Content-Encoding");
  gust_future_unref(f);
  f = get("/static/a.tar.gz");
  is_str(hdr(f, "Content-Type"), "application/gzip",
         "static: .tar.gz is application/gzip");
  gust_future_unref(f);
  app_stop();
}

static void t_conditional(void) {
  gust_future *f;
  struct stat st;
  char p[PATH_MAX], etag[64], h[256], date[GUST_HTTPDATE_SIZE];
  gust_fetch_request r;
  app_start();
  path_of(p, root, "hello.txt");
  stat(p, &st);

  f = get("/static/hello.txt");
  snprintf(etag, sizeof(etag), "%s", hdr(f, "Etag"));
  snprintf(date, sizeof(date), "%s", hdr(f, "Last-Modified"));
  gust_future_unref(f);

  /* test_static_304_if_modified_since */
  snprintf(h, sizeof(h), "If-Modified-Since: %s", date);
  f = get_h("/static/hello.txt", h);
  ok(code(f) == 304 && body(f).len == 0, "static: If-Modified-Since = 304");
  is_str(hdr(f, "Etag"), etag, "static: 304 keeps the ETag");
  is_str(hdr(f, "Content-Type"), "(none)", "static: 304 has no Content-Type");
  gust_future_unref(f);
  gust_fetch_request_init(&r, url("/static/hello.txt"));
  r.if_modified_since = (double)st.st_mtime - 1;
  {
    gust_future *g = NULL;
    if (gust_http_client_fetch(S.cli, &r, &g) != 0 || t_run_future(g) != 0)
      bail_out("fetch");
    ok(code(g) == 200 && body_is(g, "Hello, world!\n", "static: older body"),
       "static: older If-Modified-Since 200");
    gust_future_unref(g);
    r.if_modified_since = (double)st.st_mtime + 3600;
    if (gust_http_client_fetch(S.cli, &r, &g) != 0 || t_run_future(g) != 0)
      bail_out("fetch");
    is_int(code(g), 304, "static: newer If-Modified-Since 304");
    gust_future_unref(g);
  }
  /* test_static_if_modified_since_pre_epoch */
  f = get_h("/static/hello.txt",
            "If-Modified-Since: Fri, 01 Jan 1960 00:00:00 GMT");
  is_int(code(f), 200, "static: pre-epoch If-Modified-Since 200");
  gust_future_unref(f);
  f = get_h("/static/hello.txt", "If-Modified-Since: yesterday");
  is_int(code(f), 200, "static: unparsable If-Modified-Since 200");
  gust_future_unref(f);

  /* test_static_304_if_none_match */
  snprintf(h, sizeof(h), "If-None-Match: %s", etag);
  f = get_h("/static/hello.txt", h);
  ok(code(f) == 304 && body(f).len == 0, "static: If-None-Match = 304");
  gust_future_unref(f);
  snprintf(h, sizeof(h), "If-None-Match: W/%s", etag);
  f = get_h("/static/hello.txt", h);
  is_int(code(f), 304, "static: weak If-None-Match 304");
  gust_future_unref(f);
  snprintf(h, sizeof(h), "If-None-Match: \"other\", %s", etag);
  f = get_h("/static/hello.txt", h);
  is_int(code(f), 304, "static: If-None-Match list 304");
  gust_future_unref(f);
  f = get_h("/static/hello.txt", "If-None-Match: \"nope\"");
  ok(code(f) == 200 && body_is(f, "Hello, world!\n", "static: mismatch body"),
     "static: If-None-Match mismatch 200");
  gust_future_unref(f);
  f = get_h("/static/hello.txt", "If-None-Match: *");
  is_int(code(f), 304, "static: If-None-Match * 304");
  gust_future_unref(f);
  f = head_h("/static/hello.txt", h);
  is_int(code(f), 304, "static: HEAD If-None-Match 304");
  gust_future_unref(f);

  /* test_static_304_etag_modified_bug: a mismatching If-None-Match wins
   * over a matching If-Modified-Since */
  {
    const char *hs[3];
    char ims[256];
    snprintf(ims, sizeof(ims), "If-Modified-Since: %s", date);
    hs[0] = "If-None-Match: \"1234\"";
    hs[1] = ims;
    hs[2] = NULL;
    f = fetchv(NULL, "/static/hello.txt", hs);
    is_int(code(f), 200, "static: If-None-Match decides over IMS");
    gust_future_unref(f);
  }

  /* the ETag follows the file */
  set_mtime("hello.txt", st.st_mtime + 10, 0);
  snprintf(h, sizeof(h), "If-None-Match: %s", etag);
  f = get_h("/static/hello.txt", h);
  ok(code(f) == 200 && strcmp(hdr(f, "Etag"), etag) != 0,
     "static: touched file gets a new ETag");
  gust_future_unref(f);
  set_mtime("hello.txt", st.st_mtime, 0);
  app_stop();
}

static void range_case(const char *range, int status, const char *crange,
                       const char *want, const char *name) {
  char h[256];
  gust_future *f;
  gust_slice b;
  int good;
  snprintf(h, sizeof(h), "Range: %s", range);
  f = get_h("/static/range.txt", h);
  b = body(f);
  good = code(f) == status && strcmp(hdr(f, "Content-Range"), crange) == 0 &&
         (want == NULL || (b.len == strlen(want) &&
                           (b.len == 0 || memcmp(b.ptr, want, b.len) == 0)));
  ok(good, "static: %s", name);
  if (!good)
    diag("%s: got %d, Content-Range %s, body %.*s", range, code(f),
         hdr(f, "Content-Range"), (int)b.len,
         b.len != 0 ? (const char *)b.ptr : "");
  gust_future_unref(f);
}

static void t_range(void) {
  gust_future *f;
  app_start();
  /* test_static_with_range */
  range_case("bytes=0-9", 206, "bytes 0-9/20", "0123456789", "range first ten");
  f = get_h("/static/range.txt", "Range: bytes=0-9");
  is_str(hdr(f, "Content-Length"), "10", "static: range Content-Length");
  is_str(hdr(f, "Content-Type"), "text/plain", "static: range Content-Type");
  gust_future_unref(f);
  /* test_static_with_range_neg_end */
  range_case("bytes=-5", 206, "bytes 15-19/20", "fghij", "range suffix");
  range_case("bytes=5-", 206, "bytes 5-19/20", "56789abcdefghij",
             "range open end");
  range_case("bytes=0-0", 206, "bytes 0-0/20", "0", "range one byte");
  range_case("bytes=19-19", 206, "bytes 19-19/20", "j", "range last byte");
  /* test_static_with_range_end_edge */
  range_case("bytes=18-", 206, "bytes 18-19/20", "ij", "range end edge");
  /* test_static_with_range_partial_past_end */
  range_case("bytes=1-10000000", 206, "bytes 1-19/20", &RANGE_TEXT[1],
             "range partial past end");
  /* test_static_with_range_full_file / _full_past_end */
  range_case("bytes=0-", 200, "(none)", RANGE_TEXT, "range full file 200");
  range_case("bytes=0-19", 200, "(none)", RANGE_TEXT, "range whole file 200");
  range_case("bytes=0-10000000", 200, "(none)", RANGE_TEXT,
             "range full past end 200");
  /* test_static_with_range_neg_past_start */
  range_case("bytes=-1000000", 200, "(none)", RANGE_TEXT,
             "range suffix past start 200");
  range_case("bytes=-20", 200, "(none)", RANGE_TEXT, "range suffix whole 200");
  range_case("bytes = 2 - 3", 206, "bytes 2-3/20", "23",
             "range with spaces, as Python strips");
  /* test_static_unsatisfiable_range_* */
  range_case("bytes=20-", 416, "bytes */20", "", "range start at size 416");
  range_case("bytes=20", 416, "bytes */20", "", "range start without dash 416");
  range_case("bytes=100-200", 416, "bytes */20", "", "range past end 416");
  range_case("bytes=-0", 416, "bytes */20", "", "range zero suffix 416");
  range_case("bytes=10-3", 416, "bytes */20", "", "range end before start 416");
  f = get_h("/static/range.txt", "Range: bytes=20-");
  is_str(hdr(f, "Content-Type"), "text/plain", "static: 416 Content-Type");
  gust_future_unref(f);
  /* test_static_invalid_range and friends: ignored */
  range_case("bytes=asdf", 200, "(none)", RANGE_TEXT, "range garbage 200");
  range_case("bytes=0-1,5-6", 200, "(none)", RANGE_TEXT, "range multi 200");
  range_case("items=0-5", 200, "(none)", RANGE_TEXT, "range other unit 200");
  range_case("bytes=", 200, "(none)", RANGE_TEXT, "range empty 200");
  range_case("bytes=+1-2", 200, "(none)", RANGE_TEXT, "range signed 200");
  range_case("bytes=--5", 200, "(none)", RANGE_TEXT, "range double dash 200");
  range_case("BYTES=0-1", 200, "(none)", RANGE_TEXT,
             "range unit is case-sensitive 200");
  range_case("bytes=0-99999999999999999999999999", 200, "(none)", RANGE_TEXT,
             "range huge end clamps 200");
  {
    const char *hs[3] = {"Range: bytes=0-1", "Range: bytes=2-3", NULL};
    f = fetchv(NULL, "/static/range.txt", hs);
    ok(code(f) == 200 && body_is(f, RANGE_TEXT, "static: two Range body"),
       "static: two Range fields ignored");
    gust_future_unref(f);
  }
  /* test_static_head_range */
  f = head_h("/static/range.txt", "Range: bytes=1-4");
  ok(code(f) == 206 && body(f).len == 0 &&
         strcmp(hdr(f, "Content-Length"), "4") == 0 &&
         strcmp(hdr(f, "Content-Range"), "bytes 1-4/20") == 0,
     "static: HEAD range 206 with Content-Length, no body");
  gust_future_unref(f);
  /* test_static_range_if_none_match */
  {
    const char *hs[3];
    char inm[128];
    f = get("/static/range.txt");
    snprintf(inm, sizeof(inm), "If-None-Match: %s", hdr(f, "Etag"));
    gust_future_unref(f);
    hs[0] = "Range: bytes=1-4";
    hs[1] = inm;
    hs[2] = NULL;
    f = fetchv(NULL, "/static/range.txt", hs);
    ok(code(f) == 304 && body(f).len == 0 &&
           strcmp(hdr(f, "Content-Range"), "(none)") == 0,
       "static: range with matching If-None-Match 304");
    gust_future_unref(f);
  }
  /* an empty file has no satisfiable range */
  f = get_h("/static/empty.txt", "Range: bytes=0-");
  ok(code(f) == 416 && strcmp(hdr(f, "Content-Range"), "bytes */0") == 0,
     "static: range of an empty file 416");
  gust_future_unref(f);
  app_stop();
}

static void t_paths(void) {
  app_start();
  /* traversal: never the file outside, 403 when it climbs out */
  is_int(raw_status("/static/../outside/secret.txt"), 403,
         "static: traversal with .. 403");
  is_int(raw_status("/static/%2e%2e/outside/secret.txt"), 403,
         "static: traversal with %%2e%%2e 403");
  is_int(raw_status("/static/%2E%2E%2Foutside%2Fsecret.txt"), 403,
         "static: traversal with encoded slashes 403");
  is_int(raw_status("/static/sub/../../outside/secret.txt"), 403,
         "static: traversal through a subdirectory 403");
  is_int(raw_status("/static/../../../../../../etc/passwd"), 403,
         "static: traversal to /etc/passwd 403");
  is_int(raw_status("/static/..%2f..%2f..%2f..%2fetc%2fpasswd"), 403,
         "static: encoded traversal to /etc/passwd 403");
  /* test_path_traversal_protection: a sibling sharing root's prefix */
  is_int(raw_status("/static/../rootx/secret.txt"), 403,
         "static: sibling with the root's prefix 403");
  is_int(raw_status("/static/../missing"), 403,
         "static: traversal to a missing file 403");
  is_int(raw_status("/static//etc/passwd"), 404,
         "static: absolute-looking path stays in the root");
  is_int(raw_status("/static/sub/..%2fhello.txt"), 200,
         "static: .. that stays inside is fine");
  is_int(raw_status("/static/hello.txt%00.png"), 403,
         "static: NUL in the path 403");
  is_int(raw_status("/static/%00"), 403, "static: bare NUL 403");

  /* symbolic links */
  is_int(raw_status("/static/outlink.txt"), 403,
         "static: symlink out of the root 403");
  is_int(raw_status("/static/outdir/secret.txt"), 403,
         "static: symlinked directory out of the root 403");
  is_int(raw_status("/static/sibling.txt"), 403,
         "static: symlink to the prefix sibling 403");
  expect(NULL, "/static/inlink.txt", 200, "Hello, world!\n",
         "static: symlink inside the root 200");
  expect(NULL, "/static/insub/inner.txt", 200, "inner\n",
         "static: symlinked directory inside the root 200");
  is_int(raw_status("/static/loop1"), 403, "static: symlink loop 403");
  is_int(raw_status("/files/escdir/"), 403,
         "static: default file escaping the root 403");

  /* not regular files */
  is_int(raw_status("/static/fifo"), 403, "static: FIFO 403, no hang");
  is_int(raw_status("/static/sub"), 403, "static: directory without default");
  is_int(raw_status("/static/sub/"), 403,
         "static: directory with slash without default 403");
  is_int(raw_status("/static/"), 403, "static: the root without default 403");
  is_int(raw_status("/nodef/sub"), 403, "static: hand route without default");
  {
    char target[1200];
    memset(target, 'a', sizeof(target));
    memcpy(target, "/static/", 8);
    target[sizeof(target) - 1] = '\0';
    is_int(raw_status(target), 404, "static: overlong name 404");
  }
  app_stop();
}

static void t_default(void) {
  gust_future *f;
  raw_resp *r = malloc(sizeof(*r));
  if (r == NULL)
    bail_out("malloc");
  app_start();
  /* test_static_default_redirect */
  f = get("/files/sub");
  ok(code(f) == 301 && strcmp(hdr(f, "Location"), "/files/sub/") == 0,
     "static: directory redirected to its slash form");
  gust_future_unref(f);
  f = get("/files/sub?a=1&b=2");
  ok(code(f) == 301 && strcmp(hdr(f, "Location"), "/files/sub/?a=1&b=2") == 0,
     "static: redirect keeps the query");
  if (code(f) != 301)
    diag("got %d %s", code(f), hdr(f, "Location"));
  gust_future_unref(f);
  /* test_static_default_filename */
  f = get("/files/sub/");
  ok(code(f) == 200 && body_is(f, "<p>sub index</p>\n", "static: index body"),
     "static: directory with slash serves its index");
  is_str(hdr(f, "Content-Type"), "text/html", "static: index Content-Type");
  gust_future_unref(f);
  expect(NULL, "/files/", 200, "<p>root index</p>\n",
         "static: root directory serves its index");
  expect(NULL, "/files/emptydir/", 404, NULL,
         "static: directory without its index 404");
  expect(NULL, "/files/emptydir", 301, NULL,
         "static: directory without its index still redirects");
  /* two initial slashes would redirect to another host */
  raw("GET //sub HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", r);
  is_int(r->status, 403, "static: //dir is not redirected (403)");
  raw("GET //sub/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", r);
  is_int(r->status, 200, "static: //dir/ serves the index");
  raw("GET /sub HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", r);
  ok(r->status == 301 && strstr(r->data, "\r\nLocation: /sub/\r\n") != NULL,
     "static: catch-all route redirects /sub");
  f = head_h("/files/sub", NULL);
  is_int(code(f), 301, "static: HEAD of a directory redirects");
  gust_future_unref(f);
  app_stop();
  free(r);
}

static void sha_hex32(const char *text, char out[33]) {
  uint8_t d[32];
  gust_slice s = gust_slice_cstr(text);
  int i;
  if (gust_hash(GUST_SHA256, &s, 1, d) != 0)
    bail_out("hash");
  for (i = 0; i < 16; i++)
    snprintf(out + 2 * i, 3, "%02x", d[i]);
}

static void t_version(void) {
  gust_buf u;
  gust_future *f;
  char want[256], hex[33], v1[300];
  struct stat st;
  char p[PATH_MAX];
  int64_t exp;
  app_start();
  gust_buf_init(&u, NULL);

  is_int(gust_web_app_static_url(S.app, "version.txt", 0, &u), 0,
         "static: static_url without version");
  is_str((const char *)u.ptr, "/static/version.txt",
         "static: static_url is prefix + path");
  gust_buf_clear(&u);
  is_int(gust_web_app_static_url(S.app, "version.txt", 1, &u), 0,
         "static: static_url with version");
  sha_hex32("version one\n", hex);
  snprintf(want, sizeof(want), "/static/version.txt?v=%s", hex);
  is_str((const char *)u.ptr, want, "static: version is SHA-256, 32 hex");
  snprintf(v1, sizeof(v1), "%s", (const char *)u.ptr);
  gust_buf_clear(&u);
  gust_web_app_static_url(S.app, "version.txt", 1, &u);
  is_str((const char *)u.ptr, v1, "static: version stable (cached)");

  /* same size, new content and a new mtime: a new version */
  path_of(p, root, "version.txt");
  stat(p, &st);
  write_str(root, "version.txt", "version two\n");
  set_mtime("version.txt", st.st_mtime,
            st.st_mtim.tv_nsec + 1 < 1000000000 ? st.st_mtim.tv_nsec + 1 : 0);
  gust_buf_clear(&u);
  gust_web_app_static_url(S.app, "version.txt", 1, &u);
  sha_hex32("version two\n", hex);
  snprintf(want, sizeof(want), "/static/version.txt?v=%s", hex);
  is_str((const char *)u.ptr, want, "static: version changes with the file");

  gust_buf_clear(&u);
  is_int(gust_web_app_static_url(S.app, "missing.txt", 1, &u), 0,
         "static: static_url of a missing file");
  is_str((const char *)u.ptr, "/static/missing.txt",
         "static: missing file has no version");
  gust_buf_clear(&u);
  gust_web_app_static_url(S.app, "../outside/secret.txt", 1, &u);
  ok(strstr((const char *)u.ptr, "?v=") == NULL,
     "static: file outside the root has no version");
  gust_buf_clear(&u);
  gust_web_app_static_url(S.app, "big.bin", 1, &u);
  ok(strstr((const char *)u.ptr, "?v=") != NULL &&
         strlen(strstr((const char *)u.ptr, "?v=")) == 35,
     "static: big file versioned");

  /* a versioned URL is cached for ten years */
  gust_buf_clear(&u);
  gust_web_app_static_url(S.app, "version.txt", 1, &u);
  f = get((const char *)u.ptr);
  ok(code(f) == 200 && body_is(f, "version two\n", "static: versioned body"),
     "static: versioned URL served");
  is_str(hdr(f, "Cache-Control"), "max-age=315360000",
         "static: versioned Cache-Control");
  exp = 0;
  gust_httpdate_parse(hdr(f, "Expires"), strlen(hdr(f, "Expires")), &exp);
  ok(exp > (int64_t)time(NULL) + 315360000 - 120 &&
         exp < (int64_t)time(NULL) + 315360000 + 120,
     "static: versioned Expires ten years ahead");
  gust_future_unref(f);
  f = get("/static/hello.txt?v=");
  is_str(hdr(f, "Cache-Control"), "max-age=315360000",
         "static: empty v still counts");
  gust_future_unref(f);
  f = get("/static/hello.txt?v=%ff");
  ok(code(f) == 200 &&
         strcmp(hdr(f, "Cache-Control"), "max-age=315360000") == 0,
     "static: v that is not UTF-8 is no error");
  gust_future_unref(f);
  f = head_h("/static/hello.txt?v=1", NULL);
  is_str(hdr(f, "Cache-Control"), "max-age=315360000",
         "static: HEAD versioned Cache-Control");
  gust_future_unref(f);
  f = get_h("/static/hello.txt?v=1", "If-None-Match: *");
  ok(code(f) == 304 &&
         strcmp(hdr(f, "Cache-Control"), "max-age=315360000") == 0,
     "static: 304 keeps Cache-Control");
  gust_future_unref(f);
  gust_buf_free(&u);
  app_stop();
}

/* A client that reads slowly: every piece waits a moment (flow control on
 * the server's side). */
static int slow_stream(const void *data, size_t len, void *ud,
                       gust_future **wait) {
  gust_buf *b = ud;
  if (gust_buf_append(b, data, len) != 0)
    return GUST_ENOMEM;
  return gust_future_sleep(wait, loop, 0.0005, NULL);
}

/* Runs the loop until `want` bytes came on `fd` (or its end); returns how
 * many came. */
static int read_some(int fd, size_t want) {
  raw_reader rd;
  memset(&rd, 0, sizeof(rd));
  rd.fd = fd;
  rd.enough = want;
  raw_wait(&rd, "a download to start");
  return (int)rd.total;
}

static int huge_closed(gust_loop *l, void *ud) {
  (void)l;
  (void)ud;
  return fds_open_on("huge.bin") == 0;
}

static void t_stream(void) {
  gust_fetch_request r;
  gust_future *f = NULL;
  gust_buf b;
  int fd, i, got;
  char req[256];
  struct linger lg;
  app_start();

  /* a slow reader gets every byte */
  gust_buf_init(&b, NULL);
  gust_fetch_request_init(&r, url("/static/big.bin"));
  r.streaming_callback = slow_stream;
  r.user_data = &b;
  if (gust_http_client_fetch(S.cli, &r, &f) != 0 || t_run_future(f) != 0)
    bail_out("fetch");
  ok(code(f) == 200 && b.len == BIG_SIZE && memcmp(b.ptr, big, b.len) == 0,
     "static: slow reader gets the whole file");
  gust_future_unref(f);
  gust_buf_free(&b);

  /* the client goes away in the middle: the server stops, closes the
   * file, frees the request, and goes on serving */
  write_file(root, "huge.bin", big, BIG_SIZE);
  {
    char p[PATH_MAX];
    FILE *fh;
    path_of(p, root, "huge.bin");
    fh = fopen(p, "ab");
    for (i = 0; fh != NULL && (size_t)(i + 1) * BIG_SIZE < HUGE_SIZE; i++)
      fwrite(big, 1, BIG_SIZE, fh);
    if (fh == NULL || fclose(fh) != 0)
      bail_out("huge.bin");
  }
  for (i = 0; i < 2; i++) {
    fd = raw_connect(4096);
    snprintf(req, sizeof(req),
             "GET /static/huge.bin HTTP/1.1\r\nHost: x\r\n\r\n");
    if (send(fd, req, strlen(req), MSG_NOSIGNAL) != (ssize_t)strlen(req))
      bail_out("send");
    read_some(fd, 100000);
    gust_test_run_for(t_current, 0.05);
    ok(fds_open_on("huge.bin") == 1, "static: %s mid-stream file is open",
       i == 0 ? "close" : "reset");
    if (i == 1) { /* reset rather than close */
      lg.l_onoff = 1;
      lg.l_linger = 0;
      setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
    }
    close(fd);
    gust_test_run_until(t_current, huge_closed, NULL,
                        "the server to close huge.bin");
    is_int(fds_open_on("huge.bin"), 0,
           "static: client %s mid-download: file closed",
           i == 0 ? "close" : "reset");
  }
  expect(NULL, "/static/hello.txt", 200, "Hello, world!\n",
         "static: server still serving after aborted downloads");
  is_int(gust_http_server_connection_count(S.srv) <= 1, 1,
         "static: aborted connections are gone");

  /* the server and the application freed in the middle of a download */
  fd = raw_connect(4096);
  snprintf(req, sizeof(req),
           "GET /static/huge.bin HTTP/1.1\r\nHost: x\r\n\r\n");
  if (send(fd, req, strlen(req), MSG_NOSIGNAL) != (ssize_t)strlen(req))
    bail_out("send");
  got = read_some(fd, 100000);
  ok(got >= 100000 && fds_open_on("huge.bin") == 1,
     "static: download in progress");
  app_stop();
  gust_test_run_for(t_current, 0.05);
  is_int(fds_open_on("huge.bin"), 0,
         "static: server freed mid-download: file closed");
  close(fd);
}

/* compress_response gzips what the handler streams; the client decodes
 * it back. */
static void t_compress(void) {
  gust_fetch_request r;
  gust_future *f = NULL;
  gust_slice b;
  char p[PATH_MAX];
  FILE *fh;
  static char want[1 << 20];
  size_t n;
  path_of(p, root, "big.txt");
  fh = fopen(p, "r");
  n = fh != NULL ? fread(want, 1, sizeof(want), fh) : 0;
  if (fh != NULL)
    fclose(fh);
  compress_on = 1;
  app_start();
  gust_fetch_request_init(&r, url("/static/big.txt"));
  if (gust_http_client_fetch(S.cli, &r, &f) != 0 || t_run_future(f) != 0)
    bail_out("fetch");
  b = body(f);
  ok(code(f) == 200 && b.len == n && memcmp(b.ptr, want, n) == 0,
     "static: compressed big text file decodes to the file");
  is_str(hdr(f, "X-Consumed-Content-Encoding"), "gzip",
         "static: big text file was gzipped");
  gust_future_unref(f);
  f = get_h("/static/big.txt", "Range: bytes=100000-300000");
  b = body(f);
  ok(code(f) == 206 && b.len == 200001 &&
         memcmp(b.ptr, want + 100000, b.len) == 0,
     "static: compressed range decodes to the range");
  gust_future_unref(f);
  f = head_h("/static/big.txt", NULL);
  ok(code(f) == 200 && body(f).len == 0, "static: compressed HEAD");
  gust_future_unref(f);
  expect(NULL, "/static/hello.txt", 200, "Hello, world!\n",
         "static: small file with compression on");
  app_stop();
  compress_on = 0;
}

/* Every allocation of the application (and its handlers) fails in turn
 * during a streamed GET, a range, a redirect and a versioned URL: each
 * request ends one way or another, and nothing leaks. */
static void t_failmem(void) {
  static const char *const paths[] = {"/static/big.txt?v=1", "/files/sub",
                                      "/static/range.txt"};
  gust_failmem fm;
  unsigned long n, total = 0;
  int completed = 0, failed = 0, leaks = 0;
  size_t i;
  gust_failmem_init(&fm, NULL);
  /* n = 0: a pass without failure, which counts the allocations */
  for (n = 0; n == 0 || n <= total; n++) {
    gust_web_settings st;
    gust_buf u;
    memset(&S, 0, sizeof(S));
    memset(&st, 0, sizeof(st));
    st.static_path = root;
    S.files.root = root;
    S.files.default_filename = "index.html";
    gust_failmem_reset(&fm, 0);
    if (gust_web_app_new(&S.app, loop, &st, &fm.mem) != 0 ||
        gust_web_app_add(S.app, "/files/(.*)", &gust_web_static_handler,
                         &S.files, NULL) != 0 ||
        gust_web_app_listen(S.app, "127.0.0.1", 0, NULL, &S.srv) != 0 ||
        (S.cli = gust_test_http_client(t_current)) == NULL)
      bail_out("failmem app");
    S.port = gust_http_server_port(S.srv);
    gust_failmem_reset(&fm, n);
    fm.fail_after = 0;
    for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
      const char *hs[2] = {"Range: bytes=2-5", NULL};
      gust_future *f = fetchv(NULL, paths[i], i == 2 ? hs : NULL);
      if (code(f) < 500)
        completed++;
      else
        failed++;
      gust_future_unref(f);
    }
    gust_buf_init(&u, NULL);
    gust_web_app_static_url(S.app, "version.txt", 1, &u);
    gust_buf_free(&u);
    if (n == 0)
      total = fm.count;
    app_stop_in(0.005);
    gust_test_run_for(t_current, 0.005);
    if (fm.live_blocks != 0) {
      diag("failmem %lu: %zu blocks leaked", n, fm.live_blocks);
      leaks++;
    }
  }
  ok(completed > 0 && failed > 0,
     "static: failmem %lu allocations failed in turn: %d answered, %d failed",
     total, completed, failed);
  is_int(leaks, 0, "static: failmem leaks nothing");
}

int main(void) {
  signal(SIGPIPE, SIG_IGN);
  atexit(fixtures_remove);
  fixtures_make();
  t_run_group("mime", &loop, t_mime);
  t_run_group("basic", &loop, t_basic);
  t_run_group("big", &loop, t_big);
  t_run_group("types", &loop, t_types);
  t_run_group("conditional", &loop, t_conditional);
  t_run_group("range", &loop, t_range);
  t_run_group("paths", &loop, t_paths);
  t_run_group("default", &loop, t_default);
  t_run_group("version", &loop, t_version);
  t_run_group("stream", &loop, t_stream);
  t_run_group("compress", &loop, t_compress);
  t_run_group("failmem", &loop, t_failmem);
  fixtures_remove();
  return done_testing();
}
