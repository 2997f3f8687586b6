// WebSocket peers on node's ws (8.x) for t/interop/ws_interop.sh; run with
// NODE_PATH=/usr/share/nodejs (Debian's node-ws).
//
//   node ws_peers_node.js server PORT [--deflate]
//   node ws_peers_node.js client URL [--deflate | --deflate-params]
//                                    [--idle SECONDS]
//   node ws_peers_node.js dump -
//
// The server echoes every message with its type (over 100000 bytes in 8
// fragments, with a ping after the first) and prints "listening on PORT"
// once ready (PORT 0 picks a free one); the text message "please close
// 4001" makes it close with 4001 "bye" instead.
//
// The client stays idle for --idle SECONDS (answering the server's pings),
// sends the message set of t/interop/ws_tool.c (one at a time, then all
// at once, then fragmented with a ping after the first fragment, text cut
// inside UTF-8 sequences), checks every echo (same type, same
// bytes) and pong, checks that the agreed extensions name
// permessage-deflate exactly when --deflate was given (--deflate-params:
// offers and expects every parameter, windows of 9 bits), pings and waits
// for the pong, closes with 1000 and checks that the server's close code
// is 1000. It prints key=value lines, ends with result=ok or result=fail
// and exits 1 on any failure. Every wait is bounded. `dump -` writes the
// message set, concatenated, to stdout.
'use strict';

const { WebSocket, WebSocketServer } = require('ws');

const TIMEOUT = 30000;
const MAX_SIZE = 16 * 1024 * 1024;

// The message set of ws_tool.c: [name, binary, kind, size]; the seed of
// message i is i.
const UTF8 = 'h\u00e9llo w\u00f6rld \u2014 \u65e5\u672c\u8a9e ' +
  '\u0395\u03bb\u03bb\u03b7\u03bd\u03b9\u03ba\u03ac ' +
  '\u041a\u0438\u0440\u0438\u043b\u043b\u0438\u0446\u0430 ' +
  '\u{1F600}\u{1F389} \u2713 \uFFFD end';
const ZIP = 'Hello world. Testing 123 123\n';
const MESSAGES = [
  ['t0', false, 'random', 0], ['b0', true, 'random', 0],
  ['t1', false, 'random', 1], ['b1', true, 'random', 1],
  ['t125', false, 'random', 125], ['b125', true, 'random', 125],
  ['t126', false, 'random', 126], ['b126', true, 'random', 126],
  ['t65535', false, 'random', 65535], ['b65535', true, 'random', 65535],
  ['t65536', false, 'random', 65536], ['b65536', true, 'random', 65536],
  ['t1M', false, 'random', 1048576], ['b1M', true, 'random', 1048576],
  ['utf8', false, 'utf8', 0], ['utf8big', false, 'utf8big', 0],
  ['zip', false, 'zip', 0],
];

// x = x * 1103515245 + 12345 mod 2^31, byte = bits 16..23, from x = 1.
function makeBlock() {
  const out = Buffer.alloc(1048576 + 64);
  let x = 1;
  for (let i = 0; i < out.length; i++) {
    x = (Math.imul(x, 1103515245) + 12345) & 0x7fffffff;
    out[i] = (x >>> 16) & 0xff;
  }
  return out;
}

// [{name, binary, data: Buffer}]
function payloads() {
  const block = makeBlock();
  return MESSAGES.map(([name, binary, kind, size], i) => {
    let data;
    if (kind === 'utf8') data = Buffer.from(UTF8, 'utf8');
    else if (kind === 'utf8big') data = Buffer.from(UTF8.repeat(1000), 'utf8');
    else if (kind === 'zip') data = Buffer.from(ZIP.repeat(10000), 'utf8');
    else {
      data = Buffer.from(block.subarray(i, i + size));
      if (!binary) for (let k = 0; k < size; k++) data[k] = 0x20 + data[k] % 95;
    }
    return { name, binary, data };
  });
}

// Byte offsets cutting `len` bytes into n pieces of unequal sizes (the
// first is 1 long): text pieces may end inside a UTF-8 sequence.
function cuts(len, n) {
  const c = [0, 1];
  for (let k = 1; k < n; k++) c.push(Math.floor(len * k / n) + k);
  c.push(len);
  return [...new Set(c)].sort((a, b) => a - b).filter((x) => x <= len);
}

// Sends `data` as a fragmented message with a ping after the first
// fragment; `cb` gets the error of the last fragment.
function sendFragmented(ws, data, binary, n, cb) {
  const c = cuts(data.length, n);
  for (let i = 0; i + 1 < c.length; i++) {
    const last = i + 2 === c.length;
    ws.send(data.subarray(c[i], c[i + 1]), { binary, fin: last },
      last ? cb : undefined);
    if (i === 0) ws.ping('between fragments');
  }
}

function server(port, deflate) {
  const wss = new WebSocketServer({
    host: '127.0.0.1', port, perMessageDeflate: deflate, maxPayload: MAX_SIZE,
  });
  wss.on('connection', (ws) => {
    // big messages go back fragmented, with a ping in between
    ws.on('message', (data, isBinary) => {
      if (!isBinary && data.toString() === 'please close 4001') {
        ws.close(4001, 'bye');
      } else if (data.length > 100000) {
        sendFragmented(ws, data, isBinary, 8, () => {});
      } else ws.send(data, { binary: isBinary });
    });
    ws.on('error', () => {});
  });
  wss.on('listening', () => console.log(`listening on ${wss.address().port}`));
}

// --deflate-params: every permessage-deflate parameter, windows of 9 bits.
const PARAMS = ['server_no_context_takeover', 'client_no_context_takeover',
  'server_max_window_bits=9', 'client_max_window_bits=9'];

