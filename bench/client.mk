## HTTP client benchmark: gust's client (keep-alive pool, and one
## connection per request) against Tornado's AsyncHTTPClient, all fetching
## from examples/hello in the same run (bench/client*).

# The load generator (public API only), built by `make` so that the
# benchmark script finds it.
noinst_PROGRAMS += bench/client_gust
bench_client_gust_SOURCES = bench/client_gust.c
bench_client_gust_LDADD = libgust.la libgust-proto.la

# `make bench-client`: extra arguments through BENCH_CLIENT_ARGS, e.g.
# `make bench-client BENCH_CLIENT_ARGS="--seconds 10 --rounds 5"`.
bench-client: all
	top_builddir='$(abs_top_builddir)' \
	  bash $(srcdir)/bench/client $(BENCH_CLIENT_ARGS)
.PHONY: bench-client

EXTRA_DIST += bench/client bench/client_tornado.py
