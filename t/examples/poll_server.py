"""Black-box tests of examples/poll-server over loopback (TAP).

usage: poll_server.py SERVER_BINARY [TESTS_ALREADY_PRINTED]

Starts the server on an ephemeral port and talks to it with raw sockets
(HTTP/1.1 framing is checked byte-exactly where it matters) and with the
`websockets` client. Every wait is bounded by a generous timeout; nothing
depends on how fast the server answers.
"""

import asyncio
import os
import signal
import socket
import subprocess
import sys

import websockets

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir))
import tap  # noqa: E402  (t/tap.py)
from tap import ok  # noqa: E402

tap.start(int(sys.argv[2]) if len(sys.argv) > 2 else 0)

TIMEOUT = 30.0
MAX_BODY = 65536



def start(*args):
    proc = subprocess.Popen([sys.argv[1], "-p", "0"] + list(args),
                            stdout=subprocess.PIPE, text=True)
    line = proc.stdout.readline()
    prefix = "poll-server: listening on http://127.0.0.1:"
    if not line.startswith(prefix):
        print("Bail out! unexpected first line: %r" % line)
        proc.kill()
        sys.exit(1)
    return proc, int(line[len(prefix):].rstrip("/\n"))


class Conn:
    """A raw HTTP/1.1 client connection that parses responses itself."""

    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), TIMEOUT)
        self.sock.settimeout(TIMEOUT)
        self.buf = b""

    def send(self, data):
        self.sock.sendall(data)

    def _fill(self):
        data = self.sock.recv(65536)
        if not data:
            raise EOFError("connection closed")
        self.buf += data

    def _line(self):
        while b"\r\n" not in self.buf:
            self._fill()
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def _take(self, n):
        while len(self.buf) < n:
            self._fill()
        data, self.buf = self.buf[:n], self.buf[n:]
        return data

    def response(self):
        """Returns (status, headers dict with lowercase names, body)."""
        status = int(self._line().split(b" ")[1])
        headers = {}
        while True:
            line = self._line()
            if not line:
                break
            name, value = line.split(b":", 1)
            headers[name.strip().lower().decode()] = value.strip().decode()
        if status == 100 or status == 101:
            return status, headers, b""
        if headers.get("transfer-encoding") == "chunked":
            body = b""
            while True:
                size = int(self._line().split(b";")[0], 16)
                if size == 0:
                    while self._line():
                        pass
                    break
                body += self._take(size)
                self._take(2)
        else:
            body = self._take(int(headers.get("content-length", "0")))
        return status, headers, body

    def at_eof(self):
        """True once the server closed the connection (all data read)."""
        try:
            while True:
                self._fill()
        except EOFError:
            return True
        except socket.timeout:
            return False  # still open after TIMEOUT seconds
        except OSError:
            return True  # reset: closed all the same

    def close(self):
        self.sock.close()


def get(path, host="x"):
    return ("GET %s HTTP/1.1\r\nHost: %s\r\n\r\n" % (path, host)).encode()


def post(path, body):
    return (b"POST " + path.encode() + b" HTTP/1.1\r\nHost: x\r\n"
            b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)


