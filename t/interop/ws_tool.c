/* Command-line WebSocket client for the interop tests
 * (t/interop/ws_interop.sh): drives gust's client API against a real peer
 * (an echo server) and prints what happened as key=value lines.
 *
 *   ws_tool URL [--compression] [--subprotocol P]... [--messages SPEC]
 *           [--close CODE [REASON]] [--expect-close-code N] [--origin O]
 *           [--cacert FILE] [--window-bits N] [--peer-window-bits N]
 *           [--no-context-takeover] [--peer-no-context-takeover]
 *   ws_tool --dump
 *
 * It connects, prints `subprotocol=` (or none) and `compressed=0|1`, sends
 * the deterministic message set that t/interop/ws_peers.py and
 * ws_peers_node.js send too (text and binary of 0, 1, 125, 126, 65535,
 * 65536 and 1 MiB bytes, non-ASCII UTF-8, a repeated compressible text),
 * one at a time and then all at once, checks each echo (same opcode, same
 * bytes), pings and waits for the pong, closes with CODE (default 1000)
 * and prints the peer's close code. The window and takeover options set
 * the permessage-deflate parameters of gust_websocket_opts.
 *
 * SPEC is `all` (the default), `small` (messages below 64 KiB, no burst),
 * `none`, or a comma list of message names (t0, b0, t1, ..., t1M, b1M,
 * utf8, utf8big, zip), `burst`, and `peerclose` or `toobig`: instead of
 * closing, ask the server (t/interop/ws_peers*) to close with 4001, or to
 * send 10485761 bytes, one over the limit (gust closes with 1009).
 * --dump writes the message set, concatenated, to stdout (the test checks
 * that the peers' copies are the same bytes).
 *
 * Exit status: 0 when everything matched, 1 on any failure (the last line
 * says which), 2 on usage errors. Every wait is bounded (TIMEOUT). */
#include <gust/websocket.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TIMEOUT    30.0 /* seconds per wait: a hang becomes a failure */
#define BLOCK_SIZE ((size_t)1048576 + 64)

/* The message set, in order; the seed of message i is i (see payload()).
 * Keep it in step with MESSAGES in ws_peers.py and ws_peers_node.js. */
enum kind { K_RANDOM, K_UTF8, K_UTF8BIG, K_ZIP };
typedef struct spec {
  const char *name;
  int binary;
  enum kind kind;
  size_t size; /* K_RANDOM only */
} spec;

static const spec MESSAGES[] = {
    {"t0", 0, K_RANDOM, 0},         {"b0", 1, K_RANDOM, 0},
    {"t1", 0, K_RANDOM, 1},         {"b1", 1, K_RANDOM, 1},
    {"t125", 0, K_RANDOM, 125},     {"b125", 1, K_RANDOM, 125},
    {"t126", 0, K_RANDOM, 126},     {"b126", 1, K_RANDOM, 126},
    {"t65535", 0, K_RANDOM, 65535}, {"b65535", 1, K_RANDOM, 65535},
    {"t65536", 0, K_RANDOM, 65536}, {"b65536", 1, K_RANDOM, 65536},
    {"t1M", 0, K_RANDOM, 1048576},  {"b1M", 1, K_RANDOM, 1048576},
    {"utf8", 0, K_UTF8, 0},         {"utf8big", 0, K_UTF8BIG, 0},
    {"zip", 0, K_ZIP, 0},
};
#define N_MESSAGES (sizeof(MESSAGES) / sizeof(MESSAGES[0]))

/* 84 bytes: Latin-1, a dash, CJK, Greek, Cyrillic, two emoji (4-byte
 * sequences), a check mark and U+FFFD. */
