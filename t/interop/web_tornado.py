#!/usr/bin/python3
"""Interop of gust's web layer with Tornado's: signed cookies, cookie
quoting and XSRF tokens made by one side and checked by the other.

    /usr/bin/python3 t/interop/web_tornado.py PATH/TO/t/interop/web_peer

Runs Tornado applications in a thread of this process and gust applications
(t/interop/web_peer) as subprocesses, all on loopback with ephemeral ports,
each pair configured alike, and talks to both with http.client, the way a
browser would: a Set-Cookie header is parsed with http.cookies.SimpleCookie
and its value is sent back as it was on the wire ("name=<coded value>").
Prints TAP; exits non-zero when a check fails.
"""
import asyncio
import http.client
import http.cookies
import logging
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

import tornado
from tornado.httpserver import HTTPServer
from tornado.netutil import bind_sockets
from tornado.web import (Application, RequestHandler, create_signed_value,
                         get_signature_key_version)

# Tornado logs every refused cookie and 403; the checks say what matters.
logging.disable(logging.CRITICAL)

SECRET = "It's a secret to everybody"
OTHER_SECRET = "It's another secret"
KEYS = {0: "ajklasdf0ojaisdf", 1: "aslkjasaolwkjsdf"}
# Values whose signed form needs quoting ('=' or '/' in the base64 field)
# and raw bytes a cookie header could not carry bare.
VALUES = ["alice", "hello world", 'a;b"c\\d,e', "h\u00e9llo w\u00f6rld \u20ac",
          "?>?~"]
# Plain cookie values: no byte 0x00-0x20 (both sides refuse those), but
# every other byte SimpleCookie quotes.
PLAIN_VALUES = ["plain", "a;b", 'q"uote', "back\\slash", "comma,x",
                "h\u00e9\u20ac", "a=b/c"]

n = 0
failed = 0


def check(cond, name, detail=""):
    global n, failed
    n += 1
    if cond:
        print("ok %d - %s" % (n, name))
    else:
        failed += 1
        print("not ok %d - %s" % (n, name))
        for line in str(detail).splitlines():
            print("#   " + line)
    sys.stdout.flush()


# ---------------------------------------------------------------------
# The Tornado side: the same endpoints as web_peer.c
# ---------------------------------------------------------------------


class SetHandler(RequestHandler):
    def get(self):
        self.set_secure_cookie(self.get_query_argument("name"),
                               self.get_query_argument("value", strip=False))
        self.write("ok")


class GetHandler(RequestHandler):
    def get(self):
        v = self.get_secure_cookie(
            self.get_query_argument("name"),
            max_age_days=float(self.get_query_argument("max_age_days", "31")))
        if v is None:
            self.set_status(404)
            self.write("refused")
        else:
            self.write(v)


class KeyVersionHandler(RequestHandler):
    def get(self):
        kv = self.get_secure_cookie_key_version(self.get_query_argument("name"))
        if kv is None:
            self.set_status(404)
            self.write("none")
        else:
            self.write(str(kv))


# Tornado's plain cookies are text (str, sent as Latin-1); gust's are bytes.
# To compare them on the same bytes, the Tornado side carries the UTF-8
# bytes of the value as Latin-1 text.
class SetPlainHandler(RequestHandler):
    def get(self):
        v = self.get_query_argument("value", strip=False)
        self.set_cookie(self.get_query_argument("name"),
                        v.encode("utf-8").decode("latin-1"))
        self.write("ok")


class GetPlainHandler(RequestHandler):
    def get(self):
        v = self.get_cookie(self.get_query_argument("name"))
        if v is None:
            self.set_status(404)
            self.write("absent")
        else:
            self.write(v.encode("latin-1"))


class XsrfHandler(RequestHandler):
    def get(self):
        self.write(self.xsrf_token)

    def post(self):
        self.write("ok")


