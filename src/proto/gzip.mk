## gzip module: streaming codec and HTTP integration: sources, header, tests, fuzz, bench.
libgust_proto_la_SOURCES += src/proto/gzip.c src/proto/gzip_http.c \
	src/proto/zlib_int.h
pkginclude_HEADERS += include/gust/gzip.h

GZIP_TESTS = t/proto/gzip t/proto/gzip_http
check_PROGRAMS += $(GZIP_TESTS)
TESTS += $(GZIP_TESTS)
VALGRIND_TESTS += $(GZIP_TESTS)
EXTRA_DIST += doc/gzip.md scripts/deps/gzip.list

# Fuzz target for the decoder, wired as fuzz/local.mk describes.
FUZZ_REPLAY_TESTS += fuzz/gzip_decode-replay
fuzz_gzip_decode_replay_SOURCES = fuzz/gzip_decode.c fuzz/replay.c
EXTRA_DIST += fuzz/corpus/gzip_decode
if ENABLE_FUZZING
FUZZ_TARGETS += fuzz/gzip_decode
fuzz_gzip_decode_SOURCES = fuzz/gzip_decode.c
fuzz_gzip_decode_LDFLAGS = $(FUZZ_LINKFLAGS)
endif

# Benchmark against plain zlib calls in the same run. Built and run by
# `make bench-gzip` only (its figures depend on the machine).
EXTRA_PROGRAMS += bench/gzip
bench_gzip_SOURCES = bench/gzip.c
bench_gzip_CFLAGS = $(AM_CFLAGS) $(ZLIB_CFLAGS)
bench_gzip_LDADD = libgust.la libgust-proto.la $(ZLIB_LIBS)
CLEANFILES += bench/gzip
bench-gzip: bench/gzip
	./bench/gzip
.PHONY: bench-gzip
