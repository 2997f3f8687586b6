#!/bin/sh
# Conformance: t/interop/ws_conformance.py, a WebSocket client playing the
# Autobahn|Testsuite case groups 1-7, 9, 10, 12 and 13 (9, 12 and 13 scaled
# down) and gust's handshake, frame and deflate cases (group 0), against
# examples/wsecho on a free loopback port, with gust's strict outcomes
# (websocket-rules.md). The driver prints the TAP; this script starts and
# stops the server around it.
# Without /usr/bin/python3 or examples/wsecho the test skips, except under
# CI=true where it fails.
. "${top_srcdir:-.}/t/interop/httpserver_common.sh"

py=/usr/bin/python3
wsecho=$top_builddir/examples/wsecho
driver=$top_srcdir/t/interop/ws_conformance.py
[ -x "$py" ] || skip_all "/usr/bin/python3 not installed"
[ -x "$wsecho" ] || skip_all "examples/wsecho not built"

start_server wsecho "$wsecho" -p 0

"$py" "$driver" --host 127.0.0.1 --port "$port" --timeout 5 \
  --max-time 300
rc=$?

if ! kill -0 "$server_pid" 2>/dev/null; then
  echo "# examples/wsecho died during the run: $(cat "$hs_tmp/wsecho.err")"
  exit 1
fi
stop_server
if [ "$server_status" -ne 0 ]; then
  echo "# examples/wsecho exited with status $server_status after SIGTERM"
  exit 1
fi
exit $rc
