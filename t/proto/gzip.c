/* Tests of the streaming gzip / zlib / raw deflate codec: round trips over
 * many sizes, input split points and output piece sizes; sync flush;
 * interoperability with Python's gzip/zlib modules and the gzip command;
 * bombs, truncation, corruption, trailing data; allocation failures. */
#include "../tap.h"

#include <gust/gzip.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct out_buf {
  uint8_t *p;
  size_t len, cap;
} out_buf;

static void ob_put(out_buf *b, const uint8_t *p, size_t n) {
  if (b->len + n > b->cap) {
    b->cap = (b->len + n) * 2 + 64;
    b->p = realloc(b->p, b->cap);
    if (b->p == NULL)
      bail_out("out of memory");
  }
  if (n > 0)
    memcpy(b->p + b->len, p, n);
  b->len += n;
}

static void fill(uint8_t *p, size_t n, unsigned seed, int random) {
  uint32_t x = seed * 2654435761u + 1;
  size_t i;
  for (i = 0; i < n; i++) {
    x = x * 1103515245u + 12345u;
    p[i] = random ? (uint8_t)(x >> 24) : (uint8_t)("abcdefgh "[(x >> 28) % 9]);
  }
}

/* Encodes `data` handing input in pieces of `in_step` and pulling output in
 * pieces of `out_step`; finishes the stream. Returns 0 or an error. */
static int encode_all(const gust_mem *mem, gust_zip_format fmt, int level,
                      const uint8_t *data, size_t len, size_t in_step,
                      size_t out_step, out_buf *ob) {
  gust_zip *z;
  uint8_t piece[70000];
  size_t off = 0;
  int rc = gust_zip_encoder_new(&z, mem, fmt, level);
  if (rc < 0)
    return rc;
  for (;;) {
    size_t n = len - off < in_step ? len - off : in_step;
    const uint8_t *in = data + off;
    size_t in_len = n;
    int last = off + n == len;
    gust_ssize got;
    do {
      got = gust_zip_encode(z, &in, &in_len, piece, out_step,
                            last ? GUST_ZIP_FINISH : GUST_ZIP_NO_FLUSH);
      if (got < 0) {
        gust_zip_free(z);
        return (int)got;
      }
      ob_put(ob, piece, (size_t)got);
    } while (in_len > 0 || (size_t)got == out_step);
    off += n;
    if (last)
      break;
  }
  rc = gust_zip_done(z) ? 0 : -1000;
  gust_zip_free(z);
  return rc;
}

static int decode_all(const gust_mem *mem, gust_zip_format fmt,
                      uint64_t max_out, unsigned flags, const uint8_t *data,
                      size_t len, size_t in_step, size_t out_step,
                      out_buf *ob) {
  gust_zip *z;
  uint8_t piece[70000];
  size_t off = 0;
  int rc = gust_zip_decoder_new(&z, mem, fmt, max_out, flags);
  if (rc < 0)
    return rc;
  while (off < len) {
    size_t n = len - off < in_step ? len - off : in_step;
    const uint8_t *in = data + off;
    size_t in_len = n;
    gust_ssize got;
    do {
      got = gust_zip_decode(z, &in, &in_len, piece, out_step);
      if (got < 0) {
        gust_zip_free(z);
        return (int)got;
      }
      ob_put(ob, piece, (size_t)got);
    } while (in_len > 0 || (size_t)got == out_step);
    off += n;
  }
  rc = gust_zip_decode_end(z);
  gust_zip_free(z);
  return rc;
}

static const gust_zip_format fmts[] = {GUST_ZIP_GZIP, GUST_ZIP_ZLIB,
                                       GUST_ZIP_RAW};
static const char *fmt_names[] = {"gzip", "zlib", "raw"};

