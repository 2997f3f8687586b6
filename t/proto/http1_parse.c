/* Tests of the HTTP/1.1 head parser: every valid request and response form,
 * the strictness rules and the request-smuggling table of the reference,
 * each fed whole, at every split point and one byte at a time. */
#include <gust/http1.h>

#include <stdio.h>
#include <string.h>

#include "../tap.h"
#include "http1_drive.h"

typedef struct vec {
  const char *name;
  const char *in;
  size_t len;
  const char *want;
} vec;

/* A vector whose input may hold NUL bytes. */
#define V(name, in, want)                                                      \
  { name, in, sizeof(in) - 1, want }

#define H        "Host: a\r\n"
#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* Valid request forms. */
static const vec valid_requests[] = {
    V("origin-form GET", "GET / HTTP/1.1\r\n" H "\r\n",
      "REQ GET / 1.1 KL0 [Host=a] | END | NEED"),
    V("query and obs-text in target",
      "GET /p?q=1&r=\xc3\xa9 HTTP/1.1\r\n" H "\r\n",
      "REQ GET /p?q=1&r=\\xc3\\xa9 1.1 KL0 [Host=a] | END | NEED"),
    V("absolute-form", "GET http://h/p HTTP/1.1\r\nHost: h\r\n\r\n",
      "REQ GET http://h/p 1.1 KL0 [Host=h] | END | NEED"),
    V("authority-form with CONNECT",
      "CONNECT h:443 HTTP/1.1\r\nHost: h:443\r\n\r\n",
      "REQ CONNECT h:443 1.1 KL0N [Host=h:443] | END | NEED"),
    V("asterisk-form with OPTIONS", "OPTIONS * HTTP/1.1\r\n" H "\r\n",
      "REQ OPTIONS * 1.1 KL0 [Host=a] | END | NEED"),
    V("unknown but valid method", "FOO / HTTP/1.1\r\n" H "\r\n",
      "REQ FOO / 1.1 KL0 [Host=a] | END | NEED"),
    V("HTTP/1.0 without Host", "GET / HTTP/1.0\r\n\r\n",
      "REQ GET / 1.0 L0 | END | CLOSED"),
    V("HTTP/1.0 keep-alive GET",
      "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
      "REQ GET / 1.0 KL0 [Connection=keep-alive] | END | NEED"),
    V("HTTP/1.0 keep-alive POST without length closes",
      "POST / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
      "REQ POST / 1.0 L0 [Connection=keep-alive] | END | CLOSED"),
    V("HTTP/1.9 reads as 1.1", "GET / HTTP/1.9\r\n" H "\r\n",
      "REQ GET / 1.1 KL0 [Host=a] | END | NEED"),
    V("Connection: close", "GET / HTTP/1.1\r\n" H "Connection: close\r\n\r\n",
      "REQ GET / 1.1 L0 [Host=a] [Connection=close] | END | CLOSED"),
    V("Connection token list",
      "GET / HTTP/1.1\r\n" H "Connection: foo, Close\r\n\r\n",
      "REQ GET / 1.1 L0 [Host=a] [Connection=foo, Close] | END | CLOSED"),
    V("leading empty lines skipped", "\r\n\r\nGET / HTTP/1.1\r\n" H "\r\n",
      "REQ GET / 1.1 KL0 [Host=a] | END | NEED"),
    V("OWS around value trimmed, obs-text kept",
      "GET / HTTP/1.1\r\n" H "X:  \t v\xff v \t\r\nY:\r\n\r\n",
      "REQ GET / 1.1 KL0 [Host=a] [X=v\\xff v] [Y=] | END | NEED"),
    V("Content-Length body",
      "POST / HTTP/1.1\r\n" H "Content-Length: 5\r\n\r\nhello",
      "REQ POST / 1.1 KL5 [Host=a] [Content-Length=5] | D:hello | END | NEED"),
    V("Content-Length leading zeros",
      "POST / HTTP/1.1\r\n" H "Content-Length: 005\r\n\r\nhello",
      "REQ POST / 1.1 KL5 [Host=a] [Content-Length=005] | D:hello | END | "
      "NEED"),
    V("Content-Length identical list",
      "POST / HTTP/1.1\r\n" H "Content-Length: 5, 5\r\n\r\nhello",
      "REQ POST / 1.1 KL5 [Host=a] [Content-Length=5, 5] | D:hello | END | "
      "NEED"),
    V("Content-Length identical lines",
      "POST / HTTP/1.1\r\n" H
      "Content-Length: 5\r\nContent-Length: 5\r\n\r\nhello",
      "REQ POST / 1.1 KL5 [Host=a] [Content-Length=5] [Content-Length=5] | "
      "D:hello | END | NEED"),
    V("Content-Length with tab OWS",
      "POST / HTTP/1.1\r\n" H "Content-Length:\t5\t\r\n\r\nhello",
      "REQ POST / 1.1 KL5 [Host=a] [Content-Length=5] | D:hello | END | NEED"),
    V("chunked body",
      "POST / HTTP/1.1\r\n" H "Transfer-Encoding: chunked\r\n\r\n"
      "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n",
      "REQ POST / 1.1 KC [Host=a] [Transfer-Encoding=chunked] | D:hello world "
      "| "
      "END | NEED"),
    V("chunked, TE trailing SP trimmed",
      "POST / HTTP/1.1\r\n" H "Transfer-Encoding: chunked \r\n\r\n0\r\n\r\n",
      "REQ POST / 1.1 KC [Host=a] [Transfer-Encoding=chunked] | END | NEED"),
    V("chunked, TE case-insensitive",
      "POST / HTTP/1.1\r\n" H "Transfer-Encoding: CHUNKED\r\n\r\n0\r\n\r\n",
      "REQ POST / 1.1 KC [Host=a] [Transfer-Encoding=CHUNKED] | END | NEED"),
    V("Host with port and IPv6", "GET / HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n",
      "REQ GET / 1.1 KL0 [Host=[::1]:8080] | END | NEED"),
    V("empty Host", "GET / HTTP/1.1\r\nHost:\r\n\r\n",
      "REQ GET / 1.1 KL0 [Host=] | END | NEED"),
    V("long Host with every reg-name byte",
      "GET / HTTP/1.1\r\nHost: www.Example-host_1~!$&'()*+;=.org:8080\r\n\r\n",
      "REQ GET / 1.1 KL0 [Host=www.Example-host_1~!$&'()*+;=.org:8080] | END | "
      "NEED"),
    V("Expect: 100-continue with body",
      "POST / HTTP/1.1\r\n" H
      "Expect: 100-Continue\r\nContent-Length: 2\r\n\r\nhi",
      "REQ POST / 1.1 KL2E [Host=a] [Expect=100-Continue] [Content-Length=2] | "
      "D:hi | END | NEED"),
    V("Expect: 100-continue without body",
      "GET / HTTP/1.1\r\n" H "Expect: 100-continue\r\n\r\n",
      "REQ GET / 1.1 KL0 [Host=a] [Expect=100-continue] | END | NEED"),
    V("Expect in HTTP/1.0 ignored",
      "POST / HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\nx",
      "REQ POST / 1.0 L1 [Expect=100-continue] [Content-Length=1] | D:x | END "
      "| "
      "CLOSED"),
    V("unknown expectation", "GET / HTTP/1.1\r\n" H "Expect: foo\r\n\r\n",
      "REQ GET / 1.1 KL0X [Host=a] [Expect=foo] | END | NEED"),
    V("Upgrade request",
      "GET /ws HTTP/1.1\r\n" H
      "Upgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
      "REQ GET /ws 1.1 KL0G [Host=a] [Upgrade=websocket] [Connection=Upgrade] "
      "| "
      "END | NEED"),
    V("Upgrade without Connection token ignored",
      "GET /ws HTTP/1.1\r\n" H "Upgrade: websocket\r\n\r\n",
      "REQ GET /ws 1.1 KL0 [Host=a] [Upgrade=websocket] | END | NEED"),
    V("Upgrade in HTTP/1.0 ignored",
      "GET /ws HTTP/1.0\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
      "REQ GET /ws 1.0 L0 [Upgrade=websocket] [Connection=Upgrade] | END | "
      "CLOSED"),
};

