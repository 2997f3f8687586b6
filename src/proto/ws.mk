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

WS_TESTS = t/proto/ws_frame t/proto/ws_mask t/proto/ws_utf8 t/proto/ws_conn \
	t/proto/ws_handshake t/proto/ws_deflate
check_PROGRAMS += $(WS_TESTS)
TESTS += $(WS_TESTS)
VALGRIND_TESTS += $(WS_TESTS)
EXTRA_DIST += t/proto/ws_util.h
EXTRA_DIST += doc/ws.md doc/design-ws.md

bin_PROGRAMS += tools/gust-wsdump
tools_gust_wsdump_SOURCES = tools/gust-wsdump.c
tools_gust_wsdump_LDADD = libgust.la libgust-proto.la
tools_gust_wsdump_LDFLAGS = $(GUST_SAN_CFLAGS)
dist_man_MANS += doc/man/gust-wsdump.1
TESTS += t/tools/wsdump.sh
EXTRA_DIST += t/tools/wsdump.sh
