/* A streaming multipart/form-data parser (RFC 7578) with Tornado's rules
 * for part headers: bytes in, events out, one part's data handed out in
 * pieces so that memory stays bounded whatever the body size. */
#include "config.h"

#include <gust/httputil.h>

#include <string.h>

#include "base/base_int.h"

#define MAX_BOUNDARY 70

enum mp_state {
  S_PREAMBLE,    /* looking for the first delimiter */
  S_AFTER_DELIM, /* "--" (close) or CRLF (a part follows) */
  S_HEADERS,     /* reading a part's header block */
  S_BODY,        /* handing out a part's data */
  S_DONE         /* after the close delimiter; the epilogue is ignored */
};

struct gust_multipart {
  const gust_mem *mem;
  gust_multipart_limits limits;
  uint8_t delim[4 + MAX_BOUNDARY]; /* CRLF "--" boundary */
  size_t dlen;
  gust_buf buf;   /* unread input; a leading CRLF is supplied at start */
  gust_buf hdr;   /* the current part's decoded name/filename/type */
  size_t pending; /* bytes of buf handed out by the last event */
  size_t parts;
  enum mp_state state;
  const char *errmsg; /* Tornado's text for the fatal error */
  uint64_t consumed;  /* input bytes consumed, with the supplied CRLF */
  int finished;
  int error;
  gust_multipart_event part; /* the PART event of the current part */
};

static int fail_msg(gust_multipart *mp, int code, const char *msg) {
  mp->error = code;
  mp->errmsg = msg;
  return code;
}

static int fail(gust_multipart *mp, int code) {
  return fail_msg(mp, code, gust_strerror(code));
}

/* Drops `n` bytes from the front of the input buffer. */
static void consume(gust_multipart *mp, size_t n) {
  gust_buf_consume(&mp->buf, n);
  mp->consumed += n;
}

const char *gust_multipart_errmsg(const gust_multipart *mp) {
  if (mp == NULL || mp->error == 0)
    return NULL;
  return mp->errmsg;
}

uint64_t gust_multipart_offset(const gust_multipart *mp) {
  if (mp == NULL)
    return 0;
  return mp->consumed >= 2 ? mp->consumed - 2 : 0;
}

int gust_multipart_boundary(const char *content_type, size_t len,
                            gust_slice *boundary) {
  const char *p = content_type, *end, *semi;
  gust_slice type;
  if ((content_type == NULL && len != 0) || boundary == NULL)
    return GUST_EINVAL;
  if (len == 0)
    return GUST_EBOUNDARY;
  end = content_type + len;
  semi = memchr(p, ';', len);
  type = gust_slice_trim(
      (gust_slice){(const uint8_t *)p, (size_t)((semi ? semi : end) - p)});
  if (!gust_slice_caseeq(type, gust_slice_cstr("multipart/form-data")))
    return GUST_EBOUNDARY;
  /* Tornado: split the value on ';', then the first field named boundary
   * (stripped) gives the value after '='. */
  while (semi != NULL) {
    const char *start = semi + 1, *eq;
    gust_slice name, value;
    semi = memchr(start, ';', (size_t)(end - start));
    eq = memchr(start, '=', (size_t)((semi ? semi : end) - start));
    if (eq == NULL)
      continue;
    name = gust_slice_trim(
        (gust_slice){(const uint8_t *)start, (size_t)(eq - start)});
    if (!gust_slice_eq(name, gust_slice_cstr("boundary")))
      continue;
    value = gust_slice_trim((gust_slice){
        (const uint8_t *)eq + 1, (size_t)((semi ? semi : end) - eq - 1)});
    if (value.len >= 2 && value.ptr[0] == '"' &&
        value.ptr[value.len - 1] == '"') {
      value.ptr++;
      value.len -= 2;
    }
    if (value.len == 0 || value.len > MAX_BOUNDARY)
      return GUST_EBOUNDARY;
    *boundary = value;
    return 0;
  }
  return GUST_EBOUNDARY;
}