static void test_roundtrip(void) {
  static const size_t sizes[] = {0,    1,    2,     17,    255,
                                 1024, 4095, 16384, 65537, 200003};
  static const size_t steps[][2] = {
      {1 << 20, 1 << 16}, {1, 7}, {4096, 1}, {333, 4096}, {65536, 65536}};
  size_t f, s, k;
  int random;
  for (f = 0; f < 3; f++)
    for (s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++)
      for (random = 0; random < 2; random++)
        for (k = 0; k < sizeof(steps) / sizeof(steps[0]); k++) {
          size_t n = sizes[s];
          uint8_t *data = malloc(n + 1);
          out_buf enc = {0}, dec = {0};
          int rc;
          /* one byte at a time only on the smaller inputs (speed) */
          if ((steps[k][0] == 1 || steps[k][1] == 1) && n > 20000) {
            free(data);
            continue;
          }
          fill(data, n, (unsigned)(n + k), random);
          rc = encode_all(NULL, fmts[f], (int)(k % 10), data, n, steps[k][0],
                          steps[k][1], &enc);
          is_int(rc, 0, "%s %zu bytes %s in %zu out %zu: encoded", fmt_names[f],
                 n, random ? "random" : "text", steps[k][0], steps[k][1]);
          rc = decode_all(NULL, fmts[f], 0, 0, enc.p, enc.len, steps[k][1],
                          steps[k][0] > 60000 ? 60000 : steps[k][0], &dec);
          is_int(rc, 0, "%s %zu bytes: decoded", fmt_names[f], n);
          cmp_mem(dec.p, dec.len, data, n, "%s %zu bytes: round trip",
                  fmt_names[f], n);
          free(data);
          free(enc.p);
          free(dec.p);
        }
}

/* Every split point of the compressed input, output one byte at a time. */
static void test_split_points(void) {
  uint8_t data[600];
  out_buf enc = {0};
  size_t f, cut;
  fill(data, sizeof(data), 7, 0);
  for (f = 0; f < 3; f++) {
    int bad = 0;
    enc.len = 0;
    if (encode_all(NULL, fmts[f], 6, data, sizeof(data), 1 << 20, 1 << 16,
                   &enc) < 0)
      bail_out("encode failed");
    for (cut = 0; cut <= enc.len; cut++) {
      gust_zip *z;
      out_buf dec = {0};
      uint8_t b;
      const uint8_t *in;
      size_t in_len, part;
      int rc = 0;
      gust_zip_decoder_new(&z, NULL, fmts[f], 0, 0);
      for (part = 0; part < 2 && rc == 0; part++) {
        in = enc.p + (part ? cut : 0);
        in_len = part ? enc.len - cut : cut;
        for (;;) {
          gust_ssize got = gust_zip_decode(z, &in, &in_len, &b, 1);
          if (got < 0) {
            rc = (int)got;
            break;
          }
          ob_put(&dec, &b, (size_t)got);
          if (got == 0 && in_len == 0)
            break;
        }
      }
      if (rc == 0)
        rc = gust_zip_decode_end(z);
      if (rc != 0 || dec.len != sizeof(data) ||
          memcmp(dec.p, data, sizeof(data)) != 0)
        bad++;
      gust_zip_free(z);
      free(dec.p);
    }
    is_int(bad, 0, "%s: every split point, output byte by byte", fmt_names[f]);
  }
  free(enc.p);
}

/* Each sync flush makes everything written so far decodable. */
static void test_sync_flush(void) {
  size_t f;
  for (f = 0; f < 3; f++) {
    gust_zip *e, *d;
    uint8_t data[5000], piece[7], dbuf[6000];
    int i, bad = 0;
    size_t dtotal = 0;
    fill(data, sizeof(data), 3, 0);
    gust_zip_encoder_new(&e, NULL, fmts[f], 6);
    gust_zip_decoder_new(&d, NULL, fmts[f], 0, 0);
    for (i = 0; i < 5; i++) {
      const uint8_t *in = data + i * 1000;
      size_t in_len = 1000;
      gust_ssize got;
      do {
        const uint8_t *din = piece;
        size_t din_len;
        got = gust_zip_encode(e, &in, &in_len, piece, sizeof(piece),
                              i == 4 ? GUST_ZIP_FINISH : GUST_ZIP_SYNC);
        if (got < 0)
          break;
        din_len = (size_t)got;
        while (din_len > 0) {
          gust_ssize dg = gust_zip_decode(d, &din, &din_len, dbuf + dtotal,
                                          sizeof(dbuf) - dtotal);
          if (dg < 0) {
            bad++;
            break;
          }
          dtotal += (size_t)dg;
        }
      } while (in_len > 0 || got == (gust_ssize)sizeof(piece));
      if (i < 4 && dtotal != (size_t)(i + 1) * 1000)
        bad++;
    }
    is_int(bad, 0, "%s: each sync flush delivers all data so far",
           fmt_names[f]);
    ok(gust_zip_done(e), "%s: encoder finished", fmt_names[f]);
    is_int(gust_zip_decode_end(d), 0, "%s: decoder saw the end", fmt_names[f]);
    cmp_mem(dbuf, dtotal, data, sizeof(data), "%s: sync-flushed round trip",
            fmt_names[f]);
    {
      const uint8_t *in = data;
      size_t in_len = 1;
      is_int(gust_zip_encode(e, &in, &in_len, piece, sizeof(piece),
                             GUST_ZIP_NO_FLUSH),
             GUST_ESTATE, "%s: encoding after the end is refused",
             fmt_names[f]);
    }
    gust_zip_free(e);
    gust_zip_free(d);
  }
}

