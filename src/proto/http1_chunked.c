/* Chunked transfer coding: the chunk-size line with its extensions (RFC
 * 9112 §7.1), decoded byte by byte so a line may arrive in any pieces and
 * nothing of it needs to be kept. */
#include "config.h"

#include "proto/http1_int.h"

enum {
  C_SIZE0 = 0, /* first hex digit */
  C_SIZE,      /* more digits */
  C_BWS,       /* blanks after the size */
  C_EXT_PRE,   /* after ';' */
  C_EXT_NAME,
  C_EXT_POSTNAME, /* blanks after a name */
  C_EXT_PREVAL,   /* after '=' */
  C_EXT_TOKEN,
  C_EXT_Q,       /* inside a quoted-string */
  C_EXT_QESC,    /* after a backslash in it */
  C_EXT_POSTVAL, /* after a quoted value */
  C_EXT_VALBWS,  /* blanks after a value: only ';' may follow */
  C_LF           /* CR seen */
};

#define MAX_SIZE_DIGITS 64

static int hexval(uint8_t c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  c = (uint8_t)(c | 0x20);
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  return -1;
}

static int ows(uint8_t c) { return c == ' ' || c == '\t'; }

static int bad(gust_h1 *h, size_t at, const char *msg) {
  return gust__h1_fail(h, GUST_EHTTP_CHUNK, h->role == GUST_H1_SERVER ? 400 : 0,
                       h->consumed + at, msg);
}

int gust__h1_chunk_line(gust_h1 *h, const uint8_t *p, size_t avail,
                        size_t *used) {
  size_t i;
  for (i = 0; i < avail; i++) {
    uint8_t c = p[i];
    int d;
    switch (h->ch_state) {
    case C_SIZE0:
      d = hexval(c);
      if (d < 0)
        return bad(h, i, "invalid chunk size");
      h->left = (uint64_t)d;
      h->ch_digits = 1;
      h->ch_state = C_SIZE;
      continue;
    case C_SIZE:
      d = hexval(c);
      if (d >= 0) {
        if (++h->ch_digits > MAX_SIZE_DIGITS)
          return bad(h, i, "chunk size line too long");
        if (h->left > ((uint64_t)INT64_MAX - (uint64_t)d) / 16)
          return bad(h, i, "chunk size overflows");
        h->left = h->left * 16 + (uint64_t)d;
        continue;
      }
      if (c == ';')
        h->ch_state = C_EXT_PRE;
      else if (ows(c))
        h->ch_state = C_BWS;
      else if (c == '\r')
        h->ch_state = C_LF;
      else
        return bad(h, i, "invalid chunk size");
      break;
    case C_BWS:
      if (ows(c))
        break;
      if (c == ';')
        h->ch_state = C_EXT_PRE;
      else if (c == '\r' && (h->cfg.flags & GUST_H1_SPACES_AFTER_CHUNK_SIZE))
        h->ch_state = C_LF;
      else
        return bad(h, i, "invalid character after chunk size");
      break;
    case C_EXT_PRE:
      if (ows(c))
        break;
      if (!gust__tchar[c])
        return bad(h, i, "invalid chunk extension");
      h->ch_state = C_EXT_NAME;
      break;
    case C_EXT_NAME:
      if (gust__tchar[c])
        break;
      if (ows(c))
        h->ch_state = C_EXT_POSTNAME;
      else if (c == '=')
        h->ch_state = C_EXT_PREVAL;
      else if (c == ';')
        h->ch_state = C_EXT_PRE;
      else if (c == '\r')
        h->ch_state = C_LF;
      else
        return bad(h, i, "invalid chunk extension");
      break;
    case C_EXT_POSTNAME:
      if (ows(c))
        break;
      if (c == '=')
        h->ch_state = C_EXT_PREVAL;
      else if (c == ';')
        h->ch_state = C_EXT_PRE;
      else
        return bad(h, i, "invalid chunk extension");
      break;
    case C_EXT_PREVAL:
      if (ows(c))
        break;
      if (c == '"')
        h->ch_state = C_EXT_Q;
      else if (gust__tchar[c])
        h->ch_state = C_EXT_TOKEN;
      else
        return bad(h, i, "invalid chunk extension value");
      break;
    case C_EXT_TOKEN:
      if (gust__tchar[c])
        break;
      if (ows(c))
        h->ch_state = C_EXT_VALBWS;
      else if (c == ';')
        h->ch_state = C_EXT_PRE;
      else if (c == '\r')
        h->ch_state = C_LF;
      else
        return bad(h, i, "invalid chunk extension value");
      break;
    case C_EXT_Q:
      if (c == '"')
        h->ch_state = C_EXT_POSTVAL;
      else if (c == '\\')
        h->ch_state = C_EXT_QESC;
      else if (!(c == '\t' || (c >= 0x20 && c != 0x7f)))
        return bad(h, i, "invalid character in chunk extension");
      break;
    case C_EXT_QESC:
      if (!(c == '\t' || (c >= 0x20 && c != 0x7f)))
        return bad(h, i, "invalid character in chunk extension");
      h->ch_state = C_EXT_Q;
      break;
    case C_EXT_POSTVAL:
      if (ows(c))
        h->ch_state = C_EXT_VALBWS;
      else if (c == ';')
        h->ch_state = C_EXT_PRE;
      else if (c == '\r')
        h->ch_state = C_LF;
      else
        return bad(h, i, "invalid chunk extension");
      break;
    case C_EXT_VALBWS:
      /* BWS belongs before a further ';' (K4): "a=b \r\n" is as bad as
       * "5 \r\n" (K3). */
      if (ows(c))
        break;
      if (c == ';')
        h->ch_state = C_EXT_PRE;
      else
        return bad(h, i, "invalid chunk extension");
      break;
    default: /* C_LF */
      if (c != '\n')
        return bad(h, i, "bare CR in chunk line");
      h->ch_state = C_SIZE0;
      h->ch_ext = 0;
      *used = i + 1;
      return 1;
    }
    if (h->ch_state >= C_EXT_PRE && h->ch_state <= C_EXT_VALBWS &&
        ++h->ch_ext > h->cfg.max_chunk_ext)
      return bad(h, i, "chunk extension too long");
  }
  *used = i;
  return 0;
}