def tornado_app(**settings):
    return Application([
        (r"/set", SetHandler), (r"/getv?", GetHandler),
        (r"/keyversion", KeyVersionHandler), (r"/setplain", SetPlainHandler),
        (r"/getplain", GetPlainHandler), (r"/xsrf", XsrfHandler),
    ], **settings)


def start_tornado(apps):
    """Serves each application of the dict on its own port from a thread;
    returns {key: port}."""
    ports = {}
    ready = threading.Event()

    async def serve():
        for key, app in apps.items():
            socks = bind_sockets(0, "127.0.0.1")
            HTTPServer(app).add_sockets(socks)
            ports[key] = socks[0].getsockname()[1]
        ready.set()
        await asyncio.Event().wait()

    threading.Thread(target=lambda: asyncio.run(serve()), daemon=True).start()
    if not ready.wait(10):
        print("Bail out! the Tornado applications did not start")
        sys.exit(1)
    return ports


# ---------------------------------------------------------------------
# The gust side: t/interop/web_peer processes
# ---------------------------------------------------------------------


class Peer:
    def __init__(self, path, *args):
        self.args = list(args)
        self.err = tempfile.TemporaryFile()
        self.proc = subprocess.Popen([path, "-p", "0"] + self.args,
                                     stdout=subprocess.PIPE, stderr=self.err)
        line = []
        t = threading.Thread(
            target=lambda: line.append(self.proc.stdout.readline()))
        t.start()
        t.join(10)
        m = re.match(rb"listening on (\d+)\n", line[0] if line else b"")
        if not m:
            self.proc.kill()
            self.err.seek(0)
            print("Bail out! web_peer %s did not start: %r %s" %
                  (" ".join(self.args), line,
                   self.err.read().decode(errors="replace")))
            sys.exit(1)
        self.port = int(m.group(1))

    def stop(self):
        """SIGTERM (graceful); returns the exit status (None: killed)."""
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            return None


# ---------------------------------------------------------------------
# Requests, as a browser would send them
# ---------------------------------------------------------------------


class Resp:
    def __init__(self, status, body, set_cookies):
        self.status = status
        self.body = body
        self.set_cookies = set_cookies

    def set_cookie(self, name):
        """The Set-Cookie header for `name` (None if absent)."""
        for h in self.set_cookies:
            if h.startswith(name + "="):
                return h
        return None

    def __repr__(self):
        return "%d %r %r" % (self.status, self.body, self.set_cookies)


def request(port, method, path, cookie=None, headers=None, body=None):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    h = dict(headers or {})
    if cookie is not None:
        h["Cookie"] = cookie
    try:
        c.request(method, path, body=body, headers=h)
        r = c.getresponse()
        return Resp(r.status, r.read(), r.msg.get_all("Set-Cookie") or [])
    finally:
        c.close()


def query(path, **args):
    return path + "?" + urllib.parse.urlencode(args,
                                               quote_via=urllib.parse.quote)


def parse_set_cookie(header):
    """(name, morsel) of a Set-Cookie header, as a browser keeps it."""
    jar = http.cookies.SimpleCookie()
    jar.load(header)
    (name, morsel), = jar.items()
    return name, morsel


def wire_cookie(header):
    """The Cookie header a browser sends back for a Set-Cookie header."""
    name, morsel = parse_set_cookie(header)
    return "%s=%s" % (name, morsel.coded_value)


def template(header):
    """A Set-Cookie header with its value and expiry date blanked out."""
    _, morsel = parse_set_cookie(header)
    t = header.replace("=" + morsel.coded_value, "=<V>", 1)
    if morsel["expires"]:
        t = t.replace(morsel["expires"], "<D>")
    return t


def quote(raw):
    """The value as SimpleCookie writes it (what Tornado sends)."""
    return http.cookies.SimpleCookie().value_encode(raw)[1]


V2 = re.compile(r"2\|1:(\d+)\|10:(\d{10})\|(\d+):([^|]*)\|(\d+):([^|]*)"
                r"\|([0-9a-f]{64})$")