/* Runs a shell command and captures its standard output. */
static int run_capture(const char *cmd, out_buf *ob) {
  FILE *fp = popen(cmd, "r");
  uint8_t buf[4096];
  size_t n;
  if (fp == NULL)
    return -1;
  while ((n = fread(buf, 1, sizeof(buf), fp)) > 0)
    ob_put(ob, buf, n);
  return pclose(fp) == 0 ? 0 : -1;
}

static void test_python(void) {
  /* the same 100 KB text, as a gzip member, zlib stream, raw stream:
   * each program is head + payload + tail */
  static const char *progs[][2] = {
      {"import gzip,sys;sys.stdout.buffer.write(gzip.compress(", "))"},
      {"import zlib,sys;sys.stdout.buffer.write(zlib.compress(", "))"},
      {"import zlib,sys;c=zlib.compressobj(6,zlib.DEFLATED,-15);"
       "sys.stdout.buffer.write(c.compress(",
       ")+c.flush())"}};
  const char *payload = "b''.join(b'line %d of the payload\\n' % i for i in "
                        "range(4000))";
  char prog[512], cmd[700];
  out_buf want = {0};
  size_t f;
  if (access("/usr/bin/python3", X_OK) != 0) {
    skip(9, "no /usr/bin/python3");
    return;
  }
  snprintf(cmd, sizeof(cmd),
           "/usr/bin/python3 -c \"import sys;sys.stdout.buffer.write(%s)\"",
           payload);
  if (run_capture(cmd, &want) < 0)
    bail_out("python3 failed");
  for (f = 0; f < 3; f++) {
    out_buf enc = {0}, dec = {0};
    int rc;
    snprintf(prog, sizeof(prog), "%s%s%s", progs[f][0], payload, progs[f][1]);
    snprintf(cmd, sizeof(cmd), "/usr/bin/python3 -c \"%s\"", prog);
    ok(run_capture(cmd, &enc) == 0, "python %s output produced", fmt_names[f]);
    rc = decode_all(NULL, f == 0 ? GUST_ZIP_GZIP : GUST_ZIP_DEFLATE, 0, 0,
                    enc.p, enc.len, 1000, 3000, &dec);
    is_int(rc, 0, "python %s output decodes%s", fmt_names[f],
           f ? " as autodetected deflate" : "");
    cmp_mem(dec.p, dec.len, want.p, want.len, "python %s output matches",
            fmt_names[f]);
    free(enc.p);
    free(dec.p);
  }
  free(want.p);
}

static void test_gzip_command(void) {
  char path[] = "/tmp/gust-gzip-XXXXXX";
  char cmd[128];
  uint8_t data[30000];
  out_buf enc = {0}, back = {0}, dec = {0};
  FILE *fp;
  int fd;
  if (system("gzip --version >/dev/null 2>&1") != 0) {
    skip(4, "no gzip command");
    return;
  }
  fill(data, sizeof(data), 11, 0);
  encode_all(NULL, GUST_ZIP_GZIP, 9, data, sizeof(data), 1000, 100, &enc);
  fd = mkstemp(path);
  if (fd < 0)
    bail_out("mkstemp failed");
  fp = fdopen(fd, "wb");
  fwrite(enc.p, 1, enc.len, fp);
  fclose(fp);
  snprintf(cmd, sizeof(cmd), "gzip -dc < %s", path);
  is_int(run_capture(cmd, &back), 0, "gzip -d accepts gust's output");
  cmp_mem(back.p, back.len, data, sizeof(data), "gzip -d gives the input");
  fp = fopen(path, "wb");
  fwrite(data, 1, sizeof(data), fp);
  fclose(fp);
  free(enc.p);
  enc = (out_buf){0};
  snprintf(cmd, sizeof(cmd), "gzip -c < %s", path);
  if (run_capture(cmd, &enc) < 0)
    bail_out("gzip -c failed");
  is_int(decode_all(NULL, GUST_ZIP_GZIP, 0, 0, enc.p, enc.len, 77, 1000, &dec),
         0, "the gzip command's output decodes");
  cmp_mem(dec.p, dec.len, data, sizeof(data), "and matches");
  unlink(path);
  free(enc.p);
  free(back.p);
  free(dec.p);
}