static const char UTF8[] =
    "\x68\xc3\xa9\x6c\x6c\x6f\x20\x77\xc3\xb6\x72\x6c\x64\x20\xe2\x80\x94"
    "\x20\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e\x20\xce\x95\xce\xbb\xce\xbb"
    "\xce\xb7\xce\xbd\xce\xb9\xce\xba\xce\xac\x20\xd0\x9a\xd0\xb8\xd1\x80"
    "\xd0\xb8\xd0\xbb\xd0\xbb\xd0\xb8\xd1\x86\xd0\xb0\x20\xf0\x9f\x98\x80"
    "\xf0\x9f\x8e\x89\x20\xe2\x9c\x93\x20\xef\xbf\xbd\x20\x65\x6e\x64";
#define UTF8BIG_REPEAT 1000
static const char ZIP[] = "Hello world. Testing 123 123\n";
#define ZIP_REPEAT 10000

static uint8_t *block; /* LCG bytes shared by the K_RANDOM messages */
static int selected[N_MESSAGES];
static int burst;
/* Instead of closing: a request after which the server ends the
 * connection (t/interop/ws_peers*): it closes with 4001, or it sends a
 * message one byte over the default max_message_size (gust closes 1009). */
#define CLOSE_REQUEST  "please close 4001"
#define TOOBIG_REQUEST "please send 10485761"
static const char *peer_request;
static int failures;

/* x = x * 1103515245 + 12345 mod 2^31, byte = bits 16..23, from x = 1. */
static void make_block(void) {
  uint32_t x = 1;
  size_t i;
  block = malloc(BLOCK_SIZE);
  if (block == NULL) {
    fprintf(stderr, "ws_tool: out of memory\n");
    exit(1);
  }
  for (i = 0; i < BLOCK_SIZE; i++) {
    x = (x * 1103515245u + 12345u) & 0x7fffffffu;
    block[i] = (uint8_t)(x >> 16);
  }
}

/* The payload of message i (malloc'ed, *len set): binary = block[i ..],
 * text = the same bytes mapped to printable ASCII (0x20 + b % 95). */
static uint8_t *payload(size_t i, size_t *len) {
  const spec *s = &MESSAGES[i];
  size_t n, k, r;
  uint8_t *p;
  switch (s->kind) {
  case K_UTF8:
    n = sizeof(UTF8) - 1;
    break;
  case K_UTF8BIG:
    n = (sizeof(UTF8) - 1) * UTF8BIG_REPEAT;
    break;
  case K_ZIP:
    n = (sizeof(ZIP) - 1) * ZIP_REPEAT;
    break;
  default:
    n = s->size;
  }
  p = malloc(n + 1);
  if (p == NULL) {
    fprintf(stderr, "ws_tool: out of memory\n");
    exit(1);
  }
  switch (s->kind) {
  case K_UTF8:
    memcpy(p, UTF8, n);
    break;
  case K_UTF8BIG:
    for (r = 0; r < UTF8BIG_REPEAT; r++)
      memcpy(p + r * (sizeof(UTF8) - 1), UTF8, sizeof(UTF8) - 1);
    break;
  case K_ZIP:
    for (r = 0; r < ZIP_REPEAT; r++)
      memcpy(p + r * (sizeof(ZIP) - 1), ZIP, sizeof(ZIP) - 1);
    break;
  default:
    for (k = 0; k < n; k++)
      p[k] = s->binary ? block[i + k] : (uint8_t)(0x20 + block[i + k] % 95);
  }
  *len = n;
  return p;
}

static void fail(const char *what, const char *detail) {
  failures++;
  printf("FAIL %s%s%s\n", what, detail != NULL ? ": " : "",
         detail != NULL ? detail : "");
  fflush(stdout);
}

/* ------------------------------------------------------------------ */
/* Handler: pongs and the end of the connection become futures          */
/* ------------------------------------------------------------------ */

typedef struct state {
  gust_loop *loop;
  gust_future *pong;   /* resolved by the next pong */
  gust_future *closed; /* resolved by on_close */
  int pongs;
} state;

