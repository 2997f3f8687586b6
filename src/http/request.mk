## HTTP server request object: request line, host, xheaders, arguments,
## files and cookies (src/http/request.c, t/http/request*).
libgust_la_SOURCES += src/http/request.c

# The request object is tested through its internal constructor, which the
# library does not export: the test compiles request.c itself.
REQUEST_TESTS = t/http/request
check_PROGRAMS += $(REQUEST_TESTS)
TESTS += $(REQUEST_TESTS)
VALGRIND_TESTS += $(REQUEST_TESTS)
t_http_request_SOURCES = t/http/request.c src/http/request.c \
	src/http/request_int.h
