## future module (futures, locks, queues, executor): sources, header, tests.

libgust_la_SOURCES += src/async/future.c src/async/future_int.h
pkginclude_HEADERS += include/gust/future.h
EXTRA_DIST += doc/async.md

FUTURE_TESTS = t/async/future
check_PROGRAMS += $(FUTURE_TESTS)
TESTS += $(FUTURE_TESTS)
VALGRIND_TESTS += $(FUTURE_TESTS)

libgust_la_SOURCES += src/async/locks.c
pkginclude_HEADERS += include/gust/locks.h
LOCKS_TESTS = t/async/locks
check_PROGRAMS += $(LOCKS_TESTS)
TESTS += $(LOCKS_TESTS)
VALGRIND_TESTS += $(LOCKS_TESTS)
EXTRA_DIST += t/async/async_tap.h

libgust_la_SOURCES += src/async/queues.c
pkginclude_HEADERS += include/gust/queues.h
QUEUES_TESTS = t/async/queues
check_PROGRAMS += $(QUEUES_TESTS)
TESTS += $(QUEUES_TESTS)
VALGRIND_TESTS += $(QUEUES_TESTS)

libgust_la_SOURCES += src/async/executor.c
pkginclude_HEADERS += include/gust/executor.h
EXECUTOR_TESTS = t/async/executor
check_PROGRAMS += $(EXECUTOR_TESTS)
TESTS += $(EXECUTOR_TESTS)
VALGRIND_TESTS += $(EXECUTOR_TESTS)

# The loopback line-protocol client of Tornado's concurrent_test.
CAPCLIENT_TESTS = t/async/capclient
check_PROGRAMS += $(CAPCLIENT_TESTS)
TESTS += $(CAPCLIENT_TESTS)
VALGRIND_TESTS += $(CAPCLIENT_TESTS)
