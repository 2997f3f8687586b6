#!/bin/sh
# Interop: gust's HTTP client (tools/gust-fetch, t/interop/client_tool)
# against a Tornado app (t/interop/httpclient_tornado_server.py, Debian's
# python3-tornado run by /usr/bin/python3): GET, HEAD, POST bodies and the
# request headers the client sends, Basic authentication, 100-continue, a
# 20 MB streamed upload, compress_response gzip, chunked responses,
# redirects, errors, keep-alive reuse and a request timeout.
# Without Tornado or the programs the test skips, except under CI=true
# where it fails.
. "${top_srcdir:-.}/t/interop/httpserver_common.sh"
. "$top_srcdir/t/interop/httpclient_common.sh"

[ -x "$py" ] && "$py" -c 'import tornado.web' 2>/dev/null ||
  skip_all "python3-tornado for /usr/bin/python3 not installed"
[ -x "$client_tool" ] || skip_all "t/interop/client_tool not built"

# field KEY: a field of the JSON in $out ("headers.User-Agent"); None when
# absent.
field() {
  "$py" -c 'import json, sys
d = json.load(open(sys.argv[1], encoding="latin-1"))
for k in sys.argv[2].split("."):
    d = d.get(k) if isinstance(d, dict) else None
print(d)' "$out" "$1" 2>/dev/null
}

heads() { tr -d '\r' <"$out"; }
last_status() { heads | grep '^HTTP/1.1 ' | tail -n 1; }

start_server tornado "$py" "$top_srcdir/t/interop/httpclient_tornado_server.py"
url=http://127.0.0.1:$port
diag "Tornado $("$py" -c 'import tornado; print(tornado.version)') on port $port"

run "$url/hello"
t "GET /hello" '[ $rc -eq 0 ] && [ "$(cat "$out")" = "Hello, World!" ]'
run -X HEAD -i "$url/hello"
t "HEAD /hello: 200, Content-Length 13, no body" \
  '[ $rc -eq 0 ] && [ "$(last_status)" = "HTTP/1.1 200 OK" ] &&
   heads | grep -qi "^Content-Length: 13\$" &&
   [ "$(tail -c 4 "$out" | od -An -tx1 | tr -d " ")" = 0d0a0d0a ]'
run "$url/missing"
t "404: exit 2" '[ $rc -eq 2 ]'
run "$url/status/500"
t "500: exit 2" '[ $rc -eq 2 ]'

# What the client sends.
run -d 'a=1&b=2' "$url/echo"
t "POST -d: method and body echoed" \
  '[ $rc -eq 0 ] && [ "$(field method)" = POST ] && [ "$(field body)" = "a=1&b=2" ]'
t "POST -d: Content-Type application/x-www-form-urlencoded, Content-Length 7, no Transfer-Encoding" \
  '[ "$(field headers.Content-Type)" = application/x-www-form-urlencoded ] &&
   [ "$(field headers.Content-Length)" = 7 ] &&
   [ "$(field headers.Transfer-Encoding)" = None ]'
t "default User-Agent gust/VERSION, Accept-Encoding gzip" \
  'field headers.User-Agent | grep -q "^gust/" &&
   [ "$(field headers.Accept-Encoding)" = gzip ]'
run -A 'gust-interop/1.0' -H 'Content-Type: application/json' \
  -H 'X-Test: a value' -d '{"k": 1}' "$url/echo"
t "-A, -H Content-Type and a custom header are sent" \
  '[ $rc -eq 0 ] && [ "$(field headers.User-Agent)" = gust-interop/1.0 ] &&
   [ "$(field headers.Content-Type)" = application/json ] &&
   [ "$(field headers.X-Test)" = "a value" ] && [ "$(field body)" = "{\"k\": 1}" ]'
run --no-compressed "$url/echo"
t "--no-compressed: no Accept-Encoding" \
  '[ $rc -eq 0 ] && [ "$(field method)" = GET ] &&
   [ "$(field headers.Accept-Encoding)" = None ]'
run -X PUT -d '' "$url/echo"
t "PUT with an empty body: Content-Length 0" \
  '[ $rc -eq 0 ] && [ "$(field method)" = PUT ] && [ "$(field headers.Content-Length)" = 0 ]'
run -X DELETE "$url/echo"
t "DELETE" '[ $rc -eq 0 ] && [ "$(field method)" = DELETE ]'

# Authentication.
run -u 'user:pa:ss' "$url/auth"
t "-u: Tornado decodes the Basic credentials (password with a colon)" \
  '[ $rc -eq 0 ] && [ "$(cat "$out")" = "user=user password=pa:ss" ]'
run -u 'user:pa:ss' "$url/echo"
t "-u: Authorization: Basic dXNlcjpwYTpzcw==" \
  '[ "$(field headers.Authorization)" = "Basic dXNlcjpwYTpzcw==" ]'
run "$url/auth"
t "no -u: 401, exit 2" '[ $rc -eq 2 ]'

