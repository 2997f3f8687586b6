/* gust-fetch: fetches one URL with gust's HTTP client and writes the body
 * to standard output or a file, in the spirit of `python -m
 * tornado.httpclient` and a small curl. */
#include <gust/httpclient.h>
#include <gust/version.h>

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Exit statuses, documented in --help and gust-fetch(1). */
enum {
  EXIT_OK = 0,       /* a response with a code below 400 */
  EXIT_USAGE = 1,    /* bad command line, or a -d @FILE that cannot be read */
  EXIT_HTTP = 2,     /* a response with a code of 400 or more */
  EXIT_NETWORK = 3,  /* no response: network, timeout, TLS, protocol */
  EXIT_OUTPUT = 4,   /* the output cannot be opened or written */
  EXIT_INTERNAL = 5, /* out of memory or another internal failure */
};

static void usage(FILE *f) {
  fprintf(
      f, "usage: gust-fetch [OPTIONS] URL\n"
         "Fetches URL (http:// is assumed without a scheme) and writes the\n"
         "body to standard output.\n"
         "  -X, --request METHOD      request method (GET; POST with -d)\n"
         "  -H, --header 'NAME: VALUE'  add a request header (repeatable)\n"
         "  -d, --data DATA           send DATA as the body; @FILE reads FILE\n"
         "                            (@- standard input) as is; repeated -d\n"
         "                            are joined with '&'\n"
         "      --data-binary DATA    the same as --data\n"
         "  -o, --output FILE         write the body to FILE ('-': stdout)\n"
         "      --compressed          ask for gzip and decode it (default)\n"
         "      --no-compressed       do not ask for gzip\n"
         "  -L, --location            follow redirects\n"
         "      --max-redirs N        follow at most N redirects (5)\n"
         "      --cacert FILE         trust the CA certificates in FILE (PEM)\n"
         "  -k, --insecure            do not verify the server's certificate\n"
         "      --cert FILE           client certificate (PEM)\n"
         "      --key FILE            its private key (default: in --cert)\n"
         "  -u, --user USER:PASSWORD  Basic authentication\n"
         "  -A, --user-agent NAME     User-Agent (gust/VERSION)\n"
         "  -i, --include             write the status line and headers\n"
         "                            before the body\n"
         "  -v, --verbose             describe the exchange on stderr\n"
         "      --timeout SECONDS     limit for the whole request (none)\n"
         "      --connect-timeout SECONDS  limit for connecting (20)\n"
         "      --expect-100          send the body after 100 Continue\n"
         "  -s, --silent              no progress bar\n"
         "  -h, --help                print this help and exit\n"
         "      --version             print the version and exit\n"
         "Exit status: 0 response code below 400, 1 usage error, 2 response\n"
         "code 400 or more (the body is still written), 3 no response\n"
         "(network, timeout, TLS or protocol error), 4 output error, 5 out\n"
         "of memory or internal error.\n");
}

enum {
  OPT_DATA_BINARY = 256,
  OPT_COMPRESSED,
  OPT_NO_COMPRESSED,
  OPT_MAX_REDIRS,
  OPT_CACERT,
  OPT_CERT,
  OPT_KEY,
  OPT_TIMEOUT,
  OPT_CONNECT_TIMEOUT,
  OPT_EXPECT_100,
  OPT_VERSION,
};

static const struct option LONG_OPTS[] = {
    {"request", required_argument, NULL, 'X'},
    {"header", required_argument, NULL, 'H'},
    {"data", required_argument, NULL, 'd'},
    {"data-binary", required_argument, NULL, OPT_DATA_BINARY},
    {"output", required_argument, NULL, 'o'},
    {"compressed", no_argument, NULL, OPT_COMPRESSED},
    {"no-compressed", no_argument, NULL, OPT_NO_COMPRESSED},
    {"location", no_argument, NULL, 'L'},
    {"max-redirs", required_argument, NULL, OPT_MAX_REDIRS},
    {"cacert", required_argument, NULL, OPT_CACERT},
    {"insecure", no_argument, NULL, 'k'},
    {"cert", required_argument, NULL, OPT_CERT},
    {"key", required_argument, NULL, OPT_KEY},
    {"user", required_argument, NULL, 'u'},
    {"user-agent", required_argument, NULL, 'A'},
    {"include", no_argument, NULL, 'i'},
    {"verbose", no_argument, NULL, 'v'},
    {"timeout", required_argument, NULL, OPT_TIMEOUT},
    {"connect-timeout", required_argument, NULL, OPT_CONNECT_TIMEOUT},
    {"expect-100", no_argument, NULL, OPT_EXPECT_100},
    {"silent", no_argument, NULL, 's'},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, OPT_VERSION},
    {NULL, 0, NULL, 0},
};

