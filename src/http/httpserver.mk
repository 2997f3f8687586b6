## HTTP server module: connection handling over IOStream driving
## proto/http1, the server object, examples/hello (include/gust/httpserver.h,
## src/http/httpserver.c, t/http/httpserver*).
pkginclude_HEADERS += include/gust/httpserver.h
libgust_la_SOURCES += src/http/request_int.h
