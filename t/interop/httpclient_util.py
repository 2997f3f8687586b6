"""Helpers of the HTTP client interop tests (t/interop/httpclient_*.sh),
run with /usr/bin/python3; each prints one line and exits 0, or 1 on
failure.

  free-port              a loopback port free right now
  wait-port PORT PID S   waits until 127.0.0.1:PORT accepts a connection
                         (at most S seconds; fails at once if PID exits)
  rss S CMD [ARG...]     runs CMD (killed after S seconds) reading its
                         standard output; prints "status N bytes B
                         nonzero Z maxrss_kib K vmhwm_kib H": exit status
                         (124 when killed), bytes and non-zero bytes
                         written, the children's maximum resident set size
                         from getrusage (an upper bound: it includes this
                         interpreter's RSS, inherited at the spawn) and
                         the largest VmHWM of CMD seen in /proc meanwhile
  sha256 FILE            the hex SHA-256 of FILE
"""
import hashlib
import os
import resource
import socket
import subprocess
import sys
import threading
import time


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        print(s.getsockname()[1])
    return 0


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie has exited too.
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return True


def wait_port(port, pid, seconds):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=5).close()
            print("listening")
            return 0
        except OSError:
            pass
        if not alive(pid):
            print("exited")
            return 1
        time.sleep(0.05)
    print("timeout")
    return 1


def vmhwm(pid):
    """The peak RSS of `pid`'s current program in KiB (0 if unknown)."""
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def rss(seconds, argv):
    p = subprocess.Popen(argv, stdout=subprocess.PIPE)
    killed = []

    def kill():
        killed.append(True)
        p.kill()

    timer = threading.Timer(seconds, kill)
    timer.start()
    total = nonzero = hwm = 0
    while True:
        chunk = p.stdout.read1(1 << 20)
        if not chunk:
            break
        total += len(chunk)
        nonzero += len(chunk) - chunk.count(0)
        hwm = max(hwm, vmhwm(p.pid))
    p.stdout.close()
    status = p.wait()
    timer.cancel()
    if killed:
        status = 124
    elif status < 0:
        status = 128 - status
    kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    print("status %d bytes %d nonzero %d maxrss_kib %d vmhwm_kib %d"
          % (status, total, nonzero, kib, hwm))
    return 0


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    print(h.hexdigest())
    return 0


def main():
    a = sys.argv[1:]
    if a[:1] == ["free-port"]:
        return free_port()
    if a[:1] == ["wait-port"] and len(a) == 4:
        return wait_port(int(a[1]), int(a[2]), float(a[3]))
    if a[:1] == ["rss"] and len(a) >= 3:
        return rss(float(a[1]), a[2:])
    if a[:1] == ["sha256"] and len(a) == 2:
        return sha256(a[1])
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main())
