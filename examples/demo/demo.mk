## The demo application (examples/demo, doc/demo.md): one server that shows
## gust whole — chat over WebSocket with a long-polling fallback, streamed
## uploads, a signed-cookie login, XSRF-protected forms, static assets
## with ETag and gzip — plus its black-box test over loopback.
noinst_PROGRAMS += examples/demo/demo
examples_demo_demo_SOURCES = examples/demo/main.c examples/demo/page.c \
	examples/demo/auth.c examples/demo/chat.c examples/demo/upload.c \
	examples/demo/demo.h
examples_demo_demo_CPPFLAGS = $(AM_CPPFLAGS) \
	-DDEMO_STATIC_DIR='"$(abs_top_srcdir)/examples/demo/static"'
examples_demo_demo_LDFLAGS = $(GUST_SAN_CFLAGS)
examples_demo_demo_LDADD = libgust.la libgust-proto.la

DEMO_STATIC = examples/demo/static/demo.css examples/demo/static/chat.js \
	examples/demo/static/upload.js examples/demo/static/favicon.svg \
	examples/demo/static/robots.txt

# Starts the demo on an ephemeral port and drives it with /usr/bin/python3
# (Tornado's HTTP and WebSocket clients, raw sockets): login, XSRF, chat
# over long poll and WebSocket, streamed uploads, static files, graceful
# stop. The browser test (t/browser/run.sh) is run by scripts/check.
TESTS += t/demo/demo.sh
EXTRA_DIST += $(DEMO_STATIC) doc/demo.md t/demo/demo.sh t/demo/demo_test.py \
	t/browser/run.sh t/browser/demo.cjs scripts/deps/demo.list
