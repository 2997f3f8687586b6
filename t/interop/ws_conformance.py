#!/usr/bin/python3
"""WebSocket conformance driver: plays the client side of the
Autobahn|Testsuite case groups 1-7, 9, 10, 12 and 13 (9, 12 and 13 scaled
down) plus gust's own handshake, frame-rule and permessage-deflate cases
(group 0) against an echo server, and prints TAP.

Written from RFC 6455, RFC 7692 and the public case descriptions; the
expected outcomes are gust's (websocket-rules.md), stricter than Autobahn's:
failByDrop (a protocol error must be answered with a close frame, never a
bare TCP drop), the echo of every message completed before a bad frame,
fail-fast UTF-8 checks (6.4.x), echoed close codes, 10 pongs for 10 pings,
and the server closing TCP first after the closing handshake.

The server under test echoes every message with its opcode on any path and
negotiates permessage-deflate when offered.  Standard library only.

  ws_conformance.py --host 127.0.0.1 --port 9001 [--groups 0,1,6]
                    [--case 6.4.1,7.9] [--timeout 5] [--list] [-v]

--case takes case ids or id prefixes ("7.9" runs 7.9.1 to 7.9.9).  Exit
status 0 when every case passed, 1 when one failed, 2 when the server
cannot be reached.
"""

import argparse
import base64
import hashlib
import os
import selectors
import socket
import struct
import sys
import time
import zlib

OP_CONT, OP_TEXT, OP_BINARY = 0x0, 0x1, 0x2
OP_CLOSE, OP_PING, OP_PONG = 0x8, 0x9, 0xA
OP_NAMES = {0: "continuation", 1: "text", 2: "binary", 8: "close",
            9: "ping", 10: "pong"}
WS_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

MAX_FRAME = 32 << 20       # largest frame payload accepted from the server
MAX_MESSAGE = 32 << 20     # largest (inflated) message accepted
MAX_BUFFERED = 64 << 20    # unread input kept while the driver sends
MAX_HEAD = 16384           # largest HTTP response head
IO_CHUNK = 1 << 18
FAIL_FAST_WAIT = 2.0       # 6.4.x: the close must come this soon
QUIET_WAIT = 0.25          # "nothing may arrive yet" windows
CLIENT_CLOSE_GRACE = 0.5   # see Conn.expect_close(client_closes)
FRAME_PAUSE = 0.01         # between frame-wise chops
OCTET_PAUSE = 0.001        # between octet-wise chops
MAX_MESSAGE_SIZE = 10485760  # gust's default max_message_size (W5)

KOSME = b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5"  # κόσμε, ό = U+1F79
INVALID_UTF8 = KOSME + b"\xed\xa0\x80" + b"edited"


class CaseFail(Exception):
    """A case's expectation was not met; the text says what and why."""


class ServerGone(CaseFail):
    """The server refuses connections: no later case can run."""


# ---------------------------------------------------------------- helpers

def preview(data, limit=40):
    """A short, printable rendering of a payload for diagnostics."""
    data = bytes(data)
    cut = data[:limit]
    try:
        text = cut.decode("ascii")
        shown = repr(text) if text.isprintable() else "0x" + cut.hex()
    except UnicodeDecodeError:
        shown = "0x" + cut.hex()
    return shown + ("..." if len(data) > limit else "")


