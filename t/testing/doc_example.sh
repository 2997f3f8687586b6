#!/bin/sh
# Asserts that doc/testing.md shows the files of its example exactly as
# they are built and run by make check (examples/testing/): each file is
# the fenced block that follows a "<!-- examples/testing/NAME -->" line.
: "${top_srcdir:=.}"
doc="$top_srcdir/doc/testing.md"
n=0
fail=0
tmp=$(mktemp) || exit 1
trap 'rm -f "$tmp"' EXIT
for f in examples/testing/hello_handler.h examples/testing/hello_handler.c \
         examples/testing/hello_test.c; do
  awk -v marker="<!-- $f -->" '
    $0 == marker { want = 1; next }
    want == 1 && /^```/ { want = 2; next }
    want == 2 && /^```$/ { exit }
    want == 2 { print }
  ' "$doc" > "$tmp"
  if [ -s "$tmp" ] && cmp -s "$tmp" "$top_srcdir/$f"; then
    echo "ok $((n += 1)) - doc/testing.md shows $f as it is"
  else
    echo "not ok $((n += 1)) - doc/testing.md shows $f as it is"
    diff "$top_srcdir/$f" "$tmp" | sed 's/^/# /' | head -40
    fail=1
  fi
done
echo "1..$n"
exit $fail
