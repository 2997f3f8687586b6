## Black-box robustness tests of the HTTP server: examples/hello run as a
## child process and driven over raw loopback sockets (t/http/srv_*).
## Heavy programs (1 GiB upload, 10,000 connections) run in make check
## only, never under valgrind.
SRVTESTS_CPPFLAGS = $(AM_CPPFLAGS) \
	-DGUST_TOP_BUILDDIR='"$(abs_top_builddir)"'
SRVTESTS_COMMON = t/http/srv_common.c t/http/srv_common.h
SRVTESTS = t/http/srv_smuggle t/http/srv_slowloris t/http/srv_upload \
	t/http/srv_conns t/http/srv_shutdown t/http/srv_workers
check_PROGRAMS += $(SRVTESTS)
TESTS += $(SRVTESTS)

t_http_srv_smuggle_SOURCES = t/http/srv_smuggle.c $(SRVTESTS_COMMON)
t_http_srv_smuggle_CPPFLAGS = $(SRVTESTS_CPPFLAGS)
t_http_srv_slowloris_SOURCES = t/http/srv_slowloris.c $(SRVTESTS_COMMON)
t_http_srv_slowloris_CPPFLAGS = $(SRVTESTS_CPPFLAGS)
t_http_srv_upload_SOURCES = t/http/srv_upload.c $(SRVTESTS_COMMON)
t_http_srv_upload_CPPFLAGS = $(SRVTESTS_CPPFLAGS)
t_http_srv_conns_SOURCES = t/http/srv_conns.c $(SRVTESTS_COMMON)
t_http_srv_conns_CPPFLAGS = $(SRVTESTS_CPPFLAGS)
t_http_srv_shutdown_SOURCES = t/http/srv_shutdown.c $(SRVTESTS_COMMON)
t_http_srv_shutdown_CPPFLAGS = $(SRVTESTS_CPPFLAGS)
t_http_srv_workers_SOURCES = t/http/srv_workers.c $(SRVTESTS_COMMON)
t_http_srv_workers_CPPFLAGS = $(SRVTESTS_CPPFLAGS)

