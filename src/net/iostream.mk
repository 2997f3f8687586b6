## IOStream module: buffered, TLS-capable streams over loop TCP handles
## (include/gust/iostream.h, src/net/iostream*.c, t/net/iostream*).

pkginclude_HEADERS += include/gust/iostream.h
