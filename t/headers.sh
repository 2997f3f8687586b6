#!/bin/sh
# Compiles every public header on its own (as the first and only include of
# a translation unit), in C and with the strict warning set, so that each
# header carries its own includes.
: "${top_srcdir:=.}" "${top_builddir:=.}" "${CC:=cc}"
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
n=0
fail=0
for h in "$top_srcdir"/include/gust/*.h "$top_builddir"/include/gust/version.h; do
  [ -f "$h" ] || continue
  name=$(basename "$h")
  printf '#include <gust/%s>\n#include <gust/%s>\nint gust_header_test_dummy(void);\nint gust_header_test_dummy(void) { return 0; }\n' "$name" "$name" > "$tmp/t.c"
  if $CC -std=c99 -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
      -Wvla -Wpedantic -Werror -I"$top_srcdir/include" -I"$top_builddir/include" \
      -c "$tmp/t.c" -o "$tmp/t.o" 2> "$tmp/err"; then
    echo "ok $((n += 1)) - gust/$name compiles on its own (C99, included twice)"
  else
    echo "not ok $((n += 1)) - gust/$name compiles on its own (C99, included twice)"
    sed 's/^/# /' "$tmp/err"
    fail=1
  fi
done
if [ $n -eq 0 ]; then
  echo "not ok 1 - no public header found"; n=1; fail=1
fi
echo "1..$n"
exit $fail
