## Command-line tools (installed).
bin_PROGRAMS += tools/gust-info
tools_gust_info_SOURCES = tools/gust-info.c
tools_gust_info_LDADD = libgust.la libgust-proto.la
tools_gust_info_LDFLAGS = $(GUST_SAN_CFLAGS)
dist_man_MANS += doc/man/gust-info.1
