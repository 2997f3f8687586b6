#!/bin/sh
# Tests of gust-wsdump: frame, message and error lines, both roles,
# permessage-deflate, and the exit status.
: "${top_builddir:=.}"
tool="$top_builddir/tools/gust-wsdump"
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
n=0
fail=0

# check NAME WANT-STATUS WANT-OUTPUT PRINTF-INPUT ARGS...
check() {
  name=$1 want_rc=$2 want=$3 input=$4
  shift 4
  printf "$input" > "$tmp/in"
  "$tool" "$@" "$tmp/in" > "$tmp/out" 2> "$tmp/err"
  rc=$?
  printf '%s\n' "$want" > "$tmp/want"
  n=$((n + 1))
  if [ "$rc" -eq "$want_rc" ] && cmp -s "$tmp/out" "$tmp/want"; then
    echo "ok $n - wsdump: $name"
  else
    echo "not ok $n - wsdump: $name"
    echo "# exit status $rc, wanted $want_rc; output:"
    sed 's/^/#   /' "$tmp/out"
    echo "# wanted:"
    sed 's/^/#   /' "$tmp/want"
    fail=1
  fi
}

check "RFC unmasked text from a server" 0 \
'frame 0 at offset 0: FIN text 5 bytes
message text 5 bytes "Hello"' \
'\201\005Hello' --from-server

check "RFC masked text from a client" 0 \
'frame 0 at offset 0: FIN text 5 bytes mask 37fa213d
message text 5 bytes "Hello"' \
'\201\205\067\372\041\075\177\237\115\121\130' --from-client

check "client is the default role" 0 \
'frame 0 at offset 0: FIN text 5 bytes mask 37fa213d
message text 5 bytes "Hello"' \
'\201\205\067\372\041\075\177\237\115\121\130'

check "fragments, ping and close" 0 \
'frame 0 at offset 0: text 3 bytes
frame 1 at offset 5: FIN ping 1 bytes
ping 1 bytes "p"
frame 2 at offset 8: FIN continuation 2 bytes
message text 5 bytes "Hello"
frame 3 at offset 12: FIN close 4 bytes
close 1000 "ok"' \
'\001\003Hel\211\001p\200\002lo\210\004\003\350ok' --from-server

check "unmasked frame from a client is an error" 1 \
'frame 0 at offset 0: FIN text 5 bytes
error 1002 at offset 0: unmasked frame from a client' \
'\201\005Hello' --from-client

check "invalid UTF-8 with its offset" 1 \
'frame 0 at offset 0: FIN text 3 bytes
error 1007 at offset 4: invalid UTF-8 in text message' \
'\201\003ab\377' --from-server

check "non-minimal length" 1 \
'frame 0 at offset 0: invalid payload length encoding
error 1002 at offset 1: invalid payload length encoding' \
'\202\176\000\005hello' --from-server

check "input ends inside a frame" 1 \
'frame 0 at offset 0: FIN text 5 bytes
error: input ends inside a frame at offset 5' \
'\201\005Hel' --from-server

check "permessage-deflate" 0 \
'frame 0 at offset 0: FIN RSV1 text 7 bytes
message text 5 bytes "Hello"' \
'\301\007\362\110\315\311\311\007\000' --from-server --deflate

check "RSV1 without --deflate" 1 \
'frame 0 at offset 0: FIN RSV1 text 7 bytes
error 1002 at offset 0: RSV bit set without a negotiated extension' \
'\301\007\362\110\315\311\311\007\000' --from-server

"$tool" --bogus > /dev/null 2>&1
rc=$?
n=$((n + 1))
if [ "$rc" -eq 2 ]; then
  echo "ok $n - wsdump: unknown option exits 2"
else
  echo "not ok $n - wsdump: unknown option exits 2 (got $rc)"
  fail=1
fi

printf '\201\005Hello' | "$tool" --from-server - > "$tmp/out"
n=$((n + 1))
if grep -q 'message text 5 bytes "Hello"' "$tmp/out"; then
  echo "ok $n - wsdump: reads standard input"
else
  echo "not ok $n - wsdump: reads standard input"
  fail=1
fi

echo "1..$n"
exit $fail
