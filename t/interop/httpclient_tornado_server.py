"""Tornado app that t/interop/httpclient_tornado.sh drives gust's HTTP
client against (run with /usr/bin/python3 and Debian's python3-tornado).
Listens on a free loopback port, prints "listening on PORT", exits 0 on
SIGTERM.

  /hello            "Hello, World!" (GET and HEAD)
  /echo             JSON: method, body (latin-1), its length and SHA-256,
                    and selected request headers (null when absent)
  /big              a large text; the app compresses (compress_response)
  /chunked          a body written in flushed pieces (chunked encoding)
  /emptygzip        Content-Encoding: gzip with an empty body
  /redirect         302 to /hello; /redirect307: 307 to /echo
  /upload           streams the request body: "COUNT SHA256"
  /conn             the client's port: the same for requests sent on one
                    connection
  /auth             Basic authentication decoded: "user=U password=P",
                    401 without it
  /slow             answers after 5 seconds
  /status/N         an empty answer with status N
"""
import asyncio
import base64
import hashlib
import signal

import tornado.httpserver
import tornado.netutil
import tornado.web

ECHOED = ("User-Agent", "Accept-Encoding", "Content-Type", "Content-Length",
          "Authorization", "Transfer-Encoding", "Expect", "X-Test")


def big_text():
    return "".join("line %d of a text that Tornado compresses\n" % i
                   for i in range(50000))


class Hello(tornado.web.RequestHandler):
    def get(self):
        self.write("Hello, World!")

    head = get


class Echo(tornado.web.RequestHandler):
    def answer(self):
        body = self.request.body
        self.write({
            "method": self.request.method,
            "body": body.decode("latin-1"),
            "length": len(body),
            "sha256": hashlib.sha256(body).hexdigest(),
            "headers": {h: self.request.headers.get(h) for h in ECHOED},
        })

    get = post = put = patch = delete = answer


class Big(tornado.web.RequestHandler):
    def get(self):
        self.set_header("Content-Type", "text/plain")
        self.write(big_text())


class Chunked(tornado.web.RequestHandler):
    async def get(self):
        self.set_header("Content-Type", "application/octet-stream")
        for i in range(100):
            self.write(("piece %d\n" % i) * 100)
            await self.flush()


class EmptyGzip(tornado.web.RequestHandler):
    def get(self):
        self.set_header("Content-Encoding", "gzip")


class Redirect(tornado.web.RequestHandler):
    def initialize(self, to, code):
        self.to = to
        self.code = code

    def answer(self):
        self.redirect(self.to, status=self.code)

    get = post = put = answer


@tornado.web.stream_request_body
class Upload(tornado.web.RequestHandler):
    def prepare(self):
        self.count = 0
        self.hash = hashlib.sha256()

    def data_received(self, chunk):
        self.count += len(chunk)
        self.hash.update(chunk)

    def answer(self):
        self.write("%d %s" % (self.count, self.hash.hexdigest()))

    post = put = answer


class Conn(tornado.web.RequestHandler):
    def get(self):
        self.write("%d" % self.request.connection.context.address[1])


class Auth(tornado.web.RequestHandler):
    def get(self):
        h = self.request.headers.get("Authorization", "")
        if not h.startswith("Basic "):
            self.set_status(401)
            self.set_header("WWW-Authenticate", 'Basic realm="gust"')
            return
        user, _, password = base64.b64decode(h[6:]).decode().partition(":")
        self.write("user=%s password=%s" % (user, password))


class Slow(tornado.web.RequestHandler):
    async def get(self):
        await asyncio.sleep(5)
        self.write("late")


class Status(tornado.web.RequestHandler):
    def get(self, code):
        self.set_status(int(code))


async def main():
    app = tornado.web.Application([
        (r"/hello", Hello),
        (r"/echo", Echo),
        (r"/big", Big),
        (r"/chunked", Chunked),
        (r"/emptygzip", EmptyGzip),
        (r"/redirect", Redirect, {"to": "/hello", "code": 302}),
        (r"/redirect307", Redirect, {"to": "/echo", "code": 307}),
        (r"/upload", Upload),
        (r"/conn", Conn),
        (r"/auth", Auth),
        (r"/slow", Slow),
        (r"/status/([0-9]+)", Status),
    ], compress_response=True)
    server = tornado.httpserver.HTTPServer(app, max_body_size=256 << 20)
    sockets = tornado.netutil.bind_sockets(0, "127.0.0.1")
    server.add_sockets(sockets)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    print("listening on %d" % sockets[0].getsockname()[1], flush=True)
    await stop.wait()
    server.stop()


if __name__ == "__main__":
    asyncio.run(main())