static void on_pong(gust_websocket *ws, gust_slice data, void *ud) {
  state *st = ud;
  (void)ws;
  (void)data;
  st->pongs++;
  if (st->pong != NULL && !gust_future_done(st->pong))
    gust_future_set_result(st->pong, NULL, NULL);
}

static void on_close(gust_websocket *ws, void *ud) {
  state *st = ud;
  (void)ws;
  if (st->closed != NULL && !gust_future_done(st->closed))
    gust_future_set_result(st->closed, NULL, NULL);
}

static const gust_websocket_handler HANDLER = {
    .on_pong = on_pong,
    .on_close = on_close,
};

/* Runs the loop until `f` is done, at most TIMEOUT seconds. Returns 0 when
 * it is done, otherwise reports `what` and returns -1. */
static int wait_for(gust_future *f, const char *what) {
  int rc = gust_future_run(f, TIMEOUT);
  if (rc == 0)
    return 0;
  fail(what, rc == GUST_ETIMEDOUT ? "timed out" : gust_strerror(rc));
  return -1;
}

/* Reads one message and compares it with message i. Returns 0 or -1. */
static int read_echo(gust_websocket *ws, size_t i, const uint8_t *want,
                     size_t len) {
  const spec *s = &MESSAGES[i];
  const gust_websocket_message *m;
  gust_future *f;
  char what[80];
  int rc, ok = 0;
  snprintf(what, sizeof(what), "echo %s", s->name);
  rc = gust_websocket_read_message(ws, &f);
  if (rc < 0) {
    fail(what, gust_strerror(rc));
    return -1;
  }
  if (wait_for(f, what) < 0) {
    gust_future_unref(f);
    return -1;
  }
  m = gust_future_result(f);
  if (m == NULL)
    fail(what, "connection closed");
  else if (m->binary != s->binary)
    fail(what, m->binary ? "binary instead of text" : "text instead of binary");
  else if (m->data.len != len)
    fail(what, "length differs");
  else if (len > 0 && memcmp(m->data.ptr, want, len) != 0)
    fail(what, "bytes differ");
  else
    ok = 1;
  if (!ok && m != NULL)
    printf("# got %zu bytes (%s), want %zu (%s)\n", m->data.len,
           m->binary ? "binary" : "text", len, s->binary ? "binary" : "text");
  gust_future_unref(f);
  return ok ? 0 : -1;
}

/* Sends message i and waits for its echo. */
static int echo_one(gust_websocket *ws, size_t i, uint64_t *payload_bytes) {
  size_t len;
  uint8_t *p = payload(i, &len);
  char what[80];
  int rc = gust_websocket_write_message(ws, p, len, MESSAGES[i].binary, NULL);
  snprintf(what, sizeof(what), "send %s", MESSAGES[i].name);
  if (rc < 0) {
    fail(what, gust_strerror(rc));
    free(p);
    return -1;
  }
  *payload_bytes += len;
  rc = read_echo(ws, i, p, len);
  free(p);
  if (rc == 0)
    printf("echo %s=ok\n", MESSAGES[i].name);
  return rc;
}

/* Sends every selected message at once, then reads the echoes in order:
 * the peer and gust both see several messages per read. */
static int echo_burst(gust_websocket *ws, uint64_t *payload_bytes) {
  uint8_t *p[N_MESSAGES];
  size_t len[N_MESSAGES], i;
  int rc = 0;
  for (i = 0; i < N_MESSAGES; i++) {
    p[i] = NULL;
    if (!selected[i])
      continue;
    p[i] = payload(i, &len[i]);
    if (rc == 0) {
      rc = gust_websocket_write_message(ws, p[i], len[i], MESSAGES[i].binary,
                                        NULL);
      if (rc < 0)
        fail("burst send", gust_strerror(rc));
      else
        *payload_bytes += len[i];
    }
  }
  for (i = 0; rc == 0 && i < N_MESSAGES; i++)
    if (selected[i])
      rc = read_echo(ws, i, p[i], len[i]);
  for (i = 0; i < N_MESSAGES; i++)
    free(p[i]);
  if (rc == 0)
    printf("burst=ok\n");
  return rc;
}