static void test_bomb(void) {
  size_t n = 4u << 20, f;
  uint8_t *zeros = calloc(1, n);
  for (f = 0; f < 3; f++) {
    out_buf enc = {0}, dec = {0};
    gust_zip *z;
    encode_all(NULL, fmts[f], 9, zeros, n, n, 65536, &enc);
    ok(enc.len < 100000, "%s: 4 MiB of zeros compress to %zu bytes",
       fmt_names[f], enc.len);
    is_int(decode_all(NULL, fmts[f], 1u << 20, 0, enc.p, enc.len, enc.len,
                      65536, &dec),
           GUST_EZIP_TOOBIG, "%s: the bomb stops at a 1 MiB cap", fmt_names[f]);
    ok(dec.len <= 1u << 20, "%s: no more than the cap was delivered (%zu)",
       fmt_names[f], dec.len);
    dec.len = 0;
    is_int(
        decode_all(NULL, fmts[f], 0, 0, enc.p, enc.len, enc.len, 65536, &dec),
        0, "%s: 4 MiB is under the default cap", fmt_names[f]);
    dec.len = 0;
    is_int(decode_all(NULL, fmts[f], n, 0, enc.p, enc.len, 100, 65536, &dec), 0,
           "%s: a cap equal to the size is enough", fmt_names[f]);
    dec.len = 0;
    is_int(
        decode_all(NULL, fmts[f], n - 1, 0, enc.p, enc.len, 100, 65536, &dec),
        GUST_EZIP_TOOBIG, "%s: one byte less is not", fmt_names[f]);
    /* the error sticks */
    gust_zip_decoder_new(&z, NULL, fmts[f], 10, 0);
    {
      const uint8_t *in = enc.p;
      size_t in_len = enc.len;
      uint8_t buf[100];
      gust_ssize g = gust_zip_decode(z, &in, &in_len, buf, sizeof(buf));
      is_int(g, GUST_EZIP_TOOBIG, "%s: 10-byte cap", fmt_names[f]);
      is_int(gust_zip_decode(z, &in, &in_len, buf, sizeof(buf)),
             GUST_EZIP_TOOBIG, "%s: the error is sticky", fmt_names[f]);
      ok(gust_is_fatal(GUST_EZIP_TOOBIG), "TOOBIG is fatal");
    }
    gust_zip_free(z);
    free(enc.p);
    free(dec.p);
  }
  free(zeros);
}

static void test_truncated_corrupt(void) {
  uint8_t data[3000];
  size_t f, cut;
  fill(data, sizeof(data), 5, 1);
  for (f = 0; f < 3; f++) {
    out_buf enc = {0}, dec = {0};
    int bad = 0, rc;
    encode_all(NULL, fmts[f], 6, data, sizeof(data), 1 << 20, 1 << 16, &enc);
    for (cut = 0; cut < enc.len; cut++) {
      dec.len = 0;
      rc = decode_all(NULL, fmts[f], 0, 0, enc.p, cut, 13, 4096, &dec);
      if (rc != GUST_EZIP_TRUNCATED && rc != GUST_EZIP_DATA)
        bad++;
    }
    is_int(bad, 0, "%s: every truncation is rejected", fmt_names[f]);
    if (f != 2) {
      /* the last byte belongs to the check value (CRC-32/ISIZE, Adler-32) */
      enc.p[enc.len - (f == 0 ? 5 : 1)] ^= 1;
      dec.len = 0;
      is_int(
          decode_all(NULL, fmts[f], 0, 0, enc.p, enc.len, 1 << 20, 4096, &dec),
          GUST_EZIP_DATA, "%s: a wrong check value is rejected", fmt_names[f]);
      enc.p[enc.len - (f == 0 ? 5 : 1)] ^= 1;
      enc.p[0] ^= 0x40;
      dec.len = 0;
      is_int(
          decode_all(NULL, fmts[f], 0, 0, enc.p, enc.len, 1 << 20, 4096, &dec),
          GUST_EZIP_DATA, "%s: a bad header is rejected", fmt_names[f]);
      enc.p[0] ^= 0x40;
    }
    /* trailing data */
    ob_put(&enc, (const uint8_t *)"junk", 4);
    dec.len = 0;
    is_int(decode_all(NULL, fmts[f], 0, 0, enc.p, enc.len, 1 << 20, 4096, &dec),
           GUST_EZIP_TRAILING, "%s: trailing garbage is an error",
           fmt_names[f]);
    dec.len = 0;
    is_int(decode_all(NULL, fmts[f], 0, GUST_ZIP_IGNORE_TRAILING, enc.p,
                      enc.len, 7, 4096, &dec),
           0, "%s: trailing garbage ignored on request", fmt_names[f]);
    cmp_mem(dec.p, dec.len, data, sizeof(data), "%s: and the data is intact",
            fmt_names[f]);
    free(enc.p);
    free(dec.p);
  }
}

