/* Allocation-failure torture of gzip over HTTP: a server compresses a
 * response in three flushes, a client decodes the body from small DATA
 * pieces and gets the page back; also a raw encoder/decoder pair per format
 * (torture.h says what each run checks). */
#include "torture.h"

#include <gust/gzip.h>
#include <gust/headers.h>

#include <string.h>

static char page[9000];

static int http_body(const gust_mem *mem, void *ud) {
  gust_zip_resp *r = NULL;
  gust_zip_body *b = NULL;
  gust_headers hd;
  gust_buf wire, back;
  size_t i;
  int rc;
  (void)ud;
  gust_headers_init(&hd, mem);
  gust_buf_init(&wire, mem);
  gust_buf_init(&back, mem);
  if ((rc = gust_headers_add_str(&hd, "Content-Type",
                                 "text/html; charset=UTF-8")) != 0 ||
      (rc = gust_headers_add_str(&hd, "Vary", "Cookie")) != 0 ||
      (rc = gust_zip_resp_new(&r, mem, "deflate, gzip;q=1.0", 19)) != 0 ||
      (rc = gust_zip_resp_first(r, &hd, page, 3000, 0, &wire)) != 0 ||
      (rc = gust_zip_resp_chunk(r, page + 3000, 3000, 0, &wire)) != 0 ||
      (rc = gust_zip_resp_chunk(r, page + 6000, 3000, 1, &wire)) != 0)
    goto done;
  if (!gust_zip_resp_active(r)) {
    rc = GUST_EINTERNAL;
    goto done;
  }
  /* the client side sees the same head and the body in 97-byte pieces */
  rc = gust_zip_body_start(&b, mem, &hd, GUST_ZIP_BODY_DEFLATE, 1000, 0);
  if (rc != 1) {
    rc = rc == 0 ? GUST_EINTERNAL : rc;
    goto done;
  }
  for (i = 0; i < wire.len; i += 97) {
    gust_slice piece;
    size_t n = wire.len - i < 97 ? wire.len - i : 97;
    if ((rc = gust_zip_body_feed(b, wire.ptr + i, n)) != 0)
      goto done;
    while ((rc = gust_zip_body_next(b, &piece)) == 1)
      if ((rc = gust_buf_append(&back, piece.ptr, piece.len)) != 0)
        goto done;
    if (rc != 0)
      goto done;
  }
  if ((rc = gust_zip_body_finish(b)) != 0)
    goto done;
  rc = back.len == sizeof(page) && memcmp(back.ptr, page, sizeof(page)) == 0
           ? 0
           : GUST_EINTERNAL;
done:
  gust_zip_body_free(b);
  gust_zip_resp_free(r);
  gust_headers_free(&hd);
  gust_buf_free(&wire);
  gust_buf_free(&back);
  return rc;
}

/* Encoder and decoder of one format through small windows. */
static int codec(const gust_mem *mem, void *ud) {
  gust_zip_format fmt = *(const gust_zip_format *)ud;
  gust_zip *enc = NULL, *dec = NULL;
  uint8_t comp[12000], out[sizeof(page)], tmp[333];
  const uint8_t *in = (const uint8_t *)page;
  size_t in_len = sizeof(page), clen = 0, olen = 0;
  gust_ssize got;
  int rc;
  if ((rc = gust_zip_encoder_new(&enc, mem, fmt, 6)) != 0 ||
      (rc = gust_zip_decoder_new(&dec, mem, fmt, 0, 0)) != 0)
    goto done;
  do {
    got = gust_zip_encode(
        enc, &in, &in_len, comp + clen,
        sizeof(tmp) < sizeof(comp) - clen ? sizeof(tmp) : sizeof(comp) - clen,
        GUST_ZIP_FINISH);
    if (got < 0) {
      rc = (int)got;
      goto done;
    }
    clen += (size_t)got;
  } while (!gust_zip_done(enc) && clen < sizeof(comp));
  in = comp;
  in_len = clen;
  while (in_len > 0 || olen < sizeof(out)) {
    size_t take = in_len;
    got = gust_zip_decode(dec, &in, &in_len, tmp, sizeof(tmp));
    if (got < 0) {
      rc = (int)got;
      goto done;
    }
    if (olen + (size_t)got > sizeof(out)) {
      rc = GUST_EINTERNAL;
      goto done;
    }
    memcpy(out + olen, tmp, (size_t)got);
    olen += (size_t)got;
    if (got == 0 && take == in_len)
      break; /* no progress */
  }
  if ((rc = gust_zip_decode_end(dec)) != 0)
    goto done;
  rc =
      olen == sizeof(page) && memcmp(out, page, olen) == 0 ? 0 : GUST_EINTERNAL;
done:
  gust_zip_free(enc);
  gust_zip_free(dec);
  return rc;
}

int main(void) {
  static const gust_zip_format fmts[] = {GUST_ZIP_GZIP, GUST_ZIP_ZLIB,
                                         GUST_ZIP_DEFLATE};
  static const char *const names[] = {"gzip codec", "zlib codec",
                                      "raw deflate codec"};
  size_t i;
  for (i = 0; i < sizeof(page); i++)
    page[i] = "<p>gust torture page</p>\n"[i % 25] ^ (char)((i / 700) & 1);
  if (tap_group("http"))
    torture("gzip response and body decoder", http_body, NULL);
  if (tap_group("codec"))
    for (i = 0; i < 3; i++)
      torture(names[i], codec, (void *)&fmts[i]);
  return done_testing();
}
