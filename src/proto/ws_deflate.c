/* permessage-deflate (RFC 7692): the per-connection zlib engine and the
 * negotiation of its parameters in the opening handshake. */
#include "base/base_int.h"
#include "proto/ws_int.h"

#include <zlib.h>

/* Inflate output is produced in pieces of this size, so that the size cap
 * is checked long before a bomb can allocate much. */
#define INFLATE_PIECE 16384

struct gust__ws_zip {
  const gust_mem *mem;
  z_stream def;
  z_stream inf;
  int def_ready;
  int inf_ready;
  int def_bits, inf_bits;
  int level, mem_level;
  int def_reset;    /* no context takeover for our compressor */
  int inf_finished; /* BFINAL seen: ignore the rest of this message */
};

static voidpf zip_alloc(voidpf opaque, uInt items, uInt size) {
  const gust_mem *mem = (const gust_mem *)opaque;
  if (items != 0 && size > SIZE_MAX / items)
    return Z_NULL;
  return gust__malloc(mem, (size_t)items * size);
}

static void zip_free(voidpf opaque, voidpf ptr) {
  gust__free((const gust_mem *)opaque, ptr);
}

static int bits_or_default(int bits) { return bits == 0 ? 15 : bits; }

int gust__ws_zip_new(gust__ws_zip **out, const gust_mem *mem,
                     const gust_ws_deflate_params *p, gust_ws_role role,
                     int level, int mem_level) {
  gust__ws_zip *z;
  int sbits = bits_or_default(p->server_max_window_bits);
  int cbits = bits_or_default(p->client_max_window_bits);

  *out = NULL;
  if (sbits < 9 || sbits > 15 || cbits < 9 || cbits > 15 || level < -1 ||
      level > 9 || mem_level < 1 || mem_level > 9)
    return GUST_EINVAL;
  z = (gust__ws_zip *)gust__calloc(mem, 1, sizeof *z);
  if (z == NULL)
    return GUST_ENOMEM;
  z->mem = mem;
  z->level = level;
  z->mem_level = mem_level;
  if (role == GUST_WS_SERVER) {
    z->def_bits = sbits;
    z->inf_bits = cbits;
    z->def_reset = p->server_no_context_takeover != 0;
  } else {
    z->def_bits = cbits;
    z->inf_bits = sbits;
    z->def_reset = p->client_no_context_takeover != 0;
  }
  *out = z;
  return 0;
}

void gust__ws_zip_free(gust__ws_zip *z) {
  if (z == NULL)
    return;
  if (z->def_ready)
    deflateEnd(&z->def);
  if (z->inf_ready)
    inflateEnd(&z->inf);
  gust__free(z->mem, z);
}

/* The streams are created on first use: a connection that never sends (or
 * never receives) a compressed message holds no zlib state for it. */
static int def_init(gust__ws_zip *z) {
  int rc;
  if (z->def_ready)
    return 0;
  memset(&z->def, 0, sizeof z->def);
  z->def.zalloc = zip_alloc;
  z->def.zfree = zip_free;
  z->def.opaque = (voidpf)z->mem;
  rc = deflateInit2(&z->def, z->level, Z_DEFLATED, -z->def_bits, z->mem_level,
                    Z_DEFAULT_STRATEGY);
  if (rc == Z_MEM_ERROR)
    return GUST_ENOMEM;
  if (rc != Z_OK)
    return GUST_EINTERNAL;
  z->def_ready = 1;
  return 0;
}

static int inf_init(gust__ws_zip *z) {
  int rc;
  if (z->inf_ready)
    return 0;
  memset(&z->inf, 0, sizeof z->inf);
  z->inf.zalloc = zip_alloc;
  z->inf.zfree = zip_free;
  z->inf.opaque = (voidpf)z->mem;
  rc = inflateInit2(&z->inf, -z->inf_bits);
  if (rc == Z_MEM_ERROR)
    return GUST_ENOMEM;
  if (rc != Z_OK)
    return GUST_EINTERNAL;
  z->inf_ready = 1;
  return 0;
}

static const uint8_t sync_tail[4] = {0x00, 0x00, 0xFF, 0xFF};

