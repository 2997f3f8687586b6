"""Tornado's hello app for bench/server: GET/HEAD / answers 200 text/plain
"Hello, World!", as examples/hello and the nginx configuration do.

Usage: /usr/bin/python3 server_tornado.py [PORT]   (0 or none: any port)
Prints "listening on PORT" once listening; SIGTERM stops it.
"""
import signal
import socket
import sys

import tornado.httpserver
import tornado.ioloop
import tornado.netutil
import tornado.web


class Hello(tornado.web.RequestHandler):
    def get(self):
        self.set_header("Content-Type", "text/plain")
        self.write("Hello, World!")


def main():
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 0
    app = tornado.web.Application([(r"/", Hello)])
    server = tornado.httpserver.HTTPServer(app)
    socks = tornado.netutil.bind_sockets(port, "127.0.0.1",
                                         family=socket.AF_INET)
    server.add_sockets(socks)
    loop = tornado.ioloop.IOLoop.current()
    signal.signal(signal.SIGTERM,
                  lambda *a: loop.add_callback_from_signal(loop.stop))
    print("listening on %d" % socks[0].getsockname()[1], flush=True)
    loop.start()


if __name__ == "__main__":
    main()