def set_signed(port, name, value):
    r = request(port, "GET", query("/set", name=name, value=value))
    return r.set_cookie(name) if r.status == 200 else None


def get_signed(port, name, cookie, max_age_days=None):
    args = {"name": name}
    if max_age_days is not None:
        args["max_age_days"] = max_age_days
    return request(port, "GET", query("/getv", **args), cookie=cookie)


def refused(r):
    return r.status == 404


def main():
    print("# tornado %s" % tornado.version)
    peer_path = sys.argv[1]
    tport = start_tornado({
        "single": tornado_app(cookie_secret=SECRET, xsrf_cookies=True),
        "other": tornado_app(cookie_secret=OTHER_SECRET),
        "keys": tornado_app(cookie_secret=KEYS, key_version=1),
        "xsrf1": tornado_app(cookie_secret=SECRET, xsrf_cookies=True,
                             xsrf_cookie_version=1),
    })
    peers = {
        "single": Peer(peer_path, "--secret", SECRET, "--xsrf"),
        "other": Peer(peer_path, "--secret", OTHER_SECRET),
        "keys": Peer(peer_path, "--keys",
                     ",".join("%d:%s" % kv for kv in sorted(KEYS.items())),
                     "--key-version", "1"),
        "xsrf1": Peer(peer_path, "--secret", SECRET, "--xsrf",
                      "--xsrf-version", "1"),
    }
    gport = {k: p.port for k, p in peers.items()}
    try:
        signed_cookies(gport, tport)
        plain_cookies(gport, tport)
        refusals(gport, tport)
        key_versions(gport, tport)
        xsrf(gport, tport)
    finally:
        status = {k: p.stop() for k, p in peers.items()}
    check(all(s == 0 for s in status.values()),
          "every web_peer exited with status 0 on SIGTERM", status)
    print("1..%d" % n)
    sys.exit(1 if failed else 0)


# ---------------------------------------------------------------------
# Signed cookies, single secret
# ---------------------------------------------------------------------


def signed_cookies(gport, tport):
    g, t = gport["single"], tport["single"]
    quoted = 0
    for v in VALUES:
        want = v.encode("utf-8")
        g_hdr = set_signed(g, "user", v)
        t_hdr = set_signed(t, "user", v)
        if g_hdr is None or t_hdr is None:
            check(False, "signed %r: both sides set the cookie" % v,
                  "gust %r\ntornado %r" % (g_hdr, t_hdr))
            continue
        r = get_signed(t, "user", wire_cookie(g_hdr))
        check(r.status == 200 and r.body == want,
              "signed %r: set by gust, read by tornado" % v, r)
        r = get_signed(g, "user", wire_cookie(t_hdr))
        check(r.status == 200 and r.body == want,
              "signed %r: set by tornado, read by gust" % v, r)
        # with other cookies around it, as a browser sends them
        r = get_signed(g, "user", "a=1; " + wire_cookie(t_hdr) + "; z=2")
        check(r.status == 200 and r.body == want,
              "signed %r: tornado's cookie read by gust among others" % v, r)

        # Structure: both v2 with key version 0 and the same name and
        # payload fields; at gust's timestamp Tornado signs the same bytes,
        # and the whole header is Tornado's but for the timestamps.
        _, gm = parse_set_cookie(g_hdr)
        _, tm = parse_set_cookie(t_hdr)
        gf, tf = V2.match(gm.value), V2.match(tm.value)
        check(gf is not None and tf is not None and gf.group(1) == "0" and
              gf.group(3, 4, 5, 6) == tf.group(3, 4, 5, 6),
              "signed %r: both v2 (\"2|1:0|10:...\"), same fields but "
              "timestamp and signature" % v,
              "gust    %s\ntornado %s" % (gm.value, tm.value))
        if gf is None:
            continue
        ts = int(gf.group(2))
        same = create_signed_value(SECRET, "user", v,
                                   clock=lambda: ts).decode()
        want_hdr = template(t_hdr).replace("<V>", quote(same)).replace(
            "<D>", gm["expires"])
        check(g_hdr == want_hdr,
              "signed %r: gust's Set-Cookie is tornado's at gust's "
              "timestamp, byte for byte" % v,
              "gust    %s\ntornado %s" % (g_hdr, want_hdr))
        expires = time.mktime(time.strptime(gm["expires"],
                                            "%a, %d %b %Y %H:%M:%S GMT"))
        expires -= time.timezone
        check(abs(expires - (ts + 30 * 86400)) <= 2,
              "signed %r: gust's cookie expires in 30 days" % v, g_hdr)
        quoted += gm.coded_value.startswith('"')
    check(quoted > 0, "some signed values were quoted on the wire (%d)" %
          quoted)


