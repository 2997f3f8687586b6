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
