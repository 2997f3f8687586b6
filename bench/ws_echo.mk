## WebSocket echo benchmark against node ws and Tornado (bench/ws_echo*).

# The load generator: plain sockets, epoll and zlib, no gust code, so that
# it measures every server the same way (bench/ws_load.c says how).
noinst_PROGRAMS += bench/ws_load
bench_ws_load_SOURCES = bench/ws_load.c
bench_ws_load_CFLAGS = $(AM_CFLAGS) $(ZLIB_CFLAGS)
bench_ws_load_LDADD = $(ZLIB_LIBS)

# `make bench-ws-echo`: examples/wsecho against node ws and Tornado
# (round trips per second, idle connection memory); extra arguments through
# BENCH_WS_ECHO_ARGS, e.g.
# `make bench-ws-echo BENCH_WS_ECHO_ARGS="--seconds 10 --rounds 5"`.
bench-ws-echo: all
	top_builddir='$(abs_top_builddir)' \
	  bash $(srcdir)/bench/ws_echo $(BENCH_WS_ECHO_ARGS)
.PHONY: bench-ws-echo

EXTRA_DIST += bench/ws_echo bench/ws_echo_node.js bench/ws_echo_tornado.py

# The floor anchor: the smallest echo server (one read, one write per
# round trip), linked to libgust-proto for the handshake's accept value only.
noinst_PROGRAMS += bench/ws_floor
bench_ws_floor_SOURCES = bench/ws_floor.c
bench_ws_floor_LDADD = libgust-proto.la
