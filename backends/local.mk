## Backends: exactly one loop file and one TLS/crypto file per build.
if LOOP_LIBUV
libgust_la_SOURCES += backends/loop-libuv.c
endif
if LOOP_LIBEV
libgust_la_SOURCES += backends/loop-libev.c
endif
if TLS_OPENSSL
libgust_proto_la_SOURCES += backends/crypto-openssl.c
endif
if TLS_GNUTLS
libgust_proto_la_SOURCES += backends/crypto-gnutls.c
endif
EXTRA_DIST += backends/loop-libuv.c backends/loop-libev.c \
	backends/crypto-openssl.c backends/crypto-gnutls.c