/* Request errors (strictness rules §1-§4 of the reference). */
static const vec bad_requests[] = {
    V("L2 bare LF ending the request line", "GET / HTTP/1.1\n" H "\r\n",
      "ERR 400 GUST_EHTTP_SYNTAX @14"),
    V("L2 bare LF ending a field line", "GET / HTTP/1.1\r\nHost: a\n\r\n",
      "ERR 400 GUST_EHTTP_SYNTAX @23"),
    V("L4 bare CR in the request line", "GET /\r HTTP/1.1\r\n" H "\r\n",
      "ERR 400 GUST_EHTTP_SYNTAX @5"),
    V("L6 whitespace before the first field", "GET / HTTP/1.1\r\n " H "\r\n",
      "ERR 400 GUST_EHTTP_SYNTAX @16"),
    V("L7 NUL in the head", "GET / HTTP/1.1\r\n" H "X: \0\r\n\r\n",
      "ERR 400 GUST_EHTTP_SYNTAX @28"),
    V("R1 two spaces", "GET  / HTTP/1.1\r\n" H "\r\n",
      "ERR 400 GUST_EHTTP_SYNTAX @4"),
    V("R1 tab separator", "GET\t/ HTTP/1.1\r\n" H "\r\n",
      "ERR 400 GUST_EHTTP_SYNTAX @3"),
    V("R1 leading space", " GET / HTTP/1.1\r\n" H "\r\n",
      "ERR 400 GUST_EHTTP_SYNTAX @0"),
    V("R1 trailing space", "GET / HTTP/1.1 \r\n" H "\r\n",
      "ERR 400 GUST_EHTTP_SYNTAX @6"),
    V("R2 method with comma", "FOO,BAR / HTTP/1.1\r\n" H "\r\n",
      "ERR 400 GUST_EHTTP_SYNTAX @3"),
    V("R2 method with slash", "GET/ / HTTP/1.1\r\n" H "\r\n",
      "ERR 400 GUST_EHTTP_SYNTAX @3"),
    V("R3 DEL in target", "GET /\x7f HTTP/1.1\r\n" H "\r\n",
      "ERR 400 GUST_EHTTP_SYNTAX @5"),
    V("R3 CTL in target", "GET /\x01 HTTP/1.1\r\n" H "\r\n",
      "ERR 400 GUST_EHTTP_SYNTAX @5"),
    V("R4 asterisk with GET", "GET * HTTP/1.1\r\n" H "\r\n",
      "ERR 400 GUST_EHTTP_SYNTAX @4"),
    V("R4 origin-form with CONNECT", "CONNECT / HTTP/1.1\r\n" H "\r\n",
      "ERR 400 GUST_EHTTP_SYNTAX @8"),
    V("R4 CONNECT without port", "CONNECT h HTTP/1.1\r\n" H "\r\n",
      "ERR 400 GUST_EHTTP_SYNTAX @8"),
    V("R4 relative target", "GET p HTTP/1.1\r\n" H "\r\n",
      "ERR 400 GUST_EHTTP_SYNTAX @4"),
    V("R6 HTTP/1.10", "GET / HTTP/1.10\r\n" H "\r\n",
      "ERR 400 GUST_EHTTP_SYNTAX @6"),
    V("R6 HTTP/01.1", "GET / HTTP/01.1\r\n" H "\r\n",
      "ERR 400 GUST_EHTTP_SYNTAX @6"),
    V("R6 lowercase http", "GET / http/1.1\r\n" H "\r\n",
      "ERR 400 GUST_EHTTP_SYNTAX @6"),
    V("R6 HTTP/1", "GET / HTTP/1\r\n" H "\r\n", "ERR 400 GUST_EHTTP_SYNTAX @6"),
    V("R7 HTTP/2.0", "GET / HTTP/2.0\r\n" H "\r\n",
      "ERR 505 GUST_EHTTP_VERSION @6"),
    V("R7 HTTP/0.9", "GET / HTTP/0.9\r\n" H "\r\n",
      "ERR 505 GUST_EHTTP_VERSION @6"),
    V("R9 missing Host", "GET / HTTP/1.1\r\n\r\n",
      "ERR 400 GUST_EHTTP_SYNTAX @16"),
    V("R9 invalid Host", "GET / HTTP/1.1\r\nHost: foo bar\r\n\r\n",
      "ERR 400 GUST_EHTTP_SYNTAX @22"),
    V("R9 bad percent in Host", "GET / HTTP/1.1\r\nHost: a%zz\r\n\r\n",
      "ERR 400 GUST_EHTTP_SYNTAX @22"),
    V("R9 slash deep in a long Host",
      "GET / HTTP/1.1\r\nHost: www.example.host.name/x\r\n\r\n",
      "ERR 400 GUST_EHTTP_SYNTAX @22"),
    V("R9 obs-text deep in a long Host",
      "GET / HTTP/1.1\r\nHost: www.example.host.n\xe9me\r\n\r\n",
      "ERR 400 GUST_EHTTP_SYNTAX @22"),
    V("R9 comma deep in a long Host",
      "GET / HTTP/1.1\r\nHost: www.example.host.name,other.example\r\n\r\n",
      "ERR 400 GUST_EHTTP_SYNTAX @43"),
    V("F2 empty name", "GET / HTTP/1.1\r\n" H ": a\r\n\r\n",
      "ERR 400 GUST_EHTTP_SYNTAX @25"),
    V("F2 @ in name", "GET / HTTP/1.1\r\n" H "X@Y: a\r\n\r\n",
      "ERR 400 GUST_EHTTP_SYNTAX @26"),
    V("F2 obs-text in name", "GET / HTTP/1.1\r\n" H "X\xffY: a\r\n\r\n",
      "ERR 400 GUST_EHTTP_SYNTAX @26"),
    V("F4 line without colon", "GET / HTTP/1.1\r\n" H "Foo\r\n\r\n",
      "ERR 400 GUST_EHTTP_SYNTAX @28"),
    V("F5 DEL in value", "GET / HTTP/1.1\r\n" H "X: a\x7f\r\n\r\n",
      "ERR 400 GUST_EHTTP_SYNTAX @29"),
    V("F5 \\x01 in value", "GET / HTTP/1.1\r\n" H "X: a\x01\r\n\r\n",
      "ERR 400 GUST_EHTTP_SYNTAX @29"),
    V("C2 CL hex", "POST / HTTP/1.1\r\n" H "Content-Length: 0x5\r\n\r\n",
      "ERR 400 GUST_EHTTP_SYNTAX @43"),
    V("C2 CL minus", "POST / HTTP/1.1\r\n" H "Content-Length: -5\r\n\r\n",
      "ERR 400 GUST_EHTTP_SYNTAX @42"),
    V("C2 CL exponent", "POST / HTTP/1.1\r\n" H "Content-Length: 1e3\r\n\r\n",
      "ERR 400 GUST_EHTTP_SYNTAX @43"),
    V("C2 CL inner space",
      "POST / HTTP/1.1\r\n" H "Content-Length: 5 5\r\n\r\n",
      "ERR 400 GUST_EHTTP_SYNTAX @43"),
    V("C4 CL above 2^63-1",
      "POST / HTTP/1.1\r\n" H "Content-Length: 9223372036854775808\r\n\r\n",
      "ERR 400 GUST_EHTTP_SYNTAX @60"),
    V("C7 CL above the body limit",
      "POST / HTTP/1.1\r\n" H "Content-Length: 104857601\r\n\r\n",
      "REQ POST / 1.1 KL104857601 [Host=a] [Content-Length=104857601] | "
      "ERR 413 GUST_EHTTP_BODY_SIZE @55"),
    V("T2 identity",
      "POST / HTTP/1.1\r\n" H "Transfer-Encoding: identity\r\n\r\n",
      "ERR 400 GUST_EHTTP_FRAMING @55"),
    V("T2 chunked, gzip",
      "POST / HTTP/1.1\r\n" H "Transfer-Encoding: chunked, gzip\r\n\r\n",
      "ERR 400 GUST_EHTTP_FRAMING @60"),
    V("T5 quoted coding",
      "POST / HTTP/1.1\r\n" H "Transfer-Encoding: \"chunked\"\r\n\r\n",
      "ERR 400 GUST_EHTTP_SYNTAX @45"),
    V("T4 chunked, chunked",
      "POST / HTTP/1.1\r\n" H "Transfer-Encoding: chunked, chunked\r\n\r\n",
      "ERR 400 GUST_EHTTP_FRAMING @63"),
    V("U4 WebSocket upgrade with a body",
      "GET / HTTP/1.1\r\n" H "Upgrade: websocket\r\nConnection: upgrade\r\n"
      "Content-Length: 1\r\n\r\nx",
      "ERR 400 GUST_EHTTP_SYNTAX @85"),
    V("U5 CONNECT with a Content-Length body",
      "CONNECT a:443 HTTP/1.1\r\n" H "Content-Length: 1\r\n\r\nhello",
      "ERR 400 GUST_EHTTP_SYNTAX @52"),
    V("U5 CONNECT with a chunked body",
      "CONNECT a:443 HTTP/1.1\r\n" H
      "Transfer-Encoding: chunked\r\n\r\n1\r\nx\r\n0\r\n\r\n",
      "ERR 400 GUST_EHTTP_SYNTAX @61"),
};