# ---------------------------------------------------------------------
# Plain cookies: quoting
# ---------------------------------------------------------------------


def plain_cookies(gport, tport):
    g, t = gport["single"], tport["single"]
    for v in PLAIN_VALUES:
        want = v.encode("utf-8")
        rg = request(g, "GET", query("/setplain", name="p", value=v))
        rt = request(t, "GET", query("/setplain", name="p", value=v))
        g_hdr, t_hdr = rg.set_cookie("p"), rt.set_cookie("p")
        check(g_hdr is not None and g_hdr == t_hdr,
              "plain %r: Set-Cookie byte-identical" % v,
              "gust    %r\ntornado %r" % (g_hdr, t_hdr))
        if g_hdr is None or t_hdr is None:
            continue
        r = request(t, "GET", query("/getplain", name="p"),
                    cookie=wire_cookie(g_hdr))
        check(r.status == 200 and r.body == want,
              "plain %r: set by gust, read by tornado" % v, r)
        r = request(g, "GET", query("/getplain", name="p"),
                    cookie=wire_cookie(t_hdr))
        check(r.status == 200 and r.body == want,
              "plain %r: set by tornado, read by gust" % v, r)
    rg = request(g, "GET", query("/setplain", name="p", value="a b"))
    rt = request(t, "GET", query("/setplain", name="p", value="a b"))
    check(rg.status == 500 and rt.status == 500 and
          rg.body == b"GUST_ECOOKIE_INVALID" and not rg.set_cookies,
          "plain value with a space refused by both (500)",
          "gust %r\ntornado %r" % (rg, rt))


# ---------------------------------------------------------------------
# Refusals: other secret, tampering, name swap, age
# ---------------------------------------------------------------------


def flip(s, i):
    return s[:i] + ("0" if s[i] != "0" else "1") + s[i + 1:]


