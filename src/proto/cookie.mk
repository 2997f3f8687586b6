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
