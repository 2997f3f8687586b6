/* gust-wsdump: decodes a captured WebSocket byte stream (after the opening
 * handshake) with gust's own state machine and prints one line per frame,
 * message, control event and error. */
#include <gust/ws.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

static void usage(FILE *f) {
  fprintf(f,
          "usage: gust-wsdump [--from-client | --from-server] [--deflate] "
          "[FILE]\n"
          "  --from-client  the bytes were sent by a client (masked; default)\n"
          "  --from-server  the bytes were sent by a server (unmasked)\n"
          "  --deflate      permessage-deflate was negotiated (defaults)\n"
          "  FILE           the capture; standard input if absent or \"-\"\n");
}

/* Prints up to 60 bytes of a payload as a quoted, escaped string. */
static void print_bytes(const uint8_t *p, size_t n, uint64_t total) {
  size_t i, shown = n < 60 ? n : 60;
  putchar('"');
  for (i = 0; i < shown; i++) {
    if (p[i] == '"' || p[i] == '\\')
      printf("\\%c", p[i]);
    else if (p[i] >= 0x20 && p[i] < 0x7f)
      putchar(p[i]);
    else
      printf("\\x%02x", p[i]);
  }
  putchar('"');
  if (total > shown)
    printf("...");
}

static const char *opname(unsigned op) {
  static const char *const names[16] = {
      "continuation", "text",       "binary",     "reserved-3",
      "reserved-4",   "reserved-5", "reserved-6", "reserved-7",
      "close",        "ping",       "pong",       "reserved-b",
      "reserved-c",   "reserved-d", "reserved-e", "reserved-f"};
  return names[op & 15];
}

typedef struct dumper {
  gust_ws *ws;
  int failed;
  int closed;
  /* message being reported (streaming mode) */
  uint64_t msg_len;
  uint8_t preview[60];
  size_t preview_len;
} dumper;

static void drain(dumper *d) {
  gust_ws_event ev;
  while (!d->failed && !d->closed) {
    int rc = gust_ws_next_event(d->ws, &ev);
    if (rc < 0) {
      if (rc == GUST_ENOMEM) {
        printf("error: %s\n", gust_strerror(rc));
        d->failed = 1;
      }
      return;
    }
    switch (ev.type) {
    case GUST_WS_EV_NEED_DATA:
      return;
    case GUST_WS_EV_TEXT:
    case GUST_WS_EV_BINARY:
      if (ev.first) {
        d->msg_len = 0;
        d->preview_len = 0;
      }
      if (d->preview_len < sizeof d->preview) {
        size_t k = sizeof d->preview - d->preview_len;
        if (k > ev.data.len)
          k = ev.data.len;
        memcpy(d->preview + d->preview_len, ev.data.ptr, k);
        d->preview_len += k;
      }
      d->msg_len += ev.data.len;
      if (ev.last) {
        printf("message %s %llu bytes ",
               ev.type == GUST_WS_EV_TEXT ? "text" : "binary",
               (unsigned long long)d->msg_len);
        print_bytes(d->preview, d->preview_len, d->msg_len);
        putchar('\n');
      }
      break;
    case GUST_WS_EV_PING:
    case GUST_WS_EV_PONG:
      printf("%s %zu bytes ", ev.type == GUST_WS_EV_PING ? "ping" : "pong",
             ev.data.len);
      print_bytes(ev.data.ptr, ev.data.len, ev.data.len);
      putchar('\n');
      break;
    case GUST_WS_EV_CLOSE:
      printf("close %u ", ev.code);
      print_bytes(ev.data.ptr, ev.data.len, ev.data.len);
      putchar('\n');
      d->closed = 1;
      break;
    case GUST_WS_EV_ERROR:
      printf("error %u at offset %llu: %s\n", ev.code,
             (unsigned long long)ev.offset, ev.message);
      d->failed = 1;
      break;
    }
  }
}

static int feed(dumper *d, const uint8_t *p, size_t n) {
  int rc;
  if (d->failed || d->closed || n == 0)
    return 0;
  rc = gust_ws_feed(d->ws, p, n);
  if (rc < 0) {
    printf("error: %s\n", gust_strerror(rc));
    d->failed = 1;
    return rc;
  }
  drain(d);
  return 0;
}