int gust_multipart_new(gust_multipart **out, const gust_mem *mem,
                       const uint8_t *boundary, size_t len,
                       const gust_multipart_limits *limits) {
  gust_multipart *mp;
  if (out == NULL || (boundary == NULL && len != 0))
    return GUST_EINVAL;
  if (len == 0 || len > MAX_BOUNDARY)
    return GUST_EBOUNDARY;
  mem = gust__mem(mem);
  mp = gust__calloc(mem, 1, sizeof(*mp));
  if (mp == NULL)
    return GUST_ENOMEM;
  mp->mem = mem;
  mp->limits.max_header_size = 16384;
  mp->limits.max_parts = 10000;
  mp->limits.max_buffer = 1048576;
  if (limits != NULL) {
    if (limits->max_header_size != 0)
      mp->limits.max_header_size = limits->max_header_size;
    if (limits->max_parts != 0)
      mp->limits.max_parts = limits->max_parts;
    if (limits->max_buffer != 0)
      mp->limits.max_buffer = limits->max_buffer;
  }
  memcpy(mp->delim, "\r\n--", 4);
  memcpy(mp->delim + 4, boundary, len);
  mp->dlen = 4 + len;
  gust_buf_init(&mp->buf, mem);
  gust_buf_init(&mp->hdr, mem);
  if (gust_buf_append(&mp->buf, "\r\n", 2) != 0) {
    gust__free(mem, mp);
    return GUST_ENOMEM;
  }
  mp->state = S_PREAMBLE;
  *out = mp;
  return 0;
}

void gust_multipart_free(gust_multipart *mp) {
  if (mp == NULL)
    return;
  gust_buf_free(&mp->buf);
  gust_buf_free(&mp->hdr);
  gust__free(mp->mem, mp);
}

int gust_multipart_feed(gust_multipart *mp, const uint8_t *data, size_t len) {
  if (mp == NULL || (data == NULL && len != 0))
    return GUST_EINVAL;
  if (mp->error != 0)
    return mp->error;
  if (mp->state == S_DONE)
    return 0;
  consume(mp, mp->pending);
  mp->pending = 0;
  if (len > mp->limits.max_buffer ||
      mp->buf.len >
          mp->limits.max_buffer - len + mp->dlen + mp->limits.max_header_size)
    return GUST_ELIMIT;
  return gust_buf_append(&mp->buf, data, len);
}

int gust_multipart_finish(gust_multipart *mp) {
  if (mp == NULL)
    return GUST_EINVAL;
  mp->finished = 1;
  return 0;
}

#define NOT_FOUND SIZE_MAX

/* Finds `needle` in `hay` and returns its offset, or NOT_FOUND. */
static size_t find(const uint8_t *hay, size_t hay_len, const uint8_t *needle,
                   size_t n) {
  size_t i = 0;
  while (hay_len >= n && i <= hay_len - n) {
    const uint8_t *p = memchr(hay + i, needle[0], hay_len - n - i + 1);
    if (p == NULL)
      break;
    i = (size_t)(p - hay);
    if (memcmp(p, needle, n) == 0)
      return i;
    i++;
  }
  return NOT_FOUND;
}

/* email.utils.unquote, then Tornado's second quote strip. */
static gust_slice unquote_param(gust_slice v, uint8_t *scratch) {
  size_t i, n = 0;
  gust_slice r = v;
  if (v.len > 1 && v.ptr[0] == '"' && v.ptr[v.len - 1] == '"') {
    /* Two sequential replaces: \\ -> \, then \" -> ". */
    uint8_t *tmp = scratch;
    size_t m = 0;
    for (i = 1; i + 1 < v.len; i++) {
      if (v.ptr[i] == '\\' && i + 2 < v.len && v.ptr[i + 1] == '\\') {
        tmp[m++] = '\\';
        i++;
      } else {
        tmp[m++] = v.ptr[i];
      }
    }
    for (i = 0; i < m; i++) {
      if (tmp[i] == '\\' && i + 1 < m && tmp[i + 1] == '"') {
        scratch[n++] = '"';
        i++;
      } else {
        scratch[n++] = tmp[i];
      }
    }
    r.ptr = scratch;
    r.len = n;
  } else if (v.len > 1 && v.ptr[0] == '<' && v.ptr[v.len - 1] == '>') {
    r.ptr = v.ptr + 1;
    r.len = v.len - 2;
  }
  if (r.len >= 2 && r.ptr[0] == '"' && r.ptr[r.len - 1] == '"') {
    r.ptr++;
    r.len -= 2;
  }
  return r;
}