# Bodies.
head -c 1048576 /dev/urandom >"$hs_tmp/mib"
mib_sha=$(sha256sum "$hs_tmp/mib" | cut -d' ' -f1)
run --expect-100 -X PUT --data-binary "@$hs_tmp/mib" "$url/echo"
t "--expect-100: 1 MiB PUT after Tornado's 100 Continue" \
  '[ $rc -eq 0 ] && [ "$(field headers.Expect)" = 100-continue ] &&
   [ "$(field length)" = 1048576 ] && [ "$(field sha256)" = "$mib_sha" ]'
head -c 20971520 /dev/urandom >"$hs_tmp/upload"
up_sha=$(sha256sum "$hs_tmp/upload" | cut -d' ' -f1)
run -s --data-binary "@$hs_tmp/upload" "$url/upload"
t "20 MB --data-binary to a @stream_request_body handler: count and SHA-256" \
  '[ $rc -eq 0 ] && [ "$(cat "$out")" = "20971520 $up_sha" ]'

# Responses.
"$py" -c 'import sys
sys.stdout.write("".join("line %d of a text that Tornado compresses\n" % i
                         for i in range(50000)))' >"$hs_tmp/big.want"
run -s -i -o "$hs_tmp/big.head" "$url/big"
sed '1,/^\r$/d' "$hs_tmp/big.head" >"$hs_tmp/big.got"
t "compress_response: the decoded body equals the text" \
  '[ $rc -eq 0 ] && cmp -s "$hs_tmp/big.got" "$hs_tmp/big.want"'
t "compress_response: Tornado sent Content-Encoding: gzip" \
  'tr -d "\r" <"$hs_tmp/big.head" | sed "/^\$/q" | grep -qi "^Content-Encoding: gzip\$"'
run -s --no-compressed -o "$hs_tmp/big.plain" "$url/big"
t "--no-compressed: Tornado sends the text as is" \
  '[ $rc -eq 0 ] && cmp -s "$hs_tmp/big.plain" "$hs_tmp/big.want"'
run -s --no-compressed -H 'Accept-Encoding: gzip' -o "$hs_tmp/big.gz" "$url/big"
t "--no-compressed with Accept-Encoding: gzip: the gzip bytes" \
  '[ $rc -eq 0 ] && [ "$(head -c 2 "$hs_tmp/big.gz" | od -An -tx1 | tr -d " ")" = 1f8b ] &&
   gzip -dc <"$hs_tmp/big.gz" | cmp -s - "$hs_tmp/big.want"'
"$py" -c 'import sys
sys.stdout.write("".join(("piece %d\n" % i) * 100 for i in range(100)))' \
  >"$hs_tmp/chunked.want"
run -s -i "$url/chunked"
t "a chunked response from flushed writes" \
  '[ $rc -eq 0 ] && heads | grep -qi "^Transfer-Encoding: chunked\$" &&
   sed "1,/^\r\$/d" "$out" | cmp -s - "$hs_tmp/chunked.want"'
# Tornado's client reads it as an empty body.
run -s "$url/emptygzip"
t "Content-Encoding: gzip with an empty body: exit 0, empty" \
  '[ $rc -eq 0 ] && [ ! -s "$out" ]'

# Redirects.
run -i "$url/redirect"
t "302 without -L: exit 0, Location /hello" \
  '[ $rc -eq 0 ] && [ "$(last_status)" = "HTTP/1.1 302 Found" ] &&
   heads | grep -qi "^Location: /hello\$"'
run -L "$url/redirect"
t "302 with -L: /hello" '[ $rc -eq 0 ] && [ "$(cat "$out")" = "Hello, World!" ]'
run -L -d x "$url/redirect"
t "POST through a 302 becomes GET" \
  '[ $rc -eq 0 ] && [ "$(cat "$out")" = "Hello, World!" ]'
run -L -d 'kept=1' "$url/redirect307"
t "POST through a 307 keeps the method and the body" \
  '[ $rc -eq 0 ] && [ "$(field method)" = POST ] && [ "$(field body)" = kept=1 ]'

# Keep-alive: five requests on one client, one Tornado connection.
timeout 300 "$client_tool" "$url/conn" "$url/conn" "$url/conn" "$url/conn" \
  "$url/conn" >"$out" 2>"$err"
rc=$?
sed 's/^/# client_tool: /' "$out"
t "client_tool: 5 requests, one client port seen by Tornado" \
  '[ $rc -eq 0 ] && [ "$(head -n 5 "$out" | cut -d" " -f4 | sort -u | wc -l)" -eq 1 ]'
t "client_tool: the first on a new connection, 4 reused; 1 connect, 4 reuses" \
  '[ "$(cut -d" " -f3 "$out" | head -n 5 | tr "\n" " ")" = "reused=0 reused=1 reused=1 reused=1 reused=1 " ] &&
   [ "$(tail -n 1 "$out")" = "connects 1 reuses 4" ]'

# Timeout.
run --timeout 1 "$url/slow"
t "--timeout 1 on a handler that answers after 5 s: exit 3, Timeout" \
  '[ $rc -eq 3 ] && grep -q "^gust-fetch: .*Timeout" "$err"'
run "$url/hello"
t "the server still answers after the timed-out request" \
  '[ $rc -eq 0 ] && [ "$(cat "$out")" = "Hello, World!" ]'

stop_server
is "$server_status" 0 "SIGTERM: the Tornado app exits 0"
done_testing
