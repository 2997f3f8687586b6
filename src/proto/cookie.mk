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
	src/proto/urlsplit.c \
	src/proto/form.c \
	src/proto/multipart.c \
	src/proto/etag.c \
	src/proto/httpdate.c

pkginclude_HEADERS += include/gust/cookie.h include/gust/httputil.h

COOKIE_TESTS = t/proto/signed t/proto/xsrf t/proto/cookie t/proto/escape \
	t/proto/url t/proto/urlsplit t/proto/form t/proto/etag t/proto/httpdate \
	t/proto/multipart
check_PROGRAMS += $(COOKIE_TESTS)
TESTS += $(COOKIE_TESTS)
VALGRIND_TESTS += $(COOKIE_TESTS)

# Interop with Tornado: a helper that speaks gust's side on the command
# line, driven by a script run with Debian's /usr/bin/python3.
check_PROGRAMS += t/interop/cookie_tool
TESTS += t/interop/tornado_signed.sh
EXTRA_DIST += t/interop/tornado_signed.sh scripts/deps/cookie.list

# Fuzz targets, one per decoder, wired as fuzz/local.mk describes.
FUZZ_REPLAY_TESTS += fuzz/cookie-replay fuzz/signed-replay \
	fuzz/multipart-replay fuzz/form-replay fuzz/urlsplit-replay
fuzz_cookie_replay_SOURCES = fuzz/cookie.c fuzz/replay.c
fuzz_signed_replay_SOURCES = fuzz/signed.c fuzz/replay.c
fuzz_multipart_replay_SOURCES = fuzz/multipart.c fuzz/replay.c
fuzz_form_replay_SOURCES = fuzz/form.c fuzz/replay.c
fuzz_urlsplit_replay_SOURCES = fuzz/urlsplit.c fuzz/replay.c
EXTRA_DIST += fuzz/corpus/cookie fuzz/corpus/signed fuzz/corpus/multipart \
	fuzz/corpus/form fuzz/corpus/urlsplit
if ENABLE_FUZZING
FUZZ_TARGETS += fuzz/cookie fuzz/signed fuzz/multipart fuzz/form fuzz/urlsplit
fuzz_cookie_SOURCES = fuzz/cookie.c
fuzz_cookie_LDFLAGS = $(FUZZ_LINKFLAGS)
fuzz_signed_SOURCES = fuzz/signed.c
fuzz_signed_LDFLAGS = $(FUZZ_LINKFLAGS)
fuzz_multipart_SOURCES = fuzz/multipart.c
fuzz_multipart_LDFLAGS = $(FUZZ_LINKFLAGS)
fuzz_form_SOURCES = fuzz/form.c
fuzz_form_LDFLAGS = $(FUZZ_LINKFLAGS)
fuzz_urlsplit_SOURCES = fuzz/urlsplit.c
fuzz_urlsplit_LDFLAGS = $(FUZZ_LINKFLAGS)
endif

EXTRA_DIST += doc/cookie.md
