#!/bin/sh
# Keeps doc/guide.md honest: every ```c block in it is pulled out, compiled
# against the public headers with -Wall -Wextra -Werror, and each block
# holding a main() is linked against the built libraries too.
: "${top_srcdir:=.}" "${top_builddir:=.}" "${CC:=cc}"
guide="$top_srcdir/doc/guide.md"
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
n=0
fail=0

# Split the guide: block K goes to $tmp/block-K.c, with its first line
# number in $tmp/block-K.line.
awk -v dir="$tmp" '
  /^```c[ \t]*$/ { k++; file = sprintf("%s/block-%02d.c", dir, k);
                   print NR + 1 > (file ".line"); close(file ".line");
                   inside = 1; next }
  /^```/ && inside { inside = 0; close(file); next }
  inside { print > file }
' "$guide"

blocks=$(ls "$tmp"/block-*.c 2> /dev/null)
if [ -z "$blocks" ]; then
  echo "not ok 1 - guide: has C samples"
  echo "1..1"
  exit 1
fi

# the sanitizer or coverage flags the libraries were built with, if any,
# are needed to link against them
cflags="-std=c11 -D_POSIX_C_SOURCE=200809L -Wall -Wextra -Werror"
cflags="$cflags ${GUST_SAN_CFLAGS:-}"
cflags="$cflags -I$top_srcdir/include -I$top_builddir/include"
for b in $blocks; do
  line=$(cat "$b.line")
  obj="${b%.c}.o"
  n=$((n + 1))
  if $CC $cflags -c "$b" -o "$obj" > "$b.err" 2>&1; then
    echo "ok $n - guide: sample at line $line compiles"
  else
    echo "not ok $n - guide: sample at line $line compiles"
    sed 's/^/#   /' "$b.err"
    fail=1
    continue
  fi
  if grep -q '^int main(' "$b"; then
    n=$((n + 1))
    if "$top_builddir/libtool" --quiet --mode=link $CC ${GUST_SAN_CFLAGS:-} \
      -o "${b%.c}" "$obj" \
      "$top_builddir/libgust-testing.la" "$top_builddir/libgust.la" \
      "$top_builddir/libgust-proto.la" > "$b.err" 2>&1; then
      echo "ok $n - guide: program at line $line links"
    else
      echo "not ok $n - guide: program at line $line links"
      sed 's/^/#   /' "$b.err"
      fail=1
    fi
  fi
done

echo "1..$n"
exit $fail
