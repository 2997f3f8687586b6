## TCP server and client module: TCPServer, TCPClient with happy eyeballs,
## multi-process mode (include/gust/tcp.h, src/net/tcp*.c, t/net/tcp*).
pkginclude_HEADERS += include/gust/tcp.h
libgust_la_SOURCES += src/net/tcp_int.h src/net/tcp_adopt.c \
	src/net/tcpclient.c src/net/tcpserver.c src/net/process.c
EXTRA_DIST += doc/tcp.md

# Tests: client and server over loopback (both families, 1,000
# connections, happy eyeballs against an address that never answers,
# timeouts, refusals, TLS, stop) and the multi-process supervisor.
TCP_NET_TEST_CPPFLAGS = $(AM_CPPFLAGS) -DGUST_TOP_SRCDIR='"$(abs_top_srcdir)"'
check_PROGRAMS += t/net/tcpclient t/net/tcpserver t/net/tcp_process
TESTS += t/net/tcpclient t/net/tcpserver t/net/tcp_process
VALGRIND_TESTS += t/net/tcpclient t/net/tcpserver t/net/tcp_process
t_net_tcpclient_SOURCES = t/net/tcpclient.c t/net/tcp_common.h \
	t/proto/tls_common.h
t_net_tcpclient_CPPFLAGS = $(TCP_NET_TEST_CPPFLAGS)
t_net_tcpserver_SOURCES = t/net/tcpserver.c t/net/tcp_common.h \
	t/proto/tls_common.h
t_net_tcpserver_CPPFLAGS = $(TCP_NET_TEST_CPPFLAGS)
t_net_tcp_process_SOURCES = t/net/tcp_process.c t/net/tcp_common.h
t_net_tcp_process_CPPFLAGS = $(TCP_NET_TEST_CPPFLAGS)
