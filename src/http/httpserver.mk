## HTTP server module: connection handling over IOStream driving
## proto/http1, the server object, examples/hello (include/gust/httpserver.h,
## src/http/httpserver.c, t/http/httpserver*).
pkginclude_HEADERS += include/gust/httpserver.h
libgust_la_SOURCES += src/http/request_int.h
libgust_la_SOURCES += src/http/httpserver.c \
	src/net/iostream_int.h

# examples/hello: the benchmark and conformance target.
noinst_PROGRAMS += examples/hello
examples_hello_SOURCES = examples/hello.c
examples_hello_LDFLAGS = $(GUST_SAN_CFLAGS)
examples_hello_LDADD = libgust.la libgust-proto.la

# Tests: in-process over loopback (delegate contract, framing, limits,
# keep-alive, pipelining, timeouts, gzip, TLS, shutdown, detach, failmem).
HTTPSERVER_TESTS = t/http/httpserver
check_PROGRAMS += $(HTTPSERVER_TESTS)
TESTS += $(HTTPSERVER_TESTS)
VALGRIND_TESTS += $(HTTPSERVER_TESTS)
t_http_httpserver_SOURCES = t/http/httpserver.c t/net/tcp_common.h \
	t/proto/tls_common.h
t_http_httpserver_CPPFLAGS = $(AM_CPPFLAGS) \
	-DGUST_TOP_SRCDIR='"$(abs_top_srcdir)"'
TESTS += t/http/hello.sh
EXTRA_DIST += t/http/hello.sh
EXTRA_DIST += doc/httpserver.md
