#!/bin/sh
# examples/poll-server black-box over loopback: t/examples/poll_server.py
# drives it with raw sockets and python3-websockets (HTTP keep-alive,
# pipelining, chunked bodies, errors, WebSocket echo, deflate, close codes,
# concurrency, idle timeout, SIGTERM), and this script first checks that the
# binary needs no gust library but libgust-proto.
. "${top_srcdir:-.}/t/examples/common.sh"

server=$top_builddir/examples/poll-server/poll-server
[ -x "$server" ] ||
  skip_all "examples/poll-server/poll-server not built (make examples/poll-server/poll-server)"
need_python

# The example links the Sans-IO core only: its dynamic dependencies name no
# other gust library, and every gust_ symbol it imports is one that
# libgust-proto exports.
n=0
fail=0
check() { # check OK DESCRIPTION [DIAG]
  n=$((n + 1))
  if [ "$1" = 0 ]; then
    echo "ok $n - $2"
  else
    echo "not ok $n - $2"
    [ -n "${3:-}" ] && printf '%s\n' "$3" | sed 's/^/# /'
    fail=1
  fi
}
if command -v readelf >/dev/null 2>&1; then
  needed=$(readelf -d "$server" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
  bad=$(printf '%s\n' "$needed" | grep '^libgust' | grep -v '^libgust-proto\.')
  [ -z "$bad" ]
  check $? "links: no gust library but libgust-proto is needed" "$bad"
else
  check 0 "links: # SKIP readelf not found"
fi
proto=$top_builddir/.libs/libgust-proto.so
# libtool's NM may carry options ("nm -B"): split it, never quote it
: "${NM:=nm}"
if [ -f "$proto" ] && command -v "${NM%% *}" >/dev/null 2>&1; then
  tmp=$(mktemp -d) || exit 1
  trap 'rm -rf "$tmp"' EXIT
  $NM -D --defined-only "$proto" | awk '{print $NF}' |
    sed 's/@.*//' | sort -u > "$tmp/exported"
  $NM -u "$server" | awk '{print $NF}' | sed 's/@.*//' |
    grep '^gust_' | sort -u > "$tmp/imported"
  missing=$(comm -23 "$tmp/imported" "$tmp/exported")
  [ -s "$tmp/imported" ] && [ -z "$missing" ]
  check $? "links: every gust_ symbol used comes from libgust-proto" \
    "not in libgust-proto: $missing"
else
  check 0 "links: symbols # SKIP no shared libgust-proto or nm"
fi

run_bounded 240 "$py" "$top_srcdir/t/examples/poll_server.py" "$server" "$n"
rc=$?
[ $fail -ne 0 ] && exit 1
exit $rc