static void test_members_and_autodetect(void) {
  out_buf a = {0}, dec = {0};
  uint8_t data[2000], both[4000];
  size_t one;
  fill(data, sizeof(data), 9, 0);
  encode_all(NULL, GUST_ZIP_GZIP, 6, data, 1000, 1000, 4096, &a);
  one = a.len;
  encode_all(NULL, GUST_ZIP_GZIP, 1, data + 1000, 1000, 1000, 4096, &a);
  is_int(decode_all(NULL, GUST_ZIP_GZIP, 0, GUST_ZIP_MULTI_MEMBER, a.p, a.len,
                    1, 4096, &dec),
         0, "two gzip members decode with MULTI_MEMBER");
  cmp_mem(dec.p, dec.len, data, 2000, "both members' data");
  dec.len = 0;
  is_int(decode_all(NULL, GUST_ZIP_GZIP, 0, 0, a.p, a.len, 100, 4096, &dec),
         GUST_EZIP_TRAILING, "without it, the second member is trailing");
  ok(one < a.len, "sanity: two members");
  memcpy(both, data, 2000);
  free(a.p);
  /* "deflate": zlib-wrapped and raw, fed one byte at a time */
  {
    gust_zip_format ef[] = {GUST_ZIP_ZLIB, GUST_ZIP_RAW};
    int i, lv;
    for (i = 0; i < 2; i++)
      for (lv = 0; lv <= 9; lv += 3) {
        out_buf enc = {0};
        encode_all(NULL, ef[i], lv, both, 2000, 2000, 4096, &enc);
        dec.len = 0;
        is_int(decode_all(NULL, GUST_ZIP_DEFLATE, 0, 0, enc.p, enc.len, 1, 3,
                          &dec),
               0, "deflate autodetect: %s level %d", i ? "raw" : "zlib", lv);
        cmp_mem(dec.p, dec.len, both, 2000, "deflate autodetect: data");
        free(enc.p);
      }
  }
  {
    /* a raw stream of two bytes (one empty final stored... fixed block) */
    static const uint8_t tiny[] = {0x03, 0x00};
    dec.len = 0;
    is_int(decode_all(NULL, GUST_ZIP_DEFLATE, 0, 0, tiny, 2, 1, 3, &dec), 0,
           "deflate autodetect: the shortest raw stream");
    is_int(dec.len, 0, "and it is empty");
    dec.len = 0;
    is_int(decode_all(NULL, GUST_ZIP_DEFLATE, 0, 0, tiny, 1, 1, 3, &dec),
           GUST_EZIP_TRUNCATED, "deflate autodetect: one byte is truncated");
    is_int(decode_all(NULL, GUST_ZIP_GZIP, 0, 0, tiny, 0, 1, 3, &dec),
           GUST_EZIP_TRUNCATED, "an empty gzip stream is truncated");
  }
  free(dec.p);
}

