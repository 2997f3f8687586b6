"""Tornado's WebSocket echo server for bench/ws_echo: every message goes
back with the opcode it came with.

Usage: /usr/bin/python3 ws_echo_tornado.py [PORT] [--deflate]
  PORT 0 or none: any free port. Listens on 127.0.0.1 and prints
  "listening on PORT" once it does; SIGTERM stops it.
  --deflate: accept permessage-deflate (Tornado's defaults); off otherwise.
"""
import signal
import socket
import sys

import tornado.httpserver
import tornado.ioloop
import tornado.netutil
import tornado.web
import tornado.websocket

DEFLATE = False


class Echo(tornado.websocket.WebSocketHandler):
    def get_compression_options(self):
        return {} if DEFLATE else None

    def on_message(self, message):
        self.write_message(message, binary=isinstance(message, bytes))


def main():
    global DEFLATE
    args = sys.argv[1:]
    DEFLATE = "--deflate" in args
    rest = [a for a in args if a != "--deflate"]
    if len(rest) > 1 or (rest and not rest[0].isdigit()):
        sys.exit("usage: ws_echo_tornado.py [PORT] [--deflate]")
    port = int(rest[0]) if rest else 0
    app = tornado.web.Application([(r"/.*", Echo)])
    server = tornado.httpserver.HTTPServer(app)
    socks = tornado.netutil.bind_sockets(port, "127.0.0.1",
                                         family=socket.AF_INET, backlog=1024)
    server.add_sockets(socks)
    loop = tornado.ioloop.IOLoop.current()
    signal.signal(signal.SIGTERM,
                  lambda *a: loop.add_callback_from_signal(loop.stop))
    print("listening on %d" % socks[0].getsockname()[1], flush=True)
    loop.start()


if __name__ == "__main__":
    main()