/* What the callbacks share with main(). */
typedef struct fetch_state {
  gust_loop *loop;
  FILE *out;
  const char *out_name; /* for messages */
  int out_errno;        /* set once writing the output failed */
  int include;
  int verbose;
  int decompress; /* the body is decoded when gzip-encoded */
  /* progress bar */
  int progress;
  int head_seen;
  uint64_t received;
  uint64_t total; /* from Content-Length; UINT64_MAX when unknown */
  double start;
  double last_draw;
} fetch_state;

/* Writes to the output; after a failure (remembered) returns GUST_EIO. */
static int put(fetch_state *st, const void *p, size_t n) {
  if (st->out_errno != 0)
    return GUST_EIO;
  errno = 0;
  if (n != 0 && fwrite(p, 1, n, st->out) != n) {
    st->out_errno = errno != 0 ? errno : EIO;
    return GUST_EIO;
  }
  return 0;
}

static int put_str(fetch_state *st, const char *s) {
  return put(st, s, strlen(s));
}

/* Prints a byte count in a fixed width so that the bar never leaves
 * stale characters behind. */
static void put_size(double n) {
  static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  size_t u = 0;
  while (n >= 1024.0 && u + 1 < sizeof units / sizeof units[0]) {
    n /= 1024.0;
    u++;
  }
  fprintf(stderr, "%6.1f %-3s", n, units[u]);
}

static void draw_progress(fetch_state *st, double now) {
  double elapsed = now - st->start;
  fputc('\r', stderr);
  put_size((double)st->received);
  if (st->total != UINT64_MAX) {
    double pct = st->total == 0
                     ? 100.0
                     : 100.0 * (double)st->received / (double)st->total;
    if (pct > 100.0)
      pct = 100.0;
    fputs(" / ", stderr);
    put_size((double)st->total);
    fprintf(stderr, " %3d%%", (int)pct);
  }
  fputs("  ", stderr);
  put_size(elapsed > 0 ? (double)st->received / elapsed : 0.0);
  fputs("/s ", stderr);
  fflush(stderr);
  st->last_draw = now;
}

/* Writes the head in HTTP/1.1 form to the output; returns 0 or GUST_EIO. */
static int put_head(fetch_state *st, const gust_fetch_response *resp) {
  const gust_headers *h = gust_fetch_response_headers(resp);
  const char *reason = gust_fetch_response_reason(resp);
  gust_slice name, value;
  size_t it = 0;
  char line[48];
  int rc;
  snprintf(line, sizeof line, "HTTP/1.1 %d ", gust_fetch_response_code(resp));
  rc = put_str(st, line);
  if (rc == 0)
    rc = put_str(st, reason != NULL ? reason : "");
  if (rc == 0)
    rc = put_str(st, "\r\n");
  while (rc == 0 && gust_headers_next(h, &it, &name, &value)) {
    rc = put(st, name.ptr, name.len);
    if (rc == 0)
      rc = put_str(st, ": ");
    if (rc == 0)
      rc = put(st, value.ptr, value.len);
    if (rc == 0)
      rc = put_str(st, "\r\n");
  }
  if (rc == 0)
    rc = put_str(st, "\r\n");
  return rc;
}

/* The head of the request that got `resp`, as it was sent, "> " lines. */
static void print_request_verbose(const gust_fetch_response *resp) {
  gust_slice h = gust_fetch_response_request_head(resp);
  size_t i = 0;
  while (i < h.len) {
    size_t j = i;
    while (j < h.len && h.ptr[j] != '\r' && h.ptr[j] != '\n')
      j++;
    if (j == i)
      fprintf(stderr, ">\n");
    else
      fprintf(stderr, "> %.*s\n", (int)(j - i), (const char *)h.ptr + i);
    if (j < h.len && h.ptr[j] == '\r')
      j++;
    i = j < h.len ? j + 1 : j;
  }
}