static int select_messages(const char *spec_str) {
  char *copy, *tok, *save = NULL;
  size_t i;
  memset(selected, 0, sizeof(selected));
  burst = 0;
  peer_request = NULL;
  if (strcmp(spec_str, "none") == 0)
    return 0;
  if (strcmp(spec_str, "all") == 0 || strcmp(spec_str, "small") == 0) {
    int small = strcmp(spec_str, "small") == 0;
    for (i = 0; i < N_MESSAGES; i++)
      selected[i] =
          !small ||
          (MESSAGES[i].kind == K_RANDOM && MESSAGES[i].size < 65535) ||
          MESSAGES[i].kind == K_UTF8;
    burst = !small;
    return 0;
  }
  copy = strdup(spec_str);
  if (copy == NULL)
    return -1;
  for (tok = strtok_r(copy, ",", &save); tok != NULL;
       tok = strtok_r(NULL, ",", &save)) {
    if (strcmp(tok, "burst") == 0) {
      burst = 1;
      continue;
    }
    if (strcmp(tok, "peerclose") == 0 || strcmp(tok, "toobig") == 0) {
      peer_request = tok[0] == 'p' ? CLOSE_REQUEST : TOOBIG_REQUEST;
      continue;
    }
    for (i = 0; i < N_MESSAGES; i++)
      if (strcmp(tok, MESSAGES[i].name) == 0)
        break;
    if (i == N_MESSAGES) {
      fprintf(stderr, "ws_tool: unknown message %s\n", tok);
      free(copy);
      return -1;
    }
    selected[i] = 1;
  }
  free(copy);
  return 0;
}

static void usage(void) {
  fprintf(stderr,
          "usage: ws_tool URL [--compression] [--subprotocol P]... "
          "[--messages SPEC]\n"
          "               [--close CODE [REASON]] [--expect-close-code N] "
          "[--origin O]\n"
          "               [--cacert FILE] [--window-bits N] "
          "[--peer-window-bits N]\n"
          "               [--no-context-takeover] "
          "[--peer-no-context-takeover]\n");
  exit(2);
}

