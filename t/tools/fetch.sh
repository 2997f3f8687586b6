#!/bin/sh
# Tests of gust-fetch against examples/hello: GET, -i, POST -d, a 3 MB
# --data-binary @file echoed into -o, a 404, a refused connection, a
# request timeout, output errors, the command line and the exit statuses;
# redirects, gzip and request headers against a small python3 server.
: "${top_builddir:=.}"
fetch="$top_builddir/tools/gust-fetch"
hello="$top_builddir/examples/hello"
if ! command -v python3 >/dev/null 2>&1; then
  echo "1..0 # SKIP python3 is not installed"
  exit 0
fi
tmp=$(mktemp -d) || exit 1
hpid=
spid=
trap 'test -n "$hpid" && kill -TERM $hpid 2>/dev/null
test -n "$spid" && kill -TERM $spid 2>/dev/null
rm -rf "$tmp"' EXIT
# A bound on every run, so that a hang fails instead of blocking the suite.
limit=
if command -v timeout >/dev/null 2>&1; then
  limit="timeout 300"
fi
n=0

# run ARGS...: runs gust-fetch; stdout in $tmp/out, stderr in $tmp/err,
# exit status in $rc.
run() {
  $limit "$fetch" "$@" >"$tmp/out" 2>"$tmp/err"
  rc=$?
}

# t NAME CONDITION: one test case, passing when the shell CONDITION holds.
t() {
  n=$((n + 1))
  if eval "$2"; then
    echo "ok $n - fetch: $1"
  else
    echo "not ok $n - fetch: $1"
    echo "# exit status $rc; stdout (first lines):"
    head -n 5 "$tmp/out" | sed 's/^/#   /'
    echo "# stderr:"
    sed 's/^/#   /' "$tmp/err"
  fi
}

# wait_line FILE: waits (up to 30 s) until FILE, which a background job
# writes, has a line.
wait_line() {
  i=0
  while ! grep -qs . "$1" && [ $i -lt 300 ]; do
    sleep 0.1
    i=$((i + 1))
  done
}

: >"$tmp/hello.out"
"$hello" -p 0 --host 127.0.0.1 >"$tmp/hello.out" &
hpid=$!
i=0
while ! grep -q '^listening on ' "$tmp/hello.out" && [ $i -lt 300 ]; do
  sleep 0.1
  i=$((i + 1))
done
port=$(sed -n 's/^listening on //p' "$tmp/hello.out")
url="http://127.0.0.1:$port"

run "$url/"
printf 'Hello, World!' >"$tmp/want"
t "GET / writes the body" '[ $rc -eq 0 ] && cmp -s "$tmp/out" "$tmp/want"'

run "127.0.0.1:$port/"
t "a URL without a scheme is http" \
  '[ $rc -eq 0 ] && cmp -s "$tmp/out" "$tmp/want"'

run -o - "$url/"
t "-o - is standard output" '[ $rc -eq 0 ] && cmp -s "$tmp/out" "$tmp/want"'

run -i "$url/"
printf 'HTTP/1.1 200 OK\r\n' >"$tmp/want"
head -n 1 "$tmp/out" >"$tmp/got"
t "-i: status line" '[ $rc -eq 0 ] && cmp -s "$tmp/got" "$tmp/want"'
t "-i: Content-Length header" \
  'tr -d "\r" <"$tmp/out" | grep -qi "^Content-Length: 13\$"'
printf '\r\n\r\nHello, World!' >"$tmp/want"
tail -c 17 "$tmp/out" >"$tmp/got"
t "-i: empty line, then the body" 'cmp -s "$tmp/got" "$tmp/want"'

run -v "$url/"
t "-v: summary, request and response heads on stderr" \
  '[ $rc -eq 0 ] && grep -q "^\* effective URL: $url/\$" "$tmp/err" &&
   grep -q "^> GET / HTTP/1.1\$" "$tmp/err" &&
   grep -q "^> Host: 127.0.0.1:" "$tmp/err" &&
   grep -q "^< HTTP/1.1 200 OK\$" "$tmp/err" &&
   grep -q "^\* connection: new\$" "$tmp/err"'

run -d 'a=1&b=2' "$url/echo"
printf 'a=1&b=2' >"$tmp/want"
t "POST -d echoes" '[ $rc -eq 0 ] && cmp -s "$tmp/out" "$tmp/want"'