static void print_head_verbose(const gust_fetch_response *resp) {
  const gust_headers *h = gust_fetch_response_headers(resp);
  const char *reason = gust_fetch_response_reason(resp);
  gust_slice name, value;
  size_t it = 0;
  fprintf(stderr, "< HTTP/1.1 %d %s\n", gust_fetch_response_code(resp),
          reason != NULL ? reason : "");
  while (gust_headers_next(h, &it, &name, &value))
    fprintf(stderr, "< %.*s: %.*s\n", (int)name.len, (const char *)name.ptr,
            (int)value.len, (const char *)value.ptr);
  fprintf(stderr, "<\n");
}

/* Called for each response head (followed redirects included): the last
 * one is the final response's. */
static int on_header(const gust_fetch_response *resp, void *user_data) {
  fetch_state *st = user_data;
  const gust_headers *h = gust_fetch_response_headers(resp);
  gust_slice v;
  uint64_t n;
  st->head_seen = 1;
  st->received = 0;
  st->total = UINT64_MAX;
  /* A decoded body is longer than the Content-Length of its encoding. */
  if (gust_headers_get(h, "Content-Length", &v) == 0 &&
      gust_headers_get(h, "X-Consumed-Content-Encoding", NULL) != 0 &&
      (!st->decompress || gust_headers_get(h, "Content-Encoding", NULL) != 0) &&
      gust_slice_to_u64(gust_slice_trim(v), UINT64_MAX - 1, &n) == 0)
    st->total = n;
  if (st->verbose) {
    print_request_verbose(resp);
    print_head_verbose(resp);
  }
  if (st->include)
    return put_head(st, resp);
  return 0;
}

static int on_body(const void *data, size_t len, void *user_data,
                   gust_future **wait) {
  fetch_state *st = user_data;
  int rc;
  (void)wait;
  rc = put(st, data, len);
  if (rc < 0)
    return rc;
  st->received += len;
  if (st->progress) {
    double now = gust_loop_now(st->loop);
    if (now - st->last_draw >= 0.1)
      draw_progress(st, now);
  }
  return 0;
}

/* Parses a non-negative number of seconds. */
static int parse_seconds(const char *s, double *out) {
  char *end;
  double v;
  errno = 0;
  v = strtod(s, &end);
  if (end == s || *end != '\0' || errno != 0 || !isfinite(v) || v < 0)
    return -1;
  *out = v;
  return 0;
}

static int parse_count(const char *s, int *out) {
  char *end;
  long v;
  errno = 0;
  v = strtol(s, &end, 10);
  if (end == s || *end != '\0' || errno != 0 || v < 0 || v > INT_MAX)
    return -1;
  *out = (int)v;
  return 0;
}

/* Adds a -H argument "Name: value" (split at the first ':', both sides
 * trimmed). Returns 0, GUST_EINVAL (malformed) or GUST_ENOMEM. */
static int add_header(gust_headers *h, const char *arg) {
  const char *colon = strchr(arg, ':');
  gust_slice name, value;
  if (colon == NULL)
    return GUST_EINVAL;
  name.ptr = (const uint8_t *)arg;
  name.len = (size_t)(colon - arg);
  value = gust_slice_cstr(colon + 1);
  name = gust_slice_trim(name);
  value = gust_slice_trim(value);
  if (name.len == 0)
    return GUST_EINVAL;
  return gust_headers_add(h, (const char *)name.ptr, name.len,
                          (const char *)value.ptr, value.len);
}

/* Appends a -d argument to the body: the text, or the bytes of the file
 * after '@' ("@-": standard input). Returns 0, GUST_ENOMEM, or GUST_EIO
 * with errno set. */