def refusals(gport, tport):
    g, t = gport["single"], tport["single"]
    go, to = gport["other"], tport["other"]
    g_hdr = set_signed(g, "user", "alice")
    t_hdr = set_signed(t, "user", "alice")
    for who, hdr in (("gust", g_hdr), ("tornado", t_hdr)):
        cookie = wire_cookie(hdr)
        rg, rt = get_signed(go, "user", cookie), get_signed(to, "user", cookie)
        check(refused(rt) and refused(rg) and rg.body == b"GUST_ESIGNATURE",
              "cookie set by %s refused by both under another secret" % who,
              "gust %r\ntornado %r" % (rg, rt))
        _, m = parse_set_cookie(hdr)
        for what, bad in (("signature", flip(m.value, len(m.value) - 1)),
                          ("value", m.value.replace("|8:YWxpY2U=|",
                                                    "|8:Ym9iYm9i|"))):
            check(bad != m.value, "%s's cookie tampered (%s)" % (who, what))
            cookie = "user=" + quote(bad)
            rg, rt = get_signed(g, "user", cookie), get_signed(t, "user",
                                                               cookie)
            check(refused(rt) and refused(rg) and
                  rg.body == b"GUST_ESIGNATURE",
                  "%s's cookie with a tampered %s refused by both" %
                  (who, what), "gust %r\ntornado %r" % (rg, rt))
        # v2 signs the name too
        cookie = "admin=" + quote(m.value)
        rg, rt = get_signed(g, "admin", cookie), get_signed(t, "admin", cookie)
        check(refused(rt) and refused(rg) and rg.body == b"GUST_ESIGNATURE",
              "%s's cookie under another name refused by both" % who,
              "gust %r\ntornado %r" % (rg, rt))

    rg, rt = get_signed(g, "user", None), get_signed(t, "user", None)
    check(refused(rt) and refused(rg) and rg.body == b"GUST_ENOTFOUND",
          "absent cookie: no value from either", "gust %r\ntornado %r" %
          (rg, rt))

    # age: a value signed 10 days ago
    old = create_signed_value(SECRET, "user", "old",
                              clock=lambda: time.time() - 10 * 86400)
    cookie = "user=" + quote(old.decode())
    rg, rt = get_signed(g, "user", cookie, 5), get_signed(t, "user", cookie, 5)
    check(refused(rt) and refused(rg) and rg.body == b"GUST_EEXPIRED",
          "10-day-old value refused by both with max_age_days=5",
          "gust %r\ntornado %r" % (rg, rt))
    rg, rt = get_signed(g, "user", cookie, 31), get_signed(t, "user", cookie,
                                                           31)
    check(rg.body == b"old" and rt.body == b"old",
          "10-day-old value accepted by both with max_age_days=31",
          "gust %r\ntornado %r" % (rg, rt))
    # a legacy v1 value (accepted by default: min_version 1)
    v1 = create_signed_value(SECRET, "user", "legacy", version=1).decode()
    cookie = "user=" + quote(v1)
    rg, rt = get_signed(g, "user", cookie), get_signed(t, "user", cookie)
    check(rg.body == b"legacy" and rt.body == b"legacy",
          "tornado's v1 signed value accepted by both",
          "gust %r\ntornado %r" % (rg, rt))


# ---------------------------------------------------------------------
# Key-versioned secrets
# ---------------------------------------------------------------------


def key_version_of(port, cookie):
    r = request(port, "GET", query("/keyversion", name="user"), cookie=cookie)
    return r.body.decode() if r.status == 200 else "404 " + r.body.decode()


