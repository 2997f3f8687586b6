## HTTP client module: Tornado's AsyncHTTPClient over IOStream driving
## proto/http1 in its client role, with a keep-alive pool
## (include/gust/httpclient.h, src/http/httpclient.c, t/http/httpclient*).
pkginclude_HEADERS += include/gust/httpclient.h
libgust_la_SOURCES += src/http/httpclient.c

# Tests: in-process over loopback against gust's own server and raw
# sockets (pooling, redirects, timeouts, streaming, producers, errors).
HTTPCLIENT_TESTS = t/http/httpclient
check_PROGRAMS += $(HTTPCLIENT_TESTS)
TESTS += $(HTTPCLIENT_TESTS)
VALGRIND_TESTS += $(HTTPCLIENT_TESTS)
t_http_httpclient_SOURCES = t/http/httpclient.c t/net/tcp_common.h \
	t/proto/tls_common.h
t_http_httpclient_CPPFLAGS = $(AM_CPPFLAGS) \
	-DGUST_TOP_SRCDIR='"$(abs_top_srcdir)"'
EXTRA_DIST += doc/httpclient.md

# Tests against hand-scripted raw TCP peers: truncated, malformed and
# close-delimited responses, stale pooled connections, queue and timeouts.
HTTPCLIENT_RAW_TESTS = t/http/clientraw
check_PROGRAMS += $(HTTPCLIENT_RAW_TESTS)
TESTS += $(HTTPCLIENT_RAW_TESTS)
VALGRIND_TESTS += $(HTTPCLIENT_RAW_TESTS)
t_http_clientraw_SOURCES = t/http/clientraw.c t/net/tcp_common.h

# Fuzz target: the client driver fed arbitrary responses by a local peer
# (redirects, gzip, streaming, pool, retries above the parser).
FUZZ_REPLAY_TESTS += fuzz/httpclient-replay
fuzz_httpclient_replay_SOURCES = fuzz/httpclient.c fuzz/replay.c
EXTRA_DIST += fuzz/corpus/httpclient fuzz/httpclient.dict
if ENABLE_FUZZING
FUZZ_TARGETS += fuzz/httpclient
fuzz_httpclient_SOURCES = fuzz/httpclient.c
fuzz_httpclient_LDFLAGS = $(FUZZ_LINKFLAGS)
endif