def mask_bytes(data, key):
    """RFC 6455 §5.3 masking (its own inverse)."""
    n = len(data)
    if n == 0:
        return b""
    if len(key) != 4:
        raise ValueError("masking key must have 4 bytes")
    k = (bytes(key) * (n // 4 + 1))[:n]
    x = int.from_bytes(data, "little") ^ int.from_bytes(k, "little")
    return x.to_bytes(n, "little")


def frame_bytes(opcode, payload=b"", fin=True, rsv=0, mask=True, key=None,
                length_form=None):
    """One frame on the wire.  rsv is the 3-bit RSV1..RSV3 field (4 = RSV1);
    length_form 7, 16 or 64 forces a (possibly non-minimal) length form."""
    n = len(payload)
    b0 = (0x80 if fin else 0) | ((rsv & 7) << 4) | (opcode & 0xF)
    mbit = 0x80 if mask else 0
    form = length_form or (7 if n < 126 else 16 if n < 65536 else 64)
    if form == 7:
        head = bytes([b0, mbit | n])
    elif form == 16:
        head = struct.pack("!BBH", b0, mbit | 126, n)
    else:
        head = struct.pack("!BBQ", b0, mbit | 127, n)
    if not mask:
        return head + bytes(payload)
    if key is None:
        key = os.urandom(4)
    return head + key + mask_bytes(payload, key)


def close_payload(code=None, reason=b""):
    if code is None:
        return b""
    return struct.pack("!H", code) + reason


def close_code_valid(code):
    """websocket-rules.md §5: the codes a peer may send."""
    return (1000 <= code <= 1003 or 1007 <= code <= 1014
            or 3000 <= code <= 4999)


def accept_value(key):
    digest = hashlib.sha1(key.encode("ascii") + WS_GUID).digest()
    return base64.b64encode(digest).decode("ascii")


def utf8_ok(data):
    try:
        bytes(data).decode("utf-8")
        return True
    except UnicodeDecodeError:
        return False


# ------------------------------------------------ Sec-WebSocket-Extensions

TCHARS = frozenset(b"!#$%&'*+-.^_`|~0123456789"
                   b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")


def parse_extensions(value):
    """Sec-WebSocket-Extensions (RFC 6455 §9.1) -> [(name, [(param, value)])];
    value is None for a bare parameter.  Raises ValueError."""
    s = value.encode("latin-1")
    i, n = 0, len(s)
    out = []

    def ows():
        nonlocal i
        while i < n and s[i] in b" \t":
            i += 1

    def token():
        nonlocal i
        start = i
        while i < n and s[i] in TCHARS:
            i += 1
        if i == start:
            raise ValueError("token expected at offset %d" % start)
        return s[start:i].decode("ascii")

    def quoted():
        nonlocal i
        i += 1
        buf = bytearray()
        while i < n and s[i] != 0x22:
            if s[i] == 0x5C:
                i += 1
                if i >= n:
                    break
            buf.append(s[i])
            i += 1
        if i >= n:
            raise ValueError("unterminated quoted-string")
        i += 1
        if not buf or any(b not in TCHARS for b in buf):
            raise ValueError("quoted value is not a token")
        return buf.decode("ascii")

    while True:
        ows()
        name = token()
        params = []
        ows()
        while i < n and s[i] == 0x3B:
            i += 1
            ows()
            pname = token()
            ows()
            pval = None
            if i < n and s[i] == 0x3D:
                i += 1
                ows()
                pval = quoted() if i < n and s[i] == 0x22 else token()
                ows()
            params.append((pname, pval))
        out.append((name, params))
        if len(out) > 16:
            raise ValueError("too many elements")
        if i >= n:
            return out
        if s[i] != 0x2C:
            raise ValueError("',' or ';' expected at offset %d" % i)
        i += 1


NO_TAKEOVER = ("server_no_context_takeover", "client_no_context_takeover")


def pmd_params(params):
    """One permessage-deflate element's parameters (RFC 7692 §7.1) -> dict.
    A window-bits parameter without value maps to None.  Raises
    ValueError for an unknown, repeated or invalid parameter."""
    out = {}
    for name, val in params:
        if name in out:
            raise ValueError("repeated parameter " + name)
        if name in NO_TAKEOVER:
            if val is not None:
                raise ValueError(name + " takes no value")
            out[name] = True
        elif name in ("server_max_window_bits", "client_max_window_bits"):
            if val is None:
                if name == "server_max_window_bits":
                    raise ValueError("server_max_window_bits without a value")
                out[name] = None
                continue
            if not val.isdigit() or val.startswith("0") or \
                    not 8 <= int(val) <= 15:
                raise ValueError("%s=%s is not 8..15" % (name, val))
            out[name] = int(val)
        else:
            raise ValueError("unknown parameter " + name)
    return out


def pmd_response_error(resp, offer):
    """Why resp (a server's parameters) does not accept offer (ours, both
    from pmd_params), or None (RFC 7692 §7.1, websocket-rules.md §7.2)."""
    if offer.get("server_no_context_takeover") and \
            not resp.get("server_no_context_takeover"):
        return "server_no_context_takeover was offered but not answered"
    if "server_max_window_bits" in offer:
        if "server_max_window_bits" not in resp:
            return "server_max_window_bits=%d was offered but not answered" \
                % offer["server_max_window_bits"]
        if resp["server_max_window_bits"] > offer["server_max_window_bits"]:
            return "server_max_window_bits=%d is above the offered %d" % (
                resp["server_max_window_bits"],
                offer["server_max_window_bits"])
    if "client_max_window_bits" in resp:
        if "client_max_window_bits" not in offer:
            return "client_max_window_bits answered but not offered"
        if resp["client_max_window_bits"] is None:
            return "client_max_window_bits without a value in a response"
        limit = offer["client_max_window_bits"] or 15
        if resp["client_max_window_bits"] > limit:
            return "client_max_window_bits=%d is above the offered %d" % (
                resp["client_max_window_bits"], limit)
        if resp["client_max_window_bits"] == 8:
            return ("client_max_window_bits=8 cannot be honoured (zlib "
                    "refuses raw deflate with window 8, §7.3)")
    return None


# ------------------------------------------------- deterministic payloads

class Rng:
    """A seeded byte stream (SHAKE-256 in counter mode): the same seed gives
    the same corpus on every machine and Python version."""

    def __init__(self, seed):
        self.seed = seed.encode()
        self.count = 0
        self.buf = b""
        self.pos = 0

    def raw(self, n):
        self.count += 1
        return hashlib.shake_256(b"%s/%d" % (self.seed, self.count)).digest(n)

    def below(self, k):
        if self.pos + 4 > len(self.buf):
            self.buf = self.raw(4096)
            self.pos = 0
        v = int.from_bytes(self.buf[self.pos:self.pos + 4], "big")
        self.pos += 4
        return v % k

    def pick(self, seq):
        return seq[self.below(len(seq))]


ALNUM = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 "
ASCII_TABLE = bytes(ALNUM[i % len(ALNUM)] for i in range(256))


def ascii_text(seed, n):
    return Rng(seed).raw(n).translate(ASCII_TABLE)


def binary_data(seed, n):
    return Rng(seed).raw(n)


WORDS = ("und der die das nicht ist ich sie es mit auf für über schön Straße "
         "Mädchen grüßen Bäume fröhlich Käse Größe Faust Gretchen Himmel Erde "
         "Geist Nacht Studierzimmer Wagner Hexenküche Kerker Liebe Tränen "
         "Blüte Frühling Übermut heißt Weißt Glück Mühe the of and to in is "
         "that for it as was with be by on not he this are or his from at "
         "which but have an they you were her all she there would their we "
         "κόσμε λόγος 日本語 東京 €uro naïve café Zoë 🙂 𝄞").split()
NAMES = "Anna Zoë Jürgen Ωmega Li Chloé Björn Ünal Sören Miyu 太郎".split()
PATHS = "index news shop item blog search cart user".split()
CITIES = "Zürich München Köln Berlin Paris Tōkyō Athína Kraków Malmö".split()


def gen_json(rng, n):
    out = ["["]
    size, i = 1, 0
    while size < n:
        words = " ".join(rng.pick(WORDS) for _ in range(rng.below(8) + 2))
        tags = ", ".join('"%s"' % rng.pick(WORDS) for _ in range(rng.below(4)))
        rec = ('{"id": %d, "name": "%s %s", "email": "user%d@example.org", '
               '"tags": [%s], "score": %d.%02d, "active": %s, "city": "%s", '
               '"note": "%s"},\n' % (
                   i, rng.pick(NAMES), rng.pick(NAMES), rng.below(100000),
                   tags, rng.below(1000), rng.below(100),
                   rng.pick(["true", "false", "null"]), rng.pick(CITIES),
                   words))
        out.append(rec)
        size += len(rec.encode())
        i += 1
    return "".join(out)


def gen_prose(rng, n):
    out, size = [], 0
    while size < n:
        words = [rng.pick(WORDS) for _ in range(rng.below(14) + 3)]
        s = " ".join(words).capitalize() + rng.pick([".", "!", "?", ";", ","])
        s += "\n" if rng.below(5) == 0 else " "
        out.append(s)
        size += len(s.encode())
    return "".join(out)


def gen_html(rng, n):
    out = ["<!DOCTYPE html>\n<html><head><title>corpus</title></head><body>\n"]
    size, i = 0, 0
    while size < n:
        w = [rng.pick(WORDS) for _ in range(rng.below(12) + 2)]
        s = ('<div class="item item-%d"><h2>%s</h2><p>%s</p>'
             '<a href="/path/%s?id=%d&amp;x=%d">%s</a></div>\n' % (
                 i % 7, w[0], " ".join(w), rng.pick(PATHS),
                 i, rng.below(1000), w[-1]))
        out.append(s)
        size += len(s.encode())
        i += 1
    return "".join(out)


def gen_bitmap(rng, n):
    # A grey-scale picture: smooth gradients with a little noise, the kind
    # of binary data deflate shrinks a little.
    width = 512
    header = b"BM" + struct.pack("<IHHI", n, 0, 0, 1078) + bytes(40) + \
        bytes(c for i in range(256) for c in (i, i, i, 0))
    rows = [header]
    size, y = len(header), 0
    while size < n:
        noise = rng.raw(width)
        row = bytes(((x * y >> 7) + (x >> 2) + (noise[x] & 7)) & 0xFF
                    for x in range(width))
        rows.append(row)
        size += width
        y += 1
    return b"".join(rows)[:n]


def gen_pdfish(rng, n):
    # Text objects between high-entropy streams, as in a PDF.
    parts, size, i = [b"%PDF-1.4\n"], 9, 1
    while size < n:
        text = ("%d 0 obj\n<< /Type /Page /Length %d /Filter /FlateDecode >>\n"
                "stream\n" % (i, rng.below(4096))).encode()
        blob = rng.raw(rng.below(3000) + 200)
        tail = b"\nendstream\nendobj\n"
        parts += [text, blob, tail]
        size += len(text) + len(blob) + len(tail)
        i += 1
    return b"".join(parts)[:n]


CORPUS_SIZE = 262144
CORPORA = {
    # name: (description, generator, is text)
    "json": ("JSON-like text", gen_json, True),
    "bitmap": ("grey-scale bitmap", gen_bitmap, False),
    "prose": ("German/English prose with multi-byte UTF-8", gen_prose, True),
    "html": ("HTML-like text", gen_html, True),
    "pdf": ("PDF-like binary (text objects and random streams)", gen_pdfish,
            False),
}
_corpus_cache = {}


def corpus(name):
    if name not in _corpus_cache:
        desc, gen, is_text = CORPORA[name]
        data = gen(Rng("gust-ws-corpus-" + name), CORPUS_SIZE)
        if is_text:
            # Cut at a code point boundary, so that wrapping around stays
            # valid UTF-8.
            data = data.encode()[:CORPUS_SIZE].decode("utf-8", "ignore")
            data = data.encode()
        _corpus_cache[name] = data
    return _corpus_cache[name]


def take(data, ptr, size, is_text):
    """size bytes of data from ptr (wrapping); text slices start at a code
    point and have a cut code point at the end replaced by spaces."""
    n = len(data)
    if is_text:
        while data[ptr % n] & 0xC0 == 0x80:
            ptr += 1
    ptr %= n
    out = bytearray()
    p = ptr
    while len(out) < size:
        piece = data[p:p + size - len(out)]
        out += piece
        p = (p + len(piece)) % n
    if is_text and out:
        j = len(out) - 1
        while j > 0 and out[j] & 0xC0 == 0x80 and len(out) - j < 4:
            j -= 1
        lead = out[j]
        need = 1 if lead < 0x80 else 2 if lead < 0xE0 else \
            3 if lead < 0xF0 else 4
        if len(out) - j < need:
            out[j:] = b" " * (len(out) - j)
        while out and out[0] & 0xC0 == 0x80:
            out[0:1] = b" "
    return bytes(out), p


# ------------------------------------------------------------ connection

class Conn:
    """One client connection: bounded, timed reads and writes over a
    non-blocking socket, frame parsing with checks of what the server
    sends, message reassembly and permessage-deflate."""

    def __init__(self, sock, opts, log):
        self.sock = sock
        self.timeout = opts.timeout
        self.log = log
        self.sel = selectors.DefaultSelector()
        self.sel.register(sock, selectors.EVENT_READ)
        self.rbuf = bytearray()
        self.rpos = 0
        self.eof = False
        self.reset = None
        self.send_error = None
        self.sent_close = False
        self.got_close = None
        self.msg_op = None
        self.msg_parts = []
        self.msg_size = 0
        self.msg_compressed = False
        self.pmd = None
        self.deflater = None
        self.inflater = None
        self.last_raw = b""
        self.note = lambda text: None

    def close(self):
        try:
            self.sel.close()
        finally:
            self.sock.close()

    # -- low level I/O

    def _wait(self, events, deadline):
        left = deadline - time.monotonic()
        if left <= 0:
            return 0
        self.sel.modify(self.sock, events)
        mask = 0
        for _, ev in self.sel.select(left):
            mask |= ev
        return mask

    def _recv_once(self):
        """One non-blocking recv: True if something changed."""
        try:
            data = self.sock.recv(IO_CHUNK)
        except BlockingIOError:
            return False
        except OSError as e:
            self.reset = e.strerror or str(e)
            return True
        if not data:
            self.eof = True
            return True
        self.rbuf += data
        if len(self.rbuf) - self.rpos > MAX_BUFFERED:
            raise CaseFail("more than %d unread bytes from the server"
                           % MAX_BUFFERED)
        return True

    def _recv_some(self, deadline):
        """Reads once, waiting until deadline: False on timeout."""
        while not (self.eof or self.reset):
            if self._recv_once():
                return True
            if not self._wait(selectors.EVENT_READ, deadline):
                return False
        return False

    def _available(self):
        return len(self.rbuf) - self.rpos

    def _need(self, n, deadline):
        """None once n unread bytes are buffered, else 'eof'/'reset'/
        'timeout'."""
        while self._available() < n:
            if self.reset:
                return "reset"
            if self.eof:
                return "eof"
            if not self._recv_some(deadline) and not (self.eof or self.reset):
                return "timeout"
        return None

    def _consume(self, n):
        data = bytes(self.rbuf[self.rpos:self.rpos + n])
        self.rpos += n
        if self.rpos > (1 << 20) or self.rpos == len(self.rbuf):
            del self.rbuf[:self.rpos]
            self.rpos = 0
        return data

    def send_raw(self, data, chop=None, pause=0.0):
        """Writes data (in chops of `chop` bytes with `pause` s between
        them), reading whatever arrives meanwhile.  A failed or blocked
        write is remembered in send_error, not raised: the server may have
        closed on purpose."""
        if self.send_error:
            return False
        view = memoryview(bytes(data))
        step = chop or max(len(view), 1)
        for off in range(0, len(view), step):
            if not self._send_all(view[off:off + step]):
                return False
            if pause:
                time.sleep(pause)
                while not (self.eof or self.reset) and self._recv_once():
                    pass
        return True

    def _send_all(self, view):
        off = 0
        deadline = time.monotonic() + self.timeout
        while off < len(view):
            try:
                sent = self.sock.send(view[off:off + IO_CHUNK])
                off += sent
                deadline = time.monotonic() + self.timeout
                continue
            except BlockingIOError:
                pass
            except OSError as e:
                self.send_error = e.strerror or str(e)
                return False
            events = selectors.EVENT_WRITE
            if not (self.eof or self.reset):
                events |= selectors.EVENT_READ
            ready = self._wait(events, deadline)
            if not ready:
                self.send_error = "write blocked for %g s" % self.timeout
                return False
            if ready & selectors.EVENT_READ:
                self._recv_once()
        return True

    # -- frames out

    def send_frame(self, opcode, payload=b"", fin=True, rsv=0, mask=True,
                   chop=None, pause=0.0, length_form=None):
        data = frame_bytes(opcode, payload, fin, rsv, mask,
                           length_form=length_form)
        if opcode == OP_CLOSE:
            self.sent_close = True
        self.log("> %s fin=%d rsv=%d%s len=%d %s" % (
            OP_NAMES.get(opcode, "op%d" % opcode), fin, rsv,
            "" if mask else " UNMASKED", len(payload), preview(payload, 24)))
        return self.send_raw(data, chop, pause)

    def message_frames(self, opcode, payload, frag=None, compress=None,
                       rsv_all=False):
        """The frames of one message: (opcode, payload, fin, rsv) tuples;
        compressed when deflate is on unless compress is False."""
        rsv = 0
        if compress is None:
            compress = self.pmd is not None
        if compress:
            payload = self.deflate(payload)
            rsv = 4
        step = frag or max(len(payload), 1)
        pieces = [payload[i:i + step]
                  for i in range(0, len(payload), step)] or [b""]
        out = []
        for i, piece in enumerate(pieces):
            out.append((opcode if i == 0 else OP_CONT, piece,
                        i == len(pieces) - 1,
                        rsv if i == 0 or rsv_all else 0))
        return out

    def send_message(self, opcode, payload, frag=None, chop=None, pause=0.0,
                     compress=None):
        frames = self.message_frames(opcode, payload, frag, compress)
        data = b"".join(frame_bytes(op, p, fin, rsv)
                        for op, p, fin, rsv in frames)
        self.log("> %s message len=%d in %d frame(s)%s %s" % (
            OP_NAMES[opcode], len(payload), len(frames),
            " compressed" if frames[0][3] else "", preview(payload, 24)))
        return self.send_raw(data, chop, pause)

    def send_close(self, code=None, reason=b""):
        return self.send_frame(OP_CLOSE, close_payload(code, reason))

    # -- deflate

    def deflate(self, data):
        p = self.pmd
        if p is None:
            raise CaseFail("driver error: compression without deflate")
        if self.deflater is None or p["client_nct"]:
            try:
                self.deflater = zlib.compressobj(
                    6, zlib.DEFLATED, -p["client_wbits"])
            except (ValueError, zlib.error) as e:
                raise CaseFail("cannot compress with client window %d: %s"
                               % (p["client_wbits"], e))
        out = self.deflater.compress(data) + \
            self.deflater.flush(zlib.Z_SYNC_FLUSH)
        if out.endswith(b"\x00\x00\xff\xff"):
            out = out[:-4]
        return out or b"\x00"

    def inflate(self, data):
        p = self.pmd
        if self.inflater is None or p["server_nct"]:
            self.inflater = zlib.decompressobj(-p["server_wbits"])
        d = self.inflater
        try:
            out = d.decompress(data + b"\x00\x00\xff\xff", MAX_MESSAGE + 1)
        except zlib.error as e:
            raise CaseFail(
                "server's compressed message does not inflate with window "
                "bits %d%s: %s" % (p["server_wbits"],
                                   " and no context takeover"
                                   if p["server_nct"] else "", e))
        if d.unconsumed_tail or len(out) > MAX_MESSAGE:
            raise CaseFail("server's message inflates past %d bytes"
                           % MAX_MESSAGE)
        if d.eof:
            # A BFINAL block ends the stream: the next message starts a
            # new one (RFC 7692 §7.2.3.3).
            self.inflater = None
        return out

    # -- frames in

    def _violation(self, what):
        raise CaseFail("server broke RFC 6455: " + what)

    def _read_frame(self, deadline):
        st = self._need(2, deadline)
        if st:
            return st
        b0, b1 = self.rbuf[self.rpos], self.rbuf[self.rpos + 1]
        n = b1 & 0x7F
        hl = 2 + (2 if n == 126 else 8 if n == 127 else 0)
        if b1 & 0x80:
            self._violation("masked frame from the server (W7)")
        st = self._need(hl, deadline)
        if st:
            return st
        if n == 126:
            n = struct.unpack_from("!H", self.rbuf, self.rpos + 2)[0]
            if n < 126:
                self._violation("16-bit length %d (not minimal, W3)" % n)
        elif n == 127:
            n = struct.unpack_from("!Q", self.rbuf, self.rpos + 2)[0]
            if n >> 63:
                self._violation("64-bit length with the top bit set (W4)")
            if n < 65536:
                self._violation("64-bit length %d (not minimal, W3)" % n)
        if n > MAX_FRAME:
            raise CaseFail("server frame of %d bytes (driver limit %d)"
                           % (n, MAX_FRAME))
        st = self._need(hl + n, deadline)
        if st:
            return st
        raw = self._consume(hl + n)
        self.last_raw = raw
        return (b0, raw[hl:])

    def next_event(self, timeout=None):
        """The next thing the server does: ('message', opcode, payload),
        ('ping', payload), ('pong', payload), ('close', code or None,
        reason), ('eof',), ('reset', why) or ('timeout', seconds)."""
        wait = self.timeout if timeout is None else timeout
        deadline = time.monotonic() + wait
        while True:
            fr = self._read_frame(deadline)
            if fr == "timeout":
                return ("timeout", wait)
            if fr == "eof":
                if self._available():
                    return ("eof-partial", self._available())
                return ("eof",)
            if fr == "reset":
                return ("reset", self.reset)
            b0, payload = fr
            fin, rsv, op = b0 & 0x80, (b0 >> 4) & 7, b0 & 0xF
            self.log("< %s fin=%d rsv=%d len=%d %s" % (
                OP_NAMES.get(op, "op%d" % op), 1 if fin else 0, rsv,
                len(payload), preview(payload, 24)))
            if self.got_close is not None:
                self._violation("%s frame after its close frame"
                                % OP_NAMES.get(op, "op%d" % op))
            if op not in OP_NAMES:
                self._violation("reserved opcode %d (W2)" % op)
            if rsv & 3:
                self._violation("RSV2/RSV3 set (W1)")
            if rsv & 4 and (self.pmd is None or
                            op not in (OP_TEXT, OP_BINARY)):
                self._violation("RSV1 set on a %s frame%s (W1)" % (
                    OP_NAMES[op], "" if self.pmd else
                    " without a negotiated extension"))
            if op >= 8:
                if not fin:
                    self._violation("fragmented control frame (G6)")
                if len(payload) > 125:
                    self._violation("control frame of %d bytes (G5)"
                                    % len(payload))
                if op == OP_PING:
                    return ("ping", payload)
                if op == OP_PONG:
                    return ("pong", payload)
                return self._close_event(payload)
            if op == OP_CONT:
                if self.msg_op is None:
                    self._violation("continuation frame with no message "
                                    "open (G2)")
            else:
                if self.msg_op is not None:
                    self._violation("new data frame while a message is "
                                    "open (G3)")
                self.msg_op = op
                self.msg_compressed = bool(rsv & 4)
                self.msg_parts = []
                self.msg_size = 0
            self.msg_parts.append(payload)
            self.msg_size += len(payload)
            if self.msg_size > MAX_MESSAGE:
                raise CaseFail("server message over %d bytes" % MAX_MESSAGE)
            if fin:
                data = b"".join(self.msg_parts)
                op, self.msg_op, self.msg_parts = self.msg_op, None, []
                if self.msg_compressed:
                    data = self.inflate(data)
                return ("message", op, data)

    def _close_event(self, payload):
        if len(payload) == 1:
            self._violation("close frame with a 1-byte payload")
        code = None
        reason = b""
        if len(payload) >= 2:
            code = struct.unpack("!H", payload[:2])[0]
            reason = payload[2:]
            if not utf8_ok(reason):
                self._violation("close reason is not UTF-8")
        self.got_close = (code, reason)
        return ("close", code, reason)

    def describe(self, ev):
        kind = ev[0]
        if kind == "message":
            return "%s message of %d bytes %s" % (
                OP_NAMES[ev[1]], len(ev[2]), preview(ev[2]))
        if kind == "close":
            if ev[1] is None:
                return "close frame with an empty payload"
            return "close %d%s" % (ev[1], " reason %s" % preview(ev[2])
                                   if ev[2] else "")
        if kind in ("ping", "pong"):
            return "%s with payload %s" % (kind, preview(ev[1]))
        if kind == "timeout":
            text = "nothing within %g s" % ev[1]
        elif kind in ("eof", "eof-partial"):
            text = "TCP close" if self.got_close else \
                "TCP close without a close frame (drop)"
            if kind == "eof-partial":
                text += " in the middle of a frame (%d bytes)" % ev[1]
        else:
            text = "TCP reset (%s)%s" % (ev[1], "" if self.got_close else
                                         " without a close frame")
        if self.send_error:
            text += "; our write failed: " + self.send_error
        return text

    # -- expectations

    def expect_message(self, opcode, payload, timeout=None):
        ev = self.next_event(timeout)
        if ev[0] == "message" and ev[1] == opcode and ev[2] == payload:
            return
        want = "echo: %s message of %d bytes %s" % (
            OP_NAMES[opcode], len(payload), preview(payload))
        if ev[0] == "message" and ev[1] == opcode:
            got = ev[2]
            at = next((i for i in range(min(len(got), len(payload)))
                       if got[i] != payload[i]), min(len(got), len(payload)))
            raise CaseFail("expected %s, got %d bytes differing from byte %d"
                           % (want, len(got), at))
        raise CaseFail("expected %s, got %s" % (want, self.describe(ev)))

    def expect_pong(self, payload, timeout=None):
        ev = self.next_event(timeout)
        if ev[0] != "pong" or ev[1] != payload:
            raise CaseFail("expected pong with payload %s, got %s" % (
                preview(payload), self.describe(ev)))

    def expect_close(self, codes, timeout=None, why="", client_closes=False):
        """The server's close frame with a code in codes (None = empty
        payload), then (if the driver has not sent one) our close echoing
        it, then the server's TCP close.  Returns the code.

        client_closes: the server cannot parse our close (it sits inside
        a payload it skips, after an undecodable length, or our close
        frame itself was malformed), so it may wait for its close timeout
        (X8); the driver then closes TCP itself after a short grace, as
        an RFC 6455 §7.1.1 client may."""
        ev = self.next_event(timeout)
        want = " or ".join("an empty close" if c is None else "close %d" % c
                           for c in codes)
        if ev[0] != "close":
            raise CaseFail("expected %s%s, got %s" % (want, why,
                                                      self.describe(ev)))
        if ev[1] not in codes:
            raise CaseFail("expected %s%s, got %s" % (want, why,
                                                      self.describe(ev)))
        if not self.sent_close:
            self.send_close(ev[1])
        self.expect_tcp_close(CLIENT_CLOSE_GRACE if client_closes else None)
        return ev[1]

    def expect_tcp_close(self, grace=None):
        """After the closing handshake the server closes TCP first (X7).
        With grace, a server still open after grace s is left to the
        driver's close (noted, not failed)."""
        wait = self.timeout if grace is None else grace
        deadline = time.monotonic() + wait
        while True:
            if self._available():
                self._violation("%d more bytes after its close frame: %s"
                                % (self._available(),
                                   preview(self.rbuf[self.rpos:])))
            if self.eof or self.reset:
                return
            if not self._recv_some(deadline) and not (self.eof or self.reset):
                if grace is not None:
                    self.note("informational: TCP still open %g s after the "
                              "close frames, the driver closed it" % grace)
                    return
                raise CaseFail("expected the server to close TCP within %g s "
                               "of the closing handshake, got nothing"
                               % self.timeout)

    def expect_quiet(self, wait=QUIET_WAIT, why=""):
        ev = self.next_event(wait)
        if ev[0] != "timeout":
            raise CaseFail("expected nothing yet%s, got %s"
                           % (why, self.describe(ev)))

    def close_normally(self, code=1000):
        self.send_close(code)
        self.expect_close([code])


# -------------------------------------------------------------- handshake

class Response:
    def __init__(self, status, version, reason, headers, rest):
        self.status = status
        self.version = version
        self.reason = reason
        self.headers = headers       # [(lower-case name, value)]
        self.rest = rest

    def get_all(self, name):
        return [v for k, v in self.headers if k == name]

    def get(self, name):
        vals = self.get_all(name)
        return ", ".join(vals) if vals else None


def header_tokens(value):
    return [t.strip().lower() for t in (value or "").split(",") if t.strip()]


class Ctx:
    """What a case gets: connections to the server under test."""

    def __init__(self, opts):
        self.opts = opts
        self.host = opts.host
        self.port = opts.port
        self.host_header = "%s:%d" % (opts.host, opts.port)
        self.conns = []
        self.notes = []

    def log(self, text):
        if self.opts.verbose:
            print("#   " + text)

    def note(self, text):
        self.notes.append(text)

    def connect(self):
        try:
            sock = socket.create_connection((self.host, self.port),
                                            timeout=self.opts.timeout)
        except ConnectionRefusedError as e:
            raise ServerGone("cannot connect to %s: %s"
                             % (self.host_header, e))
        except OSError as e:
            raise CaseFail("cannot connect to %s: %s" % (self.host_header, e))
        sock.setblocking(False)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        c = Conn(sock, self.opts, self.log)
        c.note = self.note
        self.conns.append(c)
        return c

    def finish(self):
        for c in self.conns:
            c.close()
        self.conns = []

    def request(self, lines, body=b"", pipelined=b""):
        """Sends an HTTP request head (lines without CRLF) plus body and
        pipelined bytes in one write; returns (conn, Response)."""
        c = self.connect()
        head = "".join(line + "\r\n" for line in lines) + "\r\n"
        self.log("> " + " | ".join(lines))
        c.send_raw(head.encode("latin-1") + body + pipelined)
        deadline = time.monotonic() + self.opts.timeout
        while True:
            end = c.rbuf.find(b"\r\n\r\n")
            if end >= 0:
                break
            if len(c.rbuf) > MAX_HEAD:
                raise CaseFail("response head over %d bytes" % MAX_HEAD)
            if c.eof or c.reset:
                raise CaseFail("server closed the connection without "
                               "answering the request%s" % (
                                   " (got %s)" % preview(c.rbuf)
                                   if c.rbuf else ""))
            if not c._recv_some(deadline) and not (c.eof or c.reset):
                raise CaseFail("no response within %g s" % self.opts.timeout)
        head = bytes(c.rbuf[:end]).decode("latin-1")
        del c.rbuf[:end + 4]
        lines_in = head.split("\r\n")
        self.log("< " + " | ".join(lines_in))
        parts = lines_in[0].split(" ", 2)
        if len(parts) < 2 or not parts[0].startswith("HTTP/") or \
                not parts[1].isdigit():
            raise CaseFail("bad status line %r" % lines_in[0])
        headers = []
        for line in lines_in[1:]:
            name, sep, value = line.partition(":")
            if not sep or not name or name != name.strip():
                raise CaseFail("bad response header line %r" % line)
            headers.append((name.lower(), value.strip(" \t")))
        resp = Response(int(parts[1]), parts[0], parts[2] if len(parts) > 2
                        else "", headers, bytes(c.rbuf))
        return c, resp

    def ws_lines(self, key, offers=None, protocols=None, extra=(),
                 drop=(), method="GET", version="HTTP/1.1", path="/"):
        hdrs = [("Host", self.host_header), ("Upgrade", "websocket"),
                ("Connection", "Upgrade"), ("Sec-WebSocket-Key", key),
                ("Sec-WebSocket-Version", "13")]
        if offers:
            hdrs.append(("Sec-WebSocket-Extensions", ", ".join(offers)))
        if protocols:
            hdrs.append(("Sec-WebSocket-Protocol", ", ".join(protocols)))
        drop = [d.lower() for d in drop] + [k.lower() for k, _ in extra]
        lines = ["%s %s %s" % (method, path, version)]
        lines += ["%s: %s" % (k, v) for k, v in hdrs if k.lower() not in drop]
        lines += ["%s: %s" % (k, v) for k, v in extra if v is not None]
        return lines

    def ws(self, offers=None, accept=None, protocols=None, extra=(),
           pipelined=b""):
        """Opens a WebSocket connection, checking the 101 response as an
        RFC 6455 §4.1 client must.  offers: permessage-deflate offer
        strings; accept: index of the offer the server must accept, "none"
        when it must decline all, None when any valid answer will do."""
        key = base64.b64encode(os.urandom(16)).decode()
        c, resp = self.request(self.ws_lines(key, offers, protocols, extra),
                               pipelined=pipelined)
        if resp.status != 101:
            raise CaseFail("expected 101 Switching Protocols, got %d %s"
                           % (resp.status, resp.reason))
        if resp.version != "HTTP/1.1":
            raise CaseFail("expected HTTP/1.1 101, got %s" % resp.version)
        if header_tokens(resp.get("upgrade")) != ["websocket"]:
            raise CaseFail("expected Upgrade: websocket, got %r"
                           % resp.get("upgrade"))
        if "upgrade" not in header_tokens(resp.get("connection")):
            raise CaseFail("expected Connection: Upgrade, got %r"
                           % resp.get("connection"))
        got = resp.get_all("sec-websocket-accept")
        if got != [accept_value(key)]:
            raise CaseFail("expected Sec-WebSocket-Accept %s, got %r"
                           % (accept_value(key), got))
        for name in ("content-length", "transfer-encoding"):
            if resp.get(name) is not None:
                raise CaseFail("101 response with %s (§1.3)" % name)
        proto = resp.get("sec-websocket-protocol")
        if proto is not None and proto not in (protocols or []):
            raise CaseFail("Sec-WebSocket-Protocol %r was not offered"
                           % proto)
        self._negotiate(c, resp.get("sec-websocket-extensions"), offers,
                        accept)
        return c

    def _negotiate(self, c, value, offers, accept):
        if value is None:
            if offers and accept not in (None, "none"):
                raise CaseFail("expected permessage-deflate to be accepted "
                               "(offer %r), got no Sec-WebSocket-Extensions"
                               % offers[accept])
            return
        if not offers:
            raise CaseFail("Sec-WebSocket-Extensions %r without an offer"
                           % value)
        if accept == "none":
            raise CaseFail("expected every offer to be declined (§7.3), "
                           "got Sec-WebSocket-Extensions %r" % value)
        try:
            elems = parse_extensions(value)
        except ValueError as e:
            raise CaseFail("unparsable Sec-WebSocket-Extensions %r: %s"
                           % (value, e))
        if len(elems) != 1 or elems[0][0] != "permessage-deflate":
            raise CaseFail("expected one permessage-deflate element, got %r"
                           % value)
        try:
            resp = pmd_params(elems[0][1])
        except ValueError as e:
            raise CaseFail("invalid response %r: %s" % (value, e))
        offer_params = []
        for o in offers:
            try:
                el = parse_extensions(o)
                offer_params += [pmd_params(p) if n == "permessage-deflate"
                                 else None for n, p in el]
            except ValueError:
                offer_params.append(None)
        reasons = [pmd_response_error(resp, p) if p is not None else
                   "not acceptable" for p in offer_params]
        if accept is not None:
            if reasons[accept]:
                raise CaseFail("response %r does not accept offer %r: %s"
                               % (value, offers[accept], reasons[accept]))
        elif all(reasons):
            raise CaseFail("response %r accepts none of the offers: %s"
                           % (value, "; ".join(reasons)))
        c.pmd = {
            "server_nct": bool(resp.get("server_no_context_takeover")),
            "client_nct": bool(resp.get("client_no_context_takeover")),
            "server_wbits": resp.get("server_max_window_bits") or 15,
            "client_wbits": resp.get("client_max_window_bits") or 15,
            "response": value,
        }


# ------------------------------------------------------------- the cases

CASES = []


def add(cid, desc, fn):
    CASES.append((cid, desc, fn))


def sort_key(cid):
    return tuple(int(x) for x in cid.split("."))


def expect_http(ctx, lines, status, body=b"", check=None):
    c, resp = ctx.request(lines, body)
    if resp.status != status:
        raise CaseFail("expected status %d, got %d %s"
                       % (status, resp.status, resp.reason))
    if check:
        check(resp)


# -- shared case shapes

def echo_case(messages, frag=None, chop=None, pause=0.0, offers=None):
    """Send each (opcode, payload), expect each echoed, close normally."""
    def run(ctx):
        c = ctx.ws(offers, accept=0 if offers else None)
        for op, payload in messages:
            c.send_message(op, payload, frag=frag, chop=chop, pause=pause)
        for op, payload in messages:
            c.expect_message(op, payload)
        c.close_normally()
    return run


def frames_case(frames, echoes=(), pongs=(), close=None, chop=None,
                pause=0.0, framewise=False, offers=None, why="",
                client_closes=False):
    """Send raw frames (opcode, payload, fin, rsv[, mask[, length_form]]),
    expect the listed pongs and echoes in that order, then either a close
    with one of the codes in `close` (protocol error) or, with close None,
    a normal closing handshake."""
    def run(ctx):
        c = ctx.ws(offers, accept=0 if offers else None)
        chunks = []
        for f in frames:
            op, payload, fin, rsv = f[:4]
            mask = f[4] if len(f) > 4 else True
            form = f[5] if len(f) > 5 else None
            chunks.append(frame_bytes(op, payload, fin, rsv, mask,
                                      length_form=form))
            c.log("> %s fin=%d rsv=%d%s len=%d %s" % (
                OP_NAMES.get(op, "op%d" % op), fin, rsv,
                "" if mask else " UNMASKED", len(payload),
                preview(payload, 24)))
            if op == OP_CLOSE:
                c.sent_close = True
        if framewise:
            for ch in chunks:
                c.send_raw(ch)
                time.sleep(FRAME_PAUSE)
        else:
            c.send_raw(b"".join(chunks), chop, pause)
        for p in pongs:
            c.expect_pong(p)
        for op, payload in echoes:
            c.expect_message(op, payload)
        if close is None:
            c.close_normally()
        else:
            c.expect_close(close, why=why, client_closes=client_closes)
    return run


# -- group 0: handshake, frame rules and deflate rules of websocket-rules.md

def self_check(ctx):
    problems = []
    if accept_value("dGhlIHNhbXBsZSBub25jZQ==") != \
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=":
        problems.append("accept vector")
    vectors = [(b"abcd", b"", b""), (b"abcd", b"b", b"\x03"),
               (b"abcd", b"54321", b"TVPVP"),
               (b"ZXCV", b"98765432", b"c`t`olpd"),
               (b"\x00\x01\x02\x03", bytes.fromhex("fffbfdfcfefa"),
                bytes.fromhex("fffaffff fefb")),
               (bytes.fromhex("fffbfdfc"), bytes.fromhex("000102030405"),
                bytes.fromhex("fffaffff fbfe"))]
    for key, data, want in vectors:
        if mask_bytes(data, key) != want:
            problems.append("mask vector %s" % data.hex())
    if frame_bytes(OP_TEXT, b"Hello", key=bytes.fromhex("37fa213d")) != \
            bytes.fromhex("818537fa213d7f9f4d5158"):
        problems.append("masked Hello frame")
    if frame_bytes(OP_BINARY, bytes(256), mask=False)[:4] != \
            bytes.fromhex("827e0100") or \
            frame_bytes(OP_BINARY, bytes(65536), mask=False)[:10] != \
            bytes.fromhex("827f0000000000010000"):
        problems.append("length forms")
    c = Conn.__new__(Conn)
    c.pmd = {"client_nct": False, "server_nct": False, "client_wbits": 15,
             "server_wbits": 15}
    c.deflater = c.inflater = None
    if c.deflate(b"Hello") != bytes.fromhex("f248cdc9c90700") or \
            c.deflate(b"Hello") != bytes.fromhex("f200110000") or \
            c.deflate(b"") != b"\x00":
        problems.append("deflate vectors")
    if c.inflate(bytes.fromhex("f248cdc9c90700")) != b"Hello" or \
            c.inflate(bytes.fromhex("f200110000")) != b"Hello" or \
            c.inflate(bytes.fromhex("f348cdc9c9070000")) != b"Hello" or \
            c.inflate(bytes.fromhex("000500faff48656c6c6f00")) != b"Hello":
        problems.append("inflate vectors")
    try:
        parse_extensions('permessage-deflate; a="b", x;y=1')
        parse_extensions('a;b=""')
        problems.append("extension parser accepts an empty quoted value")
    except ValueError:
        pass
    if problems:
        raise CaseFail("driver self-check failed: " + ", ".join(problems))


def handshake_ok(ctx):
    c = ctx.ws()
    c.send_message(OP_TEXT, b"Hello")
    c.expect_message(OP_TEXT, b"Hello")
    c.close_normally()


def handshake_origin_same(ctx):
    c = ctx.ws(extra=[("Origin", "http://" + ctx.host_header)])
    c.close_normally()


def handshake_tokens(ctx):
    c = ctx.ws(extra=[("Upgrade", "WebSocket"),
                      ("Connection", "keep-alive, Upgrade")])
    c.close_normally()


def handshake_status(status, check=None, **kw):
    key = kw.pop("key", None)

    def run(ctx):
        lines = ctx.ws_lines(key or base64.b64encode(os.urandom(16)).decode(),
                             **kw)
        if kw.get("method") == "POST":
            lines.append("Content-Length: 0")
        expect_http(ctx, lines, status, b"", check)
    return run


def check_426(resp):
    if "13" not in header_tokens(resp.get("sec-websocket-version")):
        raise CaseFail("expected Sec-WebSocket-Version: 13 in the 426, got %r"
                       % resp.get("sec-websocket-version"))


def handshake_pipelined(ctx):
    frame = frame_bytes(OP_TEXT, b"pipelined with the handshake")
    c = ctx.ws(pipelined=frame)
    c.expect_message(OP_TEXT, b"pipelined with the handshake")
    c.close_normally()


def handshake_subprotocol(ctx):
    c = ctx.ws(protocols=["chat", "superchat"])
    c.close_normally()


def pmd_echo(offers, accept, check=None):
    def run(ctx):
        c = ctx.ws(offers, accept=accept)
        if check:
            check(c)
        text = "κόσμε and some text, " * 20
        c.send_message(OP_TEXT, text.encode())
        c.expect_message(OP_TEXT, text.encode())
        c.send_message(OP_BINARY, bytes(range(256)) * 4)
        c.expect_message(OP_BINARY, bytes(range(256)) * 4)
        c.close_normally()
    return run


def need_pmd(c):
    if c.pmd is None:
        raise CaseFail("expected permessage-deflate to be accepted")


def check_window_10(c):
    need_pmd(c)
    if c.pmd["server_wbits"] > 10:
        raise CaseFail("expected server_max_window_bits <= 10, got %r"
                       % c.pmd["response"])


def rfc7692_vectors(ctx):
    c = ctx.ws(["permessage-deflate"], accept=0)
    if c.pmd["client_nct"]:
        ctx.note("server asked for client_no_context_takeover: the "
                 "context-takeover vector was skipped")
    vectors = [("one frame", [("c1", "f248cdc9c90700")]),
               ("context takeover", [("c1", "f200110000")]),
               ("two frames", [("41", "f248cd"), ("80", "c9c90700")]),
               ("stored block", [("c1", "000500faff48656c6c6f00")]),
               ("BFINAL block", [("c1", "f348cdc9c9070000")]),
               ("two deflate blocks",
                [("c1", "f24805000000ffffcac9c90700")])]
    for name, frames in vectors:
        if name == "context takeover" and c.pmd["client_nct"]:
            continue
        data = b""
        for b0, payload in frames:
            p = bytes.fromhex(payload)
            b0 = int(b0, 16)
            data += frame_bytes(b0 & 0xF, p, bool(b0 & 0x80), (b0 >> 4) & 7)
        c.send_raw(data)
        try:
            c.expect_message(OP_TEXT, b"Hello")
        except CaseFail as e:
            raise CaseFail("vector '%s': %s" % (name, e))
    c.send_frame(OP_TEXT, b"\x00", rsv=4)
    c.expect_message(OP_TEXT, b"")
    c.close_normally()


def deflate_uncompressed(ctx):
    c = ctx.ws(["permessage-deflate; client_max_window_bits"], accept=0)
    c.send_message(OP_TEXT, b"sent without compression", compress=False)
    c.expect_message(OP_TEXT, b"sent without compression")
    c.send_message(OP_BINARY, b"\x00\x01compressed", compress=True)
    c.expect_message(OP_BINARY, b"\x00\x01compressed")
    c.close_normally()


def deflate_fail(build, code, why=""):
    """With deflate on: one valid compressed message, then the frames from
    build(conn), then the server's close with code."""
    def run(ctx):
        c = ctx.ws(["permessage-deflate; client_max_window_bits"], accept=0)
        c.send_message(OP_TEXT, b"valid first")
        c.expect_message(OP_TEXT, b"valid first")
        c.send_raw(build(c))
        c.expect_close([code], why=why)
    return run


def build_rsv1_cont(c):
    comp = c.deflate(b"fragmented message with RSV1 on the continuation")
    return frame_bytes(OP_TEXT, comp[:5], False, 4) + \
        frame_bytes(OP_CONT, comp[5:], True, 4)


def build_rsv1_ping(c):
    return frame_bytes(OP_PING, b"ping", True, 4)


def build_corrupt(c):
    return frame_bytes(OP_BINARY, b"\xff\xff\xff\xff\x00", True, 4)


def build_bad_utf8(c):
    return frame_bytes(OP_TEXT, c.deflate(INVALID_UTF8), True, 4)


def build_bomb(c):
    comp = zlib.compressobj(9, zlib.DEFLATED, -15)
    data = comp.compress(bytes(MAX_MESSAGE_SIZE + 1)) + \
        comp.flush(zlib.Z_SYNC_FLUSH)
    return frame_bytes(OP_BINARY, data[:-4], True, 4)


def deflate_split(ctx):
    c = ctx.ws(["permessage-deflate; client_max_window_bits"], accept=0)
    text = ("🙂 κόσμε €uro " * 40).encode()
    for frag in (1, 7, 64):
        frames = c.message_frames(OP_TEXT, text, frag)
        c.send_raw(b"".join(frame_bytes(*f) for f in frames))
        c.expect_message(OP_TEXT, text)
    c.close_normally()


def too_big_header(ctx):
    c = ctx.ws()
    # Only the header and the masking key: the size decides (W5, W8).
    c.send_raw(struct.pack("!BBQ", 0x82, 0xFF, MAX_MESSAGE_SIZE + 1) +
               os.urandom(4))
    ev = c.next_event(FAIL_FAST_WAIT)
    if ev[0] != "close" or ev[1] != 1009:
        raise CaseFail("expected close 1009 from the frame header alone, "
                       "got %s" % c.describe(ev))
    c.send_close(1009)
    c.expect_tcp_close(CLIENT_CLOSE_GRACE)


def too_big_fragments(ctx):
    c = ctx.ws()
    c.send_frame(OP_BINARY, bytes(1024), fin=False)
    c.send_raw(struct.pack("!BBQ", 0x80, 0xFF, MAX_MESSAGE_SIZE) +
               os.urandom(4))
    ev = c.next_event(FAIL_FAST_WAIT)
    if ev[0] != "close" or ev[1] != 1009:
        raise CaseFail("expected close 1009 from the continuation header "
                       "(1024 buffered + %d announced), got %s"
                       % (MAX_MESSAGE_SIZE, c.describe(ev)))
    c.send_close(1009)
    c.expect_tcp_close(CLIENT_CLOSE_GRACE)


def top_bit_length(ctx):
    c = ctx.ws()
    c.send_raw(struct.pack("!BBQ", 0x82, 0xFF, (1 << 63) | 5) +
               os.urandom(4) + b"abcde")
    c.expect_close([1002], client_closes=True)


def rfc6455_examples(ctx):
    c = ctx.ws()
    c.send_raw(bytes.fromhex("818537fa213d7f9f4d5158"))
    c.expect_message(OP_TEXT, b"Hello")
    if c.last_raw != bytes.fromhex("810548656c6c6f"):
        raise CaseFail("expected the echo as 81 05 48 65 6c 6c 6f, got %s"
                       % c.last_raw.hex(" "))
    c.send_raw(frame_bytes(OP_TEXT, b"Hel", False) +
               frame_bytes(OP_CONT, b"lo", True))
    c.expect_message(OP_TEXT, b"Hello")
    c.send_raw(frame_bytes(OP_PING, b"Hello"))
    c.expect_pong(b"Hello")
    if c.last_raw != bytes.fromhex("8a0548656c6c6f"):
        raise CaseFail("expected the pong as 8a 05 48 65 6c 6c 6f, got %s"
                       % c.last_raw.hex(" "))
    c.send_message(OP_BINARY, bytes(256))
    c.expect_message(OP_BINARY, bytes(256))
    if c.last_raw[:4] != bytes.fromhex("827e0100"):
        raise CaseFail("expected the 256-byte echo header 82 7e 01 00, got "
                       "%s" % c.last_raw[:4].hex(" "))
    c.close_normally()


def group0():
    h = "http://evil.example"
    add("0.1.1", "driver self-check: RFC 6455/7692 vectors (accept, "
        "masking, length forms, deflate)", self_check)
    add("0.1.2", "handshake: 101 with Upgrade, Connection and the right "
        "Sec-WebSocket-Accept, no body headers, then an echo", handshake_ok)
    add("0.1.3", "handshake: same-origin Origin is accepted (101)",
        handshake_origin_same)
    add("0.1.4", "handshake: cross-origin Origin %s gets 403" % h,
        handshake_status(403, extra=[("Origin", h)]))
    add("0.1.5", "handshake: POST gets 405",
        handshake_status(405, method="POST"))
    add("0.1.6", "handshake: no Upgrade header gets 400",
        handshake_status(400, drop=["Upgrade"]))
    add("0.1.7", "handshake: Connection without the upgrade token gets 400",
        handshake_status(400, extra=[("Connection", "keep-alive")]))
    add("0.1.8", "handshake: Sec-WebSocket-Version 12 gets 426 naming 13",
        handshake_status(426, check_426,
                         extra=[("Sec-WebSocket-Version", "12")]))
    add("0.1.9", "handshake: no Sec-WebSocket-Version gets 426 naming 13",
        handshake_status(426, check_426, drop=["Sec-WebSocket-Version"]))
    add("0.1.10", "handshake: no Sec-WebSocket-Key gets 400",
        handshake_status(400, drop=["Sec-WebSocket-Key"]))
    add("0.1.11", "handshake: a key of 15 bytes gets 400",
        handshake_status(400, key=base64.b64encode(b"x" * 15).decode()))
    add("0.1.12", "handshake: HTTP/1.0 upgrade request gets 400",
        handshake_status(400, version="HTTP/1.0"))
    add("0.1.13", "handshake: Upgrade: WebSocket and Connection: keep-alive, "
        "Upgrade are accepted (case-insensitive tokens, lists)",
        handshake_tokens)
    add("0.1.14", "handshake: a text frame in the same write as the request "
        "is echoed", handshake_pipelined)
    add("0.1.15", "handshake: offered subprotocols chat, superchat: none or "
        "an offered one is answered", handshake_subprotocol)

    add("0.2.1", "deflate: bare permessage-deflate offer accepted, no "
        "client_max_window_bits in the answer, compressed echo",
        pmd_echo(["permessage-deflate"], 0))
    add("0.2.2", "deflate: only offer server_max_window_bits=8 is declined "
        "(section 7.3), handshake still 101, plain echo",
        pmd_echo(["permessage-deflate; server_max_window_bits=8"], "none"))
    add("0.2.3", "deflate: offer with an unknown parameter declined, the "
        "next offer accepted",
        pmd_echo(["permessage-deflate; x-unknown=1",
                  "permessage-deflate; client_max_window_bits"], 1))
    add("0.2.4", "deflate: offer with a repeated parameter declined, the "
        "next offer accepted",
        pmd_echo(["permessage-deflate; server_no_context_takeover; "
                  "server_no_context_takeover",
                  "permessage-deflate; client_max_window_bits"], 1))
    add("0.2.5", "deflate: offer with server_max_window_bits=16 declined, "
        "the next offer accepted",
        pmd_echo(["permessage-deflate; server_max_window_bits=16",
                  "permessage-deflate; client_max_window_bits"], 1))
    add("0.2.6", "deflate: client_max_window_bits=10 offered: answered "
        "value at most 10, messages compressed with it",
        pmd_echo(["permessage-deflate; client_max_window_bits=10"], 0))
    add("0.2.7", "deflate: an unknown extension before permessage-deflate "
        "is not answered",
        pmd_echo(["x-webkit-deflate-frame", "permessage-deflate"], 1))
    add("0.2.8", "deflate: quoted server_max_window_bits=\"10\" accepted "
        "with a window of at most 10",
        pmd_echo(['permessage-deflate; server_max_window_bits="10"'], 0,
                 check_window_10))

    add("0.3.1", "frames: unmasked client text frame gets close 1002 (W6)",
        frames_case([(OP_TEXT, b"unmasked", True, 0, False)], close=[1002]))
    add("0.3.2", "frames: 5-byte text in the 16-bit length form gets close "
        "1002 (W3)",
        frames_case([(OP_TEXT, b"Hello", True, 0, True, 16)], close=[1002],
                    client_closes=True))
    add("0.3.3", "frames: 200-byte binary in the 64-bit length form gets "
        "close 1002 (W3)",
        frames_case([(OP_BINARY, bytes(200), True, 0, True, 64)],
                    close=[1002], client_closes=True))
    add("0.3.4", "frames: 64-bit length with the top bit set gets close "
        "1002 (W4)", top_bit_length)
    add("0.3.5", "frames: header announcing %d bytes gets close 1009 before "
        "any payload (W5, W8)" % (MAX_MESSAGE_SIZE + 1), too_big_header)
    add("0.3.6", "frames: continuation header taking the message over %d "
        "bytes gets close 1009 (W5)" % MAX_MESSAGE_SIZE, too_big_fragments)
    add("0.3.7", "frames: RFC 6455 section 5.7 examples (masked Hello, "
        "fragmented Hello, ping, 256-byte binary) and exact server bytes",
        rfc6455_examples)
    add("0.3.8", "frames: valid message, then an unmasked one: echo, then "
        "close 1002 (W6)",
        frames_case([(OP_TEXT, b"masked", True, 0),
                     (OP_TEXT, b"unmasked", True, 0, False)],
                    echoes=[(OP_TEXT, b"masked")], close=[1002]))
    add("0.3.9", "frames: close frame with FIN=0 gets close 1002 (G6)",
        frames_case([(OP_CLOSE, close_payload(1000), False, 0)],
                    close=[1002], client_closes=True))

    add("0.4.1", "deflate: RFC 7692 section 7.2.3 vectors (one frame, "
        "context takeover, two frames, stored, BFINAL, two blocks, empty)",
        rfc7692_vectors)
    add("0.4.2", "deflate: uncompressed (RSV1=0) message echoed while "
        "deflate is on", deflate_uncompressed)
    add("0.4.3", "deflate: RSV1 on a continuation frame gets close 1002",
        deflate_fail(build_rsv1_cont, 1002))
    add("0.4.4", "deflate: RSV1 on a ping gets close 1002",
        deflate_fail(build_rsv1_ping, 1002))
    add("0.4.5", "deflate: corrupt compressed data gets close 1007",
        deflate_fail(build_corrupt, 1007))
    add("0.4.6", "deflate: compressed text with invalid UTF-8 gets close 1007",
        deflate_fail(build_bad_utf8, 1007))
    add("0.4.7", "deflate: small frame inflating past %d bytes gets close "
        "1009" % MAX_MESSAGE_SIZE, deflate_fail(build_bomb, 1009))
    add("0.4.8", "deflate: compressed text split into 1-, 7- and 64-byte "
        "frames (code points split) is echoed", deflate_split)


# -- group 1: framing

def group1():
    sizes = [0, 125, 126, 127, 128, 65535, 65536]
    for sub, op, fill, what in ((1, OP_TEXT, b"*", "text"),
                                (2, OP_BINARY, b"\xfe", "binary")):
        for i, n in enumerate(sizes, 1):
            add("1.%d.%d" % (sub, i), "%s message of %d bytes echoed"
                % (what, n), echo_case([(op, fill * n)]))
        add("1.%d.8" % sub, "%s message of 65536 bytes sent in 997-byte "
            "chops echoed" % what,
            echo_case([(op, fill * 65536)], chop=997, pause=OCTET_PAUSE))


# -- group 2: pings and pongs

def pings_case(count, chop=None):
    def run(ctx):
        c = ctx.ws()
        payloads = [b"payload-%d" % i for i in range(count)]
        data = b"".join(frame_bytes(OP_PING, p) for p in payloads)
        c.send_raw(data, chop, OCTET_PAUSE if chop else 0)
        for p in payloads:
            c.expect_pong(p)
        c.close_normally()
    return run


def group2():
    hello = b"Hello, world!"
    binary = b"\x00\xff\xfe\xfd\xfc\xfb\x00\xff"
    add("2.1", "ping without payload gets an empty pong",
        frames_case([(OP_PING, b"", True, 0)], pongs=[b""]))
    add("2.2", "ping with a small text payload gets the same pong",
        frames_case([(OP_PING, hello, True, 0)], pongs=[hello]))
    add("2.3", "ping with a small binary payload gets the same pong",
        frames_case([(OP_PING, binary, True, 0)], pongs=[binary]))
    add("2.4", "ping with 125 bytes gets the same pong",
        frames_case([(OP_PING, b"\xfe" * 125, True, 0)],
                    pongs=[b"\xfe" * 125]))
    add("2.5", "ping with 126 bytes gets close 1002 (G5)",
        frames_case([(OP_PING, b"\xfe" * 126, True, 0)], close=[1002]))
    add("2.6", "ping with 125 bytes sent in 1-byte chops gets its pong",
        frames_case([(OP_PING, b"\xfe" * 125, True, 0)], pongs=[b"\xfe" * 125],
                    chop=1, pause=OCTET_PAUSE))
    add("2.7", "unsolicited empty pong is not answered",
        frames_case([(OP_PONG, b"", True, 0)]))
    add("2.8", "unsolicited pong with payload is not answered",
        frames_case([(OP_PONG, b"unsolicited pong payload", True, 0)]))
    add("2.9", "unsolicited pong, then a ping: only the ping's pong",
        frames_case([(OP_PONG, b"unsolicited pong payload", True, 0),
                     (OP_PING, b"ping payload", True, 0)],
                    pongs=[b"ping payload"]))
    add("2.10", "10 pings get 10 pongs with matching payloads in order",
        pings_case(10))
    add("2.11", "10 pings sent in 1-byte chops get 10 pongs in order",
        pings_case(10, chop=1))


# -- group 3: reserved bits

def group3():
    hello = b"Hello, world!"
    add("3.1", "text frame with RSV=1 gets close 1002 (W1)",
        frames_case([(OP_TEXT, hello, True, 1)], close=[1002]))
    for cid, rsv, how, kw in (
            ("3.2", 2, "one write", {}),
            ("3.3", 3, "frame-wise writes", {"framewise": True}),
            ("3.4", 4, "1-byte chops",
             {"chop": 1, "pause": OCTET_PAUSE})):
        add(cid, "text, text with RSV=%d, ping (%s): echo of the first, "
            "then close 1002, no pong" % (rsv, how),
            frames_case([(OP_TEXT, hello, True, 0),
                         (OP_TEXT, hello, True, rsv),
                         (OP_PING, b"", True, 0)],
                        echoes=[(OP_TEXT, hello)], close=[1002], **kw))
    add("3.5", "binary frame with RSV=5 gets close 1002",
        frames_case([(OP_BINARY, b"\x00\xff\xfe\xfd\xfc\xfb\x00\xff", True,
                      5)], close=[1002]))
    add("3.6", "ping with RSV=6 gets close 1002, no pong",
        frames_case([(OP_PING, hello, True, 6)], close=[1002]))
    add("3.7", "close with RSV=7 gets close 1002",
        frames_case([(OP_CLOSE, close_payload(1000), True, 7)],
                    close=[1002], client_closes=True))


# -- group 4: opcodes

def group4():
    hello = b"Hello, world!"
    for sub, ops, kind in ((1, (3, 4, 5, 6, 7), "non-control"),
                           (2, (11, 12, 13, 14, 15), "control")):
        for i, op in enumerate(ops, 1):
            payload = b"" if i in (1, 3) else b"reserved opcode payload"
            cid = "4.%d.%d" % (sub, i)
            if i <= 2:
                add(cid, "reserved %s opcode %d%s gets close 1002 (W2)" % (
                    kind, op, " with payload" if payload else ""),
                    frames_case([(op, payload, True, 0)], close=[1002]))
            else:
                add(cid, "text, reserved %s opcode %d%s, ping: echo, then "
                    "close 1002, no pong" % (
                        kind, op, " with payload" if payload else ""),
                    frames_case([(OP_TEXT, hello, True, 0),
                                 (op, payload, True, 0),
                                 (OP_PING, b"", True, 0)],
                                echoes=[(OP_TEXT, hello)], close=[1002]))


# -- group 5: fragmentation

def pings_between_fragments(framewise):
    def run(ctx):
        c = ctx.ws()
        f = [b"fragment%d" % i for i in range(1, 6)]

        def send(frames):
            if framewise:
                for fr in frames:
                    c.send_raw(frame_bytes(*fr))
                    time.sleep(FRAME_PAUSE)
            else:
                c.send_raw(b"".join(frame_bytes(*fr) for fr in frames))
        send([(OP_TEXT, f[0], False), (OP_CONT, f[1], False),
              (OP_PING, b"pongme 1!")])
        # The pong must come while the message is still open (§6).
        c.expect_pong(b"pongme 1!")
        send([(OP_CONT, f[2], False), (OP_CONT, f[3], False),
              (OP_PING, b"pongme 2!")])
        c.expect_pong(b"pongme 2!")
        send([(OP_CONT, f[4], True)])
        c.expect_message(OP_TEXT, b"".join(f))
        c.close_normally()
    return run


def group5():
    f1, f2 = b"fragment1", b"fragment2"
    add("5.1", "ping in 2 fragments gets close 1002 (G6)",
        frames_case([(OP_PING, f1, False, 0), (OP_CONT, f2, True, 0)],
                    close=[1002]))
    add("5.2", "pong in 2 fragments gets close 1002 (G6)",
        frames_case([(OP_PONG, f1, False, 0), (OP_CONT, f2, True, 0)],
                    close=[1002]))
    two = [(OP_TEXT, f1, False, 0), (OP_CONT, f2, True, 0)]
    for cid, how, kw in (("5.3", "one write", {}),
                         ("5.4", "1-byte chops",
                          {"chop": 1, "pause": OCTET_PAUSE}),
                         ("5.5", "frame-wise writes", {"framewise": True})):
        add(cid, "text in 2 fragments (%s) echoed" % how,
            frames_case(two, echoes=[(OP_TEXT, f1 + f2)], **kw))
    with_ping = [two[0], (OP_PING, b"ping payload", True, 0), two[1]]
    for cid, how, kw in (("5.6", "one write", {}),
                         ("5.7", "1-byte chops",
                          {"chop": 1, "pause": OCTET_PAUSE}),
                         ("5.8", "frame-wise writes", {"framewise": True})):
        add(cid, "text in 2 fragments with a ping between (%s): pong, then "
            "echo" % how,
            frames_case(with_ping, pongs=[b"ping payload"],
                        echoes=[(OP_TEXT, f1 + f2)], **kw))
    for base, fin in ((9, True), (12, False)):
        frames = [(OP_CONT, b"non-continuation payload", fin, 0),
                  (OP_TEXT, b"Hello, world!", True, 0)]
        for k, (how, kw) in enumerate((("one write", {}),
                                       ("frame-wise writes",
                                        {"framewise": True}),
                                       ("1-byte chops",
                                        {"chop": 1, "pause": OCTET_PAUSE}))):
            add("5.%d" % (base + k), "continuation (FIN=%d) with nothing to "
                "continue, then text (%s): close 1002, no echo (G2)"
                % (fin, how), frames_case(frames, close=[1002], **kw))
    add("5.15", "text in 2 fragments, then a stray continuation and a text: "
        "echo of the first message, then close 1002",
        frames_case([(OP_TEXT, f1, False, 0), (OP_CONT, f2, True, 0),
                     (OP_CONT, b"fragment3", False, 0),
                     (OP_TEXT, b"fragment4", True, 0)],
                    echoes=[(OP_TEXT, f1 + f2)], close=[1002]))
    for cid, fin in (("5.16", False), ("5.17", True)):
        bad = [(OP_CONT, f1, fin, 0), (OP_TEXT, f2, False, 0),
               (OP_CONT, b"fragment3", True, 0)]
        add(cid, "twice: continuation (FIN=%d) with nothing to continue, "
            "text fragment, last continuation: close 1002" % fin,
            frames_case(bad * 2, close=[1002]))
    add("5.18", "text in 2 fragments both with the text opcode gets close "
        "1002 (G3)",
        frames_case([(OP_TEXT, f1, False, 0), (OP_TEXT, f2, True, 0)],
                    close=[1002]))
    add("5.19", "text in 5 fragments with 2 pings between: each pong before "
        "the message ends, then the echo", pings_between_fragments(False))
    add("5.20", "as 5.19 with every frame in its own write",
        pings_between_fragments(True))


# -- group 6: UTF-8

def utf8_vectors():
    """The 19 sub-groups 6.5 to 6.23: Markus Kuhn's UTF-8 decoder test
    sequences as Autobahn|Testsuite orders them.  (valid, bytes) pairs."""
    groups = []
    groups.append(("valid UTF-8", [
        b"hello\x24world", b"hello\xc2\xa2world", b"hello\xe2\x82\xacworld",
        b"hello\xf0\xa4\xad\xa2world", KOSME]))
    groups.append(("prefix of a valid string", [KOSME[:i] for i in
                                               range(1, len(KOSME) + 1)]))
    groups.append(("first sequence of a length", [
        b"\x00", b"\xc2\x80", b"\xe0\xa0\x80", b"\xf0\x90\x80\x80"]))
    groups.append(("first 5/6-byte sequence", [
        b"\xf8\x88\x80\x80\x80", b"\xfc\x84\x80\x80\x80\x80"]))
    groups.append(("last sequence of a length", [
        b"\x7f", b"\xdf\xbf", b"\xef\xbf\xbf", b"\xf4\x8f\xbf\xbf"]))
    groups.append(("last 4/5/6-byte sequence", [
        b"\xf7\xbf\xbf\xbf", b"\xfb\xbf\xbf\xbf\xbf",
        b"\xfd\xbf\xbf\xbf\xbf\xbf"]))
    groups.append(("boundary", [
        b"\xed\x9f\xbf", b"\xee\x80\x80", b"\xef\xbf\xbd", b"\xf4\x8f\xbf\xbf",
        b"\xf4\x90\x80\x80"]))
    groups.append(("unexpected continuation", [
        b"\x80", b"\xbf", b"\x80\xbf", b"\x80\xbf\x80", b"\x80\xbf\x80\xbf",
        b"\x80\xbf\x80\xbf\x80", b"\x80\xbf\x80\xbf\x80\xbf",
        bytes(range(0x80, 0xbf))]))
    groups.append(("lonely start bytes", [
        b"".join(bytes([b, 0x20]) for b in range(lo, hi))
        for lo, hi in ((0xc0, 0xdf), (0xe0, 0xef), (0xf0, 0xf7),
                       (0xf8, 0xfb), (0xfc, 0xfd))]))
    missing = [b"\xc0", b"\xe0\x80", b"\xf0\x80\x80", b"\xf8\x80\x80\x80",
               b"\xfc\x80\x80\x80\x80", b"\xdf", b"\xef\xbf", b"\xf7\xbf\xbf",
               b"\xfb\xbf\xbf\xbf", b"\xfd\xbf\xbf\xbf\xbf"]
    groups.append(("last continuation byte missing", missing))
    groups.append(("concatenated incomplete sequences", [b"".join(missing)]))
    groups.append(("impossible bytes", [b"\xfe", b"\xff",
                                        b"\xfe\xfe\xff\xff"]))
    groups.append(("overlong ASCII", [
        b"\xc0\xaf", b"\xe0\x80\xaf", b"\xf0\x80\x80\xaf",
        b"\xf8\x80\x80\x80\xaf", b"\xfc\x80\x80\x80\x80\xaf"]))
    groups.append(("maximum overlong", [
        b"\xc1\xbf", b"\xe0\x9f\xbf", b"\xf0\x8f\xbf\xbf",
        b"\xf8\x87\xbf\xbf\xbf", b"\xfc\x83\xbf\xbf\xbf\xbf"]))
    groups.append(("overlong NUL", [
        b"\xc0\x80", b"\xe0\x80\x80", b"\xf0\x80\x80\x80",
        b"\xf8\x80\x80\x80\x80", b"\xfc\x80\x80\x80\x80\x80"]))
    single = [b"\xed\xa0\x80", b"\xed\xad\xbf", b"\xed\xae\x80",
              b"\xed\xaf\xbf", b"\xed\xb0\x80", b"\xed\xbe\x80",
              b"\xed\xbf\xbf"]
    groups.append(("single surrogate", single))
    groups.append(("paired surrogates", [
        hi + lo for hi in (b"\xed\xa0\x80", b"\xed\xad\xbf", b"\xed\xae\x80",
                           b"\xed\xaf\xbf")
        for lo in (b"\xed\xb0\x80", b"\xed\xbf\xbf")]))
    nonchars = [b"\xef\xbf\xbe", b"\xef\xbf\xbf"]
    for b1 in (0xf0, 0xf1, 0xf2, 0xf3, 0xf4):
        for b2 in (0x8f, 0x9f, 0xaf, 0xbf):
            if b1 == 0xf4 and b2 != 0x8f:
                continue
            for b4 in (0xbe, 0xbf):
                seq = bytes([b1, b2, 0xbf, b4])
                if seq[:2] != b"\xf0\x8f":
                    nonchars.append(seq)
    groups.append(("non-character", nonchars))
    groups.append(("specials", [bytes([0xef, 0xbf, b])
                                for b in range(0xb9, 0xc0)]))
    return [(name, [(utf8_ok(s), s) for s in seqs]) for name, seqs in groups]


def fail_fast_case(parts, must_at, single_frame):
    """6.4.x: parts of one text message (3 frames, or 3 chops of one
    frame); the server must close 1007 right after part must_at, with the
    rest not sent yet."""
    def run(ctx):
        c = ctx.ws()
        if single_frame:
            whole = frame_bytes(OP_TEXT, b"".join(parts))
            head = len(whole) - len(b"".join(parts))
            cuts = [head + len(parts[0]), head + len(parts[0]) +
                    len(parts[1])]
            chunks = [whole[:cuts[0]], whole[cuts[0]:cuts[1]],
                      whole[cuts[1]:]]
        else:
            chunks = [frame_bytes(OP_TEXT, parts[0], False),
                      frame_bytes(OP_CONT, parts[1], False),
                      frame_bytes(OP_CONT, parts[2], True)]
        for i, chunk in enumerate(chunks):
            c.log("> part %d: %d bytes" % (i + 1, len(chunk)))
            c.send_raw(chunk)
            if i < must_at:
                c.expect_quiet(why=" after valid part %d" % (i + 1))
                continue
            ev = c.next_event(FAIL_FAST_WAIT)
            if ev[0] != "close" or ev[1] != 1007:
                rest = "the rest of the %s" % (
                    "frame" if single_frame else "message")
                raise CaseFail("expected close 1007 within %g s of part %d, "
                               "before %s was sent (fail-fast), got %s"
                               % (FAIL_FAST_WAIT, i + 1, rest,
                                  c.describe(ev)))
            # Complete the frame so that our close parses.
            for later in chunks[i + 1:]:
                c.send_raw(later)
            c.send_close(1007)
            c.expect_tcp_close()
            return
    return run


def group6():
    add("6.1.1", "empty text message echoed",
        echo_case([(OP_TEXT, b"")]))
    add("6.1.2", "text in 3 empty fragments echoed as an empty message",
        frames_case([(OP_TEXT, b"", False, 0), (OP_CONT, b"", False, 0),
                     (OP_CONT, b"", True, 0)], echoes=[(OP_TEXT, b"")]))
    add("6.1.3", "text in 3 fragments, first and last empty, echoed",
        frames_case([(OP_TEXT, b"", False, 0),
                     (OP_CONT, b"middle frame payload", False, 0),
                     (OP_CONT, b"", True, 0)],
                    echoes=[(OP_TEXT, b"middle frame payload")]))
    valid = "Hello-µ@ßöäüàá-UTF-8!!".encode()
    add("6.2.1", "valid UTF-8 text in one frame echoed",
        echo_case([(OP_TEXT, valid)]))
    split = len("Hello-µ@ßöä".encode())
    add("6.2.2", "valid UTF-8 text in 2 fragments split at a code point "
        "boundary echoed",
        frames_case([(OP_TEXT, valid[:split], False, 0),
                     (OP_CONT, valid[split:], True, 0)],
                    echoes=[(OP_TEXT, valid)]))
    add("6.2.3", "valid UTF-8 text in 1-byte fragments echoed",
        echo_case([(OP_TEXT, valid)], frag=1))
    add("6.2.4", "valid UTF-8 text (κόσμε) in 1-byte fragments, code points "
        "split across frames, echoed", echo_case([(OP_TEXT, KOSME)], frag=1))
    add("6.3.1", "invalid UTF-8 (surrogate) text in one frame gets close "
        "1007",
        frames_case([(OP_TEXT, INVALID_UTF8, True, 0)], close=[1007]))
    add("6.3.2", "invalid UTF-8 text in 1-byte fragments gets close 1007",
        frames_case([(OP_TEXT if i == 0 else OP_CONT,
                      INVALID_UTF8[i:i + 1], i == len(INVALID_UTF8) - 1, 0)
                     for i in range(len(INVALID_UTF8))], close=[1007]))
    edited = b"edited"
    add("6.4.1", "fail-fast on invalid UTF-8: 3 frames, the 2nd ends in "
        "F4 90 80 80 (above U+10FFFF): close 1007 before the 3rd is sent",
        fail_fast_case([KOSME, b"\xf4\x90\x80\x80", edited], 1, False))
    add("6.4.2", "fail-fast on invalid UTF-8: 3 frames, the 2nd is F4 "
        "alone (still valid), the 3rd makes it invalid: close 1007 after "
        "the 3rd, nothing before",
        fail_fast_case([KOSME, b"\xf4", b"\x90\x80\x80" + edited], 2, False))
    add("6.4.3", "fail-fast on invalid UTF-8: one frame in 3 chops, the 2nd "
        "ends in F4 90 80 80: close 1007 before the rest of the frame",
        fail_fast_case([KOSME, b"\xf4\x90\x80\x80", edited], 1, True))
    add("6.4.4", "fail-fast on invalid UTF-8: one frame in 3 chops, the 2nd "
        "ends in F4 90: close 1007 before the rest of the frame",
        fail_fast_case([KOSME, b"\xf4\x90", b"\x80\x80" + edited], 1, True))
    for g, (name, seqs) in enumerate(utf8_vectors(), 5):
        for j, (ok, s) in enumerate(seqs, 1):
            cid = "6.%d.%d" % (g, j)
            if ok:
                add(cid, "%s: valid text 0x%s echoed" % (name, s[:16].hex()),
                    echo_case([(OP_TEXT, s)]))
            else:
                add(cid, "%s: invalid text 0x%s gets close 1007"
                    % (name, s[:16].hex()),
                    frames_case([(OP_TEXT, s, True, 0)], close=[1007]))


# -- group 7: closing handshake

def close_after_big(ctx):
    c = ctx.ws()
    big = ascii_text("7.1.6", 262144)
    c.send_raw(frame_bytes(OP_TEXT, big) +
               frame_bytes(OP_CLOSE, close_payload(1000)) +
               frame_bytes(OP_PING, b"Hello World"))
    c.sent_close = True
    ev = c.next_event()
    if ev[0] != "message":
        ctx.note("informational: the 256 KiB message was not echoed "
                 "before the close")
        if ev[0] != "close" or ev[1] != 1000:
            raise CaseFail("expected close 1000, got %s" % c.describe(ev))
        c.expect_tcp_close()
        return
    if ev[1] != OP_TEXT or ev[2] != big:
        raise CaseFail("expected the 256 KiB message echoed whole or "
                       "not at all, got %s" % c.describe(ev))
    c.expect_close([1000], why=" and no pong")


def close_code_case(code, want, reason=b""):
    return frames_case([(OP_CLOSE, close_payload(code, reason), True, 0)],
                       close=want)


def informational_close(code):
    def run(ctx):
        c = ctx.ws()
        c.send_close(code)
        got = c.expect_close([1002, code])
        ctx.note("informational: close %d answered with %d (gust: 1002)"
                 % (code, got))
    return run


def group7():
    add("7.1.1", "text message, then close 1000: echo, close 1000",
        frames_case([(OP_TEXT, b"Hello World", True, 0),
                     (OP_CLOSE, close_payload(1000), True, 0)],
                    echoes=[(OP_TEXT, b"Hello World")], close=[1000]))
    add("7.1.2", "two close frames: one close 1000 answer, then TCP close",
        frames_case([(OP_CLOSE, close_payload(1000), True, 0)] * 2,
                    close=[1000]))
    add("7.1.3", "close, then ping: close 1000, no pong (X6)",
        frames_case([(OP_CLOSE, close_payload(1000), True, 0),
                     (OP_PING, b"Hello World", True, 0)], close=[1000]))
    add("7.1.4", "close, then text: close 1000, no echo (X6)",
        frames_case([(OP_CLOSE, close_payload(1000), True, 0),
                     (OP_TEXT, b"Hello World", True, 0)], close=[1000]))
    add("7.1.5", "text fragment, close, last fragment: the close code is "
        "echoed, not 1002",
        frames_case([(OP_TEXT, b"fragment1", False, 0),
                     (OP_CLOSE, close_payload(1000), True, 0),
                     (OP_CONT, b"fragment2", True, 0)], close=[1000]))
    add("7.1.6", "256 KiB text, close, ping: the echo whole or not at all "
        "(informational), close 1000, no pong", close_after_big)
    add("7.3.1", "close with an empty payload gets an empty close (X1)",
        close_code_case(None, [None]))
    add("7.3.2", "close with a 1-byte payload gets close 1002 (X2)",
        frames_case([(OP_CLOSE, b"\x03", True, 0)], close=[1002]))
    add("7.3.3", "close 1000 without reason is echoed",
        close_code_case(1000, [1000]))
    add("7.3.4", "close 1000 with a reason is echoed",
        close_code_case(1000, [1000], b"Hello World!"))
    add("7.3.5", "close 1000 with a 123-byte reason is echoed",
        close_code_case(1000, [1000], b"*" * 123))
    add("7.3.6", "close 1000 with a 124-byte reason (payload 126) gets close "
        "1002", frames_case([(OP_CLOSE, close_payload(1000, b"*" * 124),
                              True, 0)], close=[1002], client_closes=True))
    add("7.5.1", "close 1000 with an invalid UTF-8 reason gets close 1007 "
        "(X5)", close_code_case(1000, [1007], INVALID_UTF8))
    for i, code in enumerate((1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010,
                              1011, 3000, 3999, 4000, 4999), 1):
        add("7.7.%d" % i, "valid close code %d is echoed (X3)" % code,
            close_code_case(code, [code]))
    for i, code in enumerate((0, 999, 1004, 1005, 1006, 1016, 1100, 2000,
                              2999), 1):
        add("7.9.%d" % i, "invalid close code %d gets close 1002, never "
            "its echo (X4)" % code, close_code_case(code, [1002]))
    add("7.13.1", "undefined close code 5000: close 1002 or its echo "
        "(informational)", informational_close(5000))
    add("7.13.2", "undefined close code 65535: close 1002 or its echo "
        "(informational)", informational_close(65535))


# -- group 9: limits and performance (scaled down)

def timed(ctx, t0, what):
    ctx.note("%s in %.3f s" % (what, time.monotonic() - t0))


def big_echo(op, size, frag=None, chop=None):
    def run(ctx):
        c = ctx.ws()
        payload = (ascii_text if op == OP_TEXT else binary_data)(
            "9-%d" % size, size)
        t0 = time.monotonic()
        c.send_message(op, payload, frag=frag, chop=chop)
        c.expect_message(op, payload)
        timed(ctx, t0, "echo")
        c.close_normally()
    return run


def round_trips(op, size, count):
    def run(ctx):
        c = ctx.ws()
        payload = (ascii_text if op == OP_TEXT else binary_data)(
            "9.7-%d" % size, size)
        t0 = time.monotonic()
        for _ in range(count):
            c.send_message(op, payload)
            c.expect_message(op, payload)
        timed(ctx, t0, "%d round trips" % count)
        c.close_normally()
    return run


K, M = 1024, 1024 * 1024


def group9():
    sizes = [64 * K, 128 * K, 256 * K, 512 * K, 768 * K, M]
    frags = [64, 256, K, 4 * K, 16 * K, 64 * K, 256 * K, 512 * K, M]
    chops = [64, 128, 256, 512, K, 2 * K]
    for sub, op, what in ((1, OP_TEXT, "text"), (2, OP_BINARY, "binary")):
        for i, n in enumerate(sizes, 1):
            add("9.%d.%d" % (sub, i), "%s message of %d KiB echoed"
                % (what, n // K), big_echo(op, n))
    for sub, op, what in ((3, OP_TEXT, "text"), (4, OP_BINARY, "binary")):
        for i, f in enumerate(frags, 1):
            add("9.%d.%d" % (sub, i), "1 MiB %s message in %d-byte "
                "fragments echoed" % (what, f), big_echo(op, M, frag=f))
    for sub, op, what in ((5, OP_TEXT, "text"), (6, OP_BINARY, "binary")):
        for i, ch in enumerate(chops, 1):
            add("9.%d.%d" % (sub, i), "256 KiB %s message sent in %d-byte "
                "chops echoed" % (what, ch), big_echo(op, 256 * K, chop=ch))
    for sub, op, what in ((7, OP_TEXT, "text"), (8, OP_BINARY, "binary")):
        for i, n in enumerate((0, 16, 64, 256, K, 4 * K), 1):
            add("9.%d.%d" % (sub, i), "100 round trips of %d-byte %s "
                "messages" % (n, what), round_trips(op, n, 100))


# -- group 10: auto-fragmentation

def group10():
    add("10.1.1", "65536-byte text message in 1300-byte frames echoed",
        echo_case([(OP_TEXT, ascii_text("10.1.1", 65536))], frag=1300))


# -- groups 12 and 13: permessage-deflate

# (message size, auto-fragment size) as in Autobahn|Testsuite
DEFLATE_SIZES = [(16, 0), (64, 0), (256, 0), (1024, 0), (4096, 0),
                 (8192, 0), (16384, 0), (32768, 0), (65536, 0), (131072, 0),
                 (8192, 256), (16384, 256), (32768, 256), (65536, 256),
                 (131072, 256), (131072, 1024), (131072, 4096),
                 (131072, 32768)]


def message_count(size):
    # Autobahn sends 1000; keep at most ~512 KiB per case, at least 3
    # messages so that context takeover is exercised.
    return max(3, min(50, (512 * K) // size))


def deflate_case(offers, name, size, frag):
    def run(ctx):
        c = ctx.ws(offers, accept=0)
        data = corpus(name)
        is_text = CORPORA[name][2]
        op = OP_TEXT if is_text else OP_BINARY
        ptr = (size * 7919) % len(data)
        count = message_count(size)
        t0 = time.monotonic()
        for _ in range(count):
            msg, ptr = take(data, ptr, size, is_text)
            c.send_message(op, msg, frag=frag or None)
            c.expect_message(op, msg)
        ctx.log("%d messages in %.3f s, %s" % (
            count, time.monotonic() - t0, c.pmd["response"]))
        c.close_normally()
    return run


def group12():
    for j, name in enumerate(("json", "bitmap", "prose", "html", "pdf"), 1):
        desc, _, is_text = CORPORA[name]
        for i, (size, frag) in enumerate(DEFLATE_SIZES, 1):
            add("12.%d.%d" % (j, i), "deflate, %s (%s): %d messages of %d "
                "bytes%s, default offer" % (
                    desc, "text" if is_text else "binary",
                    message_count(size), size,
                    ", frames of %d" % frag if frag else ""),
                deflate_case(["permessage-deflate; client_max_window_bits"],
                             name, size, frag))


def offer(nct, bits):
    s = "permessage-deflate; client_max_window_bits"
    if nct:
        s += "; server_no_context_takeover"
    if bits:
        s += "; server_max_window_bits=%d" % bits
    return s


# Autobahn's 7 offer sets: (server_no_context_takeover, server_max_window_bits)
DEFLATE_OFFERS = [[(False, 0)], [(True, 0)], [(False, 9)], [(False, 15)],
                  [(True, 9)], [(True, 15)],
                  [(True, 9), (True, 0), (False, 0)]]


def group13():
    for j, offers in enumerate(DEFLATE_OFFERS, 1):
        strs = [offer(*o) for o in offers]
        label = " | ".join(
            "nct=%d bits=%s" % (nct, bits or "-") for nct, bits in offers)
        for i, (size, frag) in enumerate(DEFLATE_SIZES, 1):
            add("13.%d.%d" % (j, i), "deflate offers [%s]: %d JSON-like "
                "messages of %d bytes%s" % (
                    label, message_count(size), size,
                    ", frames of %d" % frag if frag else ""),
                deflate_case(strs, "json", size, frag))


GROUPS = {0: group0, 1: group1, 2: group2, 3: group3, 4: group4, 5: group5,
          6: group6, 7: group7, 9: group9, 10: group10, 12: group12,
          13: group13}


# ------------------------------------------------------------------- main

def main():
    ap = argparse.ArgumentParser(
        description="WebSocket conformance driver (client) printing TAP.")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=9001)
    ap.add_argument("--groups", default=",".join(str(g) for g in GROUPS),
                    help="comma-separated case groups (default: all)")
    ap.add_argument("--case", default=None,
                    help="comma-separated case ids or id prefixes")
    ap.add_argument("--list", action="store_true",
                    help="list the selected cases and exit")
    ap.add_argument("--timeout", type=float, default=5.0,
                    help="seconds to wait for each expected event")
    ap.add_argument("--max-time", type=float, default=600.0,
                    help="seconds for the whole run; cases left after it "
                    "fail without running")
    ap.add_argument("-v", "--verbose", action="store_true",
                    help="log frames as TAP comments")
    opts = ap.parse_args()

    try:
        groups = [int(g) for g in opts.groups.split(",") if g.strip()]
    except ValueError:
        ap.error("--groups takes numbers")
    for g in groups:
        if g not in GROUPS:
            ap.error("no group %d (groups: %s)" % (
                g, ", ".join(str(k) for k in GROUPS)))
        GROUPS[g]()
    cases = sorted(CASES, key=lambda c: sort_key(c[0]))
    if opts.case:
        want = [w.strip() for w in opts.case.split(",") if w.strip()]
        cases = [c for c in cases
                 if any(c[0] == w or c[0].startswith(w + ".") for w in want)]
        if not cases:
            ap.error("no case matches %s in groups %s" % (opts.case,
                                                         opts.groups))
    if opts.list:
        for cid, desc, _ in cases:
            print("%-8s %s" % (cid, desc))
        return 0

    try:
        socket.create_connection((opts.host, opts.port),
                                 timeout=opts.timeout).close()
    except OSError as e:
        print("Bail out! cannot connect to %s:%d: %s"
              % (opts.host, opts.port, e))
        return 2

    sys.stdout.reconfigure(line_buffering=True)
    print("1..%d" % len(cases))
    failed = []
    t_all = time.monotonic()
    for n, (cid, desc, fn) in enumerate(cases, 1):
        ctx = Ctx(opts)
        t0 = time.monotonic()
        err = None
        gone = False
        try:
            if t0 - t_all > opts.max_time:
                raise CaseFail("not run: the run took more than --max-time "
                               "%g s" % opts.max_time)
            fn(ctx)
        except ServerGone as e:
            err = str(e)
            gone = True
        except CaseFail as e:
            err = str(e)
        except Exception as e:  # a driver bug must not stop the run
            err = "driver exception %s: %s" % (type(e).__name__, e)
        finally:
            ctx.finish()
        took = time.monotonic() - t0
        if err is None:
            print("ok %d - %s %s" % (n, cid, desc))
        else:
            failed.append(cid)
            print("not ok %d - %s %s" % (n, cid, desc))
            for line in err.splitlines():
                print("# " + line)
        for note in ctx.notes:
            print("# " + note)
        if took > 2:
            print("# %s took %.1f s" % (cid, took))
        if gone:
            print("Bail out! the server stopped accepting connections")
            return 2
    print("# %d cases, %d failed%s, %.1f s" % (
        len(cases), len(failed), (": " + " ".join(failed)) if failed else "",
        time.monotonic() - t_all))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