def http_tests(port):
    c = Conn(port)
    c.send(get("/"))
    st, h, body = c.response()
    ok(st == 200 and h.get("content-type", "").startswith("text/html")
       and b"new WebSocket" in body, "GET / serves the page", (st, h))

    for i in range(3):
        c.send(post("/echo", b"round %d" % i))
        st, h, body = c.response()
        ok(st == 200 and body == b"round %d" % i,
           "keep-alive: request %d answered on the same connection" % (i + 2),
           (st, body))
    c.close()

    c = Conn(port)
    c.send(get("/") + post("/echo", b"second") + get("/missing") +
           post("/echo", b"fourth"))
    answers = [c.response() for _ in range(4)]
    ok([a[0] for a in answers] == [200, 200, 404, 200] and
       answers[1][2] == b"second" and answers[3][2] == b"fourth",
       "pipelining: four requests in one write answered in order",
       [(a[0], a[2][:20]) for a in answers])
    c.close()

    c = Conn(port)
    many = b"".join(post("/echo", b"%d" % i) for i in range(500))
    c.send(many)
    bodies = [c.response()[2] for _ in range(500)]
    ok(bodies == [b"%d" % i for i in range(500)],
       "pipelining: 500 requests written before any answer is read")
    c.close()

    c = Conn(port)
    c.send(b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
           b"\r\n5\r\nhello\r\n1;ext=1\r\n,\r\n6\r\n world\r\n0\r\n"
           b"Trailer: yes\r\n\r\n")
    st, h, body = c.response()
    ok(st == 200 and body == b"hello, world", "chunked POST is echoed",
       (st, body))
    c.send(get("/"))
    ok(c.response()[0] == 200, "chunked: the connection is reused after it")
    c.close()

    c = Conn(port)
    c.send(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n"
           b"Expect: 100-continue\r\n\r\n")
    st1 = c.response()[0]
    c.send(b"body")
    st2, _, body = c.response()
    ok(st1 == 100 and st2 == 200 and body == b"body",
       "Expect: 100-continue gets 100 before the body", (st1, st2, body))
    c.close()

    c = Conn(port)
    c.send(b"GET / HTTP/1.1\r\nHost: x\r\nNo colon here\r\n\r\n")
    st, h, _ = c.response()
    ok(st == 400 and h.get("connection") == "close",
       "malformed head: 400 with Connection: close", (st, h))
    ok(c.at_eof(), "malformed head: the server closes the connection")
    c.close()

    c = Conn(port)
    c.send(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n"
           % (MAX_BODY + 1))
    st, _, _ = c.response()
    ok(st == 413, "Content-Length over the limit: 413", st)
    ok(c.at_eof(), "413: the server closes the connection")
    c.close()

    c = Conn(port)
    c.send(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n"
           b"Expect: 100-continue\r\n\r\n" % (MAX_BODY + 1))
    st, _, _ = c.response()
    ok(st == 413, "Expect: 100-continue over the limit: 413, no 100 first",
       st)
    c.close()

    c = Conn(port)
    chunk = b"%x\r\n" % 40000 + b"a" * 40000 + b"\r\n"
    c.send(b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
           b"\r\n" + chunk * 2)
    st, _, _ = c.response()
    ok(st == 413, "chunked body over the limit: 413", st)
    c.close()

    c = Conn(port)
    c.send(b"GET /" + b"a" * 10000 + b" HTTP/1.1\r\nHost: x\r\n\r\n")
    st = c.response()[0]
    ok(st == 414, "request-target over 8192 bytes: 414", st)
    c.close()

    c = Conn(port)
    c.send(b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"b" * 70000 +
           b"\r\n\r\n")
    st = c.response()[0]
    ok(st == 431, "head over 64 KiB: 431", st)
    c.close()

    c = Conn(port)
    c.send(b"DELETE / HTTP/1.1\r\nHost: x\r\n\r\n")
    st, h, _ = c.response()
    ok(st == 405 and "allow" in h, "DELETE /: 405 with Allow", (st, h))
    c.send(b"GET /ws HTTP/1.1\r\nHost: x\r\n\r\n")
    st, _, body = c.response()
    ok(st == 400 and b"Upgrade" in body,
       "GET /ws without Upgrade: the handshake check answers 400", (st, body))
    c.close()


