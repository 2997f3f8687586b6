#!/usr/bin/python3
"""WebSocket peers for t/interop/ws_interop.sh (python3-websockets 10.x and
Tornado 6.x, run with /usr/bin/python3).

  ws_peers.py websockets-server PORT [--deflate] [--tls CERT KEY]
                                     [--subprotocol P]
  ws_peers.py tornado-server PORT [--deflate]
  ws_peers.py websockets-client URL [--deflate | --deflate-params]
                                     [--idle SECONDS]
  ws_peers.py tornado-client URL [--deflate] [--idle SECONDS]
  ws_peers.py websockets-oversize URL SIZE [--deflate]
  ws_peers.py dump -

Servers echo every message with its type and print "listening on PORT"
once ready (PORT 0 picks a free one); the text message "please close 4001"
makes them close with 4001 "bye" instead. The websockets server answers
"please send N" with N bytes of text, echoes messages over 100000 bytes in
8 fragments, may serve TLS and selects subprotocol P when the client
offers it.

Clients stay idle for --idle SECONDS (answering the server's pings),
send the message set of t/interop/ws_tool.c (one at a time, then all at
once; the websockets one also fragmented), check every echo (same type,
same bytes), check that Sec-WebSocket-Extensions names
permessage-deflate exactly when --deflate was given (--deflate-params:
offer and expect every parameter, windows of 9 bits), ping and wait for
the pong, close with 1000 and check that the server's close code is 1000.
They print key=value lines, end with result=ok or result=fail and exit 1
on any failure. websockets-oversize sends one text message of SIZE bytes
and expects close 1009. `dump -` writes the message set, concatenated, to
stdout. Every wait is bounded (TIMEOUT)."""

import asyncio
import sys

TIMEOUT = 30.0
MAX_SIZE = 16 * 1024 * 1024

# The message set of ws_tool.c: (name, binary, kind, size); the seed of
# message i is i.
UTF8 = ("h\u00e9llo w\u00f6rld \u2014 \u65e5\u672c\u8a9e "
        "\u0395\u03bb\u03bb\u03b7\u03bd\u03b9\u03ba\u03ac "
        "\u041a\u0438\u0440\u0438\u043b\u043b\u0438\u0446\u0430 "
        "\U0001F600\U0001F389 \u2713 \uFFFD end")
ZIP = "Hello world. Testing 123 123\n"
MESSAGES = [
    ("t0", False, "random", 0), ("b0", True, "random", 0),
    ("t1", False, "random", 1), ("b1", True, "random", 1),
    ("t125", False, "random", 125), ("b125", True, "random", 125),
    ("t126", False, "random", 126), ("b126", True, "random", 126),
    ("t65535", False, "random", 65535), ("b65535", True, "random", 65535),
    ("t65536", False, "random", 65536), ("b65536", True, "random", 65536),
    ("t1M", False, "random", 1048576), ("b1M", True, "random", 1048576),
    ("utf8", False, "utf8", 0), ("utf8big", False, "utf8big", 0),
    ("zip", False, "zip", 0),
]
TEXT_MAP = bytes(0x20 + b % 95 for b in range(256))
# The text message asking an echo server to close with 4001 "bye".
CLOSE_REQUEST = "please close 4001"
# "please send N": the websockets server answers with N bytes of text.
SEND_REQUEST = "please send "
# --deflate-params: every permessage-deflate parameter, windows of 9 bits.
PARAMS = ("server_no_context_takeover", "client_no_context_takeover",
          "server_max_window_bits=9", "client_max_window_bits=9")


def make_block():
    """x = x * 1103515245 + 12345 mod 2^31, byte = bits 16..23, from 1."""
    n = 1048576 + 64
    out = bytearray(n)
    x = 1
    for i in range(n):
        x = (x * 1103515245 + 12345) & 0x7FFFFFFF
        out[i] = (x >> 16) & 0xFF
    return bytes(out)


def payloads():
    """[(name, value)]: bytes for binary messages, str for text."""
    block = make_block()
    out = []
    for i, (name, binary, kind, size) in enumerate(MESSAGES):
        if kind == "utf8":
            value = UTF8
        elif kind == "utf8big":
            value = UTF8 * 1000
        elif kind == "zip":
            value = ZIP * 10000
        elif binary:
            value = block[i:i + size]
        else:
            value = block[i:i + size].translate(TEXT_MAP).decode("ascii")
        out.append((name, value))
    return out


class Report:
    def __init__(self):
        self.failures = 0

    def line(self, key, value):
        print("%s=%s" % (key, value), flush=True)

    def fail(self, what, detail=""):
        self.failures += 1
        print("FAIL %s%s" % (what, ": " + detail if detail else ""),
              flush=True)

    def compare(self, name, got, want):
        if got is None:
            self.fail("echo " + name, "connection closed")
        elif type(got) is not type(want):
            self.fail("echo " + name, "%s instead of %s" % (
                type(got).__name__, type(want).__name__))
        elif got != want:
            self.fail("echo " + name, "%d bytes differ from the %d sent" % (
                len(got), len(want)))
        else:
            return True
        return False

    def check_extensions(self, header, deflate, params=False):
        self.line("extensions", header or "none")
        has = header is not None and "permessage-deflate" in header
        if has != deflate:
            self.fail("extensions", "permessage-deflate %s" % (
                "missing" if deflate else "not offered but agreed"))
        for p in PARAMS if params else ():
            if p not in (header or ""):
                self.fail("extensions", p + " missing")

    def finish(self):
        self.line("result", "ok" if self.failures == 0 else "fail")
        return 0 if self.failures == 0 else 1


