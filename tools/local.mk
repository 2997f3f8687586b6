## Command-line tools (installed).
bin_PROGRAMS += tools/gust-info
tools_gust_info_SOURCES = tools/gust-info.c
tools_gust_info_LDADD = libgust.la libgust-proto.la
tools_gust_info_LDFLAGS = $(GUST_SAN_CFLAGS)
dist_man_MANS += doc/man/gust-info.1

# gust-fetch: a small curl over the HTTP client (include/gust/httpclient.h);
# t/tools/fetch.sh runs it against examples/hello.
bin_PROGRAMS += tools/gust-fetch
tools_gust_fetch_SOURCES = tools/gust-fetch.c
tools_gust_fetch_LDADD = libgust.la libgust-proto.la
tools_gust_fetch_LDFLAGS = $(GUST_SAN_CFLAGS)
dist_man_MANS += doc/man/gust-fetch.1
TESTS += t/tools/fetch.sh
EXTRA_DIST += t/tools/fetch.sh