/* The request-smuggling table of the reference, complete (§9). */
static const vec smuggling[] = {
    V("CL.TE",
      "POST / HTTP/1.1\r\n" H
      "Content-Length: 6\r\nTransfer-Encoding: chunked\r\n"
      "\r\n0\r\n\r\nG",
      "ERR 400 GUST_EHTTP_FRAMING @73"),
    V("TE.CL",
      "POST / HTTP/1.1\r\n" H
      "Transfer-Encoding: chunked\r\nContent-Length: 3\r\n"
      "\r\n8\r\nSMUGGLED\r\n0\r\n\r\n",
      "ERR 400 GUST_EHTTP_FRAMING @73"),
    V("TE.TE trailing SP",
      "POST / HTTP/1.1\r\n" H
      "Transfer-Encoding: chunked \r\n\r\n1\r\nx\r\n0\r\n\r\n",
      "REQ POST / 1.1 KC [Host=a] [Transfer-Encoding=chunked] | D:x | END | "
      "NEED"),
    V("TE.TE tab after",
      "POST / HTTP/1.1\r\n" H "Transfer-Encoding: chunked\t\r\n\r\n",
      "ERR 400 GUST_EHTTP_SYNTAX @52"),
    V("TE.TE tab before",
      "POST / HTTP/1.1\r\n" H "Transfer-Encoding:\tchunked\r\n\r\n",
      "ERR 400 GUST_EHTTP_SYNTAX @44"),
    V("TE.TE prefix",
      "POST / HTTP/1.1\r\n" H "Transfer-Encoding: xchunked\r\n\r\n",
      "ERR 400 GUST_EHTTP_FRAMING @55"),
    V("TE.TE list",
      "POST / HTTP/1.1\r\n" H "Transfer-Encoding: chunked, identity\r\n\r\n",
      "ERR 400 GUST_EHTTP_FRAMING @64"),
    V("TE.TE other coding first",
      "POST / HTTP/1.1\r\n" H "Transfer-Encoding: gzip, chunked\r\n\r\n",
      "ERR 501 GUST_EHTTP_CODING @60"),
    V("TE.TE empty element",
      "POST / HTTP/1.1\r\n" H "Transfer-Encoding: ,chunked\r\n\r\n",
      "ERR 400 GUST_EHTTP_SYNTAX @45"),
    V("TE.TE duplicate",
      "POST / HTTP/1.1\r\n" H
      "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
      "ERR 400 GUST_EHTTP_FRAMING @82"),
    V("TE case",
      "POST / HTTP/1.1\r\n" H "Transfer-Encoding: CHUNKED\r\n\r\n0\r\n\r\n",
      "REQ POST / 1.1 KC [Host=a] [Transfer-Encoding=CHUNKED] | END | NEED"),
    V("TE hidden by folding",
      "POST / HTTP/1.1\r\n" H "X: a\r\n Transfer-Encoding: chunked\r\n\r\n",
      "ERR 400 GUST_EHTTP_SYNTAX @32"),
    V("TE in 1.0",
      "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
      "ERR 400 GUST_EHTTP_SYNTAX @45"),
    V("space before colon (TE)",
      "POST / HTTP/1.1\r\n" H "Transfer-Encoding : chunked\r\n\r\n",
      "ERR 400 GUST_EHTTP_SYNTAX @43"),
    V("space before colon (CL)",
      "POST / HTTP/1.1\r\n" H "Content-Length : 5\r\n\r\n",
      "ERR 400 GUST_EHTTP_SYNTAX @40"),
    V("CL sign", "POST / HTTP/1.1\r\n" H "Content-Length: +5\r\n\r\n",
      "ERR 400 GUST_EHTTP_SYNTAX @42"),
    V("CL leading zeros",
      "POST / HTTP/1.1\r\n" H "Content-Length: 005\r\n\r\nhello",
      "REQ POST / 1.1 KL5 [Host=a] [Content-Length=005] | D:hello | END | "
      "NEED"),
    V("CL underscore", "POST / HTTP/1.1\r\n" H "Content-Length: 1_0\r\n\r\n",
      "ERR 400 GUST_EHTTP_SYNTAX @43"),
    V("CL empty", "POST / HTTP/1.1\r\n" H "Content-Length:\r\n\r\n",
      "ERR 400 GUST_EHTTP_SYNTAX @41"),
    V("CL conflict", "POST / HTTP/1.1\r\n" H "Content-Length: 5, 6\r\n\r\n",
      "ERR 400 GUST_EHTTP_SYNTAX @42"),
    V("CL conflict across lines",
      "POST / HTTP/1.1\r\n" H "Content-Length: 5\r\nContent-Length: 6\r\n\r\n",
      "ERR 400 GUST_EHTTP_SYNTAX @61"),
    V("CL overflow",
      "POST / HTTP/1.1\r\n" H "Content-Length: 18446744073709551616\r\n\r\n",
      "ERR 400 GUST_EHTTP_SYNTAX @61"),
    V("chunk-size prefix 0x1",
      "POST / HTTP/1.1\r\n" H "Transfer-Encoding: chunked\r\n\r\n0x1\r\n",
      "REQ POST / 1.1 KC [Host=a] [Transfer-Encoding=chunked] | ERR 400 "
      "GUST_EHTTP_CHUNK @57"),
    V("chunk-size prefix 1_a",
      "POST / HTTP/1.1\r\n" H "Transfer-Encoding: chunked\r\n\r\n1_a\r\n",
      "REQ POST / 1.1 KC [Host=a] [Transfer-Encoding=chunked] | ERR 400 "
      "GUST_EHTTP_CHUNK @57"),
    V("chunk-size prefix +1",
      "POST / HTTP/1.1\r\n" H "Transfer-Encoding: chunked\r\n\r\n+1\r\n",
      "REQ POST / 1.1 KC [Host=a] [Transfer-Encoding=chunked] | ERR 400 "
      "GUST_EHTTP_CHUNK @56"),
    V("chunk-size prefix space",
      "POST / HTTP/1.1\r\n" H "Transfer-Encoding: chunked\r\n\r\n 1\r\n",
      "REQ POST / 1.1 KC [Host=a] [Transfer-Encoding=chunked] | ERR 400 "
      "GUST_EHTTP_CHUNK @56"),
    V("chunk-size suffix 5x",
      "POST / HTTP/1.1\r\n" H "Transfer-Encoding: chunked\r\n\r\n5x\r\n",
      "REQ POST / 1.1 KC [Host=a] [Transfer-Encoding=chunked] | ERR 400 "
      "GUST_EHTTP_CHUNK @57"),
    V("chunk-size overflow 2^64",
      "POST / HTTP/1.1\r\n" H
      "Transfer-Encoding: chunked\r\n\r\n10000000000000000\r\n",
      "REQ POST / 1.1 KC [Host=a] [Transfer-Encoding=chunked] | ERR 400 "
      "GUST_EHTTP_CHUNK @72"),
    V("extension without ;",
      "POST / HTTP/1.1\r\n" H "Transfer-Encoding: chunked\r\n\r\n5 a=b\r\n",
      "REQ POST / 1.1 KC [Host=a] [Transfer-Encoding=chunked] | ERR 400 "
      "GUST_EHTTP_CHUNK @58"),
    V("BWS then CRLF",
      "POST / HTTP/1.1\r\n" H "Transfer-Encoding: chunked\r\n\r\n5 \r\n",
      "REQ POST / 1.1 KC [Host=a] [Transfer-Encoding=chunked] | ERR 400 "
      "GUST_EHTTP_CHUNK @58"),
    V("bare LF after chunk size",
      "POST / HTTP/1.1\r\n" H "Transfer-Encoding: chunked\r\n\r\n5\nhello\r\n",
      "REQ POST / 1.1 KC [Host=a] [Transfer-Encoding=chunked] | ERR 400 "
      "GUST_EHTTP_CHUNK @57"),
    V("bare LF in chunk extension",
      "POST / HTTP/1.1\r\n" H "Transfer-Encoding: chunked\r\n\r\n5;a\nb\r\n",
      "REQ POST / 1.1 KC [Host=a] [Transfer-Encoding=chunked] | ERR 400 "
      "GUST_EHTTP_CHUNK @59"),
    V("bare LF ending the chunked body",
      "POST / HTTP/1.1\r\n" H "Transfer-Encoding: chunked\r\n\r\n0\r\n\n",
      "REQ POST / 1.1 KC [Host=a] [Transfer-Encoding=chunked] | ERR 400 "
      "GUST_EHTTP_SYNTAX @59"),
    V("bare CR in chunk line",
      "POST / HTTP/1.1\r\n" H "Transfer-Encoding: chunked\r\n\r\n2\r\r;a\r\n",
      "REQ POST / 1.1 KC [Host=a] [Transfer-Encoding=chunked] | ERR 400 "
      "GUST_EHTTP_CHUNK @58"),
    V("chunk data not ended by CRLF",
      "POST / HTTP/1.1\r\n" H "Transfer-Encoding: chunked\r\n\r\n5\r\nhelloXX",
      "REQ POST / 1.1 KC [Host=a] [Transfer-Encoding=chunked] | D:hello | "
      "ERR 400 GUST_EHTTP_CHUNK @64"),
    V("NUL in name", "GET / HTTP/1.1\r\n" H "X\0Y: a\r\n\r\n",
      "ERR 400 GUST_EHTTP_SYNTAX @26"),
    V("@ in name", "GET / HTTP/1.1\r\n" H "X@Y: a\r\n\r\n",
      "ERR 400 GUST_EHTTP_SYNTAX @26"),
    V("empty name", "GET / HTTP/1.1\r\n" H ": a\r\n\r\n",
      "ERR 400 GUST_EHTTP_SYNTAX @25"),
    V("NUL in value", "GET / HTTP/1.1\r\n" H "X: a\0b\r\n\r\n",
      "ERR 400 GUST_EHTTP_SYNTAX @29"),
    V("CR in value", "GET / HTTP/1.1\r\n" H "X: a\rb\r\n\r\n",
      "ERR 400 GUST_EHTTP_SYNTAX @29"),
    V("CR ending an empty value", "GET / HTTP/1.1\r\n" H "X:\rY: b\r\n\r\n",
      "ERR 400 GUST_EHTTP_SYNTAX @27"),
    V("bare CR ending the head", "GET / HTTP/1.1\r\n" H "\rX",
      "ERR 400 GUST_EHTTP_SYNTAX @25"),
    V("request line spacing", "GET  /  HTTP/1.1\r\n" H "\r\n",
      "ERR 400 GUST_EHTTP_SYNTAX @4"),
    V("two Host lines", "GET / HTTP/1.1\r\n" H "Host: b\r\n\r\n",
      "ERR 400 GUST_EHTTP_SYNTAX @25"),
    V("Host: a, b", "GET / HTTP/1.1\r\nHost: a, b\r\n\r\n",
      "ERR 400 GUST_EHTTP_SYNTAX @23"),
    V("data after close",
      "GET / HTTP/1.1\r\n" H
      "Connection: close\r\n\r\nGET /smuggled HTTP/1.1\r\n" H "\r\n",
      "REQ GET / 1.1 L0 [Host=a] [Connection=close] | END | CLOSED"),
};

