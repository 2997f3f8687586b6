/* Load generator of bench/client: one gust_http_client keeps CONC GETs of
 * URL in flight for SECONDS, each completion starting the next fetch, and
 * prints requests/s, latency percentiles, the pool's counters and CPU time
 * per request, one "key: value" line each (bench/client reads them).
 *
 *   bench/client_gust --url URL [--seconds N] [--concurrency N]
 *                     [--no-keep-alive]
 *
 * Every response must be a 200 with the body length of a first warm-up
 * response (fetched on a client of its own, not counted); exits 1 after
 * printing the first failure otherwise. Public API only. */
#include <gust/future.h>
#include <gust/httpclient.h>
#include <gust/loop.h>

#include <math.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

/* Latencies kept for the percentiles: beyond this many requests a uniform
 * sample of them (reservoir sampling), so memory stays bounded. */
#define MAX_SAMPLES ((size_t)1 << 20)

typedef struct bench bench;

/* One of the CONC request chains: when its fetch completes, it starts the
 * next one. */
typedef struct chain {
  bench *b;
  double t0;
} chain;

struct bench {
  gust_loop *loop;
  gust_http_client *client;
  const char *url;
  size_t expect_len;
  double deadline;
  size_t in_flight;
  uint64_t ok, failed;
  double t_last;
  char first_error[512];
  double *lat;
  size_t nlat;
  uint64_t seen; /* latencies offered to the reservoir */
  uint64_t rng;
};

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double cpu_seconds(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
         (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static uint64_t xorshift(uint64_t *s) {
  *s ^= *s << 13;
  *s ^= *s >> 7;
  *s ^= *s << 17;
  return *s;
}

static void record_latency(bench *b, double secs) {
  uint64_t j;
  b->seen++;
  if (b->nlat < MAX_SAMPLES) {
    b->lat[b->nlat++] = secs;
    return;
  }
  j = xorshift(&b->rng) % b->seen;
  if (j < MAX_SAMPLES)
    b->lat[j] = secs;
}

/* Counts a failed request; the first one's description is kept. */
static void fail(bench *b, const char *what, const char *msg, long code) {
  if (b->failed++ == 0)
    snprintf(b->first_error, sizeof b->first_error, "%s: %s (%ld)", what,
             msg != NULL ? msg : "", code);
}

static void on_done(gust_future *f, void *user_data);

/* Starts the chain's next fetch; returns 0 or a negative code (counted as
 * a failure, the chain ends). */
static int start(chain *c) {
  bench *b = c->b;
  gust_future *f;
  int rc;
  c->t0 = now();
  rc = gust_http_client_fetch_url(b->client, b->url, &f);
  if (rc < 0) {
    fail(b, "fetch", gust_http_client_last_error(b->client), rc);
    return rc;
  }
  rc = gust_future_add_done_callback(f, on_done, c);
  gust_future_unref(f); /* the pending callback holds its own reference */
  if (rc < 0) {
    fail(b, "add_done_callback", gust_strerror(rc), rc);
    return rc;
  }
  b->in_flight++;
  return 0;
}

static void on_done(gust_future *f, void *user_data) {
  chain *c = user_data;
  bench *b = c->b;
  double t = now();
  const gust_fetch_response *resp = gust_fetch_response_of(f);
  b->in_flight--;
  b->t_last = t;
  if (resp == NULL) {
    fail(b, "future failed", gust_future_error_message(f),
         gust_future_error(f));
  } else if (gust_fetch_response_code(resp) != 200) {
    const char *msg = gust_fetch_response_error_message(resp);
    fail(b, "HTTP status", msg != NULL ? msg : gust_fetch_response_reason(resp),
         gust_fetch_response_code(resp));
  } else if (gust_fetch_response_body(resp).len != b->expect_len) {
    char want[64];
    snprintf(want, sizeof want, "the warm-up's was %zu", b->expect_len);
    fail(b, "body length differs", want,
         (long)gust_fetch_response_body(resp).len);
  } else {
    b->ok++;
    record_latency(b, t - c->t0);
  }
  if (t < b->deadline)
    start(c);
}

static int all_done(gust_loop *loop, void *user_data) {
  const bench *b = user_data;
  (void)loop;
  return b->in_flight == 0;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* Nearest-rank percentile of the sorted samples, in ms. */
static double percentile_ms(const double *v, size_t n, double p) {
  size_t k;
  if (n == 0)
    return NAN;
  k = (size_t)(p * (double)n);
  if ((double)k < p * (double)n)
    k++;
  return v[k > 0 ? k - 1 : 0] * 1e3;
}

/* Runs the loop for `seconds` so that closes complete. */
static void settle(gust_loop *loop, double seconds) {
  gust_future *f;
  if (gust_future_sleep(&f, loop, seconds, NULL) == 0) {
    gust_future_run(f, 0);
    gust_future_unref(f);
  }
}

/* One GET on a client of its own: the expected body length. */
static int warm_up(gust_loop *loop, const char *url, size_t *len) {
  gust_http_client *c;
  gust_future *f;
  const gust_fetch_response *resp;
  int rc = gust_http_client_new(&c, loop, NULL, NULL), ok = 0;
  if (rc < 0) {
    fprintf(stderr, "client_gust: cannot create a client: %s\n",
            gust_strerror(rc));
    return -1;
  }
  rc = gust_http_client_fetch_url(c, url, &f);
  if (rc < 0) {
    fprintf(stderr, "client_gust: %s\n", gust_http_client_last_error(c));
  } else {
    gust_future_run(f, 0);
    resp = gust_fetch_response_of(f);
    if (resp == NULL) {
      fprintf(stderr, "client_gust: warm-up: %s\n",
              gust_future_error_message(f));
    } else if (gust_fetch_response_code(resp) != 200) {
      const char *msg = gust_fetch_response_error_message(resp);
      fprintf(stderr, "client_gust: warm-up: HTTP %d %s\n",
              gust_fetch_response_code(resp),
              msg != NULL ? msg : gust_fetch_response_reason(resp));
    } else {
      *len = gust_fetch_response_body(resp).len;
      ok = 1;
    }
    gust_future_unref(f);
  }
  gust_http_client_free(c);
  settle(loop, 0.05);
  return ok ? 0 : -1;
}

static void usage(void) {
  fprintf(stderr, "usage: client_gust --url URL [--seconds N] "
                  "[--concurrency N] [--no-keep-alive]\n");
  exit(2);
}

static long positive(const char *s) {
  char *end;
  long v = strtol(s, &end, 10);
  if (*s == '\0' || *end != '\0' || v < 1 || v > 1000000)
    usage();
  return v;
}

int main(int argc, char **argv) {
  bench b;
  chain *chains;
  gust_http_client_opts opts;
  gust_http_client_stats st;
  long seconds = 3, conc = 16;
  int no_keep_alive = 0, i, rc;
  double t_start, cpu0, cpu, elapsed;

  memset(&b, 0, sizeof b);
  for (i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--url") == 0 && i + 1 < argc)
      b.url = argv[++i];
    else if (strcmp(argv[i], "--seconds") == 0 && i + 1 < argc)
      seconds = positive(argv[++i]);
    else if (strcmp(argv[i], "--concurrency") == 0 && i + 1 < argc)
      conc = positive(argv[++i]);
    else if (strcmp(argv[i], "--no-keep-alive") == 0)
      no_keep_alive = 1;
    else
      usage();
  }
  if (b.url == NULL)
    usage();
  signal(SIGPIPE, SIG_IGN);

  b.lat = malloc(MAX_SAMPLES * sizeof *b.lat);
  chains = calloc((size_t)conc, sizeof *chains);
  if (b.lat == NULL || chains == NULL || gust_loop_new(&b.loop, NULL) < 0) {
    fprintf(stderr, "client_gust: out of memory\n");
    return 1;
  }
  if (warm_up(b.loop, b.url, &b.expect_len) < 0)
    return 1;

  memset(&opts, 0, sizeof opts);
  opts.max_clients = (size_t)conc;
  /* Every connection the run needs stays pooled (the default keeps 4). */
  opts.max_idle_per_host = (size_t)conc;
  opts.no_keep_alive = no_keep_alive;
  rc = gust_http_client_new(&b.client, b.loop, &opts, NULL);
  if (rc < 0) {
    fprintf(stderr, "client_gust: cannot create the client: %s\n",
            gust_strerror(rc));
    return 1;
  }
  b.rng = 0x9e3779b97f4a7c15u;
  cpu0 = cpu_seconds();
  t_start = now();
  b.deadline = t_start + (double)seconds;
  b.t_last = t_start;
  for (i = 0; i < conc; i++) {
    chains[i].b = &b;
    if (start(&chains[i]) < 0)
      break;
  }
  gust_loop_run_until(b.loop, all_done, &b);
  cpu = cpu_seconds() - cpu0;
  elapsed = b.t_last - t_start;
  gust_http_client_stats_get(b.client, &st);

  qsort(b.lat, b.nlat, sizeof *b.lat, cmp_double);
  printf("client:          gust (%s, max_clients %ld, max_idle_per_host "
         "%ld)\n",
         no_keep_alive ? "Connection: close, a connection per request"
                       : "keep-alive pool",
         conc, conc);
  printf("url:             %s\n", b.url);
  printf("concurrency:     %ld\n", conc);
  printf("seconds:         %.3f\n", elapsed);
  printf("requests:        %llu\n", (unsigned long long)b.ok);
  printf("failed:          %llu\n", (unsigned long long)b.failed);
  printf("requests/s:      %.1f\n", elapsed > 0 ? (double)b.ok / elapsed : 0.0);
  printf("p50_ms:          %.3f\n", percentile_ms(b.lat, b.nlat, 0.50));
  printf("p99_ms:          %.3f\n", percentile_ms(b.lat, b.nlat, 0.99));
  printf("connects:        %llu\n", (unsigned long long)st.connects);
  printf("reuses:          %llu\n", (unsigned long long)st.reuses);
  printf("cpu_us_per_req:  %.2f\n", b.ok > 0 ? cpu * 1e6 / (double)b.ok : NAN);

  gust_http_client_free(b.client);
  settle(b.loop, 0.05);
  gust_loop_free(b.loop);
  free(chains);
  free(b.lat);
  if (b.failed > 0) {
    fprintf(stderr, "client_gust: %llu request(s) failed; the first: %s\n",
            (unsigned long long)b.failed, b.first_error);
    return 1;
  }
  return 0;
}
