## WebSocket connections over the network (include/gust/websocket.h,
## src/http/websocket.c): server handler upgraded from the HTTP server,
## client through the HTTP client, both driving proto/ws.
pkginclude_HEADERS += include/gust/websocket.h
libgust_la_SOURCES += src/http/websocket.c
libgust_la_SOURCES += src/http/httpclient_int.h

# The echo server: conformance, interop and benchmark target.
noinst_PROGRAMS += examples/wsecho
examples_wsecho_SOURCES = examples/wsecho.c
examples_wsecho_LDFLAGS = $(GUST_SAN_CFLAGS)
examples_wsecho_LDADD = libgust.la libgust-proto.la

# Tests: gust's server and client against each other and against raw
# sockets over loopback (handshakes, echo, compression, closing, protocol
# errors, back-pressure, keepalive, wss).
WEBSOCKET_TESTS = t/http/websocket
check_PROGRAMS += $(WEBSOCKET_TESTS)
TESTS += $(WEBSOCKET_TESTS)
VALGRIND_TESTS += $(WEBSOCKET_TESTS)
t_http_websocket_SOURCES = t/http/websocket.c t/net/tcp_common.h \
	t/proto/tls_common.h
t_http_websocket_CPPFLAGS = $(AM_CPPFLAGS) \
	-DGUST_TOP_SRCDIR='"$(abs_top_srcdir)"'
EXTRA_DIST += doc/websocket.md
