"""Load generator of bench/client for Tornado's AsyncHTTPClient
(simple_httpclient): CONC GETs of URL kept in flight for SECONDS, each
completion starting the next fetch; prints the same "key: value" lines as
bench/client_gust.c.

simple_httpclient sends Connection: close and opens a connection per
request: that is Tornado's own behaviour, so --no-keep-alive changes
nothing (it is accepted for the same command line). Connects are counted
by wrapping TCPClient.connect.

Usage: /usr/bin/python3 client_tornado.py --url URL [--seconds N]
                                          [--concurrency N] [--no-keep-alive]
Every response must be a 200 with the body length of a first warm-up
response (not counted); exits 1 after printing the first failure otherwise.
"""
import argparse
import math
import random
import resource
import sys
import time

import tornado
import tornado.gen
import tornado.httpclient
import tornado.ioloop
import tornado.tcpclient

MAX_SAMPLES = 1 << 20


def cpu_seconds():
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


def percentile_ms(v, p):
    if not v:
        return float("nan")
    k = math.ceil(p * len(v))
    return v[max(k - 1, 0)] * 1e3


class Bench:
    def __init__(self, args):
        self.args = args
        self.ok = 0
        self.failed = 0
        self.first_error = None
        self.lat = []
        self.seen = 0
        self.rng = random.Random(1)
        self.connects = 0
        self.t_last = 0.0

    def fail(self, what):
        self.failed += 1
        if self.first_error is None:
            self.first_error = what

    def record(self, secs):
        self.seen += 1
        if len(self.lat) < MAX_SAMPLES:
            self.lat.append(secs)
        else:
            j = self.rng.randrange(self.seen)
            if j < MAX_SAMPLES:
                self.lat[j] = secs

    async def fetch(self, client):
        # raise_error=False turns HTTP errors into responses, but a failed
        # connect still raises: count it as a failed request too.
        try:
            return await client.fetch(self.args.url, raise_error=False)
        except Exception as e:
            self.fail("%s: %s" % (type(e).__name__, e))
            return None

    def check(self, resp, expect_len):
        if resp is None:
            return False
        if resp.code != 200:
            self.fail("HTTP status: %s (%d)" % (
                resp.error if resp.error is not None else resp.reason,
                resp.code))
            return False
        if expect_len is not None and len(resp.body) != expect_len:
            self.fail("body length differs: the warm-up's was %d (%d)" % (
                expect_len, len(resp.body)))
            return False
        return True

    async def chain(self, client, deadline, expect_len):
        while True:
            t0 = time.monotonic()
            resp = await self.fetch(client)
            t = time.monotonic()
            self.t_last = t
            if self.check(resp, expect_len):
                self.ok += 1
                self.record(t - t0)
            if t >= deadline:
                return

    async def run(self):
        conc = self.args.concurrency
        warm = tornado.httpclient.AsyncHTTPClient(force_instance=True)
        resp = await self.fetch(warm)
        warm.close()
        if not self.check(resp, None):
            return None
        expect_len = len(resp.body)

        orig = tornado.tcpclient.TCPClient.connect

        def counting_connect(tcp, *a, **kw):
            self.connects += 1
            return orig(tcp, *a, **kw)

        tornado.tcpclient.TCPClient.connect = counting_connect
        client = tornado.httpclient.AsyncHTTPClient(force_instance=True,
                                                    max_clients=conc)
        self.impl = type(client).__module__
        cpu0 = cpu_seconds()
        t_start = time.monotonic()
        self.t_last = t_start
        deadline = t_start + self.args.seconds
        chains = [self.chain(client, deadline, expect_len)
                  for _ in range(conc)]
        await tornado.gen.multi(chains)
        cpu = cpu_seconds() - cpu0
        client.close()
        tornado.tcpclient.TCPClient.connect = orig
        return self.t_last - t_start, cpu


def positive(s):
    v = int(s)
    if v < 1:
        raise argparse.ArgumentTypeError("must be >= 1")
    return v


def main():
    ap = argparse.ArgumentParser(prog="client_tornado")
    ap.add_argument("--url", required=True)
    ap.add_argument("--seconds", type=positive, default=3)
    ap.add_argument("--concurrency", type=positive, default=16)
    ap.add_argument("--no-keep-alive", action="store_true")
    args = ap.parse_args()

    b = Bench(args)
    res = tornado.ioloop.IOLoop.current().run_sync(b.run)
    if res is None:
        print("client_tornado: warm-up: %s" % b.first_error, file=sys.stderr)
        return 1
    elapsed, cpu = res
    b.lat.sort()
    print("client:          tornado %s %s (Connection: close, a connection"
          " per request; max_clients %d)"
          % (tornado.version, b.impl, args.concurrency))
    print("url:             %s" % args.url)
    print("concurrency:     %d" % args.concurrency)
    print("seconds:         %.3f" % elapsed)
    print("requests:        %d" % b.ok)
    print("failed:          %d" % b.failed)
    print("requests/s:      %.1f" % (b.ok / elapsed if elapsed > 0 else 0.0))
    print("p50_ms:          %.3f" % percentile_ms(b.lat, 0.50))
    print("p99_ms:          %.3f" % percentile_ms(b.lat, 0.99))
    print("connects:        %d" % b.connects)
    print("reuses:          0")
    print("cpu_us_per_req:  %.2f" % (cpu * 1e6 / b.ok if b.ok else math.nan))
    sys.stdout.flush()
    if b.failed:
        print("client_tornado: %d request(s) failed; the first: %s"
              % (b.failed, b.first_error), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