function client(url, deflate, params, idle) {
  let failures = 0;
  const line = (k, v) => console.log(`${k}=${v}`);
  const fail = (what, detail) => {
    failures++;
    console.log(`FAIL ${what}${detail ? ': ' + detail : ''}`);
  };
  const finish = () => {
    line('result', failures === 0 ? 'ok' : 'fail');
    process.exit(failures === 0 ? 0 : 1);
  };
  const guard = setTimeout(() => { fail('timeout', 'no progress'); finish(); },
    TIMEOUT * 3);
  const msgs = payloads(); // before connecting: it takes a while
  const pmd = params ? {
    serverNoContextTakeover: true, clientNoContextTakeover: true,
    serverMaxWindowBits: 9, clientMaxWindowBits: 9,
  } : deflate;
  const ws = new WebSocket(url, {
    perMessageDeflate: pmd, maxPayload: MAX_SIZE, handshakeTimeout: TIMEOUT,
  });
  // Received messages wait here until recv() takes them.
  const inbox = [];
  let waiter = null;
  let closed = null;
  ws.on('message', (data, isBinary) => {
    inbox.push({ data, binary: isBinary });
    if (waiter) { const w = waiter; waiter = null; w(); }
  });
  let serverPings = 0;
  ws.on('ping', () => { serverPings++; });
  ws.on('close', (code) => {
    closed = code;
    if (waiter) { const w = waiter; waiter = null; w(); }
  });
  ws.on('error', (e) => { fail('error', e.message); finish(); });
  const withTimeout = (p, what) => Promise.race([p, new Promise((_, rej) =>
    setTimeout(() => rej(new Error(`${what} timed out`)), TIMEOUT).unref())]);
  const recv = () => withTimeout(new Promise((resolve) => {
    const take = () => {
      if (inbox.length > 0) resolve(inbox.shift());
      else if (closed !== null) resolve(null);
      else waiter = take;
    };
    take();
  }), 'recv');
  const send = (m) => withTimeout(new Promise((resolve, reject) =>
    ws.send(m.data, { binary: m.binary }, (e) => (e ? reject(e) : resolve()))),
  'send');
  const compare = (name, got, want) => {
    if (got === null) fail('echo ' + name, 'connection closed');
    else if (got.binary !== want.binary) {
      fail('echo ' + name, got.binary ? 'binary instead of text'
        : 'text instead of binary');
    } else if (!Buffer.from(got.data).equals(want.data)) {
      fail('echo ' + name, `${got.data.length} bytes differ from the ` +
        `${want.data.length} sent`);
    } else return true;
    return false;
  };

  ws.on('upgrade', (res) => {
    const ext = res.headers['sec-websocket-extensions'];
    line('extensions', ext || 'none');
    if (!!(ext && ext.includes('permessage-deflate')) !== deflate) {
      fail('extensions', deflate ? 'permessage-deflate missing'
        : 'not offered but agreed');
    }
    for (const p of params ? PARAMS : []) {
      if (!(ext || '').includes(p)) fail('extensions', p + ' missing');
    }
  });
  ws.on('open', async () => {
    try {
      if (idle > 0) {
        await new Promise((resolve) => setTimeout(resolve, idle * 1000));
        line('idle', 'ok');
      }
      for (const m of msgs) {
        await send(m);
        if (!compare(m.name, await recv(), m)) return finish();
        line('echo ' + m.name, 'ok');
      }
      await Promise.all(msgs.map(send));
      for (const m of msgs) {
        if (!compare('burst ' + m.name, await recv(), m)) return finish();
      }
      line('burst', 'ok');
      for (const [name, n] of [['utf8big', 7], ['b1M', 16], ['zip', 3]]) {
        const m = msgs.find((x) => x.name === name);
        let pongs = 0;
        const onPong = () => { pongs++; };
        ws.on('pong', onPong);
        await withTimeout(new Promise((resolve, reject) =>
          sendFragmented(ws, m.data, m.binary, n,
            (e) => (e ? reject(e) : resolve()))), 'send fragmented ' + name);
        if (!compare('fragmented ' + name, await recv(), m)) return finish();
        ws.off('pong', onPong);
        if (pongs !== 1) fail('fragmented ' + name, `${pongs} pongs, not 1`);
        line('fragmented ' + name, 'ok');
      }
      await withTimeout(new Promise((resolve) => {
        ws.once('pong', (data) => {
          if (data.toString() !== 'node-ping') fail('pong', 'payload differs');
          resolve();
        });
        ws.ping('node-ping');
      }), 'pong');
      line('pong', 'ok');
      const after = { name: 'after ping', binary: false,
        data: Buffer.from('after ping') };
      await send(after);
      if (!compare('after ping', await recv(), after)) return finish();
      line('after_ping', 'ok');
      line('server_pings', serverPings);
      ws.close(1000);
      const rest = await recv(); // null once the close event fired
      if (rest !== null) fail('close', 'a message after close');
      line('close_code', closed);
      if (closed !== 1000) fail('close code', `${closed} instead of 1000`);
    } catch (e) {
      fail('exception', e.message);
    }
    clearTimeout(guard);
    finish();
  });
}

const [cmd, where] = process.argv.slice(2);
const params = process.argv.slice(4).includes('--deflate-params');
const deflate = process.argv.slice(4).includes('--deflate') || params;
if (cmd === 'server') server(Number(where), deflate);
else if (cmd === 'client') {
  const i = process.argv.indexOf('--idle');
  client(where, deflate, params, i > 0 ? Number(process.argv[i + 1]) : 0);
}
else if (cmd === 'dump') {
  process.stdout.write(Buffer.concat(payloads().map((m) => m.data)));
}
else {
  console.error('usage: ws_peers_node.js server PORT [--deflate] | ' +
    'client URL [--deflate]');
  process.exit(2);
}
