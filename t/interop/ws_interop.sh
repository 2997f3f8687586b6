#!/bin/sh
# Interop of gust's WebSocket server and client with real peers, with and
# without permessage-deflate:
#   1. gust's server (examples/wsecho) against python3-websockets, node ws
#      and Tornado's websocket_connect as clients (t/interop/ws_peers.py,
#      t/interop/ws_peers_node.js), with deflate parameters where the
#      client can offer them, and with keepalive pings;
#   2. gust's client (t/interop/ws_tool) against python3-websockets, node
#      ws and Tornado echo servers (the first two echo big messages in
#      fragments), with and without deflate parameters, both sides closing;
#   3. subprotocols, close codes, the Origin check (403), message size
#      limits (1009, also after inflating), wss:// with the test
#      certificates of t/proto/mkcerts.sh.
# Every client sends the same message set (text and binary of 0 B to
# 1 MiB, non-ASCII UTF-8, a compressible text), one at a time and then all
# at once (websockets and node: also fragmented, node with text cut inside
# UTF-8 sequences and a ping between fragments), checks each echo, pings
# and closes. Each run is bounded by RUN_TIMEOUT; the tools bound every
# single wait to 30 s.
# A missing peer skips its cases, saying why, except under CI=true where
# it fails.
. "${top_srcdir:-.}/t/interop/httpserver_common.sh"

py=/usr/bin/python3
peers=$top_srcdir/t/interop/ws_peers.py
node_peers=$top_srcdir/t/interop/ws_peers_node.js
tool=$top_builddir/t/interop/ws_tool
wsecho=$top_builddir/examples/wsecho
RUN_TIMEOUT=90

command -v timeout >/dev/null 2>&1 ||
  skip_all "timeout (coreutils) not installed"
[ -x "$wsecho" ] || skip_all "examples/wsecho not built"
[ -x "$tool" ] ||
  skip_all "t/interop/ws_tool not built (make t/interop/ws_tool)"

# Which peers are there: each missing one has a reason in $missing_NAME.
missing_websockets=
missing_tornado=
missing_node=
missing_openssl=
if [ ! -x "$py" ]; then
  missing_websockets="/usr/bin/python3 not installed"
  missing_tornado=$missing_websockets
else
  "$py" -c 'import websockets' 2>/dev/null ||
    missing_websockets="python3-websockets for /usr/bin/python3 not installed"
  "$py" -c 'import tornado.websocket' 2>/dev/null ||
    missing_tornado="python3-tornado for /usr/bin/python3 not installed"
fi
if ! command -v node >/dev/null 2>&1; then
  missing_node="node not installed"
elif ! NODE_PATH=/usr/share/nodejs node -e 'require("ws")' >/dev/null 2>&1
then
  missing_node="node-ws not installed in /usr/share/nodejs"
fi
command -v openssl >/dev/null 2>&1 ||
  missing_openssl="openssl not installed (test certificates)"
if [ -n "$missing_websockets" ] && [ -n "$missing_tornado" ] &&
  [ -n "$missing_node" ]; then
  skip_all "no WebSocket peer: $missing_websockets; $missing_node"
fi

# missing PEER: why PEER (websockets, tornado, node, openssl) is missing;
# empty when it is there.
missing() { eval "printf '%s' \"\$missing_$1\""; }

# skip NAME REASON: one skipped test (a failure under CI=true).
skip() {
  hs_n=$((hs_n + 1))
  if [ "${CI:-}" = true ]; then
    hs_failed=$((hs_failed + 1))
    echo "not ok $hs_n - $1 (required under CI: $2)"
  else
    echo "ok $hs_n - $1 # SKIP $2"
  fi
}

# run CMD...: CMD bounded by RUN_TIMEOUT; stdout in $out, stderr in $err,
# exit status in $rc.
out=$hs_tmp/out
err=$hs_tmp/err
rc=0
run() {
  timeout -k 5 "$RUN_TIMEOUT" "$@" >"$out" 2>"$err"
  rc=$?
}
node_client() {
  run env NODE_PATH=/usr/share/nodejs node "$node_peers" client "$@"
}

# Conditions on the last run: val KEY prints the value of its first
# KEY=... line; has KEY VALUE tests it; like KEY PATTERN matches it
# against a shell pattern; passed: exit status 0 and result=ok.
val() { sed -n "s/^$1=//p" "$out" | head -n 1; }
has() { [ "$(val "$1")" = "$2" ]; }
like() {
  case $(val "$1") in $2) return 0 ;; esac
  return 1
}
passed() { [ "$rc" -eq 0 ] && has result ok; }
# clean_close: the closing handshake took under 2 s (no close timeout)
# and no connection error was reported.
clean_close() {
  [ -z "$(val error)" ] &&
    awk -v s="$(val close_seconds)" 'BEGIN { exit !(s != "" && s + 0 < 2) }'
}

