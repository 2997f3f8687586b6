/* gust-h1dump: reads a captured HTTP/1.1 byte stream and prints, one line
 * per event, how gust's strict parser reads it. */
#include <gust/http1.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

static void usage(FILE *f) {
  fprintf(f, "usage: gust-h1dump [--request | --response] [FILE]\n"
             "  --request   the capture holds requests (default)\n"
             "  --response  the capture holds responses to GET requests\n"
             "  FILE        the capture (default: standard input)\n");
}

static void put_bytes(const uint8_t *p, size_t n) {
  size_t i;
  for (i = 0; i < n; i++) {
    if (p[i] >= 0x20 && p[i] < 0x7f && p[i] != '\\')
      putchar(p[i]);
    else
      printf("\\x%02x", p[i]);
  }
}

static void put_slice(gust_slice s) { put_bytes(s.ptr, s.len); }

static void put_fields(const char *what, const gust_h1_event *ev) {
  size_t i;
  for (i = 0; i < ev->nfields; i++) {
    printf("  %s ", what);
    put_slice(ev->fields[i].name);
    printf(": ");
    put_slice(ev->fields[i].value);
    putchar('\n');
  }
}

/* FNV-1a, 32 bits: a checksum to compare bodies, not a security measure. */
static uint32_t fnv1a(uint32_t h, const uint8_t *p, size_t n) {
  size_t i;
  for (i = 0; i < n; i++) {
    h ^= p[i];
    h *= 16777619u;
  }
  return h;
}

typedef struct dump {
  gust_h1 *h;
  int request;
  uint64_t body;
  uint32_t sum;
  uint64_t switched;
  int failed;
  int finished;
} dump;

/* Prints events until the connection wants more input or is done. */
static void drain(dump *d) {
  gust_h1_event ev;
  for (;;) {
    switch (gust_h1_next_event(d->h, &ev)) {
    case GUST_H1_NEED_DATA:
      return;
    case GUST_H1_REQUEST:
      printf("request ");
      put_slice(ev.method);
      putchar(' ');
      put_slice(ev.target);
      printf(" HTTP/1.%d\n", ev.minor_version);
      put_fields("header", &ev);
      d->body = 0;
      d->sum = 2166136261u;
      break;
    case GUST_H1_RESPONSE:
      printf("response HTTP/1.%d %d ", ev.minor_version, ev.status);
      put_slice(ev.reason);
      putchar('\n');
      put_fields("header", &ev);
      d->body = 0;
      d->sum = 2166136261u;
      break;
    case GUST_H1_DATA:
      printf("  data %zu\n", ev.data.len);
      d->body += ev.data.len;
      d->sum = fnv1a(d->sum, ev.data.ptr, ev.data.len);
      break;
    case GUST_H1_TRAILERS:
      put_fields("trailer", &ev);
      break;
    case GUST_H1_END_MESSAGE:
      printf("end body=%llu fnv1a32=%08lx\n", (unsigned long long)d->body,
             (unsigned long)d->sum);
      break;
    case GUST_H1_PAUSED: /* not with GUST_H1_READ_ONLY */
      return;
    case GUST_H1_SWITCHED:
      d->switched += ev.data.len;
      return;
    case GUST_H1_CLOSED:
      d->finished = 1;
      return;
    case GUST_H1_ERROR:
      printf("error %s at offset %llu: %s", gust_errname(ev.code),
             (unsigned long long)ev.offset, ev.message);
      if (ev.http_status != 0)
        printf(" (answer %d)", ev.http_status);
      putchar('\n');
      d->failed = d->finished = 1;
      return;
    default:
      return;
    }
  }
}

int main(int argc, char **argv) {
  static uint8_t buf[65536];
  const char *path = NULL;
  gust_h1_config cfg;
  FILE *in = stdin;
  dump d;
  int i, rc;
  memset(&d, 0, sizeof(d));
  d.request = 1;
  for (i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--request") == 0) {
      d.request = 1;
    } else if (strcmp(argv[i], "--response") == 0) {
      d.request = 0;
    } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
      usage(stdout);
      return 0;
    } else if (argv[i][0] == '-' && argv[i][1] != '\0') {
      fprintf(stderr, "gust-h1dump: unknown option %s\n", argv[i]);
      usage(stderr);
      return 2;
    } else if (path == NULL) {
      path = argv[i];
    } else {
      usage(stderr);
      return 2;
    }
  }
  if (path != NULL && strcmp(path, "-") != 0) {
    in = fopen(path, "rb");
    if (in == NULL) {
      fprintf(stderr, "gust-h1dump: %s: %s\n", path, strerror(errno));
      return 2;
    }
  }
  gust_h1_config_init(&cfg);
  cfg.flags = GUST_H1_READ_ONLY;
  rc = gust_h1_new(&d.h, d.request ? GUST_H1_SERVER : GUST_H1_CLIENT, &cfg,
                   NULL);
  if (rc != 0) {
    fprintf(stderr, "gust-h1dump: %s\n", gust_strerror(rc));
    return 2;
  }
  while (!d.finished) {
    size_t n = fread(buf, 1, sizeof(buf), in);
    if (n == 0)
      break;
    if (gust_h1_feed(d.h, buf, n) != 0 && !d.failed) {
      drain(&d);
      break;
    }
    drain(&d);
  }
  if (ferror(in)) {
    fprintf(stderr, "gust-h1dump: read error\n");
    d.failed = 1;
  } else if (!d.finished) {
    gust_h1_feed_eof(d.h, 0);
    drain(&d);
  }
  if (d.switched != 0)
    printf("switched protocols; %llu bytes follow\n",
           (unsigned long long)d.switched);
  else if (!d.failed)
    printf("closed\n");
  gust_h1_free(d.h);
  if (in != stdin)
    fclose(in);
  return d.failed ? 1 : 0;
}
