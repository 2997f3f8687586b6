/* WebSocket frame headers: decoding with the RFC 6455 syntax rules,
 * per-role checks, and encoding in the shortest form. */
#include "base/base_int.h"

#include <gust/ws.h>

gust_ssize gust_ws_frame_parse(const uint8_t *data, size_t len,
                               gust_ws_frame_header *hdr) {
  size_t need = 2;
  uint64_t plen;
  unsigned len7;

  if (len < 2)
    return 0;
  len7 = data[1] & 0x7Fu;
  if (len7 == 126)
    need += 2;
  else if (len7 == 127)
    need += 8;
  if (data[1] & 0x80u)
    need += 4;
  if (len < need)
    return 0;
  if (len7 == 126) {
    plen = ((uint64_t)data[2] << 8) | data[3];
    if (plen < 126)
      return GUST_EWS_PROTOCOL;
  } else if (len7 == 127) {
    int i;
    plen = 0;
    for (i = 0; i < 8; i++)
      plen = (plen << 8) | data[2 + i];
    if (plen >> 63)
      return GUST_EWS_PROTOCOL;
    if (plen < 65536)
      return GUST_EWS_PROTOCOL;
  } else {
    plen = len7;
  }
  hdr->fin = (data[0] >> 7) & 1u;
  hdr->rsv = data[0] & 0x70u;
  hdr->opcode = data[0] & 0x0Fu;
  hdr->masked = (data[1] >> 7) & 1u;
  if (hdr->masked)
    memcpy(hdr->mask, data + need - 4, 4);
  else
    memset(hdr->mask, 0, 4);
  hdr->payload_len = plen;
  hdr->header_len = need;
  return (gust_ssize)need;
}

int gust_ws_frame_check(const gust_ws_frame_header *hdr, gust_ws_role role,
                        unsigned rsv_allowed, const char **why) {
  const char *msg = NULL;
  unsigned op = hdr->opcode;
  int control = (op & 0x8u) != 0;

  if ((op > GUST_WS_OP_BINARY && op < GUST_WS_OP_CLOSE) || op > GUST_WS_OP_PONG)
    msg = "reserved opcode";
  else if (control && hdr->rsv != 0)
    msg = "RSV bit set on a control frame";
  else if (op == GUST_WS_OP_CONT && (hdr->rsv & 0x40u))
    msg = "RSV1 set on a continuation frame";
  else if (hdr->rsv & ~rsv_allowed & 0x70u)
    msg = "RSV bit set without a negotiated extension";
  else if (control && !hdr->fin)
    msg = "fragmented control frame";
  else if (control && hdr->payload_len > GUST_WS_MAX_CONTROL_PAYLOAD)
    msg = "control frame payload over 125 bytes";
  else if (role == GUST_WS_SERVER && !hdr->masked)
    msg = "unmasked frame from a client";
  else if (role == GUST_WS_CLIENT && hdr->masked)
    msg = "masked frame from a server";
  if (why != NULL)
    *why = msg;
  return msg != NULL ? GUST_WS_CLOSE_PROTOCOL_ERROR : 0;
}

size_t gust_ws_frame_header_write(uint8_t *out, unsigned fin, unsigned rsv,
                                  unsigned opcode, uint64_t payload_len,
                                  const uint8_t *mask) {
  size_t n = 2;
  uint8_t mbit = mask != NULL ? 0x80u : 0;

  out[0] = (uint8_t)((fin ? 0x80u : 0) | (rsv & 0x70u) | (opcode & 0x0Fu));
  if (payload_len < 126) {
    out[1] = (uint8_t)(mbit | payload_len);
  } else if (payload_len <= 0xFFFFu) {
    out[1] = (uint8_t)(mbit | 126);
    out[2] = (uint8_t)(payload_len >> 8);
    out[3] = (uint8_t)payload_len;
    n = 4;
  } else {
    int i;
    out[1] = (uint8_t)(mbit | 127);
    for (i = 0; i < 8; i++)
      out[2 + i] = (uint8_t)(payload_len >> (56 - 8 * i));
    n = 10;
  }
  if (mask != NULL) {
    memcpy(out + n, mask, 4);
    n += 4;
  }
  return n;
}

int gust_ws_close_code_valid(unsigned code) {
  if (code >= 1000 && code <= 1003)
    return 1;
  if (code >= 1007 && code <= 1014)
    return 1;
  return code >= 3000 && code <= 4999;
}
