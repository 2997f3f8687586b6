#!/bin/sh
# Interop: curl against examples/hello over loopback: GET, HEAD, POST /echo
# (small, 1 MiB with Expect: 100-continue, chunked), 404, several URLs on one
# kept-alive connection, HTTP/1.0 with and without keep-alive, and a
# graceful exit on SIGTERM.
# Without curl or examples/hello the test skips, except under CI=true where
# it fails.
. "${top_srcdir:-.}/t/interop/httpserver_common.sh"

command -v curl >/dev/null 2>&1 || skip_all "curl not installed"
[ -x "$hello" ] || skip_all "examples/hello not built"

start_server hello "$hello" -p 0 --host 127.0.0.1
base=http://127.0.0.1:$port
c() { curl -sS --max-time 60 "$@"; }

# GET /
body=$(c -D "$hs_tmp/h" "$base/")
is "$body" "Hello, World!" "GET / body"
is "$(sed -n '1s/\r$//p' "$hs_tmp/h")" "HTTP/1.1 200 OK" "GET / status line"
check "GET / is text/plain" grep -qi '^content-type: text/plain' "$hs_tmp/h"
check "GET / has Content-Length: 13" grep -qi '^content-length: 13' "$hs_tmp/h"

# HEAD /
c -I -o "$hs_tmp/head" "$base/"
is "$(sed -n '1s/\r$//p' "$hs_tmp/head")" "HTTP/1.1 200 OK" "HEAD / status line"
check "HEAD / announces the GET length" grep -qi '^content-length: 13' "$hs_tmp/head"
# No body follows a HEAD answer: the next response on the connection parses.
got=$(c -I -o /dev/null "$base/" --next -sS --max-time 60 -o "$hs_tmp/after" \
  -w '%{http_code}:%{num_connects}' "$base/")
is "$got:$(cat "$hs_tmp/after")" "200:0:Hello, World!" \
  "HEAD / sends no body (GET after it on the same connection)"

# POST /echo
is "$(c --data-binary 'some data=1&x' "$base/echo")" "some data=1&x" \
  "POST /echo echoes a small body"
head -c 1048576 /dev/urandom >"$hs_tmp/mib"
c -H 'Expect: 100-continue' --data-binary @"$hs_tmp/mib" -o "$hs_tmp/mib.out" \
  -D "$hs_tmp/mib.h" "$base/echo"
check "POST /echo echoes 1 MiB (Expect: 100-continue)" cmp -s "$hs_tmp/mib" "$hs_tmp/mib.out"
check "100-continue was sent before the body" grep -q '^HTTP/1.1 100' "$hs_tmp/mib.h"
head -c 300000 /dev/urandom >"$hs_tmp/chunked"
c -H 'Transfer-Encoding: chunked' --data-binary @"$hs_tmp/chunked" \
  -o "$hs_tmp/chunked.out" "$base/echo"
check "POST /echo echoes a chunked body" cmp -s "$hs_tmp/chunked" "$hs_tmp/chunked.out"
is "$(c --data-binary '' -o /dev/null -w '%{http_code} %{size_download}' "$base/echo")" \
  "200 0" "POST /echo with an empty body"

# 404
is "$(c -o /dev/null -w '%{http_code}' "$base/nope")" 404 "GET /nope is 404"
is "$(c -o /dev/null -w '%{http_code}' "$base/echo")" 404 "GET /echo is 404"

# One connection for several URLs: a new connect only for the first; then a
# POST on it too (--next keeps the connection).
got=$(c -o /dev/null -o /dev/null -o /dev/null -o /dev/null \
  -w '%{http_code}:%{num_connects} ' \
  "$base/" "$base/nope" "$base/" "$base/?a=1")
is "$got" "200:1 404:0 200:0 200:0 " "curl reuses one keep-alive connection"
got=$(c -o /dev/null -w '%{http_code}:%{num_connects} ' "$base/" \
  --next -sS --max-time 60 -o "$hs_tmp/e" -d posted -w '%{http_code}:%{num_connects} ' \
  "$base/echo" --next -sS --max-time 60 -o /dev/null -w '%{http_code}:%{num_connects}' "$base/")
is "$got:$(cat "$hs_tmp/e")" "200:1 200:0 200:0:posted" \
  "GET, POST /echo, GET on one connection"

# HTTP/1.0: closed after each response, unless keep-alive is asked for.
body=$(c -0 -D "$hs_tmp/h10" "$base/")
is "$body" "Hello, World!" "HTTP/1.0 GET / body"
check "HTTP/1.0 GET / has Content-Length" grep -qi '^content-length: 13' "$hs_tmp/h10"
is "$(c -0 -o /dev/null -o /dev/null -w '%{http_code}:%{num_connects} ' "$base/" "$base/")" \
  "200:1 200:1 " "HTTP/1.0 connections are not reused"
is "$(c -0 -H 'Connection: keep-alive' -o /dev/null -o /dev/null \
  -w '%{http_code}:%{num_connects} ' "$base/" "$base/")" \
  "200:1 200:0 " "HTTP/1.0 with Connection: keep-alive is reused"
is "$(c -0 --data-binary 'ten bytes!' "$base/echo")" "ten bytes!" \
  "HTTP/1.0 POST /echo"

# Graceful shutdown.
stop_server
is "$server_status" 0 "SIGTERM: examples/hello exits 0"

done_testing
