## Test programs: TAP through automake's TAP driver; each also runs under
## prove. Programs are linked with -no-install so that valgrind can run
## them directly.

LOG_DRIVER = env AM_TAP_AWK='$(AWK)' $(SHELL) $(top_srcdir)/build-aux/tap-driver.sh
SH_LOG_DRIVER = $(LOG_DRIVER)
SH_LOG_COMPILER = $(SHELL)
TEST_EXTENSIONS = .sh
AM_TESTS_ENVIRONMENT = \
	top_srcdir='$(abs_top_srcdir)'; top_builddir='$(abs_top_builddir)'; \
	CC='$(CC)'; NM='$(NM)'; GUST_SAN_CFLAGS='$(GUST_SAN_CFLAGS)'; \
	export top_srcdir top_builddir CC NM GUST_SAN_CFLAGS;

# tap.h's names over libgust-testing's TAP producer: every program linked
# with t/libtap.la links libgust-testing and may use its helpers too.
check_LTLIBRARIES += t/libtap.la
t_libtap_la_SOURCES = t/tap.c t/tap.h
# The same for the Python test peers.
EXTRA_DIST += t/tap.py
t_libtap_la_LIBADD = libgust-testing.la

include t/base/local.mk

TESTS += t/symbols.sh t/headers.sh
EXTRA_DIST += t/symbols.sh t/headers.sh t/valgrind-run

# The Sans-IO suite, also run under valgrind's memcheck by scripts/check
# (`make check-valgrind`): any memory error or definite leak fails a test.
VALGRIND_TESTS += $(BASE_TESTS)
check-valgrind:
	$(MAKE) $(AM_MAKEFLAGS) check TESTS="$(VALGRIND_TESTS)" \
	  LOG_COMPILER="$(abs_top_srcdir)/t/valgrind-run" \
	  TEST_SUITE_LOG=test-suite-valgrind.log
.PHONY: check-valgrind

# Runs the whole suite under prove (TAP::Harness) instead of automake's
# driver, to show that every program is a standalone TAP producer.
check-prove: $(check_PROGRAMS) $(check_LTLIBRARIES) all
	@set -e; $(AM_TESTS_ENVIRONMENT) list=; \
	for t in $(TESTS); do \
	  if test -f "$$t"; then list="$$list $$t"; \
	  else list="$$list $(srcdir)/$$t"; fi; \
	done; \
	prove --exec '' $$list
.PHONY: check-prove
