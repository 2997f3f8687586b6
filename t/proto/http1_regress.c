/* Regression vectors for HTTP/1.1 parser bugs found by the hardening work
 * (differential fuzzing against llhttp); each names what it pins. */
#include <gust/http1.h>

#include "../tap.h"
#include "http1_drive.h"

#define HEAD "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
#define REQ  "REQ POST / 1.1 KC [Host=a] [Transfer-Encoding=chunked]"

/* Blanks after a chunk-extension value were taken before the CRLF, while
 * blanks after a size or a name were not: K4's grammar allows BWS only
 * before a further ';' (found by fuzz/http1_diff, input
 * fuzz/corpus/http1_diff/found-ext-value-bws). */
static void ext_value_bws(void) {
  drive_opts o = server_opts();
  if (!tap_group("extension value BWS"))
    return;
  check_str("ext bws: blank after a token value then CRLF", &o,
            HEAD "1;a=b \r\nx\r\n0\r\n\r\n",
            REQ " | ERR 400 GUST_EHTTP_CHUNK @62");
  check_str("ext bws: tabs after a token value then CRLF", &o,
            HEAD "0;a=12\t\t\r\n\r\n", REQ " | ERR 400 GUST_EHTTP_CHUNK @64");
  check_str("ext bws: blank after a quoted value then CRLF", &o,
            HEAD "1;a=\"q\" \r\nx\r\n0\r\n\r\n",
            REQ " | ERR 400 GUST_EHTTP_CHUNK @64");
  check_str("ext bws: blanks before a further extension stay valid", &o,
            HEAD "1;a=b\t ;c\r\nx\r\n0;d=\"q\" ; e = f\r\n\r\n",
            REQ " | D:x | END | NEED");
}

/* A Connection: close in a trailer section was ignored, so gust read the
 * next request where llhttp (which applies it) stops: it now ends the
 * connection after the message (found by fuzz/http1_diff, input
 * fuzz/corpus/http1_diff/found-trailer-connection-close). */
static void trailer_connection_close(void) {
  drive_opts o = server_opts();
  if (!tap_group("trailer connection close"))
    return;
  check_str("trailer close: no second request", &o,
            HEAD "0\r\nX-T: 1\r\nConnection: x, close\r\n\r\n"
                 "GET / HTTP/1.1\r\nHost: a\r\n\r\n",
            REQ " | TRL [X-T=1] [Connection=x, close] | END | CLOSED");
  check_str("trailer keep-alive: the next request is read", &o,
            HEAD "0\r\nConnection: keep-alive\r\n\r\n"
                 "GET / HTTP/1.1\r\nHost: a\r\n\r\n",
            REQ " | TRL [Connection=keep-alive] | END | REQ GET / 1.1 KL0 "
                "[Host=a] | END | NEED");
}

int main(void) {
  ext_value_bws();
  trailer_connection_close();
  return done_testing();
}