int main(int argc, char **argv) {
  const char *path = NULL;
  gust_ws_config cfg;
  gust_ws_deflate_params dp;
  dumper d;
  FILE *in = stdin;
  static uint8_t buf[65536];
  uint8_t hdr[GUST_WS_MAX_HEADER];
  size_t hlen = 0, n;
  uint64_t remaining = 0, offset = 0, frames = 0;
  int in_payload = 0, bad_syntax = 0, i;

  memset(&cfg, 0, sizeof cfg);
  memset(&dp, 0, sizeof dp);
  memset(&d, 0, sizeof d);
  cfg.role = GUST_WS_SERVER;
  cfg.streaming = 1;
  for (i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--from-client") == 0)
      cfg.role = GUST_WS_SERVER;
    else if (strcmp(argv[i], "--from-server") == 0)
      cfg.role = GUST_WS_CLIENT;
    else if (strcmp(argv[i], "--deflate") == 0)
      cfg.deflate = &dp;
    else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
      usage(stdout);
      return 0;
    } else if (argv[i][0] == '-' && argv[i][1] != '\0') {
      usage(stderr);
      return 2;
    } else if (path == NULL)
      path = argv[i];
    else {
      usage(stderr);
      return 2;
    }
  }
  if (path != NULL && strcmp(path, "-") != 0) {
    in = fopen(path, "rb");
    if (in == NULL) {
      fprintf(stderr, "gust-wsdump: %s: %s\n", path, strerror(errno));
      return 2;
    }
  }
  if (gust_ws_new(&d.ws, &cfg, NULL) < 0) {
    fprintf(stderr, "gust-wsdump: cannot create the decoder\n");
    return 2;
  }

  /* Frames are tracked here so that each frame line comes out before the
   * events its bytes cause in the state machine. */
  while (!bad_syntax && (n = fread(buf, 1, sizeof buf, in)) > 0) {
    size_t pos = 0;
    while (pos < n && !bad_syntax) {
      if (!in_payload) {
        gust_ws_frame_header h;
        gust_ssize r;
        hdr[hlen++] = buf[pos++];
        r = gust_ws_frame_parse(hdr, hlen, &h);
        if (r == 0)
          continue;
        if (r < 0) {
          printf("frame %llu at offset %llu: invalid payload length "
                 "encoding\n",
                 (unsigned long long)frames, (unsigned long long)offset);
          feed(&d, hdr, hlen);
          bad_syntax = 1;
          break;
        }
        printf("frame %llu at offset %llu: %s%s%s%s%s %llu bytes",
               (unsigned long long)frames, (unsigned long long)offset,
               h.fin ? "FIN " : "", h.rsv & 0x40 ? "RSV1 " : "",
               h.rsv & 0x20 ? "RSV2 " : "", h.rsv & 0x10 ? "RSV3 " : "",
               opname(h.opcode), (unsigned long long)h.payload_len);
        if (h.masked)
          printf(" mask %02x%02x%02x%02x", h.mask[0], h.mask[1], h.mask[2],
                 h.mask[3]);
        putchar('\n');
        frames++;
        offset += hlen;
        feed(&d, hdr, hlen);
        hlen = 0;
        remaining = h.payload_len;
        in_payload = remaining != 0;
      } else {
        size_t k = n - pos;
        if ((uint64_t)k > remaining)
          k = (size_t)remaining;
        feed(&d, buf + pos, k);
        pos += k;
        offset += k;
        remaining -= k;
        in_payload = remaining != 0;
      }
    }
  }
  if (ferror(in)) {
    fprintf(stderr, "gust-wsdump: read error\n");
    gust_ws_free(d.ws);
    return 2;
  }
  if (in != stdin)
    fclose(in);
  if (!bad_syntax && (in_payload || hlen != 0) && !d.failed && !d.closed) {
    printf("error: input ends inside a frame at offset %llu\n",
           (unsigned long long)(offset + hlen));
    d.failed = 1;
  }
  gust_ws_free(d.ws);
  return d.failed || bad_syntax ? 1 : 0;
}
