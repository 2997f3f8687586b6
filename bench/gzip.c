/* Benchmark of the gzip codec next to plain zlib calls doing the same work
 * in the same run: compression of a 1 MiB text-like body at the same level
 * into 64 KiB output pieces, and decompression of the result into 64 KiB
 * pieces, each side creating a fresh stream per body. The gust and zlib
 * rounds alternate and the best round of each counts. Prints a table, then
 * one "BENCH name value" line per figure.
 * Usage: bench/gzip [seconds-per-round] [level] */
#include <gust/gzip.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zlib.h>

#define BODY  (1u << 20)
#define PIECE 65536

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint8_t body[BODY], packed[BODY + 1024], piece[PIECE];
static size_t packed_len;
static int level = 6;
static volatile uint8_t sink;

static void make_body(void) {
  static const char *words[] = {"<div class=\"item\">",
                                "gust",
                                "tornado",
                                "</div>\n",
                                "request",
                                "response",
                                "42",
                                "Content-Type",
                                " ",
                                "the",
                                "of",
                                "and"};
  uint32_t x = 12345;
  size_t n = 0;
  while (n < BODY) {
    const char *w;
    size_t k;
    x = x * 1103515245u + 12345u;
    w = words[(x >> 16) % 12];
    k = strlen(w);
    if (k > BODY - n)
      k = BODY - n;
    memcpy(body + n, w, k);
    n += k;
  }
}

static size_t gust_compress(void) {
  gust_zip *z;
  const uint8_t *in = body;
  size_t in_len = BODY, total = 0;
  gust_ssize got;
  if (gust_zip_encoder_new(&z, NULL, GUST_ZIP_GZIP, level) < 0)
    abort();
  do {
    got = gust_zip_encode(z, &in, &in_len, piece, PIECE, GUST_ZIP_FINISH);
    if (got < 0)
      abort();
    sink ^= piece[0];
    total += (size_t)got;
  } while (in_len > 0 || got == PIECE);
  gust_zip_free(z);
  return total;
}

static size_t zlib_compress(void) {
  z_stream s;
  size_t total = 0;
  int rc;
  memset(&s, 0, sizeof(s));
  if (deflateInit2(&s, level, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY) != Z_OK)
    abort();
  s.next_in = body;
  s.avail_in = BODY;
  do {
    s.next_out = piece;
    s.avail_out = PIECE;
    rc = deflate(&s, Z_FINISH);
    sink ^= piece[0];
    total += PIECE - s.avail_out;
  } while (rc == Z_OK);
  if (rc != Z_STREAM_END)
    abort();
  deflateEnd(&s);
  return total;
}

static size_t gust_decompress(void) {
  gust_zip *z;
  const uint8_t *in = packed;
  size_t in_len = packed_len, total = 0;
  gust_ssize got;
  if (gust_zip_decoder_new(&z, NULL, GUST_ZIP_GZIP, 0, 0) < 0)
    abort();
  do {
    got = gust_zip_decode(z, &in, &in_len, piece, PIECE);
    if (got < 0)
      abort();
    sink ^= piece[0];
    total += (size_t)got;
  } while (in_len > 0 || got == PIECE);
  if (gust_zip_decode_end(z) != 0)
    abort();
  gust_zip_free(z);
  return total;
}

static size_t zlib_decompress(void) {
  z_stream s;
  size_t total = 0;
  int rc;
  memset(&s, 0, sizeof(s));
  if (inflateInit2(&s, 31) != Z_OK)
    abort();
  s.next_in = packed;
  s.avail_in = (uInt)packed_len;
  do {
    s.next_out = piece;
    s.avail_out = PIECE;
    rc = inflate(&s, Z_NO_FLUSH);
    sink ^= piece[0];
    total += PIECE - s.avail_out;
  } while (rc == Z_OK);
  if (rc != Z_STREAM_END)
    abort();
  inflateEnd(&s);
  return total;
}

/* One round: runs fn for at least `secs`; returns MB/s of body bytes. */
static double round_rate(size_t (*fn)(void), double secs) {
  size_t iters = 0;
  double t0 = now(), t;
  do {
    fn();
    iters++;
    t = now() - t0;
  } while (t < secs);
  return (double)BODY * (double)iters / t / 1e6;
}

int main(int argc, char **argv) {
  double secs = argc > 1 ? atof(argv[1]) : 0.5;
  double best[4] = {0, 0, 0, 0};
  size_t (*fns[4])(void) = {gust_compress, zlib_compress, gust_decompress,
                            zlib_decompress};
  int r, i;
  if (argc > 2)
    level = atoi(argv[2]);
  if (secs <= 0 || level < 0 || level > 9) {
    fprintf(stderr, "usage: bench/gzip [seconds-per-round] [level]\n");
    return 2;
  }
  make_body();
  {
    gust_zip *z;
    const uint8_t *in = body;
    size_t in_len = BODY;
    gust_ssize got;
    gust_zip_encoder_new(&z, NULL, GUST_ZIP_GZIP, level);
    got = gust_zip_encode(z, &in, &in_len, packed, sizeof(packed),
                          GUST_ZIP_FINISH);
    if (got < 0 || !gust_zip_done(z))
      abort();
    packed_len = (size_t)got;
    gust_zip_free(z);
  }
  if (gust_compress() != zlib_compress() || gust_decompress() != BODY ||
      zlib_decompress() != BODY)
    abort();
  for (r = 0; r < 5; r++)
    for (i = 0; i < 4; i++) {
      double v = round_rate(fns[i], secs);
      if (v > best[i])
        best[i] = v;
    }
  printf("gzip level %d, %u-byte body compressing to %zu bytes, "
         "%d-byte output pieces, best of 5 alternated rounds\n",
         level, BODY, packed_len, PIECE);
  printf("%-12s %12s %12s %8s\n", "", "gust MB/s", "zlib MB/s", "ratio");
  printf("%-12s %12.1f %12.1f %8.3f\n", "compress", best[0], best[1],
         best[0] / best[1]);
  printf("%-12s %12.1f %12.1f %8.3f\n", "decompress", best[2], best[3],
         best[2] / best[3]);
  printf("BENCH gzip.compress.l%d.gust_mbps %.1f\n", level, best[0]);
  printf("BENCH gzip.compress.l%d.zlib_mbps %.1f\n", level, best[1]);
  printf("BENCH gzip.compress.l%d.gust_over_zlib %.3f\n", level,
         best[0] / best[1]);
  printf("BENCH gzip.decompress.gust_mbps %.1f\n", best[2]);
  printf("BENCH gzip.decompress.zlib_mbps %.1f\n", best[3]);
  printf("BENCH gzip.decompress.gust_over_zlib %.3f\n", best[2] / best[3]);
  return 0;
}
