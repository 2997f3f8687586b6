/* Benchmark: gust's strict HTTP/1.1 request parsing against llhttp,
 * http-parser and picohttpparser, all built or linked in the same run and
 * timed in one process on the same inputs. Each parser walks every header
 * (its lengths are summed); gust runs with its full validation. Prints a
 * table, then one "BENCH name value" line per figure.
 *
 * `http1_parse PARSER INPUT N` runs one parser (gust, llhttp, http-parser
 * or picohttpparser) N times on one input (browser or plaintext) and
 * prints nothing else: for counting instructions (valgrind --tool=callgrind,
 * perf stat -e instructions), which the machine's load does not change. */
#include <gust/http1.h>

#include <http_parser.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* picohttpparser as exported by Debian's libh2o (no header is shipped). */
struct phr_header {
  const char *name;
  size_t name_len;
  const char *value;
  size_t value_len;
};
int phr_parse_request(const char *buf, size_t len, const char **method,
                      size_t *method_len, const char **path, size_t *path_len,
                      int *minor_version, struct phr_header *headers,
                      size_t *num_headers, size_t last_len);

/* (a) the 703-byte browser request of picohttpparser's benchmark */
static const char browser[] =
    "GET /wp-content/uploads/2010/03/hello-kitty-darth-vader-pink.jpg "
    "HTTP/1.1\r\n"
    "Host: www.kittyhell.com\r\n"
    "User-Agent: Mozilla/5.0 (Macintosh; U; Intel Mac OS X 10.6; ja-JP-mac; "
    "rv:1.9.2.3) Gecko/20100401 Firefox/3.6.3 Pathtraq/0.9\r\n"
    "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/"
    "*;q=0.8\r\n"
    "Accept-Language: ja,en-us;q=0.7,en;q=0.3\r\n"
    "Accept-Encoding: gzip,deflate\r\n"
    "Accept-Charset: Shift_JIS,utf-8;q=0.7,*;q=0.7\r\n"
    "Keep-Alive: 115\r\n"
    "Connection: keep-alive\r\n"
    "Cookie: wp_ozh_wsa_visits=2; wp_ozh_wsa_visit_lasttime=xxxxxxxxxx; "
    "__utma=xxxxxxxxx.xxxxxxxxxx.xxxxxxxxxx.xxxxxxxxxx.xxxxxxxxxx.x; "
    "__utmz=xxxxxxxxx.xxxxxxxxxx.x.x.utmccn=(referral)|utmcsr=reader."
    "livedoor.com|utmcct=/reader/|utmcmd=referral\r\n"
    "\r\n";

/* (b) a minimal plaintext request */
static const char plaintext[] =
    "GET /plaintext HTTP/1.1\r\nHost: localhost\r\n\r\n";

static volatile size_t sink;

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

typedef long (*run_fn)(const char *req, size_t len, long n);

/* --- gust ----------------------------------------------------------- */
static long run_gust(const char *req, size_t len, long n) {
  gust_h1_config cfg;
  gust_h1 *h;
  gust_h1_event ev;
  long i, done = 0;
  gust_h1_config_init(&cfg);
  cfg.flags = GUST_H1_READ_ONLY;
  if (gust_h1_new(&h, GUST_H1_SERVER, &cfg, NULL) != 0)
    return -1;
  for (i = 0; i < n; i++) {
    size_t k, sum = 0;
    gust_h1_feed(h, req, len);
    if (gust_h1_next_event(h, &ev) != GUST_H1_REQUEST)
      break;
    for (k = 0; k < ev.nfields; k++)
      sum += ev.fields[k].name.len + ev.fields[k].value.len;
    sink += sum;
    if (gust_h1_next_event(h, &ev) != GUST_H1_END_MESSAGE ||
        gust_h1_next_event(h, &ev) != GUST_H1_NEED_DATA)
      break;
    done++;
  }
  gust_h1_free(h);
  return done;
}

/* --- llhttp (bench/http1_llhttp.c: its header clashes with
 * http-parser's) ---------------------------------------------------- */
long bench_run_llhttp(const char *req, size_t len, long n);

static long run_llhttp(const char *req, size_t len, long n) {
  return bench_run_llhttp(req, len, n);
}

/* --- http-parser ---------------------------------------------------- */
static int hp_cb(http_parser *p, const char *at, size_t length) {
  (void)p;
  (void)at;
  sink += length;
  return 0;
}

static int hp_done(http_parser *p) {
  (*(long *)p->data)++;
  return 0;
}

static long run_http_parser(const char *req, size_t len, long n) {
  http_parser p;
  http_parser_settings s;
  long i, done = 0;
  memset(&s, 0, sizeof(s));
  s.on_header_field = hp_cb;
  s.on_header_value = hp_cb;
  s.on_message_complete = hp_done;
  http_parser_init(&p, HTTP_REQUEST);
  p.data = &done;
  for (i = 0; i < n; i++)
    if (http_parser_execute(&p, &s, req, len) != len)
      break;
  return done;
}

