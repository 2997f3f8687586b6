## Integrating gust into an application's own loop (doc/integrating.md):
## examples/poll-server, an HTTP + WebSocket server on plain poll() that
## links libgust-proto alone, and examples/uv-embed, gust's server and
## client inside an existing libuv application (libuv builds only). Both
## are built, not installed, and tested black-box over loopback by
## t/examples/*.sh with /usr/bin/python3 as the client (skipped without it,
## except under CI=true).
noinst_PROGRAMS += examples/poll-server/poll-server
examples_poll_server_poll_server_SOURCES = examples/poll-server/poll-server.c
# The point of the example: the Sans-IO core and the C library, nothing else.
examples_poll_server_poll_server_LDADD = libgust-proto.la

TESTS += t/examples/poll-server.sh
EXTRA_DIST += t/examples/poll-server.sh t/examples/poll_server.py \
	t/examples/common.sh t/examples/uv-embed.sh t/examples/uv_embed.py \
	doc/integrating.md

if LOOP_LIBUV
noinst_PROGRAMS += examples/uv-embed/uv-embed
examples_uv_embed_uv_embed_SOURCES = examples/uv-embed/uv-embed.c
examples_uv_embed_uv_embed_CFLAGS = $(AM_CFLAGS) $(LIBUV_CFLAGS)
examples_uv_embed_uv_embed_LDADD = libgust.la libgust-proto.la $(LIBUV_LIBS)
TESTS += t/examples/uv-embed.sh
endif
