## Interop of the web layer with Tornado (t/interop/web_*): signed cookies
## (single secret and key-versioned), cookie quoting and XSRF tokens, each
## made by one side and read by the other, through a gust application
## (t/interop/web_peer) and an equivalent Tornado application run over
## loopback by t/interop/web_tornado.py. Skips without python3-tornado,
## except under CI=true where it fails.
check_PROGRAMS += t/interop/web_peer
t_interop_web_peer_SOURCES = t/interop/web_peer.c
TESTS += t/interop/web_interop.sh
EXTRA_DIST += t/interop/web_interop.sh t/interop/web_tornado.py