async def bounded(aw, what):
    """Awaits `aw` for at most TIMEOUT seconds, naming `what` on timeout."""
    try:
        return await asyncio.wait_for(aw, TIMEOUT)
    except asyncio.TimeoutError:
        raise RuntimeError("%s timed out after %g s" % (what, TIMEOUT))


def fragments(value, n):
    """`value` cut into n pieces of unequal sizes (the first is 1 long)."""
    cuts = sorted(set([0, 1] + [len(value) * k // n + k for k in range(1, n)]
                      + [len(value)]))
    return [value[a:b] for a, b in zip(cuts, cuts[1:]) if a < len(value)]


async def run_client(rep, msgs, send, recv, ping, close,
                     send_fragments=None, idle=0):
    """The exchange shared by both clients: `idle` seconds without traffic
    (the server's keepalive pings are answered meanwhile), each message of
    `msgs` alone, then all at once, then (if the client can) fragmented
    messages, then a ping and one more message, then close 1000."""
    if idle > 0:
        await asyncio.sleep(idle)
        rep.line("idle", "ok")
    for name, value in msgs:
        await bounded(send(value), "send " + name)
        got = await bounded(recv(), "echo " + name)
        if not rep.compare(name, got, value):
            return
        rep.line("echo " + name, "ok")
    for name, value in msgs:
        await bounded(send(value), "burst send " + name)
    for name, value in msgs:
        got = await bounded(recv(), "burst echo " + name)
        if not rep.compare("burst " + name, got, value):
            return
    rep.line("burst", "ok")
    if send_fragments is not None:
        for name, n in (("utf8big", 7), ("b1M", 16), ("zip", 3)):
            value = dict(msgs)[name]
            await bounded(send_fragments(fragments(value, n)),
                          "send fragmented " + name)
            got = await bounded(recv(), "echo of fragmented " + name)
            if not rep.compare("fragmented " + name, got, value):
                return
            rep.line("fragmented " + name, "ok")
    await bounded(ping(), "pong")
    rep.line("pong", "ok")
    await bounded(send("after ping"), "send after ping")
    if not rep.compare("after ping", await bounded(recv(), "echo after ping"),
                       "after ping"):
        return
    rep.line("after_ping", "ok")
    code = await bounded(close(), "close")
    rep.line("close_code", code)
    if code != 1000:
        rep.fail("close code", "%s instead of 1000" % code)


# ---------------------------------------------------------------------
# python3-websockets
# ---------------------------------------------------------------------

async def websockets_client(url, deflate, params, idle):
    import websockets
    from websockets.extensions.permessage_deflate import \
        ClientPerMessageDeflateFactory
    rep = Report()
    msgs = payloads()  # before connecting: it takes a while
    ws = None
    extensions = None
    if params:
        extensions = [ClientPerMessageDeflateFactory(
            server_no_context_takeover=True, client_no_context_takeover=True,
            server_max_window_bits=9, client_max_window_bits=9)]
    try:
        ws = await bounded(websockets.connect(
            url, compression="deflate" if deflate and not params else None,
            extensions=extensions, max_size=MAX_SIZE, close_timeout=5),
            "connect")
        rep.check_extensions(ws.response_headers.get(
            "Sec-WebSocket-Extensions"), deflate, params)

        async def ping():
            await (await ws.ping(b"websockets-ping"))

        async def close():
            await ws.close(1000)
            return ws.close_code

        await run_client(rep, msgs, ws.send, ws.recv, ping, close,
                         send_fragments=ws.send, idle=idle)
    except Exception as e:  # any error is a failed run, with its reason
        rep.fail("exception", "%s: %s" % (type(e).__name__, e))
    if ws is not None:  # after a failure: bounded by close_timeout
        await ws.close()
    return rep.finish()


async def websockets_server(port, deflate, tls, subprotocol):
    import websockets
    ssl_ctx = None
    if tls is not None:
        import ssl
        ssl_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ssl_ctx.load_cert_chain(tls[0], tls[1])

    async def echo(ws, path=None):
        try:
            async for msg in ws:
                if msg == CLOSE_REQUEST:
                    await ws.close(4001, "bye")
                    break
                if isinstance(msg, str) and msg.startswith(SEND_REQUEST):
                    await ws.send("a" * int(msg[len(SEND_REQUEST):]))
                    continue
                # big messages go back fragmented (the echo is the same)
                await ws.send(fragments(msg, 8) if len(msg) > 100000 else msg)
        except websockets.ConnectionClosed:
            pass

    server = await websockets.serve(
        echo, "127.0.0.1", port, compression="deflate" if deflate else None,
        max_size=MAX_SIZE, ssl=ssl_ctx,
        subprotocols=[subprotocol] if subprotocol else None)
    print("listening on %d" % server.sockets[0].getsockname()[1], flush=True)
    await asyncio.Future()  # until killed


async def websockets_oversize(url, size, deflate):
    """Sends one text message of `size` bytes ("a" repeated: with deflate
    a few hundred bytes on the wire) and expects the server's close 1009."""
    import websockets
    rep = Report()
    try:
        ws = await bounded(websockets.connect(
            url, compression="deflate" if deflate else None,
            max_size=MAX_SIZE, close_timeout=5), "connect")
        rep.check_extensions(ws.response_headers.get(
            "Sec-WebSocket-Extensions"), deflate)
        await bounded(ws.send("a" * size), "send")
        try:
            got = await bounded(ws.recv(), "close")
            rep.fail("oversize", "echoed (%d bytes)" % len(got))
        except websockets.ConnectionClosed:
            pass
        await ws.close()
        rep.line("close_code", ws.close_code)
        rep.line("close_reason", ws.close_reason)
        if ws.close_code != 1009:
            rep.fail("close code", "%s instead of 1009" % ws.close_code)
    except Exception as e:
        rep.fail("exception", "%s: %s" % (type(e).__name__, e))
    return rep.finish()


# ---------------------------------------------------------------------
# Tornado
# ---------------------------------------------------------------------

async def tornado_client(url, deflate, idle):
    from tornado.websocket import websocket_connect
    rep = Report()
    msgs = payloads()  # before connecting: it takes a while
    conn = None
    try:
        conn = await bounded(websocket_connect(
            url, compression_options={} if deflate else None,
            max_message_size=MAX_SIZE), "connect")
        rep.check_extensions(conn.headers.get("Sec-WebSocket-Extensions"),
                             deflate)
        pong = asyncio.get_running_loop().create_future()

        def on_pong(data):
            if not pong.done():
                pong.set_result(data)
        conn.on_pong = on_pong  # the protocol calls handler.on_pong
        pings = [0]

        def on_ping(data):
            pings[0] += 1
        conn.on_ping = on_ping

        async def send(value):
            await conn.write_message(value, binary=isinstance(value, bytes))

        async def ping():
            conn.ping(b"tornado-ping")
            if await pong != b"tornado-ping":
                rep.fail("pong", "payload differs")

        async def close():
            rep.line("server_pings", pings[0])
            conn.close(1000)
            rest = await conn.read_message()  # None once the close is done
            if rest is not None:
                rep.fail("close", "a message after close")
            return conn.close_code

        await run_client(rep, msgs, send, conn.read_message, ping, close,
                         idle=idle)
    except Exception as e:
        rep.fail("exception", "%s: %s" % (type(e).__name__, e))
    if conn is not None:
        conn.close()  # no-op when closed; else Tornado aborts after 5 s
    return rep.finish()


async def tornado_server(port, deflate):
    import tornado.netutil
    import tornado.web
    import tornado.websocket
    from tornado.httpserver import HTTPServer

    class Echo(tornado.websocket.WebSocketHandler):
        def get_compression_options(self):
            return {} if deflate else None

        async def on_message(self, message):
            if message == CLOSE_REQUEST:
                self.close(4001, "bye")
                return
            try:
                await self.write_message(message,
                                         binary=isinstance(message, bytes))
            except tornado.websocket.WebSocketClosedError:
                pass

    app = tornado.web.Application([(r"/.*", Echo)],
                                  websocket_max_message_size=MAX_SIZE)
    sockets = tornado.netutil.bind_sockets(port, "127.0.0.1")
    server = HTTPServer(app)
    server.add_sockets(sockets)
    print("listening on %d" % sockets[0].getsockname()[1], flush=True)
    await asyncio.Future()


def main(argv):
    if len(argv) < 3:
        sys.stderr.write(__doc__)
        return 2
    cmd, where = argv[1], argv[2]
    rest = argv[3:]
    params = "--deflate-params" in rest
    deflate = "--deflate" in rest or params
    tls = None
    if "--tls" in rest:
        i = rest.index("--tls")
        tls = (rest[i + 1], rest[i + 2])
    idle = float(rest[rest.index("--idle") + 1]) if "--idle" in rest else 0
    subprotocol = None
    if "--subprotocol" in rest:
        subprotocol = rest[rest.index("--subprotocol") + 1]
    if cmd == "dump":  # the message set, concatenated, to `where` ("-")
        for _, value in payloads():
            sys.stdout.buffer.write(
                value if isinstance(value, bytes) else value.encode())
        return 0
    if cmd == "websockets-server":
        return asyncio.run(websockets_server(int(where), deflate, tls,
                                             subprotocol))
    if cmd == "tornado-server":
        return asyncio.run(tornado_server(int(where), deflate))
    if cmd == "websockets-client":
        return asyncio.run(websockets_client(where, deflate, params, idle))
    if cmd == "websockets-oversize":
        return asyncio.run(websockets_oversize(where, int(rest[0]), deflate))
    if cmd == "tornado-client":
        return asyncio.run(tornado_client(where, deflate, idle))
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