run -d a=1 --data b=2 "$url/echo"
t "repeated -d are joined with &" \
  '[ $rc -eq 0 ] && cmp -s "$tmp/out" "$tmp/want"'

printf 'one\ntwo\n\n' >"$tmp/lines"
run -d "@$tmp/lines" "$url/echo"
t "-d @file keeps newlines" '[ $rc -eq 0 ] && cmp -s "$tmp/out" "$tmp/lines"'

head -c 3145728 /dev/urandom >"$tmp/big"
run -s --data-binary "@$tmp/big" -o "$tmp/big.out" "$url/echo"
t "--data-binary @file of 3 MB echoed into -o FILE" \
  '[ $rc -eq 0 ] && cmp -s "$tmp/big" "$tmp/big.out" && ! test -s "$tmp/out"'

# The progress bar: only with -o FILE and stderr on a terminal (a pty
# here); it ends with the total size, 100% and a newline. Without a
# terminal (every run above) stderr stays empty.
python3 - "$fetch" "$url/echo" "$tmp/big" "$tmp/bar.out" >"$tmp/bar" 2>&1 <<'PY'
import os, pty, subprocess, sys, select, time
fetch, url, data, out = sys.argv[1:5]
master, slave = pty.openpty()
p = subprocess.Popen([fetch, "--data-binary", "@" + data, "-o", out, url],
                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                     stderr=slave)
os.close(slave)
got = b""
deadline = time.time() + 300
while time.time() < deadline:
    r, _, _ = select.select([master], [], [], 1.0)
    if r:
        try:
            d = os.read(master, 4096)
        except OSError:
            break
        if not d:
            break
        got += d
    elif p.poll() is not None:
        break
p.wait()
sys.stdout.write("status %d\n" % p.returncode)
sys.stdout.write(got.decode("latin-1").replace("\r", "<CR>"))
PY
t "progress bar on a terminal: drawn and ended with 100% and a newline" \
  'grep -q "^status 0" "$tmp/bar" && grep -q "<CR>.*3.0 MiB / *3.0 MiB 100%" "$tmp/bar" && tail -c 2 "$tmp/bar" | od -c | grep -q "\\n" && cmp -s "$tmp/big" "$tmp/bar.out"'
run -s --data-binary "@$tmp/big" -o "$tmp/big.out" "$url/echo"
t "-s or no terminal: no progress bar" '[ $rc -eq 0 ] && ! test -s "$tmp/err"'

run -X PUT -d x "$url/echo"
printf 'Not Found' >"$tmp/want"
t "-X PUT /echo: 404 gives status 2, body written" \
  '[ $rc -eq 2 ] && cmp -s "$tmp/out" "$tmp/want"'

run "$url/nope"
t "GET 404: status 2" '[ $rc -eq 2 ]'

# A port that was free a moment ago: connecting is refused.
free=$(python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()')
run "http://127.0.0.1:$free/"
t "refused connection: status 3 and a message" \
  '[ $rc -eq 3 ] && grep -q "^gust-fetch: ." "$tmp/err"'

# A server that accepts and never answers (it exits by itself later).
python3 -c 'import socket, signal, sys
signal.alarm(600)
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(16)
print(s.getsockname()[1], flush=True)
conns = []
while True:
    conns.append(s.accept()[0])' >"$tmp/silent.out" &
spid=$!
wait_line "$tmp/silent.out"
sport=$(head -n 1 "$tmp/silent.out")
run --timeout 1 "http://127.0.0.1:$sport/"
t "--timeout against a silent server: status 3, Timeout" \
  '[ $rc -eq 3 ] && grep -q "^gust-fetch: .*Timeout" "$tmp/err"'
kill -TERM $spid
wait $spid 2>/dev/null
spid=

# A server with what hello lacks: a redirect, a gzip body, and a page
# that shows some request headers (it exits by itself later).
cat >"$tmp/srv.py" <<'PY'
import gzip, http.server, signal
signal.alarm(600)
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a):
        pass
    def answer(self, code, body, *headers):
        self.send_response(code)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def do_GET(self):
        if self.path == "/redirect":
            self.answer(302, b"moved", ("Location", "/gzip"))
        elif self.path == "/gzip":
            self.answer(200, gzip.compress(b"hello gzip\n" * 1000),
                        ("Content-Encoding", "gzip"))
        elif self.path == "/show":
            h = self.headers
            self.answer(200, ("%s|%s|%s" % (h["Authorization"],
                        h["User-Agent"], h["X-Test"])).encode())
        else:
            self.answer(404, b"")