/* Responses (client side, §3 and §5). */
typedef struct rvec {
  const char *name;
  const char *method;
  int upgrade;
  int eof;
  unsigned eof_flags;
  const char *in;
  const char *want;
} rvec;

static const rvec responses[] = {
    {"200 with Content-Length", "GET", 0, 0, 0,
     "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi",
     "RES 200 OK 1.1 KL2 [Content-Length=2] | D:hi | END | NEED"},
    {"reason with spaces and obs-text", "GET", 0, 0, 0,
     "HTTP/1.1 404 Not \tFound \xe9\r\nContent-Length: 0\r\n\r\n",
     "RES 404 Not \\x09Found \\xe9 1.1 KL0 [Content-Length=0] | END | NEED"},
    {"S4 missing SP after the code", "GET", 0, 0, 0,
     "HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n",
     "RES 200  1.1 KL0 [Content-Length=0] | END | NEED"},
    {"empty reason", "GET", 0, 0, 0,
     "HTTP/1.1 200 \r\nContent-Length: 0\r\n\r\n",
     "RES 200  1.1 KL0 [Content-Length=0] | END | NEED"},
    {"chunked with trailers", "GET", 0, 0, 0,
     "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
     "3;a=b;c=\"d\\\"e\"\r\nabc\r\n0\r\nX-T: 1\r\nContent-Length: 9\r\n\r\n",
     "RES 200 OK 1.1 KC [Transfer-Encoding=chunked] | D:abc | TRL [X-T=1] "
     "[Content-Length=9] | END | NEED"},
    {"T8 chunked with tab is chunked", "GET", 0, 0, 0,
     "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\t\r\n\r\n0\r\n\r\n",
     "RES 200 OK 1.1 KC [Transfer-Encoding=chunked] | END | NEED"},
    {"T8 chunked not final reads until close", "GET", 0, 1, 0,
     "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, identity\r\n\r\nabc",
     "RES 200 OK 1.1 U [Transfer-Encoding=chunked, identity] | D:abc | END | "
     "CLOSED"},
    {"T8 gzip, chunked is an error", "GET", 0, 0, 0,
     "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
     "ERR 0 GUST_EHTTP_CODING @51"},
    {"read until close, clean EOF", "GET", 0, 1, 0,
     "HTTP/1.1 200 OK\r\n\r\nbody bytes",
     "RES 200 OK 1.1 U | D:body bytes | END | CLOSED"},
    {"read until close, TLS truncation", "GET", 0, 1, GUST_H1_EOF_UNCLEAN,
     "HTTP/1.1 200 OK\r\n\r\nbody",
     "RES 200 OK 1.1 U | D:body | ERR 0 GUST_EHTTP_TRUNCATED @23"},
    {"HEAD response has no body", "HEAD", 0, 0, 0,
     "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n",
     "RES 200 OK 1.1 KL0 [Content-Length=100] | END | NEED"},
    {"204 has no body", "GET", 0, 0, 0, "HTTP/1.1 204 No Content\r\n\r\n",
     "RES 204 No Content 1.1 KL0 | END | NEED"},
    {"204 with a body length is an error", "GET", 0, 0, 0,
     "HTTP/1.1 204 No Content\r\nContent-Length: 1\r\n\r\nx",
     "ERR 0 GUST_EHTTP_FRAMING @44"},
    {"304 ignores Content-Length", "GET", 0, 0, 0,
     "HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n",
     "RES 304 Not Modified 1.1 KL0 [Content-Length=10] | END | NEED"},
    {"100 then 200", "POST", 0, 0, 0,
     "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: "
     "1\r\n\r\nx",
     "RES 100 Continue 1.1 L0 | RES 200 OK 1.1 KL1 [Content-Length=1] | D:x | "
     "END | PAUSED"},
    {"1xx with a body length is an error", "GET", 0, 0, 0,
     "HTTP/1.1 103 Early Hints\r\nContent-Length: 1\r\n\r\n",
     "ERR 0 GUST_EHTTP_FRAMING @45"},
    {"101 after an upgrade request", "GET", 1, 0, 0,
     "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
     "Connection: Upgrade\r\n\r\n\x81\x02hi",
     "RES 101 Switching Protocols 1.1 L0G [Upgrade=websocket] "
     "[Connection=Upgrade] | SW:\\x81\\x02hi"},
    {"U6 unexpected 101", "GET", 0, 0, 0,
     "HTTP/1.1 101 Switching Protocols\r\n\r\n", "ERR 0 GUST_EHTTP_SYNTAX @34"},
    {"CONNECT 200 tunnels", "CONNECT", 0, 0, 0,
     "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\ntunnel",
     "RES 200 OK 1.1 KL0N [Content-Length=5] | SW:tunnel"},
    {"HTTP/1.0 response closes", "GET", 0, 1, 0,
     "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nhi",
     "RES 200 OK 1.0 L2 [Content-Length=2] | D:hi | END | CLOSED"},
    {"S5 HTTP/2.0 status line", "GET", 0, 0, 0, "HTTP/2.0 200 OK\r\n\r\n",
     "ERR 0 GUST_EHTTP_VERSION @0"},
    {"S2 two-digit code", "GET", 0, 0, 0, "HTTP/1.1 20 OK\r\n\r\n",
     "ERR 0 GUST_EHTTP_SYNTAX @11"},
    {"S2 code 600", "GET", 0, 0, 0, "HTTP/1.1 600 X\r\n\r\n",
     "ERR 0 GUST_EHTTP_SYNTAX @9"},
    {"S3 CTL in reason", "GET", 0, 0, 0, "HTTP/1.1 200 O\x01K\r\n\r\n",
     "ERR 0 GUST_EHTTP_SYNTAX @14"},
    {"CL+TE in a response", "GET", 0, 0, 0,
     "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nTransfer-Encoding: "
     "chunked\r\n\r\n",
     "ERR 0 GUST_EHTTP_FRAMING @64"},
    {"EOF before any response", "GET", 0, 1, 0, "",
     "ERR 0 GUST_EHTTP_TRUNCATED @0"},
    {"EOF inside a Content-Length body", "GET", 0, 1, 0,
     "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhe",
     "RES 200 OK 1.1 KL5 [Content-Length=5] | D:he | ERR 0 "
     "GUST_EHTTP_TRUNCATED @40"},
};

