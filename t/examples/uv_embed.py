"""Black-box tests of examples/uv-embed over loopback (TAP).

usage: uv_embed.py APP_BINARY

Every wait is bounded by a generous timeout; the timer test waits for the
count to move instead of sleeping a fixed time.
"""

import os
import signal
import subprocess
import sys
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir))
import tap  # noqa: E402  (t/tap.py)
from tap import ok  # noqa: E402

TIMEOUT = 30.0


def fetch(url):
    with urllib.request.urlopen(url, timeout=TIMEOUT) as r:
        return r.status, r.read().decode()


def ticks(base):
    status, body = fetch(base + "ticks")
    return int(body.split()[1]) if status == 200 else -1


def main():
    proc = subprocess.Popen([sys.argv[1], "-p", "0"], stdout=subprocess.PIPE,
                            text=True)
    try:
        line = proc.stdout.readline()
        prefix = "uv-embed: listening on "
        if not line.startswith(prefix):
            print("Bail out! unexpected first line: %r" % line)
            sys.exit(1)
        base = line[len(prefix):].strip()
        ok(base.startswith("http://127.0.0.1:"), "prints its URL", base)

        line = proc.stdout.readline()
        ok(line.startswith("uv-embed: fetched %sticks: 200," % base)
           and "ticks " in line,
           "gust's client fetch on the application's loop succeeds", line)

        status, body = fetch(base)
        ok(status == 200 and "libuv application" in body,
           "gust's server answers inside uv_run()", (status, body))

        first = ticks(base)
        later = first
        limit = time.monotonic() + TIMEOUT
        while later <= first and time.monotonic() < limit:
            time.sleep(0.05)
            later = ticks(base)
        ok(0 <= first < later,
           "the application's own uv timer keeps ticking while gust serves",
           (first, later))

        try:
            fetch(base + "nope")
            st = 200
        except urllib.error.HTTPError as e:
            st = e.code
        ok(st == 404, "unknown path: 404", st)

        proc.send_signal(signal.SIGTERM)
        rest = proc.stdout.read()
        rc = proc.wait(TIMEOUT)
        ok("uv-embed: stopping after" in rest,
           "SIGTERM reaches the application's uv_signal handler", rest)
        ok("uv-embed: clean exit" in rest,
           "teardown: gust_loop_free, uv_run, uv_loop_close succeed", rest)
        ok(rc == 0, "exit status 0", rc)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    sys.exit(tap.done())


main()
