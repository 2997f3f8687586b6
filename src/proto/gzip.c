/* Streaming gzip / zlib / raw deflate over zlib, Sans-IO: the caller owns
 * every buffer, each call writes at most the room it is given, and the
 * decoder stops at a total-output cap. zlib allocates through gust_mem. */
#include "base/base_int.h"
#include "proto/zlib_int.h"

#include <gust/gzip.h>

#include <limits.h>
#include <string.h>
#include <zlib.h>

struct gust_zip {
  const gust_mem *mem;
  z_stream s;
  gust_zip_format format;
  unsigned flags;
  int encoder;
  int ready; /* zlib stream initialised (decoding "deflate" waits for the
                first two bytes to pick zlib-wrapped or raw) */
  int done;
  int err; /* sticky fatal error, 0 if none */
  uint64_t max_out;
  uint64_t total_in, total_out;
  uint8_t hdr[2]; /* "deflate" autodetection: the first bytes seen */
  size_t hdr_len, hdr_pos;
};

static voidpf zip_alloc(voidpf opaque, uInt items, uInt size) {
  if (items != 0 && size > SIZE_MAX / items)
    return Z_NULL;
  return gust__malloc((const gust_mem *)opaque, (size_t)items * size);
}

static void zip_free(voidpf opaque, voidpf ptr) {
  gust__free((const gust_mem *)opaque, ptr);
}

void gust__zlib_use_mem(z_stream *s, const gust_mem *mem) {
  s->zalloc = zip_alloc;
  s->zfree = zip_free;
  s->opaque = (voidpf)mem;
}

static int window_bits(gust_zip_format format) {
  switch (format) {
  case GUST_ZIP_GZIP:
    return 16 + MAX_WBITS;
  case GUST_ZIP_RAW:
    return -MAX_WBITS;
  case GUST_ZIP_ZLIB:
  case GUST_ZIP_DEFLATE:
  default:
    return MAX_WBITS;
  }
}

static int zip_new(gust_zip **out, const gust_mem *mem, gust_zip_format format,
                   int encoder) {
  gust_zip *z;
  *out = NULL;
  if (format < GUST_ZIP_GZIP || format > GUST_ZIP_DEFLATE)
    return GUST_EINVAL;
  mem = gust__mem(mem);
  z = gust__calloc(mem, 1, sizeof(*z));
  if (z == NULL)
    return GUST_ENOMEM;
  z->mem = mem;
  z->format = format;
  z->encoder = encoder;
  gust__zlib_use_mem(&z->s, mem);
  *out = z;
  return 0;
}

static int zrc_to_gust(int zrc) {
  switch (zrc) {
  case Z_MEM_ERROR:
    return GUST_ENOMEM;
  case Z_DATA_ERROR:
  case Z_NEED_DICT:
    return GUST_EZIP_DATA;
  default:
    return GUST_EINTERNAL;
  }
}

int gust_zip_encoder_new(gust_zip **out, const gust_mem *mem,
                         gust_zip_format format, int level) {
  gust_zip *z;
  int rc;
  if (out == NULL)
    return GUST_EINVAL;
  *out = NULL;
  if (level < -1 || level > 9)
    return GUST_EINVAL;
  rc = zip_new(&z, mem, format, 1);
  if (rc < 0)
    return rc;
  rc = deflateInit2(&z->s, level, Z_DEFLATED, window_bits(format), 8,
                    Z_DEFAULT_STRATEGY);
  if (rc != Z_OK) {
    gust__free(z->mem, z);
    return zrc_to_gust(rc);
  }
  z->ready = 1;
  *out = z;
  return 0;
}

int gust_zip_decoder_new(gust_zip **out, const gust_mem *mem,
                         gust_zip_format format, uint64_t max_output,
                         unsigned flags) {
  gust_zip *z;
  int rc;
  if (out == NULL)
    return GUST_EINVAL;
  *out = NULL;
  if (flags & ~(unsigned)(GUST_ZIP_MULTI_MEMBER | GUST_ZIP_IGNORE_TRAILING))
    return GUST_EINVAL;
  rc = zip_new(&z, mem, format, 0);
  if (rc < 0)
    return rc;
  z->flags = flags;
  z->max_out = max_output == 0 ? GUST_ZIP_DEFAULT_MAX_OUTPUT : max_output;
  if (format != GUST_ZIP_DEFLATE) {
    rc = inflateInit2(&z->s, window_bits(format));
    if (rc != Z_OK) {
      gust__free(z->mem, z);
      return zrc_to_gust(rc);
    }
    z->ready = 1;
  }
  *out = z;
  return 0;
}

