## IOStream module: buffered, TLS-capable streams over loop TCP handles
## (include/gust/iostream.h, src/net/iostream*.c, t/net/iostream*).

pkginclude_HEADERS += include/gust/iostream.h
libgust_la_SOURCES += src/net/iostream.c
# PCRE2 for read_until_regex. Until configure.ac detects it
# (PKG_CHECK_MODULES([PCRE2], [libpcre2-8])), these two lines name it.
PCRE2_CFLAGS =
PCRE2_LIBS = -lpcre2-8
libgust_la_CFLAGS += $(PCRE2_CFLAGS)
libgust_la_LIBADD += $(PCRE2_LIBS)

# Tests: loopback TCP, plain and TLS, on the configured backends (run under
# valgrind too). Certificates come from t/proto/mkcerts.sh at run time.
IOSTREAM_TESTS = t/net/iostream
check_PROGRAMS += $(IOSTREAM_TESTS)
TESTS += $(IOSTREAM_TESTS)
VALGRIND_TESTS += $(IOSTREAM_TESTS)
t_net_iostream_SOURCES = t/net/iostream.c
t_net_iostream_CPPFLAGS = $(AM_CPPFLAGS) \
	-DGUST_TOP_SRCDIR='"$(abs_top_srcdir)"'
EXTRA_DIST += doc/iostream.md doc/design-iostream.md scripts/deps/iostream.list