static int hexval(uint8_t c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

/* RFC 2231 value charset'lang'pct-encoded for UTF-8, US-ASCII and
 * ISO-8859-1, written as UTF-8 into `scratch`. Returns 0 if unsupported. */
static int decode_2231(gust_slice v, uint8_t *scratch, gust_slice *out) {
  const uint8_t *t1 = memchr(v.ptr, '\'', v.len), *t2, *p, *end;
  gust_slice cs;
  int latin1;
  size_t n = 0;
  if (t1 == NULL)
    return 0;
  t2 = memchr(t1 + 1, '\'', (size_t)(v.ptr + v.len - t1 - 1));
  if (t2 == NULL)
    return 0;
  cs.ptr = v.ptr;
  cs.len = (size_t)(t1 - v.ptr);
  if (gust_slice_caseeq(cs, gust_slice_cstr("utf-8")) ||
      gust_slice_caseeq(cs, gust_slice_cstr("us-ascii")))
    latin1 = 0;
  else if (gust_slice_caseeq(cs, gust_slice_cstr("iso-8859-1")) ||
           gust_slice_caseeq(cs, gust_slice_cstr("latin-1")))
    latin1 = 1;
  else
    return 0;
  end = v.ptr + v.len;
  for (p = t2 + 1; p < end; p++) {
    uint8_t c = *p;
    if (c == '%' && end - p > 2 && hexval(p[1]) >= 0 && hexval(p[2]) >= 0) {
      c = (uint8_t)(hexval(p[1]) << 4 | hexval(p[2]));
      p += 2;
    }
    if (latin1 && c >= 0x80) {
      scratch[n++] = (uint8_t)(0xC0 | c >> 6);
      scratch[n++] = (uint8_t)(0x80 | (c & 0x3F));
    } else {
      scratch[n++] = c;
    }
  }
  out->ptr = scratch;
  out->len = n;
  return 1;
}

/* Parses Content-Disposition: sets *disp, *name, *filename (slices into
 * `v` or into `scratch`, which must hold 3 * v.len bytes: each parameter
 * value uses at most its length to unquote and twice that to decode). */
static void parse_disposition(gust_slice v, uint8_t *scratch, gust_slice *disp,
                              gust_slice *name, gust_slice *filename,
                              int *has_name, int *has_filename) {
  const uint8_t *p = v.ptr, *end = v.ptr + v.len;
  int first = 1, ext_name = 0, ext_file = 0;
  while (p <= end) {
    const uint8_t *q = p, *eq;
    int quotes = 0;
    gust_slice piece, pn, pv;
    /* A ';' inside an odd number of unescaped quotes does not split. */
    while (q < end && (*q != ';' || quotes % 2 == 1)) {
      if (*q == '"' && !(q > p && q[-1] == '\\'))
        quotes++;
      q++;
    }
    piece = gust_slice_trim((gust_slice){p, (size_t)(q - p)});
    if (first) {
      *disp = piece;
      first = 0;
    } else if ((eq = memchr(piece.ptr, '=', piece.len)) != NULL) {
      pn = gust_slice_trim((gust_slice){piece.ptr, (size_t)(eq - piece.ptr)});
      pv = gust_slice_trim(
          (gust_slice){eq + 1, (size_t)(piece.ptr + piece.len - eq - 1)});
      if (gust_slice_caseeq(pn, gust_slice_cstr("name")) && !ext_name) {
        *name = unquote_param(pv, scratch);
        scratch += pv.len;
        *has_name = 1;
      } else if (gust_slice_caseeq(pn, gust_slice_cstr("filename")) &&
                 !ext_file) {
        *filename = unquote_param(pv, scratch);
        scratch += pv.len;
        *has_filename = 1;
      } else if (gust_slice_caseeq(pn, gust_slice_cstr("name*")) ||
                 gust_slice_caseeq(pn, gust_slice_cstr("filename*"))) {
        int is_file = pn.len == 9;
        gust_slice dec;
        gust_slice raw = unquote_param(pv, scratch);
        scratch += pv.len;
        if (decode_2231(raw, scratch, &dec)) {
          scratch += 2 * raw.len;
          if (is_file) {
            *filename = dec;
            *has_filename = ext_file = 1;
          } else {
            *name = dec;
            *has_name = ext_name = 1;
          }
        }
      }
    }
    if (q >= end)
      break;
    p = q + 1;
  }
}

/* Parses the header block of a part into mp->part (copies kept in hdr).
 * Returns 0 or a fatal code. */
static int parse_part_headers(gust_multipart *mp, const uint8_t *h, size_t n) {
  gust_slice disp = {NULL, 0}, name = {NULL, 0}, filename = {NULL, 0};
  gust_slice ctype = {NULL, 0}, cd = {NULL, 0};
  int has_name = 0, has_filename = 0, has_cd = 0, rc;
  const uint8_t *p, *end;
  uint8_t *scratch;
  /* The copy is laid out as: header block, then scratch for decoding. */
  gust_buf_clear(&mp->hdr);
  if (n > (SIZE_MAX - 1) / 4)
    return fail(mp, GUST_ELIMIT);
  rc = gust_buf_reserve(&mp->hdr, n * 4 + 1);
  if (rc != 0)
    return fail(mp, rc);
  memcpy(gust_buf_tail(&mp->hdr), h, n);
  gust_buf_commit(&mp->hdr, n);
  p = mp->hdr.ptr;
  end = p + n;
  scratch = mp->hdr.ptr + n;
  /* Lines end at LF or CRLF and empty lines are skipped (Tornado's
   * HTTPHeaders.parse); header names are matched untrimmed, as there. */
  while (p < end) {
    const uint8_t *nl = memchr(p, '\n', (size_t)(end - p));
    const uint8_t *eol = nl != NULL ? nl : end, *next = nl ? nl + 1 : end;
    const uint8_t *colon;
    gust_slice hn, hv;
    if (eol > p && eol[-1] == '\r')
      eol--;
    if (eol == p) {
      p = next;
      continue;
    }
    colon = memchr(p, ':', (size_t)(eol - p));
    if (colon == NULL || p[0] == ' ' || p[0] == '\t')
      return fail_msg(mp, GUST_EMULTIPART, "no colon in header line");
    hn.ptr = p;
    hn.len = (size_t)(colon - p);
    hv = gust_slice_trim((gust_slice){colon + 1, (size_t)(eol - colon - 1)});
    if (gust_slice_caseeq(hn, gust_slice_cstr("Content-Disposition"))) {
      cd = hv;
      has_cd = 1;
    } else if (gust_slice_caseeq(hn, gust_slice_cstr("Content-Type"))) {
      ctype = hv;
    }
    p = next;
  }
  if (has_cd)
    parse_disposition(cd, scratch, &disp, &name, &filename, &has_name,
                      &has_filename);
  /* Tornado >= 6.5 (and Debian's 6.2) refuse the whole body here instead
   * of logging a warning per part. */
  if (n == 0)
    return fail_msg(mp, GUST_EMULTIPART, "multipart/form-data missing headers");
  if (!has_cd || !gust_slice_eq(disp, gust_slice_cstr("form-data")))
    return fail_msg(mp, GUST_EMULTIPART, "Invalid multipart/form-data");
  if (!has_name || name.len == 0)
    return fail_msg(mp, GUST_EMULTIPART, "multipart/form-data missing name");
  memset(&mp->part, 0, sizeof(mp->part));
  mp->part.type = GUST_MULTIPART_PART;
  mp->part.name = name;
  if (has_filename && filename.len != 0) {
    mp->part.is_file = 1;
    mp->part.filename = filename;
    mp->part.content_type =
        ctype.ptr != NULL ? ctype : gust_slice_cstr("application/unknown");
  }
  return 0;
}

int gust_multipart_next(gust_multipart *mp, gust_multipart_event *ev) {
  if (mp == NULL || ev == NULL)
    return GUST_EINVAL;
  if (mp->error != 0)
    return mp->error;
  memset(ev, 0, sizeof(*ev));
  consume(mp, mp->pending);
  mp->pending = 0;
  for (;;) {
    const uint8_t *b = mp->buf.ptr;
    size_t len = mp->buf.len, k;
    switch (mp->state) {
    case S_PREAMBLE:
      k = find(b, len, mp->delim, mp->dlen);
      if (k != NOT_FOUND) {
        consume(mp, k + mp->dlen);
        mp->state = S_AFTER_DELIM;
        continue;
      }
      if (len >= mp->dlen)
        consume(mp, len - (mp->dlen - 1));
      goto need_data;
    case S_AFTER_DELIM:
      if (len < 2)
        goto need_data;
      if (b[0] == '-' && b[1] == '-') {
        mp->state = S_DONE;
        gust_buf_clear(&mp->buf);
        ev->type = GUST_MULTIPART_END;
        return 0;
      }
      if (b[0] != '\r' || b[1] != '\n')
        return fail_msg(mp, GUST_EMULTIPART, "Invalid multipart/form-data");
      consume(mp, 2);
      mp->state = S_HEADERS;
      if (++mp->parts > mp->limits.max_parts)
        return fail_msg(mp, GUST_ELIMIT, "too many multipart/form-data parts");
      continue;
    case S_HEADERS: {
      size_t hlen, used;
      int rc;
      if (len >= 2 && b[0] == '\r' && b[1] == '\n') {
        hlen = 0;
        used = 2;
      } else {
        k = find(b, len, (const uint8_t *)"\r\n\r\n", 4);
        if (k == NOT_FOUND) {
          if (len > mp->limits.max_header_size + 3)
            return fail_msg(mp, GUST_ELIMIT,
                            "multipart/form-data part headers too large");
          goto need_data;
        }
        hlen = k;
        used = k + 4;
      }
      if (hlen > mp->limits.max_header_size)
        return fail_msg(mp, GUST_ELIMIT,
                        "multipart/form-data part headers too large");
      rc = parse_part_headers(mp, b, hlen);
      if (rc != 0)
        return rc;
      consume(mp, used);
      /* The body starts right after the blank line; the delimiter that
       * ends it begins with the CRLF before "--", so an empty body is the
       * delimiter immediately: supply nothing extra. */
      mp->state = S_BODY;
      *ev = mp->part;
      return 0;
    }
    case S_BODY:
      k = find(b, len, mp->delim, mp->dlen);
      if (k == 0) {
        consume(mp, mp->dlen);
        mp->state = S_AFTER_DELIM;
        ev->type = GUST_MULTIPART_PART_END;
        return 0;
      }
      if (k == NOT_FOUND)
        k = len >= mp->dlen ? len - (mp->dlen - 1) : 0;
      if (k == 0)
        goto need_data;
      ev->type = GUST_MULTIPART_DATA;
      ev->data.ptr = b;
      ev->data.len = k;
      mp->pending = k;
      return 0;
    case S_DONE:
      gust_buf_clear(&mp->buf);
      ev->type = GUST_MULTIPART_END;
      return 0;
    }
  }
need_data:
  if (mp->finished)
    return fail_msg(mp, GUST_EMULTIPART,
                    "Invalid multipart/form-data: no final boundary found");
  ev->type = GUST_MULTIPART_NEED_DATA;
  return 0;
}
