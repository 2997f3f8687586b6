## Hardening (issue 16): AFL++ builds of the fuzz targets, differential
## fuzzing of the HTTP/1 request parser against llhttp, allocation torture.

# Differential target: gust's request parser against llhttp, compiled from
# the sources Debian's node-llhttp ships (LLHTTP_SRC_DIR, LLHTTP_INC_DIR as
# for bench/http1_parse). llhttp goes into a convenience library of its own
# so that -w applies to it alone.
check_LTLIBRARIES += fuzz/libllhttp-diff.la
fuzz_libllhttp_diff_la_SOURCES = bench/llhttp_api.c bench/llhttp_http.c \
	bench/llhttp_core.c
fuzz_libllhttp_diff_la_CPPFLAGS = -I$(LLHTTP_INC_DIR) -I$(LLHTTP_SRC_DIR)
fuzz_libllhttp_diff_la_CFLAGS = $(GUST_SAN_CFLAGS) -w
FUZZ_REPLAY_TESTS += fuzz/http1_diff-replay
fuzz_http1_diff_replay_SOURCES = fuzz/http1_diff.c fuzz/replay.c
fuzz_http1_diff_replay_CPPFLAGS = $(AM_CPPFLAGS) -I$(LLHTTP_INC_DIR)
fuzz_http1_diff_replay_LDADD = fuzz/libllhttp-diff.la $(LDADD)
EXTRA_DIST += fuzz/corpus/http1_diff
if ENABLE_FUZZING
FUZZ_TARGETS += fuzz/http1_diff
fuzz_http1_diff_SOURCES = fuzz/http1_diff.c
fuzz_http1_diff_CPPFLAGS = $(AM_CPPFLAGS) -I$(LLHTTP_INC_DIR)
fuzz_http1_diff_LDADD = fuzz/libllhttp-diff.la $(LDADD)
fuzz_http1_diff_LDFLAGS = $(FUZZ_LINKFLAGS)
endif

# Dictionaries of the targets that had none (scripts/fuzz picks
# fuzz/TARGET.dict, else the module's, for libFuzzer and AFL++ alike).
EXTRA_DIST += fuzz/cookie.dict fuzz/form.dict fuzz/multipart.dict \
	fuzz/signed.dict fuzz/headers.dict fuzz/gzip_decode.dict \
	fuzz/tls_server.dict fuzz/urlsplit.dict
EXTRA_DIST += scripts/deps/harden.list

# Allocation-failure torture of the Sans-IO objects over whole exchanges
# (t/proto/torture.h is the shared driver).
TORTURE_TESTS = t/proto/http1_torture t/proto/ws_torture \
	t/proto/cookie_torture t/proto/multipart_torture t/proto/gzip_torture
check_PROGRAMS += $(TORTURE_TESTS)
TESTS += $(TORTURE_TESTS)
VALGRIND_TESTS += $(TORTURE_TESTS)
t_proto_http1_torture_SOURCES = t/proto/http1_torture.c t/proto/torture.h
t_proto_ws_torture_SOURCES = t/proto/ws_torture.c t/proto/torture.h
t_proto_cookie_torture_SOURCES = t/proto/cookie_torture.c t/proto/torture.h
t_proto_multipart_torture_SOURCES = t/proto/multipart_torture.c \
	t/proto/torture.h
t_proto_gzip_torture_SOURCES = t/proto/gzip_torture.c t/proto/torture.h

# Regression vectors for parser bugs the hardening work found.
check_PROGRAMS += t/proto/http1_regress
TESTS += t/proto/http1_regress
VALGRIND_TESTS += t/proto/http1_regress
t_proto_http1_regress_SOURCES = t/proto/http1_regress.c t/proto/http1_drive.c \
	t/proto/http1_drive.h
EXTRA_DIST += scripts/afl-cc doc/security.md