/* Rule 6 of the reference's test idioms: an accepted request followed by a
 * second one; the second is read only when the first allows persistence,
 * and never after an error. */
static void follow(const char *group, const vec *v) {
  static const char next[] = "GET /next HTTP/1.1\r\nHost: a\r\n\r\n";
  static const char tail[] = " | END | NEED";
  drive_opts o = server_opts();
  char in[1024], want[2048], name[256];
  size_t wl = strlen(v->want);
  if (v->len + sizeof(next) > sizeof(in) || wl + 128 > sizeof(want))
    return;
  memcpy(in, v->in, v->len);
  memcpy(in + v->len, next, sizeof(next) - 1);
  if (wl >= strlen(tail) && strcmp(v->want + wl - strlen(tail), tail) == 0)
    snprintf(want, sizeof(want),
             "%.*s | END | REQ GET /next 1.1 KL0 "
             "[Host=a] | END | NEED",
             (int)(wl - strlen(tail)), v->want);
  else if (strstr(v->want, "CLOSED") != NULL || strncmp(v->want, "ERR", 3) == 0)
    snprintf(want, sizeof(want), "%s", v->want);
  else
    return; /* the vector ends inside a message */
  snprintf(name, sizeof(name), "%s: %s, then a second request", group, v->name);
  check_vector(name, &o, in, v->len + sizeof(next) - 1, want);
}

