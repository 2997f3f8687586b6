// bench/ws_echo_node.js: the node `ws` echo server for bench/ws_echo; each
// message goes back with the opcode it came with.
//
// Usage: NODE_PATH=/usr/share/nodejs node bench/ws_echo_node.js PORT [--deflate]
//   PORT 0: any free port. Listens on 127.0.0.1 and prints
//   "listening on PORT" once it does; SIGTERM stops it.
//   --deflate: accept permessage-deflate with ws's zlib defaults (zlib's
//   default level, 15-bit windows), but threshold 0: ws's default threshold
//   (1024 bytes) would leave the benchmark's 512-byte echoes uncompressed.
//   Off otherwise.
'use strict';

const WebSocket = require('ws');

const args = process.argv.slice(2);
const deflate = args.includes('--deflate');
const rest = args.filter((a) => a !== '--deflate');
if (rest.length > 1 || (rest.length === 1 && !/^[0-9]+$/.test(rest[0]))) {
  process.stderr.write('usage: node ws_echo_node.js PORT [--deflate]\n');
  process.exit(2);
}
const port = rest.length ? Number(rest[0]) : 0;

const wss = new WebSocket.WebSocketServer({
  host: '127.0.0.1',
  port: port,
  backlog: 1024,
  perMessageDeflate: deflate ? { threshold: 0 } : false,
  clientTracking: false,
});

wss.on('connection', (ws) => {
  ws.on('message', (data, isBinary) => {
    ws.send(data, { binary: isBinary });
  });
  ws.on('error', (err) => {
    process.stderr.write(`ws_echo_node: connection error: ${err.message}\n`);
  });
});

wss.on('listening', () => {
  process.stdout.write(`listening on ${wss.address().port}\n`);
});

wss.on('error', (err) => {
  process.stderr.write(`ws_echo_node: ${err.message}\n`);
  process.exit(1);
});

process.on('SIGTERM', () => process.exit(0));