static int add_data(gust_buf *body, int *have, const char *arg) {
  FILE *f;
  int rc = 0, err = 0;
  if (*have && (rc = gust_buf_append_byte(body, '&')) < 0)
    return rc;
  *have = 1;
  if (arg[0] != '@')
    return gust_buf_append_str(body, arg);
  if (strcmp(arg + 1, "-") == 0)
    f = stdin;
  else if ((f = fopen(arg + 1, "rb")) == NULL)
    return GUST_EIO;
  for (;;) {
    size_t n;
    if ((rc = gust_buf_reserve(body, 65536)) < 0)
      break;
    n = fread(gust_buf_tail(body), 1, 65536, f);
    gust_buf_commit(body, n);
    if (n < 65536) {
      if (ferror(f)) {
        rc = GUST_EIO;
        err = errno;
      }
      break;
    }
  }
  if (f != stdin)
    fclose(f);
  if (rc == GUST_EIO)
    errno = err;
  return rc;
}

static int fetch_error_status(int rc) {
  return rc == GUST_ENOMEM ? EXIT_INTERNAL : EXIT_USAGE;
}

static void print_summary(const gust_fetch_response *resp) {
  gust_fetch_timings t;
  gust_fetch_response_timings(resp, &t);
  fprintf(stderr, "* effective URL: %s\n",
          gust_fetch_response_effective_url(resp));
  fprintf(stderr, "* response: %d %s\n", gust_fetch_response_code(resp),
          gust_fetch_response_reason(resp));
  if (gust_fetch_response_error(resp) != 0)
    fprintf(stderr, "* error: %s\n",
            gust_errname(gust_fetch_response_error(resp)));
  fprintf(stderr,
          "* time: queue %.3f s, connect %.3f s, first byte %.3f s, "
          "total %.3f s\n",
          t.queue, t.connect, t.starttransfer, t.total);
  fprintf(stderr, "* redirects followed: %d\n", t.redirects);
  fprintf(stderr, "* connection: %s\n", t.reused ? "reused" : "new");
}

