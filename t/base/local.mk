## Tests of the base layer, one program per source file (linked with the
## default LDADD: the TAP library and both gust libraries).
BASE_TESTS = t/base/error t/base/mem t/base/slice t/base/buf \
	t/base/headers t/base/log t/base/crypto t/base/version
check_PROGRAMS += $(BASE_TESTS)
TESTS += $(BASE_TESTS)