# t NAME CONDITION: one test of the shell CONDITION, showing the last run
# when it fails.
t() {
  t_failed=$hs_failed
  check "$1" eval "$2"
  if [ "$hs_failed" -ne "$t_failed" ]; then
    diag "exit status $rc; stdout:"
    grep -v '^echo .*=ok$' "$out" | head -n 40 | sed 's/^/#   /'
    diag "stderr:"
    head -c 2000 "$err" | sed 's/^/#   /'
  fi
}

# start_peer NAME COMMAND...: start_server, remembering the pid in
# $peer_pid for stop_peer. (The output file is made first: start_server
# may read it before the background shell has opened it.)
start_peer() {
  : >"$hs_tmp/$1.out"
  start_server "$@"
  peer_pid=$server_pid
}
# stop_peer: SIGTERM, then SIGKILL if the peer is still there after 10 s.
stop_peer() {
  kill "$peer_pid" 2>/dev/null
  sp_i=0
  while kill -0 "$peer_pid" 2>/dev/null && [ $sp_i -lt 100 ]; do
    case $(ps -o stat= -p "$peer_pid" 2>/dev/null) in Z*) break ;; esac
    sleep 0.1
    sp_i=$((sp_i + 1))
  done
  kill -KILL "$peer_pid" 2>/dev/null
  wait "$peer_pid" 2>/dev/null
}

# The message set is the same bytes in all three tools.
"$tool" --dump >"$hs_tmp/set.c" 2>/dev/null
set_c=$(cksum <"$hs_tmp/set.c")
name="message set: ws_peers.py sends the bytes ws_tool sends"
if [ -z "$missing_websockets" ] || [ -z "$missing_tornado" ]; then
  "$py" "$peers" dump - >"$hs_tmp/set.py" 2>/dev/null
  is "$(cksum <"$hs_tmp/set.py")" "$set_c" "$name"
else
  skip "$name" "$missing_websockets"
fi
name="message set: ws_peers_node.js sends the bytes ws_tool sends"
if [ -z "$missing_node" ]; then
  NODE_PATH=/usr/share/nodejs node "$node_peers" dump - \
    >"$hs_tmp/set.js" 2>/dev/null
  is "$(cksum <"$hs_tmp/set.js")" "$set_c" "$name"
else
  skip "$name" "$missing_node"
fi

# ---------------------------------------------------------------------
# 1. gust's server, real clients
# ---------------------------------------------------------------------
start_peer wsecho "$wsecho" -p 0 --host 127.0.0.1
wsecho_pid=$server_pid
wsecho_port=$port
url=ws://127.0.0.1:$wsecho_port/echo
all_params="permessage-deflate; server_no_context_takeover;"
all_params="$all_params client_no_context_takeover; server_max_window_bits=9;"
all_params="$all_params client_max_window_bits=9"

for client in websockets tornado node; do
  # Tornado's client can neither offer parameters nor send fragments
  modes="plain --deflate --deflate-params"
  [ $client = tornado ] && modes="plain --deflate"
  for mode in $modes; do
    flag=${mode#plain}
    name="gust server <- $client client"
    case $mode in
    --deflate) name="$name (permessage-deflate)" ;;
    --deflate-params)
      name="$name (permessage-deflate, every parameter, 9-bit windows)" ;;
    esac
    if [ -n "$(missing $client)" ]; then
      skip "$name" "$(missing $client)"
      continue
    fi
    case $client in
    node) node_client "$url" $flag ;;
    *) run "$py" "$peers" "$client-client" "$url" $flag ;;
    esac
    t "$name: every echo, the pong, close 1000" \
      'passed && has burst ok && has close_code 1000'
    if [ $client != tornado ]; then
      t "$name: fragmented messages echoed" \
        'has "fragmented utf8big" ok && has "fragmented b1M" ok &&
         has "fragmented zip" ok'
    fi
    case $mode in
    plain) t "$name: no extension agreed" 'has extensions none' ;;
    --deflate) t "$name: permessage-deflate agreed" \
      'like extensions "permessage-deflate*"' ;;
    *) t "$name: every parameter agreed" 'has extensions "$all_params"' ;;
    esac
  done
done