def key_versions(gport, tport):
    g, t = gport["keys"], tport["keys"]
    for v in ("alice", VALUES[3]):
        want = v.encode("utf-8")
        g_hdr = set_signed(g, "user", v)
        t_hdr = set_signed(t, "user", v)
        if g_hdr is None or t_hdr is None:
            check(False, "keyed %r: both sides set the cookie" % v,
                  "gust %r\ntornado %r" % (g_hdr, t_hdr))
            continue
        r = get_signed(t, "user", wire_cookie(g_hdr))
        check(r.status == 200 and r.body == want,
              "keyed %r: set by gust, read by tornado" % v, r)
        r = get_signed(g, "user", wire_cookie(t_hdr))
        check(r.status == 200 and r.body == want,
              "keyed %r: set by tornado, read by gust" % v, r)
        _, gm = parse_set_cookie(g_hdr)
        _, tm = parse_set_cookie(t_hdr)
        gf, tf = V2.match(gm.value), V2.match(tm.value)
        check(gf is not None and tf is not None and gf.group(1) == "1" and
              gf.group(1, 3, 4, 5, 6) == tf.group(1, 3, 4, 5, 6),
              "keyed %r: both \"2|1:1|10:...\", same fields but timestamp "
              "and signature" % v,
              "gust    %s\ntornado %s" % (gm.value, tm.value))
        if gf is not None:
            ts = int(gf.group(2))
            same = create_signed_value(KEYS, "user", v, key_version=1,
                                       clock=lambda: ts).decode()
            check(gm.value == same,
                  "keyed %r: gust signs tornado's bytes at its timestamp" % v,
                  "gust    %s\ntornado %s" % (gm.value, same))
        for who, hdr in (("gust", g_hdr), ("tornado", t_hdr)):
            cookie = wire_cookie(hdr)
            _, m = parse_set_cookie(hdr)
            kvs = (key_version_of(g, cookie), key_version_of(t, cookie),
                   str(get_signature_key_version(m.value)))
            check(kvs == ("1", "1", "1"),
                  "keyed %r: key version of %s's cookie is 1 for gust, the "
                  "tornado app and get_signature_key_version" % (v, who),
                  "gust, tornado app, tornado function: %r" % (kvs,))

    # an older key still reads; a key version nobody has does not
    old = create_signed_value(KEYS, "user", "rotated", key_version=0).decode()
    cookie = "user=" + quote(old)
    rg, rt = get_signed(g, "user", cookie), get_signed(t, "user", cookie)
    check(rg.body == b"rotated" and rt.body == b"rotated",
          "value signed with key version 0 read by both",
          "gust %r\ntornado %r" % (rg, rt))
    kvs = (key_version_of(g, cookie), key_version_of(t, cookie))
    check(kvs == ("0", "0"), "key version 0 reported by both", kvs)
    unknown = create_signed_value({2: "zzz"}, "user", "x",
                                  key_version=2).decode()
    cookie = "user=" + quote(unknown)
    rg, rt = get_signed(g, "user", cookie), get_signed(t, "user", cookie)
    check(refused(rt) and refused(rg) and rg.body == b"GUST_EKEYVERSION",
          "unknown key version 2 refused by both",
          "gust %r\ntornado %r" % (rg, rt))
    # a value signed with the single secret: key 0 differs
    single = set_signed(gport["single"], "user", "alice")
    cookie = wire_cookie(single)
    rg, rt = get_signed(g, "user", cookie), get_signed(t, "user", cookie)
    check(refused(rt) and refused(rg) and rg.body == b"GUST_ESIGNATURE",
          "single-secret value refused by both keyed applications",
          "gust %r\ntornado %r" % (rg, rt))
    # A v1 value cannot be keyed. gust answers "no value"; Tornado 6.2
    # fails an assertion in decode_signed_value (a dict secret on the v1
    # path), hence its 500: neither hands the value out.
    v1 = create_signed_value(KEYS[1], "user", "legacy", version=1).decode()
    cookie = "user=" + quote(v1)
    rg, rt = get_signed(g, "user", cookie), get_signed(t, "user", cookie)
    check(rt.status in (404, 500) and refused(rg) and
          rg.body == b"GUST_ESIGNED_VERSION",
          "v1 value never read by a keyed application (gust: "
          "GUST_ESIGNED_VERSION, tornado: %d)" % rt.status,
          "gust %r\ntornado %r" % (rg, rt))
    kvs = (key_version_of(g, cookie), key_version_of(t, cookie))
    check(kvs[0].startswith("404") and kvs[1].startswith("404"),
          "a v1 value has no key version for either", kvs)


# ---------------------------------------------------------------------
# XSRF
# ---------------------------------------------------------------------

XSRF_V2 = re.compile(r"2\|[0-9a-f]{8}\|[0-9a-f]{32}\|\d+$")
XSRF_V1 = re.compile(r"[0-9a-f]{32}$")


def get_token(port, cookie=None):
    """(token, Set-Cookie header or None) from GET /xsrf."""
    r = request(port, "GET", "/xsrf", cookie=cookie)
    return r.body.decode(), r.set_cookie("_xsrf")


def post_form(port, cookie, token):
    return request(port, "POST", "/xsrf", cookie=cookie,
                   headers={"Content-Type":
                            "application/x-www-form-urlencoded"},
                   body=urllib.parse.urlencode({"_xsrf": token}))