void gust_zip_free(gust_zip *z) {
  if (z == NULL)
    return;
  if (z->ready) {
    if (z->encoder)
      deflateEnd(&z->s);
    else
      inflateEnd(&z->s);
  }
  gust__free(z->mem, z);
}

static gust_ssize fail(gust_zip *z, int code) {
  z->err = code;
  return code;
}

static int check_args(const uint8_t **in, size_t *in_len, const uint8_t *out,
                      size_t out_cap) {
  if (in == NULL || in_len == NULL || out == NULL || out_cap == 0)
    return GUST_EINVAL;
  if (*in_len != 0 && *in == NULL)
    return GUST_EINVAL;
  if (out_cap > (size_t)PTRDIFF_MAX)
    return GUST_EINVAL;
  return 0;
}

static uInt clamp_uint(size_t n) { return n > UINT_MAX ? UINT_MAX : (uInt)n; }

gust_ssize gust_zip_encode(gust_zip *z, const uint8_t **in, size_t *in_len,
                           uint8_t *out, size_t out_cap, gust_zip_flush flush) {
  size_t produced = 0;
  int zflush;
  int rc;
  if (z == NULL || (rc = check_args(in, in_len, out, out_cap)) < 0)
    return GUST_EINVAL;
  if (!z->encoder)
    return GUST_ESTATE;
  if (z->err)
    return z->err;
  switch (flush) {
  case GUST_ZIP_NO_FLUSH:
    zflush = Z_NO_FLUSH;
    break;
  case GUST_ZIP_SYNC:
    zflush = Z_SYNC_FLUSH;
    break;
  case GUST_ZIP_FINISH:
    zflush = Z_FINISH;
    break;
  default:
    return GUST_EINVAL;
  }
  if (z->done)
    return (*in_len == 0 && flush == GUST_ZIP_FINISH) ? 0 : GUST_ESTATE;
  while (produced < out_cap) {
    uInt ain = clamp_uint(*in_len);
    uInt aout = clamp_uint(out_cap - produced);
    int last = ain == *in_len;
    size_t used, made;
    z->s.next_in = (Bytef *)(uintptr_t)*in;
    z->s.avail_in = ain;
    z->s.next_out = out + produced;
    z->s.avail_out = aout;
    rc = deflate(&z->s, last ? zflush : Z_NO_FLUSH);
    used = ain - z->s.avail_in;
    made = aout - z->s.avail_out;
    *in += used;
    *in_len -= used;
    produced += made;
    z->total_in += used;
    z->total_out += made;
    if (rc == Z_STREAM_END) {
      z->done = 1;
      break;
    }
    if (rc == Z_BUF_ERROR)
      break; /* no progress possible: nothing more to do for now */
    if (rc != Z_OK)
      return fail(z, zrc_to_gust(rc));
    if (z->s.avail_out != 0 && last)
      break; /* all input taken and the flush (if any) complete */
  }
  return (gust_ssize)produced;
}

/* zlib header check (RFC 1950): CM 8, CINFO <= 7, FCHECK makes the first
 * two bytes a multiple of 31. Raw deflate data failing this is decoded as
 * raw. */
static int looks_zlib(const uint8_t h[2]) {
  return (h[0] & 0x0f) == 8 && (h[0] >> 4) <= 7 &&
         (((unsigned)h[0] << 8) | h[1]) % 31 == 0;
}

static int start_deflate(gust_zip *z, const uint8_t **in, size_t *in_len) {
  int rc;
  while (z->hdr_len < 2 && *in_len > 0) {
    z->hdr[z->hdr_len++] = **in;
    ++*in;
    --*in_len;
    z->total_in++;
  }
  if (z->hdr_len < 2)
    return 0;
  rc = inflateInit2(&z->s, looks_zlib(z->hdr) ? MAX_WBITS : -MAX_WBITS);
  if (rc != Z_OK)
    return zrc_to_gust(rc);
  z->ready = 1;
  return 1;
}

