"""Connection holder for bench/server: opens N keep-alive connections to
127.0.0.1:PORT, sends one GET / on each and reads its whole response, so
every connection is left idle and open; then prints "ready N" and waits
until it is terminated (SIGTERM).

Usage: python3 server_idle.py PORT N
Exits 1 with a message on stderr if a connection fails.
"""
import resource
import signal
import socket
import sys

REQUEST = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"


def read_response(sock):
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(4096)
        if not chunk:
            raise ConnectionError("connection closed before the response head")
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    if not head.startswith(b"HTTP/1.1 200"):
        raise ConnectionError("unexpected response %r" % head[:40])
    length = None
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    if length is None:
        raise ConnectionError("response without Content-Length")
    while len(body) < length:
        chunk = sock.recv(4096)
        if not chunk:
            raise ConnectionError("connection closed in the response body")
        body += chunk


def main():
    port, count = int(sys.argv[1]), int(sys.argv[2])
    want = count + 64
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < want:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE,
                               (want, max(hard, want)))
        except (ValueError, OSError) as e:
            sys.exit("cannot raise RLIMIT_NOFILE to %d: %s" % (want, e))
    socks = []
    try:
        for _ in range(count):
            s = socket.create_connection(("127.0.0.1", port), timeout=30)
            s.sendall(REQUEST)
            read_response(s)
            socks.append(s)
    except (OSError, ConnectionError) as e:
        sys.exit("connection %d of %d: %s" % (len(socks) + 1, count, e))
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
    print("ready %d" % len(socks), flush=True)
    while True:
        signal.pause()


if __name__ == "__main__":
    main()
