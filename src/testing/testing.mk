## Testing helpers for applications (include/gust/testing.h, src/testing/):
## Tornado's tornado.testing in C, installed as libgust-testing with its own
## pkg-config file. The loop probes it uses (gust_test_loop_*) live in
## libgust (src/async/loop.c, src/async/future.c): they read private state.

lib_LTLIBRARIES += libgust-testing.la
pkginclude_HEADERS += include/gust/testing.h
pkgconfig_DATA += gust-testing.pc

# Same rules as libgust: hidden by default, the version script, the
# libtool interface version of configure.ac.
libgust_testing_la_SOURCES = src/testing/testing_int.h src/testing/tap.c \
	src/testing/test.c src/testing/cert.c src/testing/describe.c \
	src/testing/http.c
libgust_testing_la_CFLAGS = $(AM_CFLAGS) $(GUST_VIS_CFLAGS) $(TLS_CFLAGS)
libgust_testing_la_LIBADD = libgust.la libgust-proto.la $(TLS_LIBS) -ldl
libgust_testing_la_LDFLAGS = $(GUST_SAN_CFLAGS) \
	-version-info $(GUST_LT_VERSION_INFO) -no-undefined
EXTRA_libgust_testing_la_DEPENDENCIES = $(srcdir)/src/libgust.map
if HAVE_VSCRIPT
libgust_testing_la_LDFLAGS += -Wl,--version-script=$(srcdir)/src/libgust.map
endif

# The throwaway certificate's key and signature: one file per TLS backend.
if TLS_OPENSSL
libgust_testing_la_SOURCES += backends/cert-openssl.c
endif
if TLS_GNUTLS
libgust_testing_la_SOURCES += backends/cert-gnutls.c
endif

EXTRA_DIST += gust-testing.pc.in doc/testing.md \
	backends/cert-openssl.c backends/cert-gnutls.c

# Programs that use the helpers: their TAP comes from libgust-testing, not
# from t/libtap.
TESTING_LDADD = libgust-testing.la libgust.la libgust-proto.la

# Tests of the helpers themselves: waits, timeouts and their reports, the
# mistakes found at teardown (run in child processes whose TAP output is
# checked), the certificate on both ends of a TLS connection, the HTTP,
# HTTPS and WebSocket helpers.
TESTING_TESTS = t/testing/testing
check_PROGRAMS += $(TESTING_TESTS)
TESTS += $(TESTING_TESTS) t/testing/symbols.sh t/testing/doc_example.sh
VALGRIND_TESTS += $(TESTING_TESTS)
t_testing_testing_SOURCES = t/testing/testing.c
t_testing_testing_LDADD = $(TESTING_LDADD)
# Exports the program's functions so that reports can name callbacks.
t_testing_testing_LDFLAGS = $(AM_LDFLAGS) -export-dynamic
EXTRA_DIST += t/testing/symbols.sh t/testing/doc_example.sh

# The complete example of doc/testing.md (t/testing/doc_example.sh checks
# that the guide shows these files as they are): a handler and its test.
check_PROGRAMS += examples/testing/hello_test
TESTS += examples/testing/hello_test
VALGRIND_TESTS += examples/testing/hello_test
examples_testing_hello_test_SOURCES = examples/testing/hello_test.c \
	examples/testing/hello_handler.c examples/testing/hello_handler.h
examples_testing_hello_test_LDADD = $(TESTING_LDADD)
