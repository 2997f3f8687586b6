## cookie module: sources, public header, tests, fuzz targets, benchmarks, tools.
## Signed values, XSRF tokens, Cookie/Set-Cookie, escaping, URLs, forms,
## multipart, ETags and HTTP-dates (all Sans-IO, in libgust-proto).
libgust_proto_la_SOURCES += \
	src/proto/cookie_int.h \
	src/proto/cookie_codec.c \
	src/proto/signed.c \
	src/proto/xsrf.c \
	src/proto/cookie.c \
	src/proto/escape.c \
	src/proto/url.c \
	src/proto/form.c \
	src/proto/multipart.c \
	src/proto/etag.c \
	src/proto/httpdate.c

pkginclude_HEADERS += include/gust/cookie.h include/gust/httputil.h

COOKIE_TESTS = t/proto/signed t/proto/xsrf t/proto/cookie t/proto/escape \
	t/proto/url t/proto/form t/proto/etag t/proto/httpdate t/proto/multipart
check_PROGRAMS += $(COOKIE_TESTS)
TESTS += $(COOKIE_TESTS)
VALGRIND_TESTS += $(COOKIE_TESTS)

# Interop with Tornado: a helper that speaks gust's side on the command
# line, driven by a script run with Debian's /usr/bin/python3.
check_PROGRAMS += t/interop/cookie_tool
TESTS += t/interop/tornado_signed.sh
EXTRA_DIST += t/interop/tornado_signed.sh scripts/deps/cookie.list

# Fuzz targets: one per decoder. Each is replayed over its seed corpus
# (every seed and every prefix) in make check; with --enable-fuzzing they
# are also built as libFuzzer binaries fuzz/NAME-fuzzer.
COOKIE_FUZZ_REPLAY = fuzz/cookie-replay fuzz/signed-replay \
	fuzz/multipart-replay fuzz/form-replay
check_PROGRAMS += $(COOKIE_FUZZ_REPLAY)
TESTS += $(COOKIE_FUZZ_REPLAY)
VALGRIND_TESTS += $(COOKIE_FUZZ_REPLAY)
fuzz_cookie_replay_SOURCES = fuzz/cookie.c fuzz/cookie_replay.c
fuzz_cookie_replay_CPPFLAGS = $(AM_CPPFLAGS) -DFUZZ_NAME='"cookie"'
fuzz_signed_replay_SOURCES = fuzz/signed.c fuzz/cookie_replay.c
fuzz_signed_replay_CPPFLAGS = $(AM_CPPFLAGS) -DFUZZ_NAME='"signed"'
fuzz_multipart_replay_SOURCES = fuzz/multipart.c fuzz/cookie_replay.c
fuzz_multipart_replay_CPPFLAGS = $(AM_CPPFLAGS) -DFUZZ_NAME='"multipart"'
fuzz_form_replay_SOURCES = fuzz/form.c fuzz/cookie_replay.c
fuzz_form_replay_CPPFLAGS = $(AM_CPPFLAGS) -DFUZZ_NAME='"form"'
EXTRA_DIST += fuzz/corpus/cookie fuzz/corpus/signed fuzz/corpus/multipart \
	fuzz/corpus/form
if ENABLE_FUZZING
COOKIE_FUZZERS = fuzz/cookie-fuzzer fuzz/signed-fuzzer \
	fuzz/multipart-fuzzer fuzz/form-fuzzer
noinst_PROGRAMS += $(COOKIE_FUZZERS)
fuzz_cookie_fuzzer_SOURCES = fuzz/cookie.c
fuzz_cookie_fuzzer_LDFLAGS = $(GUST_SAN_CFLAGS) -fsanitize=fuzzer
fuzz_cookie_fuzzer_LDADD = libgust-proto.la
fuzz_signed_fuzzer_SOURCES = fuzz/signed.c
fuzz_signed_fuzzer_LDFLAGS = $(GUST_SAN_CFLAGS) -fsanitize=fuzzer
fuzz_signed_fuzzer_LDADD = libgust-proto.la
fuzz_multipart_fuzzer_SOURCES = fuzz/multipart.c
fuzz_multipart_fuzzer_LDFLAGS = $(GUST_SAN_CFLAGS) -fsanitize=fuzzer
fuzz_multipart_fuzzer_LDADD = libgust-proto.la
fuzz_form_fuzzer_SOURCES = fuzz/form.c
fuzz_form_fuzzer_LDFLAGS = $(GUST_SAN_CFLAGS) -fsanitize=fuzzer
fuzz_form_fuzzer_LDADD = libgust-proto.la
endif

EXTRA_DIST += doc/cookie.md doc/design-cookie.md
