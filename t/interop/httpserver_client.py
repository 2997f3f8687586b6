"""Tornado's HTTP client (simple_httpclient) against a gust HTTP server that
answers as examples/hello does. TAP on stdout.

Usage: /usr/bin/python3 httpserver_client.py BASE_URL [--ca CA_PEM]
With --ca (an https:// BASE_URL) the server is t/interop/https_server: the
CA is passed both as ca_certs and as an ssl.SSLContext in ssl_options,
GET /protocol must say "https", and a client that does not trust the CA
must fail the handshake.
"""
import asyncio
import logging
import os
import ssl
import sys

import tornado
from tornado.httpclient import AsyncHTTPClient, HTTPClientError, HTTPRequest

base = sys.argv[1]
ca = sys.argv[3] if len(sys.argv) > 3 and sys.argv[2] == "--ca" else None
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


def request(path, **kw):
    kw.setdefault("connect_timeout", 30)
    kw.setdefault("request_timeout", 120)
    if ca is not None:
        kw.setdefault("ca_certs", ca)
    return HTTPRequest(base + path, **kw)


async def main():
    AsyncHTTPClient.configure("tornado.simple_httpclient.SimpleAsyncHTTPClient",
                              max_body_size=64 << 20)
    client = AsyncHTTPClient(force_instance=True)
    fetch = client.fetch
    print("# tornado %s, %s" % (tornado.version, base))

    r = await fetch(request("/"))
    check(r.code == 200 and r.body == b"Hello, World!", "GET / body",
          "%d %r" % (r.code, r.body))
    check(r.headers.get("Content-Type", "").startswith("text/plain"),
          "GET / is text/plain", r.headers.get("Content-Type"))

    r = await fetch(request("/", method="HEAD"))
    check(r.code == 200 and r.body == b"" and
          r.headers.get("Content-Length") == "13", "HEAD /",
          "%d %r %r" % (r.code, r.body, r.headers.get("Content-Length")))

    r = await fetch(request("/nope"), raise_error=False)
    check(r.code == 404, "GET /nope is 404", r.code)

    mib = os.urandom(1 << 20)
    r = await fetch(request("/echo", method="POST", body=mib))
    check(r.code == 200 and r.body == mib, "POST /echo echoes 1 MiB",
          "%d, %d bytes back" % (r.code, len(r.body)))

    pieces = [os.urandom(8192 + i * 97) for i in range(40)]

    async def producer(write):
        for p in pieces:
            await write(p)

    r = await fetch(request("/echo", method="POST", body_producer=producer))
    want = b"".join(pieces)
    check(r.code == 200 and r.body == want,
          "POST /echo echoes a chunked body from a body_producer",
          "%d, %d bytes back of %d" % (r.code, len(r.body), len(want)))

    async def empty(write):
        return None

    r = await fetch(request("/echo", method="POST", body_producer=empty))
    check(r.code == 200 and r.body == b"",
          "POST /echo with an empty chunked body", "%d %r" % (r.code, r.body))

    rs = await asyncio.gather(*[fetch(request("/?i=%d" % i))
                                for i in range(20)])
    check(all(x.code == 200 and x.body == b"Hello, World!" for x in rs),
          "20 concurrent GETs")

    if ca is not None:
        r = await fetch(request("/protocol"))
        check(r.body == b"https", "the request's protocol is https", r.body)
        ctx = ssl.create_default_context(cafile=ca)
        r = await fetch(request("/echo", method="POST", body=b"over tls",
                                ssl_options=ctx))
        check(r.body == b"over tls", "ssl_options with an SSLContext",
              r.body)
        # Tornado logs the refused handshake; the check says what matters.
        logging.getLogger("tornado.general").setLevel(logging.CRITICAL)
        try:
            await fetch(HTTPRequest(base + "/", connect_timeout=30,
                                    request_timeout=60))
            check(False, "a client without the CA refuses the certificate")
        except ssl.SSLError as e:
            check(True, "a client without the CA refuses the certificate")
        except HTTPClientError as e:
            check(False, "a client without the CA refuses the certificate", e)
        except OSError as e:
            check("CERTIFICATE_VERIFY_FAILED" in str(e),
                  "a client without the CA refuses the certificate", e)
    client.close()


try:
    asyncio.run(main())
except Exception as e:  # a failure the checks above did not expect
    check(False, "the client ran through", repr(e))
print("1..%d" % n)
sys.exit(1 if failed else 0)
