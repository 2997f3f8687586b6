## Loop front end, futures, locks, queues, executor (libgust).
libgust_la_SOURCES += \
	src/async/loop.c \
	src/async/loop_int.h
