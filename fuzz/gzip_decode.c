/* Fuzz target for the gzip / zlib / raw deflate decoder. The first input
 * byte picks the format, the flags and the piece sizes; the rest is the
 * compressed stream. The decoder must never write past the room it is
 * given nor past its cap, and a stream that decodes must decode to the
 * same bytes whatever the split. */
#include <gust/gzip.h>

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int cond) {
  if (!cond)
    abort();
}

#define CAP 100000

/* Decodes `data` feeding `in_step` bytes and pulling `out_step` bytes at a
 * time into out (CAP + 1 bytes). Returns the status, *out_len the size. */
static int run(gust_zip_format fmt, unsigned flags, const uint8_t *data,
               size_t size, size_t in_step, size_t out_step, uint8_t *out,
               size_t *out_len) {
  gust_zip *z;
  size_t off = 0, total = 0;
  int rc = gust_zip_decoder_new(&z, NULL, fmt, CAP, flags);
  check(rc == 0);
  while (off < size && rc == 0) {
    size_t n = size - off < in_step ? size - off : in_step;
    const uint8_t *in = data + off;
    size_t in_len = n;
    gust_ssize got;
    size_t room;
    do {
      room = CAP + 1 - total < out_step ? CAP + 1 - total : out_step;
      if (room == 0) {
        rc = -1;
        break;
      }
      got = gust_zip_decode(z, &in, &in_len, out + total, room);
      if (got < 0) {
        rc = (int)got;
        break;
      }
      check((size_t)got <= room);
      total += (size_t)got;
    } while (in_len > 0 || (size_t)got == room);
    off += n;
  }
  if (rc == 0)
    rc = gust_zip_decode_end(z);
  check(rc <= 0);
  check(total <= CAP || rc == GUST_EZIP_TOOBIG);
  check(rc != 0 || gust_zip_total_out(z) == total);
  gust_zip_free(z);
  *out_len = total;
  return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static const gust_zip_format fmts[] = {GUST_ZIP_GZIP, GUST_ZIP_ZLIB,
                                         GUST_ZIP_RAW, GUST_ZIP_DEFLATE};
  static uint8_t a[CAP + 1], b[CAP + 1];
  size_t alen, blen;
  gust_zip_format fmt;
  unsigned flags;
  int ra, rb;
  if (size < 1)
    return 0;
  fmt = fmts[data[0] & 3];
  flags = (data[0] >> 2) & 3;
  ra = run(fmt, flags, data + 1, size - 1, size, 65536, a, &alen);
  rb = run(fmt, flags, data + 1, size - 1, 1 + (data[0] >> 4),
           1 + (data[0] >> 5), b, &blen);
  if (ra == 0 || rb == 0) {
    check(ra == rb);
    check(alen == blen && memcmp(a, b, alen) == 0);
  }
  return 0;
}