static void run_table(const char *group, const vec *v, size_t n) {
  size_t i;
  drive_opts o = server_opts();
  char name[256];
  if (!tap_group(group))
    return;
  for (i = 0; i < n; i++) {
    snprintf(name, sizeof(name), "%s: %s", group, v[i].name);
    check_vector(name, &o, v[i].in, v[i].len, v[i].want);
    follow(group, &v[i]);
  }
}

static void run_responses(void) {
  size_t i;
  char name[256];
  if (!tap_group("response"))
    return;
  for (i = 0; i < COUNT(responses); i++) {
    const rvec *v = &responses[i];
    drive_opts o = client_opts(v->method);
    o.upgrade = v->upgrade;
    o.eof = v->eof;
    o.eof_flags = v->eof_flags;
    snprintf(name, sizeof(name), "response: %s", v->name);
    check_str(name, &o, v->in, v->want);
  }
}

/* Leniency flags: each relaxes one rule and nothing else. */
static void flags(void) {
  gust_h1_config cfg;
  drive_opts o = server_opts();
  if (!tap_group("flags"))
    return;
  gust_h1_config_init(&cfg);
  o.cfg = &cfg;
  cfg.flags = GUST_H1_BARE_LF_HEAD;
  check_str("flags: bare_lf_head accepts LF in the head", &o,
            "GET / HTTP/1.1\nHost: a\n\n",
            "REQ GET / 1.1 KL0 [Host=a] | END | NEED");
  check_str("flags: bare_lf_head never covers chunk lines", &o,
            "POST / HTTP/1.1\nHost: a\nTransfer-Encoding: chunked\n\n1\nx\r\n",
            "REQ POST / 1.1 KC [Host=a] [Transfer-Encoding=chunked] | "
            "ERR 400 GUST_EHTTP_CHUNK @53");
  cfg.flags = GUST_H1_CTL_IN_VALUES;
  check_str("flags: ctl_in_values accepts \\x01 and DEL", &o,
            "GET / HTTP/1.1\r\nHost: a\r\nX: a\x01\x7f\r\n\r\n",
            "REQ GET / 1.1 KL0 [Host=a] [X=a\\x01\\x7f] | END | NEED");
  {
    static const char nul[] = "GET / HTTP/1.1\r\nHost: a\r\nX: a\0\r\n\r\n";
    check_vector("flags: ctl_in_values still rejects NUL", &o, nul,
                 sizeof(nul) - 1, "ERR 400 GUST_EHTTP_SYNTAX @29");
  }
  cfg.flags = GUST_H1_STRICT_DUPLICATE_CL;
  check_str("flags: strict_duplicate_cl rejects 5, 5", &o,
            "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 5\r\n\r\n",
            "ERR 400 GUST_EHTTP_SYNTAX @42");
  cfg.flags = GUST_H1_SPACES_AFTER_CHUNK_SIZE;
  check_str("flags: spaces_after_chunk_size accepts '5 '", &o,
            "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
            "1 \r\nx\r\n0\r\n\r\n",
            "REQ POST / 1.1 KC [Host=a] [Transfer-Encoding=chunked] | D:x | "
            "END | NEED");
  cfg.flags = GUST_H1_READ_ONLY;
  o.respond = 0;
  check_str("flags: read_only reads pipelined requests without answers", &o,
            "GET / HTTP/1.1\r\nHost: a\r\n\r\nGET /2 HTTP/1.0\r\n\r\n"
            "GET /3 HTTP/1.1\r\nHost: a\r\n\r\n",
            "REQ GET / 1.1 KL0 [Host=a] | END | REQ GET /2 1.0 L0 | END | "
            "CLOSED");
  o.respond = 1;
  cfg.flags = GUST_H1_NO_KEEP_ALIVE;
  check_str(
      "flags: no_keep_alive closes after the response", &o,
      "GET / HTTP/1.1\r\nHost: a\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n",
      "REQ GET / 1.1 L0 [Host=a] | END | CLOSED");
}