int gust__ws_zip_deflate(gust__ws_zip *z, const uint8_t *data, size_t len,
                         int fin, gust_buf *out) {
  size_t start = out->len;
  int rc;

  if ((rc = def_init(z)) < 0)
    return rc;
  z->def.next_in = (Bytef *)(uintptr_t)data;
  for (;;) {
    size_t room;
    uInt chunk = len > (size_t)UINT_MAX / 2 ? UINT_MAX / 2 : (uInt)len;
    z->def.avail_in = chunk;
    /* deflateBound-like estimate; the loop grows the buffer as needed. */
    room = (size_t)chunk + chunk / 8 + 64;
    if ((rc = gust_buf_reserve(out, room)) < 0) {
      gust_buf_truncate(out, start);
      return rc;
    }
    z->def.next_out = gust_buf_tail(out);
    z->def.avail_out = (uInt)room;
    rc = deflate(&z->def, Z_SYNC_FLUSH);
    if (rc != Z_OK && rc != Z_BUF_ERROR) {
      gust_buf_truncate(out, start);
      return GUST_EINTERNAL;
    }
    gust_buf_commit(out, room - z->def.avail_out);
    len -= chunk - z->def.avail_in;
    if (len == 0 && z->def.avail_in == 0 && z->def.avail_out != 0)
      break;
  }
  if (fin) {
    if (out->len - start < 4 ||
        memcmp(out->ptr + out->len - 4, sync_tail, 4) != 0) {
      gust_buf_truncate(out, start);
      return GUST_EINTERNAL;
    }
    gust_buf_truncate(out, out->len - 4);
    if (out->len == start) /* cannot happen with zlib; keep the rule */
      gust_buf_append_byte(out, 0);
    if (z->def_reset)
      deflateReset(&z->def);
  }
  return 0;
}

/* Inflates one piece of input into `out`, in bounded steps. */
static int inflate_piece(gust__ws_zip *z, const uint8_t *data, size_t len,
                         gust_buf *out, uint64_t limit) {
  int rc;

  z->inf.next_in = (Bytef *)(uintptr_t)data;
  z->inf.avail_in = (uInt)len;
  while (!z->inf_finished) {
    size_t room = INFLATE_PIECE;
    uint64_t left = out->len <= limit ? limit - out->len : 0;
    if (left + 1 < room)
      room = (size_t)left + 1; /* one byte over the cap proves a bomb */
    if ((rc = gust_buf_reserve(out, room)) < 0)
      return rc;
    z->inf.next_out = gust_buf_tail(out);
    z->inf.avail_out = (uInt)room;
    rc = inflate(&z->inf, Z_SYNC_FLUSH);
    gust_buf_commit(out, room - z->inf.avail_out);
    if (out->len > limit)
      return GUST_EWS_TOOBIG;
    if (rc == Z_STREAM_END) {
      /* A final block ends the stream; the rest of the message is
       * ignored and the next message starts a fresh stream. */
      inflateReset(&z->inf);
      z->inf_finished = 1;
      break;
    }
    if (rc == Z_MEM_ERROR)
      return GUST_ENOMEM;
    if (rc == Z_BUF_ERROR) {
      if (z->inf.avail_in == 0)
        break;
      continue; /* output was full; go round with more room */
    }
    if (rc != Z_OK)
      return GUST_EWS_DEFLATE;
    if (z->inf.avail_in == 0 && z->inf.avail_out != 0)
      break;
  }
  return 0;
}

int gust__ws_zip_inflate(gust__ws_zip *z, const uint8_t *data, size_t len,
                         int fin, gust_buf *out, uint64_t limit) {
  int rc;

  if ((rc = inf_init(z)) < 0)
    return rc;
  while (len > 0) {
    size_t n = len > UINT_MAX / 2 ? UINT_MAX / 2 : len;
    if ((rc = inflate_piece(z, data, n, out, limit)) < 0)
      return rc;
    data += n;
    len -= n;
  }
  if (fin) {
    rc = inflate_piece(z, sync_tail, 4, out, limit);
    z->inf_finished = 0;
    if (rc < 0)
      return rc;
  }
  return 0;
}
