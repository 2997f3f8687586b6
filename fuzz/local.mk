## Fuzz targets (configure --enable-fuzzing adds -fsanitize=fuzzer-no-link
## to every object, so the libraries are instrumented too). Each target fuzz/NAME.c defines LLVMFuzzerTestOneInput and
## is built twice:
##  - always, linked with fuzz/replay.c as the test fuzz/NAME-replay, which
##    feeds every file of fuzz/corpus/NAME/ to the target in make check;
##  - with --enable-fuzzing (CC=clang), as the libFuzzer binary fuzz/NAME.
## A module adds a target with, in its own fragment:
##    FUZZ_REPLAY_TESTS += fuzz/NAME-replay
##    fuzz_NAME_replay_SOURCES = fuzz/NAME.c fuzz/replay.c
##    FUZZ_TARGETS += fuzz/NAME            (inside `if ENABLE_FUZZING`)
##    fuzz_NAME_SOURCES = fuzz/NAME.c
##    fuzz_NAME_LDFLAGS = $(FUZZ_LINKFLAGS)
## and its seed corpus under fuzz/corpus/NAME/ (listed in EXTRA_DIST).
FUZZ_REPLAY_TESTS =
check_PROGRAMS += $(FUZZ_REPLAY_TESTS)
TESTS += $(FUZZ_REPLAY_TESTS)
VALGRIND_TESTS += $(FUZZ_REPLAY_TESTS)
if ENABLE_FUZZING
# -no-install: a real executable, not a libtool wrapper script (afl-fuzz
# refuses scripts).
FUZZ_LINKFLAGS = $(GUST_SAN_CFLAGS) -fsanitize=fuzzer -no-install
noinst_PROGRAMS += $(FUZZ_TARGETS)
endif
EXTRA_DIST += fuzz/replay.c

# scripts/check and scripts/fuzz ask the build which targets it has.
print-fuzz-targets:
	@echo $(FUZZ_TARGETS)
.PHONY: print-fuzz-targets

# The header multimap (base layer).
FUZZ_REPLAY_TESTS += fuzz/headers-replay
fuzz_headers_replay_SOURCES = fuzz/headers.c fuzz/replay.c
EXTRA_DIST += fuzz/corpus/headers
if ENABLE_FUZZING
FUZZ_TARGETS += fuzz/headers
fuzz_headers_SOURCES = fuzz/headers.c
fuzz_headers_LDFLAGS = $(FUZZ_LINKFLAGS)
endif
