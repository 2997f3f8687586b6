## Static files (gust_web_static_handler in include/gust/web.h,
## src/web/static.c): Tornado's StaticFileHandler, confined to its root
## after following symbolic links, streamed, with HEAD, Range, ETag and
## Last-Modified; the Content-Type table (src/web/mime.c) and the cache of
## content versions behind static_url.
libgust_la_SOURCES += src/web/static.c src/web/mime.c

# Tests: black-box over loopback; the fixtures (files, directories,
# symbolic links) are made by the test in a temporary directory.
WEB_STATIC_TESTS = t/web/static
check_PROGRAMS += $(WEB_STATIC_TESTS)
TESTS += $(WEB_STATIC_TESTS)
VALGRIND_TESTS += $(WEB_STATIC_TESTS)
t_web_static_SOURCES = t/web/static.c t/net/tcp_common.h
t_web_static_CPPFLAGS = $(AM_CPPFLAGS) \
	-DGUST_TOP_SRCDIR='"$(abs_top_srcdir)"'