# Keepalive: wsecho pings every 0.25 s and closes ("ping timed out") when
# a pong is 0.25 s late; the clients stay idle for 1 s first.
start_peer wsecho-ping "$wsecho" -p 0 --host 127.0.0.1 --ping-interval 0.25
ping_url=ws://127.0.0.1:$port/
for client in websockets tornado node; do
  name="gust server (keepalive pings) <- $client client"
  if [ -n "$(missing $client)" ]; then
    skip "$name" "$(missing $client)"
    continue
  fi
  case $client in
  node) node_client "$ping_url" --idle 1 ;;
  *) run "$py" "$peers" "$client-client" "$ping_url" --idle 1 ;;
  esac
  t "$name: pings answered, the connection stays open" \
    'passed && has idle ok && has close_code 1000'
  if [ $client != websockets ]; then # websockets does not tell its pings
    t "$name: the client saw the server's pings" \
      '[ "$(val server_pings)" -ge 2 ]'
  fi
done
stop_peer

# ---------------------------------------------------------------------
# 2. gust's client, real servers
# ---------------------------------------------------------------------
for server in websockets tornado node; do
  for deflate in "" --deflate; do
    name="gust client -> $server server${deflate:+ (permessage-deflate)}"
    compression=${deflate:+--compression}
    if [ -n "$(missing $server)" ]; then
      skip "$name" "$(missing $server)"
      continue
    fi
    case $server in
    node) start_peer "node-server$deflate" env NODE_PATH=/usr/share/nodejs \
      node "$node_peers" server 0 $deflate ;;
    *) start_peer "$server-server$deflate" \
      "$py" "$peers" "$server-server" 0 $deflate ;;
    esac
    purl=ws://127.0.0.1:$port/

    run "$tool" "$purl" $compression --expect-close-code 1000
    t "$name: every echo, burst, pong, close 1000 echoed" \
      'passed && has burst ok && has pong ok && has close_code 1000'
    t "$name: closing handshake completed at once, no error" clean_close
    if [ -n "$deflate" ]; then
      t "$name: permessage-deflate agreed, fewer bytes on the wire" \
        'has compressed 1 && [ "$(val wire_out)" -lt "$(val payload_out)" ] &&
         [ "$(val wire_in)" -lt "$(val payload_out)" ]'
    else
      t "$name: no extension, every byte on the wire" \
        'has compressed 0 && has extensions none &&
         [ "$(val wire_out)" -gt "$(val payload_out)" ]'
    fi

    # the other client configuration: no offer to a server that would
    # accept one, or an offer the server declines
    if [ -n "$deflate" ]; then
      run "$tool" "$purl" --messages small
      t "$name: no offer, no extension, echoes" \
        'passed && has compressed 0 && has extensions none'
    else
      run "$tool" "$purl" --compression --messages small
      t "$name: offer declined, echoes uncompressed" \
        'passed && has compressed 0 && has extensions none'
    fi

    if [ -n "$deflate" ]; then
      # every parameter; not server_no_context_takeover from Tornado 6.2,
      # which ignores it in an offer and answers without it (a response
      # gust's client refuses, as RFC 7692 7.1.1.1 requires)
      nct=--peer-no-context-takeover
      [ $server = tornado ] && nct=
      run "$tool" "$purl" --compression --no-context-takeover $nct \
        --window-bits 9 --peer-window-bits 9 \
        --messages b65536,t65536,utf8big,zip,burst
      t "$name: 9-bit windows, no context takeover, echoes" \
        'passed && has compressed 1 &&
         like extensions "*server_max_window_bits=9*" &&
         like extensions "*client_max_window_bits=9*"'
    fi

    run "$tool" "$purl" $compression --messages t1,b1 \
      --close 4000 bye --expect-close-code 4000
    t "$name: close 4000 echoed by the server" \
      'passed && has close_code 4000 && clean_close'
    run "$tool" "$purl" $compression --messages t1,b1,peerclose \
      --expect-close-code 4001
    t "$name: the server's close 4001 \"bye\" ends the reads" \
      'passed && has close_code 4001 && has close_reason bye && clean_close'
    if [ $server = tornado ] && [ -z "$deflate" ]; then
      run "$tool" "$purl" --origin http://evil.example --messages none
      t "$name: cross-origin upgrade refused by Tornado, HTTP 403 reported" \
        '[ $rc -ne 0 ] && has status 403 && like connect "error*HTTP 403*"'
    fi
    stop_peer
  done
done

# ---------------------------------------------------------------------
# 3. Subprotocols, close codes, Origin, size limits, wss://
# ---------------------------------------------------------------------
run "$tool" "$url" --subprotocol chat --subprotocol superchat \
  --messages small
t "gust client -> wsecho: two subprotocols offered, none selected" \
  'passed && has subprotocol none'

