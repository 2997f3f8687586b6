#!/bin/sh
# TAP test of tools/gust-h1dump on captures: each capture's output is
# compared with the expected one, and so is the exit status.
: "${top_srcdir:=.}" "${top_builddir:=.}"
tool="$top_builddir/tools/gust-h1dump"
dir="$top_srcdir/t/proto/h1dump"
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
n=0
fail=0
check() { # name mode capture status
  "$tool" "$2" "$dir/$3" >"$tmp/out" 2>&1
  st=$?
  if [ "$st" -eq "$4" ]; then
    echo "ok $((n += 1)) - $1: exit status $4"
  else
    echo "not ok $((n += 1)) - $1: exit status $st, want $4"; fail=1
  fi
  if diff -u "$dir/${3%.*}.out" "$tmp/out" >"$tmp/diff"; then
    echo "ok $((n += 1)) - $1: output"
  else
    echo "not ok $((n += 1)) - $1: output"; sed 's/^/# /' "$tmp/diff"; fail=1
  fi
}
check "pipelined requests, chunked with trailers" --request pipelined.req 0
check "CL.TE smuggling attempt" --request clte.req 1
check "responses: length, chunked, until close" --response sequence.resp 0
check "request body cut short" --request truncated.req 1
printf 'GET / HTTP/1.1\r\nHost: a\r\n\r\n' >"$tmp/stdin.req"
if "$tool" <"$tmp/stdin.req" | grep -q '^request GET / HTTP/1.1$'; then
  echo "ok $((n += 1)) - reads standard input"
else
  echo "not ok $((n += 1)) - reads standard input"; fail=1
fi
"$tool" --bogus >/dev/null 2>&1
st=$?
if [ $st -eq 2 ]; then
  echo "ok $((n += 1)) - unknown option: exit status 2"
else
  echo "not ok $((n += 1)) - unknown option: exit status $st"; fail=1
fi
"$tool" "$tmp/does-not-exist" >/dev/null 2>&1
st=$?
if [ $st -eq 2 ]; then
  echo "ok $((n += 1)) - missing file: exit status 2"
else
  echo "not ok $((n += 1)) - missing file: exit status $st"; fail=1
fi
echo "1..$n"
exit $fail
