#!/bin/sh
# examples/hello: GET /, HEAD /, POST /echo (streamed, chunked too), 404,
# keep-alive, and a graceful exit on SIGTERM.
: "${top_builddir:=.}"
hello="$top_builddir/examples/hello"
if ! command -v python3 >/dev/null 2>&1; then
  echo "1..0 # SKIP python3 is not installed"
  exit 0
fi
out=$(mktemp)
"$hello" -p 0 --host 127.0.0.1 >"$out" &
pid=$!
i=0
while ! grep -q '^listening on ' "$out" && [ $i -lt 300 ]; do
  sleep 0.1
  i=$((i + 1))
done
port=$(sed -n 's/^listening on //p' "$out")
python3 - "$port" <<'PY'
import socket, sys, os
port = int(sys.argv[1])
n = 0
def check(cond, name):
    global n
    n += 1
    print(("ok %d - " if cond else "not ok %d - ") % n + name)
def xchg(data, keep=False):
    s = socket.create_connection(("127.0.0.1", port))
    s.settimeout(30)
    s.sendall(data)
    if not keep:
        s.shutdown(socket.SHUT_WR) if False else None
    out = b""
    while True:
        d = s.recv(1 << 20)
        if not d:
            break
        out += d
    s.close()
    return out
r = xchg(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
check(r.startswith(b"HTTP/1.1 200 ") and r.endswith(b"\r\n\r\nHello, World!"), "GET / says hello")
check(b"Content-Type: text/plain\r\n" in r, "GET /: text/plain")
r = xchg(b"HEAD / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
check(r.startswith(b"HTTP/1.1 200 ") and r.endswith(b"\r\n\r\n") and b"Content-Length: 13" in r, "HEAD /: head only")
body = os.urandom(300000)
r = xchg(b"POST /echo HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
check(r.startswith(b"HTTP/1.1 200 ") and r.endswith(body), "POST /echo echoes 300000 bytes")
r = xchg(b"POST /echo HTTP/1.1\r\nHost: x\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n")
check(r.startswith(b"HTTP/1.1 200 ") and b"hello" in r and b" world" in r and r.endswith(b"0\r\n\r\n"), "POST /echo chunked")
r = xchg(b"GET /nope HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
check(r.startswith(b"HTTP/1.1 404 "), "404 otherwise")
r = xchg(b"GET / HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
check(r.count(b"Hello, World!") == 2, "keep-alive: two answers on one connection")
PY
kill -TERM $pid
st=0
wait $pid || st=$?
if [ $st -eq 0 ]; then echo "ok 8 - exits 0 on SIGTERM"; else echo "not ok 8 - exits 0 on SIGTERM (status $st)"; fi
# multi-process: shared sockets, two workers
"$hello" -p 0 --host 127.0.0.1 --workers 2 >"$out" &
pid=$!
i=0
while ! grep -q '^listening on ' "$out" && [ $i -lt 300 ]; do
  sleep 0.1
  i=$((i + 1))
done
port=$(sed -n 's/^listening on //p' "$out")
r=$(python3 - "$port" <<'PY'
import socket, sys, time
port = int(sys.argv[1])
for i in range(50):
    try:
        s = socket.create_connection(("127.0.0.1", port))
        s.settimeout(30)
        s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        out = b""
        while True:
            d = s.recv(65536)
            if not d:
                break
            out += d
        print("yes" if out.endswith(b"Hello, World!") else "no")
        break
    except ConnectionRefusedError:
        time.sleep(0.1)
PY
)
if [ "$r" = yes ]; then echo "ok 9 - --workers 2: served"; else echo "not ok 9 - --workers 2: served"; fi
kill -TERM $pid
st=0
wait $pid || st=$?
if [ $st -eq 0 ]; then echo "ok 10 - --workers: exits 0 on SIGTERM"; else echo "not ok 10 - --workers: exits 0 on SIGTERM (status $st)"; fi
rm -f "$out"
echo "1..10"