run "$tool" "$url" --compression --messages t1,b1,zip --close 4000 bye \
  --expect-close-code 4000
t "gust client -> wsecho: close 4000 echoed" \
  'passed && has close_code 4000 && has compressed 1 && clean_close'

run "$tool" "$url" --origin http://evil.example --messages none
t "gust client -> wsecho: cross-origin upgrade refused with HTTP 403" \
  '[ $rc -ne 0 ] && has status 403 && like connect "error*HTTP 403*"'

run "$tool" "$url" --origin "http://127.0.0.1:$wsecho_port" --messages small
t "gust client -> wsecho: same-origin upgrade accepted" passed

start_peer wsecho-nc "$wsecho" -p 0 --host 127.0.0.1 --no-compression
run "$tool" "ws://127.0.0.1:$port/" --compression
t "gust client -> wsecho --no-compression: offer declined, every echo" \
  'passed && has compressed 0 && has extensions none && has burst ok'
stop_peer

start_peer wsecho-limit "$wsecho" -p 0 --host 127.0.0.1 \
  --max-message-size 65536
limit_url=ws://127.0.0.1:$port/
name="wsecho --max-message-size 65536"
run "$tool" "$limit_url" --messages t65536,b65536
t "gust client -> $name: messages at the limit echoed" passed
# compressed, only text: deflate makes 65536 random bytes longer, and the
# limit applies to the frame on the wire first, as in Tornado
run "$tool" "$limit_url" --compression --messages t65536
t "gust client -> $name: compressed text at the limit echoed" \
  'passed && has compressed 1'
name="$name <- websockets client"
if [ -n "$missing_websockets" ]; then
  skip "$name: oversize messages closed with 1009" "$missing_websockets"
else
  run "$py" "$peers" websockets-oversize "$limit_url" 65537
  t "$name: 65537 bytes closed with 1009" \
    'passed && has close_code 1009 && has close_reason "message too big"'
  run "$py" "$peers" websockets-oversize "$limit_url" 10000000 --deflate
  t "$name: 10 MB deflated to KiBs closed with 1009 after inflating" \
    'passed && has close_code 1009 &&
     has close_reason "message too big after decompression"'
fi
stop_peer

name="gust client -> websockets server"
if [ -n "$missing_websockets" ]; then
  skip "$name: subprotocol selected, messages over the limit" \
    "$missing_websockets"
else
  start_peer websockets-more "$py" "$peers" websockets-server 0 --deflate \
    --subprotocol chat
  purl=ws://127.0.0.1:$port/
  run "$tool" "$purl" --subprotocol foo --subprotocol chat --messages small
  t "$name: second of two subprotocols selected" \
    'passed && has subprotocol chat'
  for compression in "" --compression; do
    what="a 10485761-byte message${compression:+ (compressed)}"
    run "$tool" "$purl" $compression --messages t1,toobig
    t "$name: $what closed with 1009" \
      'passed && like error "GUST_EWS_TOOBIG message too big*"'
    # the server echoes the close, which gust finds while draining
    t "$name: after $what, the server's echoed 1009 reported" \
      'has close_code 1009'
  done
  stop_peer
fi

name="gust client -> websockets server over wss://"
if [ -n "$missing_websockets$missing_openssl" ]; then
  skip "$name" "$missing_websockets$missing_openssl"
else
  certs=$hs_tmp/certs
  sh "$top_srcdir/t/proto/mkcerts.sh" "$certs" >"$hs_tmp/mkcerts.log" 2>&1 ||
    {
      echo "Bail out! t/proto/mkcerts.sh failed: $(cat "$hs_tmp/mkcerts.log")"
      exit 1
    }
  start_peer websockets-tls "$py" "$peers" websockets-server 0 --deflate \
    --tls "$certs/server.pem" "$certs/server.key"
  run "$tool" "wss://localhost:$port/" --cacert "$certs/ca.pem" --compression
  t "$name (permessage-deflate): every echo, pong, close 1000" \
    'passed && has compressed 1 && has close_code 1000 && clean_close'
  run "$tool" "wss://localhost:$port/" --cacert "$certs/other-ca.pem" \
    --messages none
  t "$name: a certificate from an unknown CA is refused" \
    '[ $rc -ne 0 ] && like connect "error GUST_ETLS*"'
  stop_peer
fi

# wsecho still serves after all that, and stops cleanly on SIGTERM
run "$tool" "$url" --messages t1
t "wsecho still serves after every run" passed
server_pid=$wsecho_pid
stop_server
is "$server_status" 0 "wsecho exits with status 0 on SIGTERM"

done_testing