gust_ssize gust_zip_decode(gust_zip *z, const uint8_t **in, size_t *in_len,
                           uint8_t *out, size_t out_cap) {
  size_t produced = 0;
  int rc;
  if (z == NULL || check_args(in, in_len, out, out_cap) < 0)
    return GUST_EINVAL;
  if (z->encoder)
    return GUST_ESTATE;
  if (z->err)
    return z->err;
  if (!z->ready) {
    rc = start_deflate(z, in, in_len);
    if (rc < 0)
      return fail(z, rc);
    if (rc == 0)
      return 0;
  }
  while (produced < out_cap) {
    int from_hdr = z->hdr_pos < z->hdr_len;
    const uint8_t *src = from_hdr ? z->hdr + z->hdr_pos : *in;
    size_t src_len = from_hdr ? z->hdr_len - z->hdr_pos : *in_len;
    size_t room = out_cap - produced;
    uInt ain, aout;
    size_t used, made;
    if (z->done) {
      if (src_len == 0)
        break;
      if (z->format == GUST_ZIP_GZIP && (z->flags & GUST_ZIP_MULTI_MEMBER)) {
        rc = inflateReset(&z->s);
        if (rc != Z_OK)
          return fail(z, zrc_to_gust(rc));
        z->done = 0;
        continue;
      }
      if (z->flags & GUST_ZIP_IGNORE_TRAILING) {
        z->total_in += *in_len;
        *in += *in_len;
        *in_len = 0;
        break;
      }
      return fail(z, GUST_EZIP_TRAILING);
    }
    /* Give inflate one byte more than the cap allows, so that passing the
     * cap is seen without producing much beyond it. */
    if (z->max_out != UINT64_MAX && room > z->max_out - z->total_out + 1)
      room = (size_t)(z->max_out - z->total_out + 1);
    ain = clamp_uint(src_len);
    aout = clamp_uint(room);
    z->s.next_in = (Bytef *)(uintptr_t)src;
    z->s.avail_in = ain;
    z->s.next_out = out + produced;
    z->s.avail_out = aout;
    rc = inflate(&z->s, Z_NO_FLUSH);
    used = ain - z->s.avail_in;
    made = aout - z->s.avail_out;
    if (from_hdr) {
      z->hdr_pos += used;
    } else {
      *in += used;
      *in_len -= used;
      z->total_in += used;
    }
    produced += made;
    z->total_out += made;
    if (z->total_out > z->max_out)
      return fail(z, GUST_EZIP_TOOBIG);
    if (rc == Z_STREAM_END) {
      z->done = 1;
      continue;
    }
    if (rc == Z_BUF_ERROR)
      break; /* needs more input (or more room, which the loop checks) */
    if (rc != Z_OK)
      return fail(z, zrc_to_gust(rc));
    if (used == 0 && made == 0)
      break;
    if (!from_hdr && z->s.avail_out != 0 && *in_len == 0)
      break; /* all input taken */
  }
  return (gust_ssize)produced;
}

int gust_zip_decode_end(gust_zip *z) {
  if (z == NULL)
    return GUST_EINVAL;
  if (z->encoder)
    return GUST_ESTATE;
  if (z->err)
    return z->err;
  if (!z->done)
    return (int)fail(z, GUST_EZIP_TRUNCATED);
  return 0;
}

int gust_zip_done(const gust_zip *z) { return z != NULL && z->done; }

uint64_t gust_zip_total_in(const gust_zip *z) {
  return z == NULL ? 0 : z->total_in;
}

uint64_t gust_zip_total_out(const gust_zip *z) {
  return z == NULL ? 0 : z->total_out;
}

void gust_zip_set_max_output(gust_zip *z, uint64_t max_output) {
  if (z == NULL || z->encoder)
    return;
  z->max_out = max_output == 0 ? GUST_ZIP_DEFAULT_MAX_OUTPUT : max_output;
  if (z->total_out > z->max_out)
    fail(z, GUST_EZIP_TOOBIG);
}

int gust_zip_coding(const char *name, size_t len) {
  static const struct {
    const char *name;
    size_t len;
    gust_zip_format format;
  } codings[] = {{"gzip", 4, GUST_ZIP_GZIP},
                 {"x-gzip", 6, GUST_ZIP_GZIP},
                 {"deflate", 7, GUST_ZIP_DEFLATE}};
  size_t i, k;
  if (name == NULL)
    return GUST_EZIP_CODING;
  while (len > 0 && (name[0] == ' ' || name[0] == '\t')) {
    ++name;
    --len;
  }
  while (len > 0 && (name[len - 1] == ' ' || name[len - 1] == '\t'))
    --len;
  for (i = 0; i < sizeof(codings) / sizeof(codings[0]); i++) {
    if (codings[i].len != len)
      continue;
    for (k = 0; k < len; k++)
      if (gust__lower((uint8_t)name[k]) != (uint8_t)codings[i].name[k])
        break;
    if (k == len)
      return (int)codings[i].format;
  }
  return GUST_EZIP_CODING;
}
