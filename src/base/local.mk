## Base layer: errors, allocator, slices, buffers, headers, log, crypto.
libgust_proto_la_SOURCES += \
	src/base/base_int.h \
	src/base/buf.c \
	src/base/crypto.c \
	src/base/crypto_int.h \
	src/base/error.c \
	src/base/headers.c \
	src/base/log.c \
	src/base/mem.c \
	src/base/slice.c \
	src/base/version.c
