"""Black-box test of the gust demo server (examples/demo/demo), run by
t/demo/demo.sh with /usr/bin/python3: starts the demo on an ephemeral port
in a temporary directory and checks it over loopback with Tornado's HTTP
and WebSocket clients and raw sockets. Prints TAP.

usage: demo_test.py DEMO_BINARY STATIC_DIR
"""
import asyncio
import gzip
import hashlib
import json
import http.cookies
import os
import re
import signal
import subprocess
import sys
import tempfile
import urllib.parse

from tornado.httpclient import AsyncHTTPClient, HTTPRequest
from tornado.websocket import websocket_connect

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir))
import tap  # noqa: E402  (t/tap.py)
from tap import ok  # noqa: E402

MAX_UPLOAD = 8 << 20


class Session:
    """A client with its own cookie jar."""

    def __init__(self, base):
        self.base = base
        self.jar = {}
        self.client = AsyncHTTPClient(force_instance=True,
                                      max_body_size=64 << 20)

    def cookie_header(self):
        return "; ".join("%s=%s" % kv for kv in self.jar.items())

    def take_cookies(self, resp):
        for h in resp.headers.get_list("Set-Cookie"):
            c = http.cookies.SimpleCookie()
            c.load(h)
            for name, morsel in c.items():
                if morsel.value == "" and morsel["max-age"] == "0":
                    self.jar.pop(name, None)
                else:
                    self.jar[name] = morsel.coded_value

    async def fetch(self, path, method="GET", body=None, headers=None,
                    timeout=60, **kw):
        hdrs = dict(headers or {})
        if self.jar:
            hdrs["Cookie"] = self.cookie_header()
        if isinstance(body, dict):
            body = urllib.parse.urlencode(body)
        req = HTTPRequest(self.base + path, method=method, body=body,
                          headers=hdrs, follow_redirects=False,
                          request_timeout=timeout, decompress_response=False,
                          allow_nonstandard_methods=True, **kw)
        resp = await self.client.fetch(req, raise_error=False)
        self.take_cookies(resp)
        return resp

    def xsrf(self):
        v = self.jar.get("_xsrf", "")
        return v.strip('"')

    async def login(self, name):
        await self.fetch("/login")
        return await self.fetch("/login", "POST",
                                {"_xsrf": self.xsrf(), "name": name,
                                 "next": "/"})


async def start_demo(binary, static_dir, workdir):
    proc = await asyncio.create_subprocess_exec(
        binary, "-p", "0", "--upload-dir", os.path.join(workdir, "up"),
        "--static-dir", static_dir, "--max-upload", str(MAX_UPLOAD),
        stdout=subprocess.PIPE, cwd=workdir)
    line = await asyncio.wait_for(proc.stdout.readline(), 30)
    m = re.match(rb"gust demo: serving on http://127\.0\.0\.1:(\d+)/\n", line)
    return proc, (int(m.group(1)) if m else None), line


def files_in(d):
    return sorted(os.listdir(d))


async def wait_for(cond, timeout=30.0):
    """Polls cond() until it is true or the (generous) timeout passes."""
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while loop.time() < end:
        if cond():
            return True
        await asyncio.sleep(0.05)
    return cond()


async def raw_request(port, head, body=b""):
    r, w = await asyncio.open_connection("127.0.0.1", port)
    w.write(head + body)
    await w.drain()
    return r, w