/* Every byte value at every position of a 40-byte Host (so that the vector
 * classifier sees it in a full vector and in the tail): accepted exactly
 * when it is a reg-name byte, or OWS at either end (trimmed), or ':' at the
 * end (an empty port). The host holds no hex digit, so a '%' is never a
 * valid escape. */
static void host_bytes(void) {
  static const char pre[] = "GET / HTTP/1.1\r\nHost: ";
  static const char host[] = "ghijklmnopqrstuvwxyzGHIJKLMNOPQRSTUVWXYZ";
  static const char post[] = "\r\n\r\n";
  char req[sizeof(pre) + sizeof(host) + sizeof(post)];
  size_t len = sizeof(pre) - 1 + sizeof(host) - 1 + sizeof(post) - 1;
  int c;
  if (!tap_group("host bytes"))
    return;
  memcpy(req, pre, sizeof(pre) - 1);
  memcpy(req + sizeof(pre) - 1, host, sizeof(host) - 1);
  memcpy(req + sizeof(pre) - 1 + sizeof(host) - 1, post, sizeof(post) - 1);
  for (c = 0; c < 256; c++) {
    int valid = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                (c >= '0' && c <= '9') ||
                (c != 0 && strchr("-._~!$&'()*+;=", c) != NULL);
    size_t pos, wrong = 0;
    for (pos = 0; pos < sizeof(host) - 1; pos++) {
      gust_h1 *h;
      gust_h1_event ev;
      uint8_t *g;
      int type = -1, want = valid;
      if (c == ' ' || c == '\t')
        want = pos == 0 || pos == sizeof(host) - 2;
      else if (c == ':')
        want = pos == sizeof(host) - 2;
      req[sizeof(pre) - 1 + pos] = (char)c;
      g = tap_guard_copy(req, len);
      if (g != NULL && gust_h1_new(&h, GUST_H1_SERVER, NULL, NULL) == 0) {
        gust_h1_feed(h, g, len);
        type = gust_h1_next_event(h, &ev);
        gust_h1_free(h);
      }
      tap_guard_free(g, len);
      if (type != (want ? GUST_H1_REQUEST : GUST_H1_ERROR))
        wrong++;
      req[sizeof(pre) - 1 + pos] = host[pos];
    }
    ok(wrong == 0, "host bytes: 0x%02x at every position", c);
  }
}

int main(void) {
  run_table("valid", valid_requests, COUNT(valid_requests));
  run_table("bad", bad_requests, COUNT(bad_requests));
  run_table("smuggling", smuggling, COUNT(smuggling));
  run_responses();
  flags();
  host_bytes();
  return done_testing();
}
