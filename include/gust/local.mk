## Public headers (installed under $(includedir)/gust).
pkginclude_HEADERS += \
	include/gust/gust.h \
	include/gust/base.h \
	include/gust/headers.h \
	include/gust/crypto.h \
	include/gust/loop.h
