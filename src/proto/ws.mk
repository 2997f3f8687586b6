## ws module: sources, public header, tests, fuzz targets, benchmarks, tools.
libgust_proto_la_SOURCES += \
	src/proto/ws_int.h \
	src/proto/ws_conn.c \
	src/proto/ws_deflate.c \
	src/proto/ws_frame.c \
	src/proto/ws_handshake.c \
	src/proto/ws_mask.c \
	src/proto/ws_utf8.c
pkginclude_HEADERS += include/gust/ws.h
# Shared with the gzip module (src/proto/gzip.c defines it).

WS_TESTS = t/proto/ws_frame t/proto/ws_mask t/proto/ws_utf8 t/proto/ws_conn \
	t/proto/ws_handshake t/proto/ws_deflate
check_PROGRAMS += $(WS_TESTS)
t_proto_ws_utf8_SOURCES = t/proto/ws_utf8.c t/proto/ws_utf8_impl.c
t_proto_ws_mask_SOURCES = t/proto/ws_mask.c t/proto/ws_mask_impl.c
TESTS += $(WS_TESTS)
VALGRIND_TESTS += $(WS_TESTS)
EXTRA_DIST += t/proto/ws_util.h
EXTRA_DIST += doc/ws.md

bin_PROGRAMS += tools/gust-wsdump
tools_gust_wsdump_SOURCES = tools/gust-wsdump.c
tools_gust_wsdump_LDADD = libgust.la libgust-proto.la
tools_gust_wsdump_LDFLAGS = $(GUST_SAN_CFLAGS)
dist_man_MANS += doc/man/gust-wsdump.1
TESTS += t/tools/wsdump.sh
EXTRA_DIST += t/tools/wsdump.sh

# Fuzz targets for frames/messages (deflate on and off) and the handshake
# header parsers, wired as fuzz/local.mk describes.
FUZZ_REPLAY_TESTS += fuzz/ws_frame-replay fuzz/ws_handshake-replay
fuzz_ws_frame_replay_SOURCES = fuzz/ws_frame.c fuzz/ws_fuzz.h fuzz/replay.c
fuzz_ws_handshake_replay_SOURCES = fuzz/ws_handshake.c fuzz/ws_fuzz.h \
	fuzz/replay.c
EXTRA_DIST += fuzz/corpus/ws_frame fuzz/corpus/ws_handshake \
	fuzz/ws_frame.dict fuzz/ws_handshake.dict
if ENABLE_FUZZING
FUZZ_TARGETS += fuzz/ws_frame fuzz/ws_handshake
fuzz_ws_frame_SOURCES = fuzz/ws_frame.c fuzz/ws_fuzz.h
fuzz_ws_frame_LDFLAGS = $(FUZZ_LINKFLAGS)
fuzz_ws_handshake_SOURCES = fuzz/ws_handshake.c fuzz/ws_fuzz.h
fuzz_ws_handshake_LDFLAGS = $(FUZZ_LINKFLAGS)
endif

# Benchmark (built, not run by make check: its figures depend on the
# machine). Run build/.../bench/ws [seconds-per-figure].
noinst_PROGRAMS += bench/ws
bench_ws_SOURCES = bench/ws.c
bench_ws_LDADD = libgust-proto.la
