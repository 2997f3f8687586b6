## tls module: sources, public header, tests, fuzz targets, benchmarks, tools.
pkginclude_HEADERS += include/gust/tls.h
libgust_proto_la_SOURCES += src/proto/tls.c src/proto/tls_int.h
if TLS_OPENSSL
libgust_proto_la_SOURCES += backends/tls-openssl.c
endif
if TLS_GNUTLS
libgust_proto_la_SOURCES += backends/tls-gnutls.c
endif
EXTRA_DIST += t/proto/mkcerts.sh t/proto/tls_common.h scripts/deps/tls.list \
	doc/tls.md

# Tests: the same sources against whichever backend the build selected.
# t/proto/tls drives engine against engine in memory (Sans-IO, also under
# valgrind); t/interop/tls talks to the other library's command-line peer
# over loopback.
TLS_TEST_CPPFLAGS = $(AM_CPPFLAGS) -DGUST_TOP_SRCDIR='"$(abs_top_srcdir)"'
check_PROGRAMS += t/proto/tls t/interop/tls
TESTS += t/proto/tls t/interop/tls
VALGRIND_TESTS += t/proto/tls
t_proto_tls_SOURCES = t/proto/tls.c t/proto/tls_common.h
t_proto_tls_CPPFLAGS = $(TLS_TEST_CPPFLAGS)
t_interop_tls_SOURCES = t/interop/tls.c t/proto/tls_common.h
t_interop_tls_CPPFLAGS = $(TLS_TEST_CPPFLAGS)

# Fuzz target: bytes fed to a server engine during the handshake, wired as
# fuzz/local.mk describes. Seed corpus: client hellos from both backends.
FUZZ_REPLAY_TESTS += fuzz/tls_server-replay
fuzz_tls_server_replay_SOURCES = fuzz/tls_server.c fuzz/replay.c
EXTRA_DIST += fuzz/corpus/tls_server
if ENABLE_FUZZING
FUZZ_TARGETS += fuzz/tls_server
fuzz_tls_server_SOURCES = fuzz/tls_server.c
fuzz_tls_server_LDFLAGS = $(FUZZ_LINKFLAGS)
endif
