## HTTP server benchmark against nginx and Tornado, and the black-box
## interop tests of the HTTP server with real peers (bench/server*,
## t/interop/httpserver*).

# `make bench-server`: examples/hello against nginx and Tornado (wrk, idle
# connection memory); extra arguments through BENCH_SERVER_ARGS, e.g.
# `make bench-server BENCH_SERVER_ARGS="--seconds 10 --rounds 5"`.
bench-server: all
	top_builddir='$(abs_top_builddir)' \
	  bash $(srcdir)/bench/server $(BENCH_SERVER_ARGS)
.PHONY: bench-server

EXTRA_DIST += bench/server bench/server_tornado.py bench/server_idle.py \
	scripts/deps/httpserver.list

# Interop tests of the HTTP server with real peers over loopback: curl and
# Tornado's HTTP client against examples/hello, and HTTPS (curl --cacert,
# Tornado with ca_certs) against t/interop/https_server. Each skips without
# its peer, except under CI=true where it fails.
HTTPSERVER_INTEROP_TESTS = t/interop/httpserver_curl.sh \
	t/interop/httpserver_tornado.sh t/interop/httpserver_tls.sh
TESTS += $(HTTPSERVER_INTEROP_TESTS)
EXTRA_DIST += $(HTTPSERVER_INTEROP_TESTS) t/interop/httpserver_common.sh \
	t/interop/httpserver_client.py

# The HTTPS server the TLS interop test drives.
check_PROGRAMS += t/interop/https_server
t_interop_https_server_SOURCES = t/interop/https_server.c