async def main(binary, static_dir):
    workdir = tempfile.mkdtemp(prefix="gust-demo-")
    up = os.path.join(workdir, "up")
    proc, port, line = await start_demo(binary, static_dir, workdir)
    if not ok(port is not None, "demo prints its URL", line):
        proc.kill()
        return
    base = "http://127.0.0.1:%d" % port
    ok(os.path.isdir(up), "upload directory created")

    # ---- login, signed cookie, XSRF ----
    anon = Session(base)
    r = await anon.fetch("/")
    ok(r.code == 302 and r.headers.get("Location") == "/login?next=%2F",
       "anonymous / redirects to /login?next=%2F",
       "%d %s" % (r.code, r.headers.get("Location")))
    r = await anon.fetch("/upload")
    ok(r.code == 302 and r.headers["Location"].startswith("/login"),
       "anonymous /upload redirects to the login page")
    r = await anon.fetch("/login")
    token = anon.xsrf()
    ok(r.code == 200 and token and
       ('name="_xsrf" value="' in r.body.decode()),
       "login form carries the XSRF field and sets the _xsrf cookie")
    r = await anon.fetch("/login", "POST", {"name": "mallory"})
    ok(r.code == 403 and "user" not in anon.jar,
       "POST /login without _xsrf: 403, no cookie", r.code)
    r = await anon.fetch("/login", "POST",
                         {"name": "mallory", "_xsrf": "2|00|11|22"})
    ok(r.code == 403, "POST /login with a forged _xsrf: 403", r.code)
    r = await anon.fetch("/a/message/new", "POST", {"body": "x"})
    ok(r.code == 403, "anonymous chat POST without token: 403", r.code)

    alice = Session(base)
    r = await alice.login("alice")
    ok(r.code == 302 and r.headers.get("Location") == "/",
       "POST /login with the token redirects to next", r.code)
    ok(alice.jar.get("user", "").strip('"').startswith("2|1:0|"),
       "login sets a signed (v2) user cookie", alice.jar)
    r = await alice.fetch("/")
    body = r.body.decode()
    ok(r.code == 200 and '<span id="current-user">alice</span>' in body,
       "logged-in / shows the chat page for alice", r.code)
    forged = Session(base)
    forged.jar = dict(alice.jar)
    forged.jar["user"] = alice.jar["user"].replace("YWxpY2U=", "Ym9i")
    r = await forged.fetch("/")
    ok(r.code == 302, "a tampered user cookie is nobody (redirect)", r.code)

    r = await alice.fetch("/login", "POST",
                          {"name": "x" * 41, "_xsrf": alice.xsrf()})
    ok(r.code == 400, "a too long name is refused (400)", r.code)

    # the profile form: XSRF-protected
    r = await alice.fetch("/profile", "POST", {"status": "nope"})
    ok(r.code == 403, "POST /profile without token: 403", r.code)
    r = await alice.fetch("/profile", "POST",
                          {"status": "<b>busy</b> & happy",
                           "_xsrf": alice.xsrf()})
    ok(r.code == 303 and r.headers.get("Location") == "/profile",
       "POST /profile with the token: 303 to /profile", r.code)
    r = await alice.fetch("/profile")
    ok("&lt;b&gt;busy&lt;/b&gt; &amp; happy" in r.body.decode(),
       "the status shows, HTML-escaped")
    r = await alice.fetch("/profile", "POST", {"status": "via header"},
                          headers={"X-XSRFToken": alice.xsrf()})
    ok(r.code == 303, "the X-XSRFToken header is accepted", r.code)

    # ---- chat: long poll and WebSocket ----
    bob = Session(base)
    await bob.login("bob")
    ws = await websocket_connect(HTTPRequest(
        base.replace("http", "ws") + "/chatsocket",
        headers={"Cookie": bob.cookie_header()}))
    ok(ws is not None, "WebSocket /chatsocket opens for a logged-in user")
    carol = Session(base)
    await carol.login("carol")
    poll = asyncio.ensure_future(carol.fetch(
        "/a/message/updates", "POST", {"_xsrf": carol.xsrf(), "cursor": "0"}))
    await asyncio.sleep(0.3)  # not an assertion: lets the poll start waiting
    ok(not poll.done(), "a long poll with nothing new waits")
    r = await alice.fetch("/a/message/new", "POST",
                          {"_xsrf": alice.xsrf(), "body": "hello <world>"})
    ok(r.code == 200, "POST /a/message/new with the token", r.code)
    posted = r.body and json.loads(r.body)
    msg = await asyncio.wait_for(ws.read_message(), 30)
    data = json.loads(msg or "{}")
    got = data.get("messages", [{}])[0]
    ok(got.get("body") == "hello <world>" and got.get("from") == "alice",
       "the WebSocket client gets the posted message", msg)
    r = await asyncio.wait_for(poll, 30)
    polled = json.loads(r.body or b"{}").get("messages", [])
    ok(r.code == 200 and polled and polled[0]["body"] == "hello <world>",
       "the long poller is answered with it", r.body)
    ok(posted and posted.get("id") == got.get("id") == polled[0]["id"],
       "all three agree on the message id")

    poll = asyncio.ensure_future(carol.fetch(
        "/a/message/updates", "POST",
        {"_xsrf": carol.xsrf(), "cursor": polled[0]["id"]}))
    await asyncio.sleep(0.3)
    await ws.write_message("from bob over ws")
    r = await asyncio.wait_for(poll, 30)
    polled = json.loads(r.body or b"{}").get("messages", [])
    ok(polled and polled[0]["from"] == "bob" and
       polled[0]["body"] == "from bob over ws",
       "a message sent over the WebSocket reaches the long poller", r.body)
    echo = json.loads(await asyncio.wait_for(
        ws.read_message(), 30) or "{}")
    ok(echo.get("messages", [{}])[0].get("body") == "from bob over ws",
       "and comes back to the sender's socket")
    r = await carol.fetch("/")
    ok("hello &lt;world&gt;" in r.body.decode(),
       "the chat page shows cached messages HTML-escaped")
    r = await carol.fetch("/a/message/new", "POST",
                          {"_xsrf": carol.xsrf(), "body": "y" * 600})
    ok(r.code == 413, "an oversized message is refused (413)", r.code)
    r = await carol.fetch("/a/message/updates", "POST", {"cursor": "0"})
    ok(r.code == 403, "long poll without token: 403", r.code)

    # a poller that leaves is dropped; the next message still goes out
    hdr = ("POST /a/message/updates HTTP/1.1\r\nHost: x\r\nCookie: %s\r\n"
           "X-XSRFToken: %s\r\nContent-Type: application/x-www-form-"
           "urlencoded\r\nContent-Length: 9\r\n\r\ncursor=99"
           % (carol.cookie_header(), carol.xsrf())).encode()
    rr, ww = await raw_request(port, hdr)
    await asyncio.sleep(0.3)
    ww.close()
    await asyncio.sleep(0.3)
    r = await alice.fetch("/a/message/new", "POST",
                          {"_xsrf": alice.xsrf(), "body": "after a leaver"})
    ok(r.code == 200, "posting after a long poller left works", r.code)
    msg = await asyncio.wait_for(ws.read_message(), 30)
    ok(msg and "after a leaver" in msg, "and reaches the WebSocket")

    r = await anon.fetch("/chatsocket", headers={
        "Upgrade": "websocket", "Connection": "Upgrade",
        "Sec-WebSocket-Version": "13",
        "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ=="})
    ok(r.code == 302, "anonymous WebSocket upgrade is redirected", r.code)

    # ---- uploads ----
    data = os.urandom(3 << 20) + b"end"
    sha = hashlib.sha256(data).hexdigest()
    r = await alice.fetch("/upload?name=" + urllib.parse.quote("../a b<c>.bin"),
                          "POST", data)
    ok(r.code == 403 and files_in(up) == [],
       "upload without the XSRF header: 403, nothing stored", r.code)
    r = await alice.fetch("/upload?name=" + urllib.parse.quote("../a b<c>.bin"),
                          "POST", data, headers={"X-XSRFToken": alice.xsrf()})
    info = json.loads(r.body or b"{}")
    ok(r.code == 200 and info.get("name") == "a_b_c_.bin",
       "upload stored under a sanitised name", r.body[:200])
    path = os.path.join(up, "a_b_c_.bin")
    ok(os.path.isfile(path) and open(path, "rb").read() == data,
       "the file on disk has the uploaded bytes")
    ok(info.get("sha256") == sha and info.get("size") == len(data),
       "the server's SHA-256 and size match", info)
    r = await alice.fetch("/a/uploads")
    listing = json.loads(r.body or b"{}").get("files", [])
    ok(any(f["name"] == "a_b_c_.bin" and f["sha256"] == sha
           for f in listing), "the listing has the file and its hash")
    r = await alice.fetch("/upload")
    ok(sha in r.body.decode(), "the upload page lists the hash")
    r = await alice.fetch("/upload?name=a%20b%3Cc%3E.bin", "POST", b"second",
                          headers={"X-XSRFToken": alice.xsrf()})
    ok(r.code == 200 and b"a_b_c_-1.bin" in r.body,
       "a second file of the same name is not overwritten", r.body)

    big = b"z" * (MAX_UPLOAD + 1)
    r = await alice.fetch("/upload?name=big.bin", "POST", big,
                          headers={"X-XSRFToken": alice.xsrf()})
    ok(r.code == 413, "an upload over --max-upload gets 413", r.code)
    ok(not os.path.exists(os.path.join(up, "big.bin")) and
       not [f for f in files_in(up) if f.startswith(".partial")],
       "and leaves no file", files_in(up))

    # chunked over the limit: refused while streaming, file removed
    hdr = ("POST /upload?name=chunked.bin HTTP/1.1\r\nHost: x\r\n"
           "Cookie: %s\r\nX-XSRFToken: %s\r\nTransfer-Encoding: chunked"
           "\r\n\r\n" % (alice.cookie_header(), alice.xsrf())).encode()
    rr, ww = await raw_request(port, hdr)
    piece = b"100000\r\n" + b"c" * 0x100000 + b"\r\n"
    status = b""
    try:
        for _ in range(MAX_UPLOAD // 0x100000 + 2):
            ww.write(piece)
            await ww.drain()
        ww.write(b"0\r\n\r\n")
        await ww.drain()
    except (ConnectionError, OSError):
        pass
    try:
        status = await asyncio.wait_for(rr.readline(), 30)
    except (ConnectionError, OSError, asyncio.TimeoutError):
        pass
    ww.close()
    ok(status.startswith(b"HTTP/1.1 413") or status == b"",
       "a chunked upload over the limit is refused", status)
    ok(await wait_for(lambda: "chunked.bin" not in files_in(up) and not [
        f for f in files_in(up) if f.startswith(".partial")]),
       "and leaves no file", files_in(up))

    # a client that leaves mid-upload leaves nothing behind
    hdr = ("POST /upload?name=left.bin HTTP/1.1\r\nHost: x\r\nCookie: %s\r\n"
           "X-XSRFToken: %s\r\nContent-Length: %d\r\n\r\n"
           % (alice.cookie_header(), alice.xsrf(), 4 << 20)).encode()
    rr, ww = await raw_request(port, hdr, b"l" * (1 << 20))
    partial = lambda: [f for f in files_in(up) if f.startswith(".partial")]
    ok(await wait_for(lambda: partial() and os.path.getsize(
        os.path.join(up, partial()[0])) >= (1 << 20)),
       "a partial upload is streamed to a temporary file", files_in(up))
    ww.close()
    ok(await wait_for(lambda: not partial()) and
       "left.bin" not in files_in(up),
       "a client that leaves mid-upload leaves no file", files_in(up))

    # ---- static files ----
    for name, ctype in (("demo.css", "text/css"),
                        ("chat.js", "text/javascript")):
        src = open(os.path.join(static_dir, name), "rb").read()
        r = await alice.fetch("/static/" + name,
                              headers={"Accept-Encoding": "gzip"})
        etag = r.headers.get("Etag")
        ok(r.code == 200 and r.headers.get("Content-Encoding") == "gzip" and
           gzip.decompress(r.body) == src and
           r.headers.get("Content-Type", "").startswith(ctype),
           "%s is served gzipped" % name, r.headers)
        r = await alice.fetch("/static/" + name)
        ok(r.code == 200 and r.body == src and
           "Content-Encoding" not in r.headers,
           "%s is served plain without Accept-Encoding" % name)
        r = await alice.fetch("/static/" + name,
                              headers={"If-None-Match": etag or "none"})
        ok(etag and r.code == 304 and r.body == b"",
           "%s: ETag %s then If-None-Match gives 304" % (name, etag), r.code)
    page = (await alice.fetch("/")).body.decode()
    m = re.search(r'href="(/static/demo\.css\?v=[0-9a-f]{32})"', page)
    r = await alice.fetch(m.group(1) if m else "/static/none")
    ok(m and r.code == 200 and
       "max-age=315360000" in r.headers.get("Cache-Control", ""),
       "pages link versioned static URLs cached for years")
    r = await alice.fetch("/static/../demo.h")
    ok(r.code in (403, 404), "no escape from the static directory", r.code)

    # ---- logout ----
    dave = Session(base)
    await dave.login("dave")
    r = await dave.fetch("/logout", "POST", {"_xsrf": dave.xsrf()})
    ok(r.code == 302 and "user" not in dave.jar, "logout clears the cookie",
       dave.jar)

    # ---- graceful stop ----
    poll = asyncio.ensure_future(carol.fetch(
        "/a/message/updates", "POST", {"_xsrf": carol.xsrf(),
                                       "cursor": "999999"}))
    hdr = ("POST /upload?name=cut.bin HTTP/1.1\r\nHost: x\r\nCookie: %s\r\n"
           "X-XSRFToken: %s\r\nContent-Length: %d\r\n\r\n"
           % (alice.cookie_header(), alice.xsrf(), 4 << 20)).encode()
    rr, ww = await raw_request(port, hdr, b"k" * (1 << 20))
    await wait_for(lambda: partial())
    await asyncio.sleep(0.3)
    proc.send_signal(signal.SIGTERM)
    r = await asyncio.wait_for(poll, 30)
    ok(r.code == 200, "SIGTERM answers the waiting long poll", r.code)
    while True:
        m = await asyncio.wait_for(ws.read_message(), 30)
        if m is None:
            break
    ok(ws.close_code == 1001, "SIGTERM closes the WebSocket with 1001",
       ws.close_code)
    rc = await asyncio.wait_for(proc.wait(), 30)
    ok(rc == 0, "the demo exits with status 0", rc)
    ok(not partial() and "cut.bin" not in files_in(up),
       "the upload cut by the stop left no file", files_in(up))
    ww.close()


if __name__ == "__main__":
    asyncio.run(main(os.path.abspath(sys.argv[1]),
                     os.path.abspath(sys.argv[2])))
    sys.exit(tap.done())
