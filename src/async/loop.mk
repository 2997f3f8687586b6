## loop module: sources, public header, tests, fuzz targets, benchmarks, tools.
## (src/async/loop.c and the backend file are listed in src/async/local.mk
## and backends/local.mk.)

LOOP_TESTS = t/async/loop
check_PROGRAMS += $(LOOP_TESTS)
TESTS += $(LOOP_TESTS)
VALGRIND_TESTS += $(LOOP_TESTS)

# Embedding into an application-owned native loop: the test includes the
# native library's header, so it is built for the selected backend only.
if LOOP_LIBUV
LOOP_EMBED_TESTS = t/async/loop_embed_uv
t_async_loop_embed_uv_CFLAGS = $(AM_CFLAGS) $(LOOP_CFLAGS)
t_async_loop_embed_uv_LDADD = $(LDADD) $(LOOP_LIBS)
endif
if LOOP_LIBEV
LOOP_EMBED_TESTS = t/async/loop_embed_ev
t_async_loop_embed_ev_CFLAGS = $(AM_CFLAGS) $(LOOP_CFLAGS)
t_async_loop_embed_ev_LDADD = $(LDADD) $(LOOP_LIBS)
endif
check_PROGRAMS += $(LOOP_EMBED_TESTS)
TESTS += $(LOOP_EMBED_TESTS)
VALGRIND_TESTS += $(LOOP_EMBED_TESTS)
EXTRA_DIST += t/async/loop_embed_uv.c t/async/loop_embed_ev.c doc/loop.md

# TCP front end (sockets, binding, write queue); the I/O is the backend's.
libgust_la_SOURCES += src/async/tcp.c

TCP_TESTS = t/async/tcp
check_PROGRAMS += $(TCP_TESTS)
# Linked against the static library: the test also calls an internal
# function (gust__tcp_set_reader()) that the shared object does not export.
t_async_tcp_LDFLAGS = $(AM_LDFLAGS) -static
TESTS += $(TCP_TESTS)
VALGRIND_TESTS += $(TCP_TESTS)

# Thread pool and asynchronous getaddrinfo (the same code on every backend).
libgust_la_SOURCES += src/async/work.c
WORK_TESTS = t/async/work
check_PROGRAMS += $(WORK_TESTS)
TESTS += $(WORK_TESTS)
VALGRIND_TESTS += $(WORK_TESTS)

# Periodic callbacks (Tornado's PeriodicCallback).
libgust_la_SOURCES += src/async/periodic.c
PERIODIC_TESTS = t/async/periodic
check_PROGRAMS += $(PERIODIC_TESTS)
TESTS += $(PERIODIC_TESTS)
VALGRIND_TESTS += $(PERIODIC_TESTS)