def raw_ws(port, frame):
    """Opens a WebSocket by hand, sends `frame` and returns the first frame
    the server sends back as (opcode, payload)."""
    c = Conn(port)
    c.send(b"GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
           b"Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
           b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n")
    st, h, _ = c.response()
    if st != 101:
        return st, h
    c.send(frame)
    hdr = c._take(2)
    length = hdr[1] & 0x7F
    payload = c._take(length)
    result = (hdr[0] & 0x0F, payload, h, c.at_eof())
    c.close()
    return result


async def ws_tests(port):
    url = "ws://127.0.0.1:%d/ws" % port
    async with websockets.connect(url, compression="deflate",
                                  max_size=None) as ws:
        ext = ws.response_headers.get("Sec-WebSocket-Extensions", "")
        ok(ext.startswith("permessage-deflate"),
           "websocket: permessage-deflate negotiated", ext)
        await ws.send("héllo, wörld")
        got = await asyncio.wait_for(ws.recv(), TIMEOUT)
        ok(got == "héllo, wörld", "websocket: text echoed (deflate)", got)
        await ws.send(b"\x00\x01\xfe\xff")
        got = await asyncio.wait_for(ws.recv(), TIMEOUT)
        ok(got == b"\x00\x01\xfe\xff", "websocket: binary echoed", got)
        big = os.urandom(1 << 20)
        await ws.send(big)
        got = await asyncio.wait_for(ws.recv(), TIMEOUT)
        ok(got == big, "websocket: 1 MiB message echoed (deflate)")
        pong = await ws.ping(b"are you there")
        await asyncio.wait_for(pong, TIMEOUT)
        ok(True, "websocket: ping answered with pong")
    ok(ws.close_code == 1000, "websocket: close handshake with 1000",
       ws.close_code)

    async with websockets.connect(url, compression=None,
                                  max_size=None) as ws:
        ok("Sec-WebSocket-Extensions" not in ws.response_headers,
           "websocket: no extension when none is offered")
        big = bytes(range(256)) * 4096
        await ws.send(big)
        got = await asyncio.wait_for(ws.recv(), TIMEOUT)
        ok(got == big, "websocket: 1 MiB message echoed (plain)")
        await ws.close(4000, "bye")
    ok(ws.close_code == 4000, "websocket: the close code is echoed",
       ws.close_code)

    # a client frame without a mask violates RFC 6455 5.1
    res = await asyncio.get_running_loop().run_in_executor(
        None, raw_ws, port, b"\x81\x02hi")
    ok(res[0] == 8 and res[1][:2] == b"\x03\xea" and res[3],
       "websocket: unmasked frame gets close 1002 and the connection ends",
       res[:2])

    async def one(i):
        r, w = await asyncio.open_connection("127.0.0.1", port)
        body = b"client %d" % i
        w.write(post("/echo", body))
        await w.drain()
        head = await r.readuntil(b"\r\n\r\n")
        length = int(head.lower().split(b"content-length: ")[1]
                     .split(b"\r\n")[0])
        got = await r.readexactly(length)
        w.close()
        return head.startswith(b"HTTP/1.1 200 ") and got == body

    async def one_ws(i):
        async with websockets.connect(url) as ws:
            await ws.send("ws %d" % i)
            return await ws.recv() == "ws %d" % i

    results = await asyncio.wait_for(
        asyncio.gather(*([one(i) for i in range(50)] +
                         [one_ws(i) for i in range(50)])), TIMEOUT * 2)
    ok(all(results), "concurrency: 50 HTTP and 50 WebSocket clients at once",
       results.count(False))


def idle_test(binary):
    proc, port = start("--idle", "1")
    c = Conn(port)
    ok(c.at_eof(), "idle timeout: a silent connection is closed")
    c.close()
    proc.send_signal(signal.SIGTERM)
    ok(proc.wait(TIMEOUT) == 0, "idle server: SIGTERM exits 0")


async def stop_test(proc, port):
    url = "ws://127.0.0.1:%d/ws" % port
    ws = await websockets.connect(url)
    c = Conn(port)
    c.send(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n"
           b"first")
    idle = Conn(port)
    idle.send(get("/"))
    idle.response()
    proc.send_signal(signal.SIGTERM)
    # the WebSocket's close 1001 shows the server acted on the signal
    try:
        await asyncio.wait_for(ws.recv(), TIMEOUT)
    except websockets.ConnectionClosed:
        pass
    ok(ws.close_code == 1001, "SIGTERM: WebSocket closed with 1001",
       ws.close_code)
    ok(idle.at_eof(), "SIGTERM: idle keep-alive connection closed")
    c.send(b"half")
    c.send(b"!")
    st, _, body = c.response()
    ok(st == 200 and body == b"firsthalf!",
       "SIGTERM: the request in flight is answered", (st, body))
    ok(c.at_eof(), "SIGTERM: then its connection is closed")
    try:
        socket.create_connection(("127.0.0.1", port), 2).close()
        refused = False
    except OSError:
        refused = True
    ok(refused, "SIGTERM: the listening socket is closed")
    rc = await asyncio.get_running_loop().run_in_executor(
        None, proc.wait, TIMEOUT)
    ok(rc == 0, "SIGTERM: exit status 0", rc)


def main():
    proc, port = start("--max-body", str(MAX_BODY))
    try:
        http_tests(port)
        asyncio.run(ws_tests(port))
        asyncio.run(stop_test(proc, port))
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    idle_test(sys.argv[1])
    sys.exit(tap.done())


main()