int main(int argc, char **argv) {
  gust_fetch_request req;
  gust_headers headers;
  gust_buf body, url, username;
  fetch_state st;
  gust_http_client *client = NULL;
  gust_loop *loop = NULL;
  gust_future *f = NULL;
  const gust_fetch_response *resp;
  const char *method = NULL, *output = NULL, *user = NULL;
  int have_body = 0, status = EXIT_INTERNAL, silent = 0, insecure = 0;
  int opt, rc;

  gust_headers_init(&headers, NULL);
  gust_buf_init(&body, NULL);
  gust_buf_init(&url, NULL);
  gust_buf_init(&username, NULL);
  memset(&st, 0, sizeof st);
  st.out = stdout;
  st.out_name = "standard output";
  st.total = UINT64_MAX;
  /* The URL is set once it is known; the options fill the rest. */
  gust_fetch_request_init(&req, "");
  req.follow_redirects = 0;
  req.request_timeout = 0;
  req.allow_nonstandard_methods = 1;
  /* the body is streamed to its destination: no size limit */
  req.max_body_size = UINT64_MAX;
  req.header_callback = on_header;
  req.streaming_callback = on_body;
  req.user_data = &st;

  opterr = 0;
  while ((opt = getopt_long(argc, argv, ":X:H:d:o:Lku:A:ivsh", LONG_OPTS,
                            NULL)) != -1) {
    switch (opt) {
    case 'X':
      method = optarg;
      break;
    case 'H':
      rc = add_header(&headers, optarg);
      if (rc == GUST_EINVAL) {
        fprintf(stderr, "gust-fetch: malformed header '%s'\n", optarg);
        status = EXIT_USAGE;
        goto done;
      }
      if (rc < 0)
        goto oom;
      break;
    case 'd':
    case OPT_DATA_BINARY:
      rc = add_data(&body, &have_body, optarg);
      if (rc == GUST_EIO) {
        fprintf(stderr, "gust-fetch: cannot read %s: %s\n", optarg + 1,
                strerror(errno));
        status = EXIT_USAGE;
        goto done;
      }
      if (rc < 0)
        goto oom;
      break;
    case 'o':
      output = optarg;
      break;
    case OPT_COMPRESSED:
      req.decompress_response = 1;
      break;
    case OPT_NO_COMPRESSED:
      req.decompress_response = 0;
      break;
    case 'L':
      req.follow_redirects = 1;
      break;
    case OPT_MAX_REDIRS:
      if (parse_count(optarg, &req.max_redirects) < 0) {
        fprintf(stderr, "gust-fetch: --max-redirs: not a count: '%s'\n",
                optarg);
        status = EXIT_USAGE;
        goto done;
      }
      break;
    case OPT_CACERT:
      req.ca_certs = optarg;
      break;
    case 'k':
      insecure = 1;
      break;
    case OPT_CERT:
      req.client_cert = optarg;
      break;
    case OPT_KEY:
      req.client_key = optarg;
      break;
    case 'u':
      user = optarg;
      break;
    case 'A':
      req.user_agent = optarg;
      break;
    case 'i':
      st.include = 1;
      break;
    case 'v':
      st.verbose = 1;
      req.keep_request_head = 1;
      break;
    case OPT_TIMEOUT:
    case OPT_CONNECT_TIMEOUT:
      if (parse_seconds(optarg, opt == OPT_TIMEOUT
                                    ? &req.request_timeout
                                    : &req.connect_timeout) < 0) {
        fprintf(stderr, "gust-fetch: %s: not a number of seconds: '%s'\n",
                opt == OPT_TIMEOUT ? "--timeout" : "--connect-timeout", optarg);
        status = EXIT_USAGE;
        goto done;
      }
      break;
    case OPT_EXPECT_100:
      req.expect_100_continue = 1;
      break;
    case 's':
      silent = 1;
      break;
    case 'h':
      usage(stdout);
      status = EXIT_OK;
      goto done;
    case OPT_VERSION:
      printf("gust-fetch %s\n", GUST_VERSION_STRING);
      status = EXIT_OK;
      goto done;
    case ':':
      if (optopt != 0 && optopt < 256)
        fprintf(stderr, "gust-fetch: option -%c needs an argument\n", optopt);
      else
        fprintf(stderr, "gust-fetch: option %s needs an argument\n",
                argv[optind - 1]);
      fprintf(stderr, "Try 'gust-fetch --help'.\n");
      status = EXIT_USAGE;
      goto done;
    default:
      if (optopt != 0 && optopt < 256)
        fprintf(stderr, "gust-fetch: unknown option -%c\n", optopt);
      else
        fprintf(stderr, "gust-fetch: unknown option %s\n", argv[optind - 1]);
      fprintf(stderr, "Try 'gust-fetch --help'.\n");
      status = EXIT_USAGE;
      goto done;
    }
  }
  if (optind != argc - 1) {
    fprintf(stderr, "gust-fetch: %s\n",
            optind == argc ? "no URL given" : "more than one URL given");
    usage(stderr);
    status = EXIT_USAGE;
    goto done;
  }

  /* Like curl: a URL without a scheme is http. */
  if (strstr(argv[optind], "://") == NULL &&
      gust_buf_append_str(&url, "http://") < 0)
    goto oom;
  if (gust_buf_append_str(&url, argv[optind]) < 0)
    goto oom;
  req.url = (const char *)url.ptr;
  req.method = method != NULL ? method : have_body ? "POST" : "GET";
  if (have_body) {
    /* an empty gust_buf holds no memory: any non-NULL pointer will do */
    req.body = body.len != 0 ? (const void *)body.ptr : "";
    req.body_len = body.len;
  }
  if (gust_headers_count(&headers) != 0)
    req.headers = &headers;
  if (user != NULL) {
    /* USER:PASSWORD split at the first colon; no colon: no password */
    const char *colon = strchr(user, ':');
    size_t n = colon != NULL ? (size_t)(colon - user) : strlen(user);
    if (gust_buf_append(&username, user, n) < 0)
      goto oom;
    req.auth_username = username.len != 0 ? (const char *)username.ptr : "";
    req.auth_password = colon != NULL ? colon + 1 : "";
  }
  if (insecure) {
    req.validate_cert = 0;
    fprintf(stderr, "gust-fetch: warning: certificate verification "
                    "disabled\n");
  }

  if (output != NULL && strcmp(output, "-") != 0) {
    st.out = fopen(output, "wb");
    if (st.out == NULL) {
      fprintf(stderr, "gust-fetch: %s: %s\n", output, strerror(errno));
      status = EXIT_OUTPUT;
      goto done;
    }
    st.out_name = output;
    st.progress = !silent && isatty(2);
  }
  /* The library's warnings repeat the error printed at the end. */
  if (!st.verbose) {
    gust_log_set_level(GUST_LOG_GENERAL, GUST_LOG_ERROR);
    gust_log_set_level(GUST_LOG_GEN, GUST_LOG_ERROR);
  }
  /* A closed pipe on the output is a write error, not a signal. */
  signal(SIGPIPE, SIG_IGN);

  if (gust_loop_new(&loop, NULL) < 0) {
    fprintf(stderr, "gust-fetch: cannot create the event loop\n");
    goto done;
  }
  st.loop = loop;
  rc = gust_http_client_new(&client, loop, NULL, NULL);
  if (rc < 0) {
    fprintf(stderr, "gust-fetch: cannot create the client: %s\n",
            gust_strerror(rc));
    goto done;
  }
  st.decompress = req.decompress_response;
  if (st.verbose)
    fprintf(stderr, "* %s %s\n", req.method, req.url);
  st.start = gust_loop_now(loop);
  rc = gust_http_client_fetch(client, &req, &f);
  if (rc < 0) {
    const char *msg = gust_http_client_last_error(client);
    fprintf(stderr, "gust-fetch: %s\n",
            msg != NULL && msg[0] != '\0' ? msg : gust_strerror(rc));
    status = fetch_error_status(rc);
    goto done;
  }
  rc = gust_future_run(f, 0);
  if (rc < 0 || gust_future_error(f) < 0 ||
      (resp = gust_fetch_response_of(f)) == NULL) {
    fprintf(stderr, "gust-fetch: %s\n",
            gust_strerror(rc < 0 ? rc : gust_future_error(f)));
    goto done;
  }
  if (st.progress && st.head_seen) {
    draw_progress(&st, gust_loop_now(loop));
    fputc('\n', stderr);
  }
  if (st.verbose)
    print_summary(resp);

  if (st.out_errno == 0 && fflush(st.out) != 0)
    st.out_errno = errno;
  if (st.out_errno != 0) {
    fprintf(stderr, "gust-fetch: %s: %s\n", st.out_name,
            strerror(st.out_errno));
    status = EXIT_OUTPUT;
  } else if (gust_fetch_response_error(resp) != 0) {
    const char *msg = gust_fetch_response_error_message(resp);
    fprintf(stderr, "gust-fetch: %s\n",
            msg != NULL ? msg : gust_strerror(gust_fetch_response_error(resp)));
    status = gust_fetch_response_error(resp) == GUST_ENOMEM ? EXIT_INTERNAL
                                                            : EXIT_NETWORK;
  } else if (gust_fetch_response_code(resp) >= 400) {
    status = EXIT_HTTP;
  } else {
    status = EXIT_OK;
  }
  goto done;

oom:
  fprintf(stderr, "gust-fetch: %s\n", gust_strerror(GUST_ENOMEM));
  status = EXIT_INTERNAL;
done:
  gust_future_unref(f);
  gust_http_client_free(client);
  if (loop != NULL) {
    /* let the closes of the client's connections complete */
    gust_future *s = NULL;
    if (gust_future_sleep(&s, loop, 0, NULL) == 0)
      gust_future_run(s, 0);
    gust_future_unref(s);
    gust_loop_free(loop);
  }
  if (st.out != NULL && st.out != stdout && fclose(st.out) != 0 &&
      status != EXIT_OUTPUT) {
    fprintf(stderr, "gust-fetch: %s: %s\n", st.out_name, strerror(errno));
    status = EXIT_OUTPUT;
  }
  gust_buf_free(&username);
  gust_buf_free(&url);
  gust_buf_free(&body);
  gust_headers_free(&headers);
  if (fflush(stdout) != 0 && status == EXIT_OK) {
    fprintf(stderr, "gust-fetch: standard output: %s\n", strerror(errno));
    status = EXIT_OUTPUT;
  }
  return status;
}