def post_header(port, cookie, token):
    return request(port, "POST", "/xsrf", cookie=cookie,
                   headers={"X-Xsrftoken": token}, body="")


def xsrf(gport, tport):
    sides = {
        "gust": {1: gport["xsrf1"], 2: gport["single"]},
        "tornado": {1: tport["xsrf1"], 2: tport["single"]},
    }
    tokens = {}
    for who, apps in sides.items():
        for ver, port in apps.items():
            tok, hdr = get_token(port)
            fmt = XSRF_V2 if ver == 2 else XSRF_V1
            ok = hdr is not None and fmt.match(tok) is not None
            check(ok and fmt.match(parse_set_cookie(hdr)[1].value),
                  "xsrf v%d: %s's token and cookie in the v%d format" %
                  (ver, who, ver), "%r / %r" % (tok, hdr))
            if ok:
                tokens[who, ver] = (tok, hdr)
    for ver in (1, 2):
        if ("gust", ver) in tokens and ("tornado", ver) in tokens:
            g, t = tokens["gust", ver][1], tokens["tornado", ver][1]
            check(template(g) == template(t),
                  "xsrf v%d: Set-Cookie headers alike but for the token" %
                  ver, "gust    %s\ntornado %s" % (g, t))

    # each side's token and cookie, posted to both versions of the other
    for (who, ver), (tok, hdr) in sorted(tokens.items()):
        other = "tornado" if who == "gust" else "gust"
        cookie = wire_cookie(hdr)
        for over, port in sorted(sides[other].items()):
            r = post_form(port, cookie, tok)
            check(r.status == 200 and r.body == b"ok",
                  "xsrf: %s v%d token accepted by %s v%d (form field)" %
                  (who, ver, other, over), r)
            r = post_header(port, cookie, tok)
            check(r.status == 200 and r.body == b"ok",
                  "xsrf: %s v%d token accepted by %s v%d (X-Xsrftoken)" %
                  (who, ver, other, over), r)
        # the other side masks a fresh token for this cookie (and sets
        # none): posted back to this side with its own cookie
        for over, port in sorted(sides[other].items()):
            tok2, hdr2 = get_token(port, cookie)
            r = post_header(sides[who][ver], cookie, tok2)
            check(hdr2 is None and r.status == 200,
                  "xsrf: %s v%d's token for %s v%d's cookie accepted by "
                  "%s (no new cookie)" % (other, over, who, ver, who),
                  "token %r, set-cookie %r, post %r" % (tok2, hdr2, r))

    # refusals: the same status and body from both
    def both(name, fn):
        g, t = fn("gust"), fn("tornado")
        check(g.status == 403 and (g.status, g.body) == (t.status, t.body),
              "xsrf: %s refused by both with the same 403" % name,
              "gust %r\ntornado %r" % (g, t))

    other_tok = {who: get_token(apps[2])[0] for who, apps in sides.items()}
    cookie = {who: wire_cookie(tokens[who, 2][1]) for who in sides
              if (who, 2) in tokens}
    if len(cookie) == 2:
        both("token of another cookie", lambda w: post_form(
            sides[w][2], cookie[w], other_tok[w]))
        both("other side's token of another cookie", lambda w: post_header(
            sides[w][2], cookie[w],
            other_tok["tornado" if w == "gust" else "gust"]))
        both("missing token", lambda w: post_form(sides[w][2], cookie[w], ""))
        both("missing token (no body)", lambda w: request(
            sides[w][2], "POST", "/xsrf", cookie=cookie[w], body=""))
        both("token without cookie", lambda w: post_header(
            sides[w][2], None, tokens[w, 2][0]))
        both("token of invalid format (3|)", lambda w: post_header(
            sides[w][2], cookie[w], "3|"))
        both("v1 token of another cookie", lambda w: post_header(
            sides[w][1], cookie[w], "00" * 16))


if __name__ == "__main__":
    main()
