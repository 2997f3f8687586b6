## libFuzzer targets (--enable-fuzzing) and their corpus replay in make check.
