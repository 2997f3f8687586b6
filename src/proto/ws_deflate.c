/* permessage-deflate (RFC 7692): the per-connection zlib engine and the
 * negotiation of its parameters in the opening handshake. */
#include "base/base_int.h"
#include "proto/ws_int.h"
#include "proto/zlib_int.h"

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

static int bits_or_default(int bits) { return bits == 0 ? 15 : bits; }

int gust__ws_zip_new(gust__ws_zip **out, const gust_mem *mem,
                     const gust_ws_deflate_params *p, gust_ws_role role,
                     int level, int mem_level) {
  gust__ws_zip *z;
  int sbits = bits_or_default(p->server_max_window_bits);
  int cbits = bits_or_default(p->client_max_window_bits);

  *out = NULL;
  if (sbits < 8 || sbits > 15 || cbits < 8 || cbits > 15 || level < -1 ||
      level > 9 || mem_level < 1 || mem_level > 9)
    return GUST_EINVAL;
  /* zlib cannot compress with an 8-bit raw window; a peer that limits
   * itself to 8 is inflated with 9 (a larger window is always fine). */
  if ((role == GUST_WS_SERVER ? sbits : cbits) == 8)
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
  if (z->inf_bits < 9)
    z->inf_bits = 9;
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
  gust__zlib_use_mem(&z->def, z->mem);
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
  gust__zlib_use_mem(&z->inf, z->mem);
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
    if (out->len == start) {
      /* Nothing new since the last flush: an empty stored block, which is
       * what an empty message looks like on the wire. */
      if ((rc = gust_buf_append_byte(out, 0)) < 0)
        return rc;
    } else if (out->len - start < 4 ||
               memcmp(out->ptr + out->len - 4, sync_tail, 4) != 0) {
      gust_buf_truncate(out, start);
      return GUST_EINTERNAL;
    } else {
      gust_buf_truncate(out, out->len - 4);
      if (out->len == start && (rc = gust_buf_append_byte(out, 0)) < 0)
        return rc;
    }
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
    if (left < room - 1)       /* (left + 1 would wrap for "no limit") */
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

/* ------------------------------------------------------------------ */
/* Negotiation                                                          */
/* ------------------------------------------------------------------ */

enum { P_SNCT, P_CNCT, P_SMWB, P_CMWB, P_COUNT };
static const char *const param_names[P_COUNT] = {
    "server_no_context_takeover", "client_no_context_takeover",
    "server_max_window_bits", "client_max_window_bits"};

/* The parameters of one permessage-deflate element; bits: -1 = absent,
 * 0 = present without value (client_max_window_bits only). */
typedef struct pmd {
  int snct, cnct;
  int smwb, cmwb;
} pmd;

/* Window-bits value: "8".."15", no leading zero (quoted forms arrive
 * unquoted from the parser). */
static int parse_bits(gust_slice v) {
  if (v.len == 1 && v.ptr[0] >= '8' && v.ptr[0] <= '9')
    return v.ptr[0] - '0';
  if (v.len == 2 && v.ptr[0] == '1' && v.ptr[1] >= '0' && v.ptr[1] <= '5')
    return 10 + (v.ptr[1] - '0');
  return -1;
}

/* Decodes an element's parameters. `is_response` makes a bare
 * client_max_window_bits invalid. Returns 0 or -1 (decline / fail). */
static int parse_pmd(const gust_ws_ext *e, int is_response, pmd *out) {
  int seen[P_COUNT] = {0, 0, 0, 0};
  size_t i;

  out->snct = out->cnct = 0;
  out->smwb = out->cmwb = -1;
  for (i = 0; i < e->n_params; i++) {
    const gust_ws_ext_param *p = &e->params[i];
    int k;
    for (k = 0; k < P_COUNT; k++)
      if (gust_slice_eq(p->name, gust_slice_cstr(param_names[k])))
        break;
    if (k == P_COUNT || seen[k]++)
      return -1;
    switch (k) {
    case P_SNCT:
    case P_CNCT:
      if (p->has_value)
        return -1;
      if (k == P_SNCT)
        out->snct = 1;
      else
        out->cnct = 1;
      break;
    case P_SMWB:
      if (!p->has_value || (out->smwb = parse_bits(p->value)) < 0)
        return -1;
      break;
    default:
      if (!p->has_value) {
        if (is_response)
          return -1;
        out->cmwb = 0;
      } else if ((out->cmwb = parse_bits(p->value)) < 0) {
        return -1;
      }
      break;
    }
  }
  return 0;
}

static int cfg_bits_ok(int bits) {
  return bits == 0 || (bits >= 9 && bits <= 15);
}

/* The configuration to work with: `cfg`, or the defaults for NULL; NULL
 * if a window size in `cfg` is out of range. */
static const gust_ws_deflate_config *
cfg_checked(const gust_ws_deflate_config *cfg) {
  static const gust_ws_deflate_config none = {0, 0, 0, 0};
  if (cfg == NULL)
    return &none;
  if (!cfg_bits_ok(cfg->server_max_window_bits) ||
      !cfg_bits_ok(cfg->client_max_window_bits))
    return NULL;
  return cfg;
}

static int append_params(gust_buf *out, const gust_ws_deflate_params *a,
                         int with_smwb, int with_cmwb) {
  int rc = gust_buf_append_str(out, "permessage-deflate");
  if (rc == 0 && a->server_no_context_takeover)
    rc = gust_buf_append_str(out, "; server_no_context_takeover");
  if (rc == 0 && a->client_no_context_takeover)
    rc = gust_buf_append_str(out, "; client_no_context_takeover");
  if (rc == 0 && with_smwb)
    rc = gust_buf_printf(out, "; server_max_window_bits=%d",
                         a->server_max_window_bits);
  if (rc == 0 && with_cmwb)
    rc = gust_buf_printf(out, "; client_max_window_bits=%d",
                         a->client_max_window_bits);
  return rc;
}

int gust_ws_deflate_negotiate(const gust_ws_extensions *offers,
                              const gust_ws_deflate_config *cfg,
                              gust_ws_deflate_params *agreed,
                              gust_buf *response) {
  size_t i;

  cfg = cfg_checked(cfg);
  if (offers == NULL || agreed == NULL || response == NULL || cfg == NULL)
    return GUST_EINVAL;
  for (i = 0; i < offers->count; i++) {
    const gust_ws_ext *e = &offers->ext[i];
    int own = cfg->server_max_window_bits ? cfg->server_max_window_bits : 15;
    int with_smwb = 0, with_cmwb = 0;
    gust_ws_deflate_params a;
    size_t start = response->len;
    pmd o;
    int rc;

    if (!gust_slice_eq(e->name, gust_slice_cstr("permessage-deflate")) ||
        parse_pmd(e, 0, &o) < 0)
      continue;
    memset(&a, 0, sizeof a);
    a.server_no_context_takeover = o.snct || cfg->server_no_context_takeover;
    a.client_no_context_takeover = o.cnct || cfg->client_no_context_takeover;
    if (o.smwb == 8)
      continue; /* we may only answer <= 8, and zlib cannot compress so */
    if (o.smwb > 0) {
      a.server_max_window_bits = o.smwb < own ? o.smwb : own;
      with_smwb = 1;
    } else if (own < 15) {
      a.server_max_window_bits = own;
      with_smwb = 1;
    }
    if (o.cmwb > 0) {
      /* The client already bounds itself; we may tighten it further. */
      int want = cfg->client_max_window_bits;
      a.client_max_window_bits = want && want < o.cmwb ? want : o.cmwb;
      with_cmwb = 1;
    } else if (o.cmwb == 0 && cfg->client_max_window_bits) {
      a.client_max_window_bits = cfg->client_max_window_bits;
      with_cmwb = 1;
    }
    rc = append_params(response, &a, with_smwb, with_cmwb);
    if (rc < 0) {
      gust_buf_truncate(response, start);
      return rc;
    }
    *agreed = a;
    return 1;
  }
  return 0;
}

int gust_ws_deflate_offer(const gust_ws_deflate_config *cfg, gust_buf *out) {
  size_t start;
  int rc;

  cfg = cfg_checked(cfg);
  if (out == NULL || cfg == NULL)
    return GUST_EINVAL;
  start = out->len;
  rc = gust_buf_append_str(out, "permessage-deflate");
  if (rc == 0 && cfg->server_no_context_takeover)
    rc = gust_buf_append_str(out, "; server_no_context_takeover");
  if (rc == 0 && cfg->client_no_context_takeover)
    rc = gust_buf_append_str(out, "; client_no_context_takeover");
  if (rc == 0 && cfg->server_max_window_bits)
    rc = gust_buf_printf(out, "; server_max_window_bits=%d",
                         cfg->server_max_window_bits);
  if (rc == 0)
    rc = gust_buf_append_str(out, "; client_max_window_bits");
  if (rc == 0 && cfg->client_max_window_bits)
    rc = gust_buf_printf(out, "=%d", cfg->client_max_window_bits);
  if (rc < 0)
    gust_buf_truncate(out, start);
  return rc;
}

int gust_ws_deflate_check_response(const gust_ws_extensions *resp,
                                   const gust_ws_deflate_config *cfg,
                                   gust_ws_deflate_params *agreed,
                                   int *accepted) {
  static const gust_ws_deflate_config none = {0, 0, 0, 0};
  int own;
  pmd o;

  if (resp == NULL || agreed == NULL || accepted == NULL)
    return GUST_EINVAL;
  if (cfg == NULL)
    cfg = &none;
  *accepted = 0;
  memset(agreed, 0, sizeof *agreed);
  if (resp->count == 0)
    return 0;
  if (resp->count != 1 ||
      !gust_slice_eq(resp->ext[0].name,
                     gust_slice_cstr("permessage-deflate")) ||
      parse_pmd(&resp->ext[0], 1, &o) < 0)
    return GUST_EWS_EXTENSION;
  own = cfg->client_max_window_bits ? cfg->client_max_window_bits : 15;
  if (o.cmwb > 0 && (o.cmwb > own || o.cmwb == 8))
    return GUST_EWS_EXTENSION;
  if (cfg->server_max_window_bits &&
      (o.smwb < 0 || o.smwb > cfg->server_max_window_bits))
    return GUST_EWS_EXTENSION;
  if (cfg->server_no_context_takeover && !o.snct)
    return GUST_EWS_EXTENSION;
  agreed->server_no_context_takeover = o.snct;
  agreed->client_no_context_takeover = o.cnct;
  agreed->server_max_window_bits = o.smwb > 0 ? o.smwb : 0;
  agreed->client_max_window_bits =
      o.cmwb > 0 ? o.cmwb : (cfg->client_max_window_bits ? own : 0);
  *accepted = 1;
  return 0;
}
