## Web layer (include/gust/web.h, src/web/): Tornado's Application and
## RequestHandler as a delegate of the HTTP server: routing, handler
## lifecycle, arguments, cookies, signed cookies, XSRF, ETag, compression,
## WebSocket routes. Static files are in src/web/static.mk.
pkginclude_HEADERS += include/gust/web.h
libgust_la_SOURCES += src/web/web_int.h src/web/app.c src/web/handler.c

# Tests: black-box over loopback with gust's HTTP client and raw sockets.
WEB_TESTS = t/web/web
check_PROGRAMS += $(WEB_TESTS)
TESTS += $(WEB_TESTS)
VALGRIND_TESTS += $(WEB_TESTS)
t_web_web_SOURCES = t/web/web.c t/net/tcp_common.h
t_web_web_LDADD = $(LDADD) $(ZLIB_LIBS) -lpthread
t_web_web_CPPFLAGS = $(AM_CPPFLAGS) \
	-DGUST_TOP_SRCDIR='"$(abs_top_srcdir)"'
EXTRA_DIST += doc/web.md
