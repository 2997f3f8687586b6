/* Allocation-failure torture of the WebSocket connection with and without
 * permessage-deflate: a client and a server exchange whole, fragmented and
 * large messages, a ping and the closing handshake (torture.h says what
 * each run checks). */
#include "torture.h"

#include <gust/ws.h>

#include <string.h>

typedef struct peer {
  gust_ws *ws;
  int messages, pongs, closed;
  size_t bytes;
  uint32_t sum; /* order-sensitive checksum of every message received */
  int echo;
} peer;

/* Moves a's pending output to b in pieces of `step` bytes, draining b. */
static int carry(peer *a, peer *b, size_t step) {
  gust_slice out = gust_ws_pending_output(a->ws);
  size_t i = 0;
  gust_ws_event ev;
  int rc;
  /* take a copy: b's echo may not touch a, but keep the bytes stable */
  while (i < out.len) {
    size_t n = out.len - i < step ? out.len - i : step;
    if ((rc = gust_ws_feed(b->ws, out.ptr + i, n)) != 0)
      return rc;
    i += n;
    for (;;) {
      if (b->closed)
        break;
      if ((rc = gust_ws_next_event(b->ws, &ev)) != 0)
        return rc;
      if (ev.type == GUST_WS_EV_NEED_DATA)
        break;
      if (ev.type == GUST_WS_EV_ERROR)
        return ev.error != 0 ? ev.error : GUST_EINTERNAL;
      if (ev.type == GUST_WS_EV_TEXT || ev.type == GUST_WS_EV_BINARY) {
        b->messages++;
        b->bytes += ev.data.len;
        for (size_t k = 0; k < ev.data.len; k++)
          b->sum = b->sum * 31u + ev.data.ptr[k];
        if (b->echo &&
            (rc = gust_ws_send(b->ws,
                               ev.type == GUST_WS_EV_TEXT ? GUST_WS_OP_TEXT
                                                          : GUST_WS_OP_BINARY,
                               ev.data.ptr, ev.data.len)) != 0)
          return rc;
      }
      if (ev.type == GUST_WS_EV_PONG)
        b->pongs++;
      if (ev.type == GUST_WS_EV_CLOSE)
        b->closed = 1;
    }
  }
  gust_ws_consume_output(a->ws, out.len);
  return 0;
}

static uint8_t big[6000];

static int conversation(const gust_mem *mem, void *ud) {
  const gust_ws_deflate_params *dp = ud;
  gust_ws_config cc, sc;
  peer c, s;
  uint32_t sent_sum;
  int rc;
  memset(&cc, 0, sizeof(cc));
  memset(&sc, 0, sizeof(sc));
  memset(&c, 0, sizeof(c));
  memset(&s, 0, sizeof(s));
  cc.role = GUST_WS_CLIENT;
  sc.role = GUST_WS_SERVER;
  cc.deflate = sc.deflate = dp;
  s.echo = 1;
  if ((rc = gust_ws_new(&c.ws, &cc, mem)) != 0 ||
      (rc = gust_ws_new(&s.ws, &sc, mem)) != 0)
    goto done;
  if ((rc = gust_ws_send(c.ws, GUST_WS_OP_TEXT, "Hello, Hello, Hello!", 20)) !=
          0 ||
      (rc = gust_ws_send_fragment(c.ws, GUST_WS_OP_TEXT, "frag", 4, 0)) != 0 ||
      (rc = gust_ws_send_ping(c.ws, "p", 1)) != 0 ||
      (rc = gust_ws_send_fragment(c.ws, GUST_WS_OP_CONT, "mented", 6, 1)) !=
          0 ||
      (rc = gust_ws_send(c.ws, GUST_WS_OP_BINARY, big, sizeof(big))) != 0)
    goto done;
  if ((rc = carry(&c, &s, 7)) != 0 || (rc = carry(&s, &c, 11)) != 0)
    goto done;
  /* a second round reuses the compression contexts */
  if ((rc = gust_ws_send(c.ws, GUST_WS_OP_TEXT, "Hello, Hello, Hello!", 20)) !=
          0 ||
      (rc = carry(&c, &s, 64)) != 0 || (rc = carry(&s, &c, 64)) != 0)
    goto done;
  if ((rc = gust_ws_close(c.ws, 1000, "bye", 3)) != 0 ||
      (rc = carry(&c, &s, 5)) != 0 || (rc = carry(&s, &c, 5)) != 0)
    goto done;
  sent_sum = s.sum;
  rc = s.messages == 4 && c.messages == 4 && c.pongs == 1 &&
               c.sum == sent_sum && s.bytes == 20 + 10 + sizeof(big) + 20 &&
               s.closed && c.closed &&
               gust_ws_get_state(c.ws) == GUST_WS_CLOSED &&
               gust_ws_get_state(s.ws) == GUST_WS_CLOSED
           ? 0
           : GUST_EINTERNAL;
done:
  gust_ws_free(c.ws);
  gust_ws_free(s.ws);
  return rc;
}

int main(void) {
  gust_ws_deflate_params takeover, fresh;
  size_t i;
  for (i = 0; i < sizeof(big); i++)
    big[i] = (uint8_t)("websocket torture "[i % 18] + (i / 500));
  memset(&takeover, 0, sizeof(takeover));
  memset(&fresh, 0, sizeof(fresh));
  fresh.client_no_context_takeover = 1;
  fresh.server_no_context_takeover = 1;
  fresh.client_max_window_bits = 9;
  fresh.server_max_window_bits = 10;
  if (tap_group("plain"))
    torture("ws plain", conversation, NULL);
  if (tap_group("deflate"))
    torture("ws deflate", conversation, &takeover);
  if (tap_group("deflate no context takeover"))
    torture("ws deflate no takeover", conversation, &fresh);
  return done_testing();
}