int main(int argc, char **argv) {
  const char *url = NULL, *origin = NULL, *cacert = NULL, *reason = NULL;
  const char *protos[16];
  size_t n_protos = 0, i;
  unsigned close_code = 1000;
  long expect_close = -1;
  int compression = 0, rc, a;
  int wbits = 0, peer_wbits = 0, no_takeover = 0, peer_no_takeover = 0;
  gust_loop *loop;
  gust_fetch_request req;
  gust_headers hdr;
  gust_websocket_connect_opts co;
  gust_future *cf = NULL, *f;
  gust_websocket *ws;
  const gust_fetch_response *resp;
  const char *sub, *msg;
  gust_slice ext, cr;
  gust_websocket_stats stats;
  uint64_t payload_out = 0;
  double close_start;
  state st;

  signal(SIGPIPE, SIG_IGN);
  if (select_messages("all") < 0)
    return 2;
  if (argc == 2 && strcmp(argv[1], "--dump") == 0) {
    /* the message set, concatenated: the test compares it with the peers' */
    make_block();
    for (i = 0; i < N_MESSAGES; i++) {
      size_t len;
      uint8_t *p = payload(i, &len);
      fwrite(p, 1, len, stdout);
      free(p);
    }
    free(block);
    return fflush(stdout) == 0 ? 0 : 1;
  }
  for (a = 1; a < argc; a++) {
    if (strcmp(argv[a], "--compression") == 0)
      compression = 1;
    else if (strcmp(argv[a], "--window-bits") == 0 && a + 1 < argc)
      wbits = atoi(argv[++a]);
    else if (strcmp(argv[a], "--peer-window-bits") == 0 && a + 1 < argc)
      peer_wbits = atoi(argv[++a]);
    else if (strcmp(argv[a], "--no-context-takeover") == 0)
      no_takeover = 1;
    else if (strcmp(argv[a], "--peer-no-context-takeover") == 0)
      peer_no_takeover = 1;
    else if (strcmp(argv[a], "--subprotocol") == 0 && a + 1 < argc &&
             n_protos + 1 < sizeof(protos) / sizeof(protos[0]))
      protos[n_protos++] = argv[++a];
    else if (strcmp(argv[a], "--messages") == 0 && a + 1 < argc) {
      if (select_messages(argv[++a]) < 0)
        usage();
    } else if (strcmp(argv[a], "--close") == 0 && a + 1 < argc) {
      close_code = (unsigned)strtoul(argv[++a], NULL, 10);
      if (a + 1 < argc && strncmp(argv[a + 1], "--", 2) != 0)
        reason = argv[++a];
    } else if (strcmp(argv[a], "--expect-close-code") == 0 && a + 1 < argc)
      expect_close = strtol(argv[++a], NULL, 10);
    else if (strcmp(argv[a], "--origin") == 0 && a + 1 < argc)
      origin = argv[++a];
    else if (strcmp(argv[a], "--cacert") == 0 && a + 1 < argc)
      cacert = argv[++a];
    else if (argv[a][0] != '-' && url == NULL)
      url = argv[a];
    else
      usage();
  }
  if (url == NULL)
    usage();
  protos[n_protos] = NULL;
  make_block();

  if (gust_loop_new(&loop, NULL) != 0) {
    fprintf(stderr, "ws_tool: cannot create a loop\n");
    return 1;
  }
  memset(&st, 0, sizeof(st));
  st.loop = loop;
  gust_headers_init(&hdr, NULL);
  if (origin != NULL && gust_headers_add_str(&hdr, "Origin", origin) < 0) {
    fprintf(stderr, "ws_tool: bad origin\n");
    return 2;
  }
  gust_fetch_request_init(&req, url);
  req.headers = &hdr;
  req.connect_timeout = TIMEOUT;
  req.request_timeout = TIMEOUT;
  req.ca_certs = cacert;
  memset(&co, 0, sizeof(co));
  co.ws.compression = compression;
  co.ws.max_window_bits = wbits;
  co.ws.peer_max_window_bits = peer_wbits;
  co.ws.no_context_takeover = no_takeover;
  co.ws.peer_no_context_takeover = peer_no_takeover;
  co.handler = &HANDLER;
  co.user_data = &st;
  co.subprotocols = n_protos > 0 ? protos : NULL;

  rc = gust_websocket_connect(loop, &req, &co, NULL, &cf);
  if (rc < 0) {
    printf("connect=error %s %s\n", gust_errname(rc), gust_strerror(rc));
    return 1;
  }
  if (wait_for(cf, "connect") < 0)
    return 1;
  ws = gust_websocket_connect_take(cf);
  if (ws == NULL) {
    resp = gust_websocket_connect_response(cf);
    if (resp != NULL)
      printf("status=%d\n", gust_fetch_response_code(resp));
    printf("connect=error %s %s\n", gust_errname(gust_future_error(cf)),
           gust_future_error_message(cf) != NULL ? gust_future_error_message(cf)
                                                 : "");
    gust_future_unref(cf);
    gust_headers_free(&hdr);
    gust_loop_free(loop);
    free(block);
    return 1;
  }
  resp = gust_websocket_response(ws);
  printf("connect=ok\nstatus=%d\n", gust_fetch_response_code(resp));
  sub = gust_websocket_selected_subprotocol(ws);
  printf("subprotocol=%s\n", sub != NULL ? sub : "none");
  printf("compressed=%d\n", gust_websocket_compressed(ws));
  if (gust_headers_get(gust_fetch_response_headers(resp),
                       "Sec-WebSocket-Extensions", &ext) == 0)
    printf("extensions=%.*s\n", (int)ext.len, (const char *)ext.ptr);
  else
    printf("extensions=none\n");
  fflush(stdout);

  /* one message at a time, then all at once */
  for (i = 0; failures == 0 && i < N_MESSAGES; i++)
    if (selected[i])
      echo_one(ws, i, &payload_out);
  if (failures == 0 && burst)
    echo_burst(ws, &payload_out);

  /* a ping: its pong arrives, and messages still flow afterwards */
  if (failures == 0) {
    rc = gust_future_new(&st.pong, loop, NULL);
    if (rc == 0)
      rc = gust_websocket_ping(ws, "gust-ping", 9);
    if (rc < 0)
      fail("ping", gust_strerror(rc));
    else if (wait_for(st.pong, "pong") == 0) {
      printf("pong=ok\n");
      if (selected[2] || selected[0]) {
        /* t1 (or t0) once more after the ping */
        if (echo_one(ws, selected[2] ? 2 : 0, &payload_out) == 0)
          printf("after_ping=ok\n");
      }
    }
  }
  gust_websocket_stats_get(ws, &stats);
  printf("payload_out=%llu\nwire_out=%llu\nwire_in=%llu\n",
         (unsigned long long)payload_out, (unsigned long long)stats.bytes_out,
         (unsigned long long)stats.bytes_in);

  /* the closing handshake */
  if (gust_future_new(&st.closed, loop, NULL) < 0) {
    fail("close", "out of memory");
  } else {
    if (gust_websocket_get_state(ws) == GUST_WEBSOCKET_CLOSED)
      gust_future_set_result(st.closed, NULL, NULL); /* on_close ran */
    close_start = gust_loop_now(loop);
    if (peer_request != NULL) {
      /* the connection ends: the next read reports the end */
      rc = gust_websocket_write_message(ws, peer_request, strlen(peer_request),
                                        0, NULL);
      if (rc == 0)
        rc = gust_websocket_read_message(ws, &f);
      if (rc == 0) {
        if (wait_for(f, "the end of the connection") == 0 &&
            gust_future_result(f) != NULL)
          fail(peer_request, "a message instead of the end");
        gust_future_unref(f);
      }
    } else {
      rc = gust_websocket_close(ws, close_code, reason);
    }
    if (rc < 0)
      fail("close", gust_strerror(rc));
    else if (wait_for(st.closed, "close") == 0) {
      cr = gust_websocket_close_reason(ws);
      /* close_seconds near close_timeout (5 s) = the handshake stalled */
      printf("close_code=%u\nclose_reason=%.*s\nclose_seconds=%.3f\n",
             gust_websocket_close_code(ws), (int)cr.len, (const char *)cr.ptr,
             gust_loop_now(loop) - close_start);
      rc = gust_websocket_error(ws, &msg);
      if (rc != 0)
        printf("error=%s %s\n", gust_errname(rc), msg != NULL ? msg : "");
      if (expect_close >= 0 &&
          (long)gust_websocket_close_code(ws) != expect_close)
        fail("close code", "not the expected one");
      /* after on_close, read_message reports the end */
      if (gust_websocket_read_message(ws, &f) == 0) {
        if (wait_for(f, "read after close") == 0 &&
            gust_future_result(f) != NULL)
          fail("read after close", "a message instead of the end");
        gust_future_unref(f);
      }
    }
  }
  printf("pongs=%d\n", st.pongs);

  gust_websocket_unref(ws);
  gust_future_unref(cf);
  gust_future_unref(st.pong);
  gust_future_unref(st.closed);
  /* let the stream's close callbacks run before the loop goes */
  if (gust_future_sleep(&f, loop, 0.01, NULL) == 0) {
    gust_future_run(f, TIMEOUT);
    gust_future_unref(f);
  }
  gust_headers_free(&hdr);
  gust_loop_free(loop);
  free(block);
  printf("result=%s\n", failures == 0 ? "ok" : "fail");
  return failures == 0 ? 0 : 1;
}