s = http.server.HTTPServer(("127.0.0.1", 0), H)
print(s.server_address[1], flush=True)
s.serve_forever()
PY
python3 "$tmp/srv.py" >"$tmp/srv.out" &
spid=$!
wait_line "$tmp/srv.out"
purl="http://127.0.0.1:$(head -n 1 "$tmp/srv.out")"
python3 -c 'import sys; sys.stdout.write("hello gzip\n" * 1000)' \
  >"$tmp/gzip.want"

run -i "$purl/redirect"
t "302 without -L: status 0, the redirect is the response" \
  '[ $rc -eq 0 ] && head -n 1 "$tmp/out" | grep -q "^HTTP/1.1 302 Found" &&
   tail -c 5 "$tmp/out" | grep -q "^moved\$"'

run -L "$purl/redirect"
t "-L follows the redirect, the gzip body is decoded" \
  '[ $rc -eq 0 ] && cmp -s "$tmp/out" "$tmp/gzip.want"'

run -L -i "$purl/redirect"
t "-L -i: both heads" \
  '[ $rc -eq 0 ] && grep -c "^HTTP/1.1 " "$tmp/out" | grep -q "^2\$" &&
   grep -q "^HTTP/1.1 200 OK" "$tmp/out"'

run -L --max-redirs 0 "$purl/redirect"
t "--max-redirs 0: the redirect is not followed" \
  '[ $rc -eq 0 ] && printf moved | cmp -s - "$tmp/out"'

run --no-compressed "$purl/gzip"
t "--no-compressed: the body stays gzip" \
  '[ $rc -eq 0 ] && gzip -dc <"$tmp/out" | cmp -s - "$tmp/gzip.want"'

run -u me:secret -A probe/1 -H '  X-Test :  a b  ' "$purl/show"
printf 'Basic bWU6c2VjcmV0|probe/1|a b' >"$tmp/want"
t "-u, -A and -H reach the server" \
  '[ $rc -eq 0 ] && cmp -s "$tmp/out" "$tmp/want"'
kill -TERM $spid
wait $spid 2>/dev/null
spid=

run -o "$tmp/no/such/dir/out" "$url/"
t "-o into a missing directory: status 4" \
  '[ $rc -eq 4 ] && grep -q "no/such/dir/out" "$tmp/err"'

run --help
t "--help: status 0, usage on stdout" \
  '[ $rc -eq 0 ] && grep -q "^usage: gust-fetch" "$tmp/out"'

run --version
echo "gust-fetch $("$top_builddir/tools/gust-info" --version)" >"$tmp/want"
t "--version" '[ $rc -eq 0 ] && cmp -s "$tmp/out" "$tmp/want"'

run --no-such-option "$url/"
t "unknown long option: status 1" \
  '[ $rc -eq 1 ] && grep -q "unknown option --no-such-option" "$tmp/err"'

run -Z "$url/"
t "unknown short option: status 1" '[ $rc -eq 1 ]'

run "$url/" -X
t "option without its argument: status 1" '[ $rc -eq 1 ]'

run -H 'NoColon' "$url/"
t "-H without a colon: status 1" \
  '[ $rc -eq 1 ] && grep -q "malformed header" "$tmp/err"'

run -H ': value' "$url/"
t "-H with an empty name: status 1" '[ $rc -eq 1 ]'

run --timeout soon "$url/"
t "--timeout that is not a number: status 1" '[ $rc -eq 1 ]'

run
t "no URL: status 1" '[ $rc -eq 1 ]'

run "$url/" "$url/"
t "two URLs: status 1" '[ $rc -eq 1 ]'

run "ftp://127.0.0.1:$port/"
t "a URL that is not http(s): status 1" \
  '[ $rc -eq 1 ] && grep -q "^gust-fetch: ." "$tmp/err"'

run -d "@$tmp/no-such-file" "$url/echo"
t "-d @file that cannot be read: status 1" '[ $rc -eq 1 ]'

kill -TERM $hpid
st=0
wait $hpid || st=$?
hpid=
t "hello exits 0 on SIGTERM" '[ $st -eq 0 ]'
echo "1..$n"