/* --- picohttpparser ------------------------------------------------- */
static long run_pico(const char *req, size_t len, long n) {
  struct phr_header hs[100];
  long i, done = 0;
  for (i = 0; i < n; i++) {
    const char *m, *path;
    size_t ml, pl, nh = 100, k, sum = 0;
    int minor;
    if (phr_parse_request(req, len, &m, &ml, &path, &pl, &minor, hs, &nh, 0) !=
        (int)len)
      break;
    for (k = 0; k < nh; k++)
      sum += hs[k].name_len + hs[k].value_len;
    sink += sum;
    done++;
  }
  return done;
}

/* Iterations that take about 0.1 s, or 0 if the parser refuses the input. */
static long calibrate(run_fn fn, const char *req, size_t len) {
  long n = 1000;
  if (fn(req, len, 1000) != 1000)
    return 0;
  for (;;) {
    double t0 = now();
    fn(req, len, n);
    if (now() - t0 > 0.05)
      return n * 2;
    n *= 2;
  }
}

static void row(const char *name, double rps, size_t len) {
  printf("  %-16s %12.0f req/s %10.1f MB/s\n", name, rps,
         rps * (double)len / 1e6);
}

enum { GUST, LLHTTP, HTTP_PARSER, PICO, NPARSERS };

/* Seven rounds, each running every parser once in turn (so that a change
 * of machine load hits all of them alike); the best rate of each counts. */
static void input(const char *label, const char *req) {
  static const run_fn fns[NPARSERS] = {run_gust, run_llhttp, run_http_parser,
                                       run_pico};
  static const char *const names[NPARSERS] = {"gust", "llhttp", "http-parser",
                                              "picohttpparser"};
  double best[NPARSERS] = {0, 0, 0, 0};
  long n[NPARSERS];
  size_t len = strlen(req);
  int r, k;
  for (k = 0; k < NPARSERS; k++)
    n[k] = calibrate(fns[k], req, len);
  for (r = 0; r < 7; r++)
    for (k = 0; k < NPARSERS; k++) {
      double t0, dt;
      if (n[k] == 0)
        continue;
      t0 = now();
      fns[k](req, len, n[k]);
      dt = now() - t0;
      if (dt > 0 && n[k] / dt > best[k])
        best[k] = n[k] / dt;
    }
  printf("%s request (%zu bytes)\n", label, len);
  for (k = 0; k < NPARSERS; k++)
    row(names[k], best[k], len);
  printf("  gust/llhttp %.2f  gust/picohttpparser %.2f  gust/http-parser "
         "%.2f\n\n",
         best[GUST] / best[LLHTTP], best[GUST] / best[PICO],
         best[GUST] / best[HTTP_PARSER]);
  printf("BENCH http1_parse.%s.gust_req_per_s %.0f\n", label, best[GUST]);
  printf("BENCH http1_parse.%s.gust_mb_per_s %.1f\n", label,
         best[GUST] * (double)len / 1e6);
  printf("BENCH http1_parse.%s.gust_over_llhttp %.2f\n", label,
         best[GUST] / best[LLHTTP]);
  printf("BENCH http1_parse.%s.gust_over_picohttpparser %.2f\n", label,
         best[GUST] / best[PICO]);
  printf("BENCH http1_parse.%s.gust_over_http_parser %.2f\n\n", label,
         best[GUST] / best[HTTP_PARSER]);
}

/* One parser, one input, a fixed count (see the comment at the top). */
static int count_mode(const char *parser, const char *label, const char *n) {
  static const run_fn fns[NPARSERS] = {run_gust, run_llhttp, run_http_parser,
                                       run_pico};
  static const char *const names[NPARSERS] = {"gust", "llhttp", "http-parser",
                                              "picohttpparser"};
  const char *req = strcmp(label, "browser") == 0     ? browser
                    : strcmp(label, "plaintext") == 0 ? plaintext
                                                      : NULL;
  long count = strtol(n, NULL, 10), done;
  int k;
  for (k = 0; k < NPARSERS; k++)
    if (strcmp(parser, names[k]) == 0)
      break;
  if (k == NPARSERS || req == NULL || count <= 0) {
    fprintf(stderr, "usage: http1_parse [PARSER browser|plaintext N]\n");
    return 2;
  }
  done = fns[k](req, strlen(req), count);
  printf("%s %s %ld\n", parser, label, done);
  return done == count ? 0 : 1;
}

int main(int argc, char **argv) {
  if (argc == 4)
    return count_mode(argv[1], argv[2], argv[3]);
  printf("http1_parse: requests parsed per second, best of 7 rounds\n\n");
  input("browser", browser);
  input("plaintext", plaintext);
  return (int)(sink & 0);
}