static void test_coding_and_args(void) {
  gust_zip *z = (gust_zip *)1;
  uint8_t b[4];
  const uint8_t *in = b;
  size_t in_len = 0;
  is_int(gust_zip_coding("gzip", 4), GUST_ZIP_GZIP, "coding gzip");
  is_int(gust_zip_coding(" X-GZip ", 8), GUST_ZIP_GZIP, "coding x-gzip");
  is_int(gust_zip_coding("Deflate", 7), GUST_ZIP_DEFLATE, "coding deflate");
  is_int(gust_zip_coding("br", 2), GUST_EZIP_CODING, "br is unknown");
  is_int(gust_zip_coding("identity", 8), GUST_EZIP_CODING,
         "identity is not decoded");
  is_int(gust_zip_coding("gzip, br", 8), GUST_EZIP_CODING,
         "a list is not decoded");
  is_int(gust_zip_coding("gzi", 3), GUST_EZIP_CODING, "a prefix is unknown");
  ok(!gust_is_fatal(GUST_EZIP_CODING), "CODING is not fatal");
  is_int(gust_zip_encoder_new(&z, NULL, GUST_ZIP_GZIP, 10), GUST_EINVAL,
         "level 10 refused");
  is_int(gust_zip_encoder_new(&z, NULL, (gust_zip_format)9, 6), GUST_EINVAL,
         "bad format refused");
  ok(z == NULL, "out cleared on failure");
  is_int(gust_zip_decoder_new(&z, NULL, GUST_ZIP_GZIP, 0, 1u << 7), GUST_EINVAL,
         "unknown flag refused");
  gust_zip_encoder_new(&z, NULL, GUST_ZIP_GZIP, -1);
  is_int(gust_zip_decode(z, &in, &in_len, b, 4), GUST_ESTATE,
         "decode on an encoder");
  is_int(gust_zip_decode_end(z), GUST_ESTATE, "decode_end on an encoder");
  is_int(gust_zip_encode(z, &in, &in_len, b, 0, GUST_ZIP_NO_FLUSH), GUST_EINVAL,
         "zero room refused");
  is_int(gust_zip_encode(z, &in, &in_len, b, 4, (gust_zip_flush)7), GUST_EINVAL,
         "bad flush refused");
  gust_zip_free(z);
  gust_zip_decoder_new(&z, NULL, GUST_ZIP_GZIP, 0, 0);
  is_int(gust_zip_encode(z, &in, &in_len, b, 4, GUST_ZIP_NO_FLUSH), GUST_ESTATE,
         "encode on a decoder");
  gust_zip_free(z);
  gust_zip_free(NULL);
}

static void test_failmem(void) {
  uint8_t data[20000];
  unsigned long at;
  int f;
  fill(data, sizeof(data), 2, 1);
  for (f = 0; f < 4; f++) {
    int bad = 0, saw_fail = 0;
    gust_zip_format ef = f == 3 ? GUST_ZIP_ZLIB : fmts[f];
    gust_zip_format df = f == 3 ? GUST_ZIP_DEFLATE : fmts[f];
    for (at = 1; at < 40; at++) {
      gust_failmem fm;
      out_buf enc = {0}, dec = {0};
      int rc;
      gust_failmem_init(&fm, NULL);
      gust_failmem_reset(&fm, at);
      rc = encode_all(&fm.mem, ef, 6, data, sizeof(data), 5000, 1000, &enc);
      if (rc == 0)
        rc = decode_all(&fm.mem, df, 0, 0, enc.p, enc.len, 5000, 1000, &dec);
      if (fm.failures > 0)
        saw_fail = 1;
      if (fm.failures > 0 ? rc != GUST_ENOMEM : rc != 0)
        bad++;
      if (rc == 0 &&
          (dec.len != sizeof(data) || memcmp(dec.p, data, dec.len) != 0))
        bad++;
      if (fm.live_blocks != 0)
        bad++;
      free(enc.p);
      free(dec.p);
    }
    is_int(bad, 0, "%s: every allocation failure gives ENOMEM, no leak",
           f == 3 ? "deflate" : fmt_names[f]);
    ok(saw_fail, "%s: failures were injected",
       f == 3 ? "deflate" : fmt_names[f]);
  }
}

int main(void) {
  if (tap_group("roundtrip"))
    test_roundtrip();
  if (tap_group("split"))
    test_split_points();
  if (tap_group("sync"))
    test_sync_flush();
  if (tap_group("python"))
    test_python();
  if (tap_group("gzipcmd"))
    test_gzip_command();
  if (tap_group("bomb"))
    test_bomb();
  if (tap_group("corrupt"))
    test_truncated_corrupt();
  if (tap_group("members"))
    test_members_and_autodetect();
  if (tap_group("args"))
    test_coding_and_args();
  if (tap_group("failmem"))
    test_failmem();
  return done_testing();
}
