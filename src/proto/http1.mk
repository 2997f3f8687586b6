## http1 module: sources, public header, tests, fuzz targets, benchmarks, tools.
libgust_proto_la_SOURCES += \
	src/proto/http1_int.h \
	src/proto/http1_parse.c \
	src/proto/http1_chunked.c \
	src/proto/http1_conn.c \
	src/proto/http1_write.c
pkginclude_HEADERS += include/gust/http1.h

# Tests: one program per source file, sharing the event-transcript driver.
HTTP1_TESTS = t/proto/http1_parse t/proto/http1_chunked t/proto/http1_conn \
	t/proto/http1_write
check_PROGRAMS += $(HTTP1_TESTS)
TESTS += $(HTTP1_TESTS)
VALGRIND_TESTS += $(HTTP1_TESTS)
HTTP1_DRIVE = t/proto/http1_drive.c t/proto/http1_drive.h
t_proto_http1_parse_SOURCES = t/proto/http1_parse.c $(HTTP1_DRIVE)
t_proto_http1_chunked_SOURCES = t/proto/http1_chunked.c $(HTTP1_DRIVE)
t_proto_http1_conn_SOURCES = t/proto/http1_conn.c $(HTTP1_DRIVE)
t_proto_http1_write_SOURCES = t/proto/http1_write.c

# The capture dump tool, its man page and its TAP test on captures.
bin_PROGRAMS += tools/gust-h1dump
tools_gust_h1dump_SOURCES = tools/gust-h1dump.c
tools_gust_h1dump_LDADD = libgust.la libgust-proto.la
tools_gust_h1dump_LDFLAGS = $(GUST_SAN_CFLAGS)
dist_man_MANS += doc/man/gust-h1dump.1
TESTS += t/proto/h1dump.sh t/proto/http1_scalar.sh
EXTRA_DIST += t/proto/h1dump.sh t/proto/http1_scalar.sh t/proto/h1dump/pipelined.req \
	t/proto/h1dump/pipelined.out t/proto/h1dump/clte.req \
	t/proto/h1dump/clte.out t/proto/h1dump/sequence.resp \
	t/proto/h1dump/sequence.out t/proto/h1dump/truncated.req \
	t/proto/h1dump/truncated.out
EXTRA_DIST += doc/http1.md

# Fuzz targets (request, response, chunked, round trip), wired as
# fuzz/local.mk describes.
FUZZ_REPLAY_TESTS += fuzz/http1_request-replay fuzz/http1_response-replay \
	fuzz/http1_chunked-replay fuzz/http1_roundtrip-replay
fuzz_http1_request_replay_SOURCES = fuzz/http1_request.c fuzz/http1_fuzz.h \
	fuzz/replay.c
fuzz_http1_response_replay_SOURCES = fuzz/http1_response.c fuzz/http1_fuzz.h \
	fuzz/replay.c
fuzz_http1_chunked_replay_SOURCES = fuzz/http1_chunked.c fuzz/http1_fuzz.h \
	fuzz/replay.c
fuzz_http1_roundtrip_replay_SOURCES = fuzz/http1_roundtrip.c \
	fuzz/http1_fuzz.h fuzz/replay.c
EXTRA_DIST += fuzz/corpus/http1_request fuzz/corpus/http1_response \
	fuzz/corpus/http1_chunked fuzz/corpus/http1_roundtrip fuzz/http1.dict
if ENABLE_FUZZING
FUZZ_TARGETS += fuzz/http1_request fuzz/http1_response fuzz/http1_chunked \
	fuzz/http1_roundtrip
fuzz_http1_request_SOURCES = fuzz/http1_request.c fuzz/http1_fuzz.h
fuzz_http1_request_LDFLAGS = $(FUZZ_LINKFLAGS)
fuzz_http1_response_SOURCES = fuzz/http1_response.c fuzz/http1_fuzz.h
fuzz_http1_response_LDFLAGS = $(FUZZ_LINKFLAGS)
fuzz_http1_chunked_SOURCES = fuzz/http1_chunked.c fuzz/http1_fuzz.h
fuzz_http1_chunked_LDFLAGS = $(FUZZ_LINKFLAGS)
fuzz_http1_roundtrip_SOURCES = fuzz/http1_roundtrip.c fuzz/http1_fuzz.h
fuzz_http1_roundtrip_LDFLAGS = $(FUZZ_LINKFLAGS)
endif

# Benchmark against llhttp, http-parser and picohttpparser (Debian packages
# node-llhttp, libhttp-parser-dev, libh2o-dev; see scripts/deps/http1.list).
# Built and run by `make bench-http1` only, so that ordinary builds do not
# need the anchors.
LLHTTP_SRC_DIR = /usr/share/llhttp
LLHTTP_INC_DIR = /usr/share/include/llhttp
EXTRA_PROGRAMS += bench/http1_parse
bench_http1_parse_SOURCES = bench/http1_parse.c bench/http1_llhttp.c \
	bench/llhttp_api.c bench/llhttp_http.c bench/llhttp_core.c
bench_http1_parse_CPPFLAGS = $(AM_CPPFLAGS) -I$(LLHTTP_INC_DIR) \
	-I$(LLHTTP_SRC_DIR)
# -w: the anchors' third-party sources are not held to gust's warning set.
bench_http1_parse_CFLAGS = $(AM_CFLAGS) -O2 -w
bench_http1_parse_LDADD = libgust.la libgust-proto.la -lhttp_parser -lh2o
CLEANFILES += bench/http1_parse
bench-http1: bench/http1_parse
	./bench/http1_parse
.PHONY: bench-http1
EXTRA_DIST += scripts/deps/http1.list
