#!/bin/sh
# Black-box test of the demo server (examples/demo/demo): t/demo/demo_test.py,
# run by /usr/bin/python3 with Tornado's clients, starts it on an ephemeral
# port in a temporary directory and checks login and signed cookies, XSRF
# refusals, chat over long poll and WebSocket, streamed uploads (hash, size
# limit, clients that leave), static files (ETag, 304, gzip) and the
# graceful stop on SIGTERM. Prints TAP.
# Without python3-tornado or the demo binary the test skips, except under
# CI=true where it fails.
top_srcdir=${top_srcdir:-.}
top_builddir=${top_builddir:-.}

skip_all() {
  if [ "${CI:-}" = true ]; then
    echo "1..1"
    echo "not ok 1 - $1 (required under CI=true)"
    exit 1
  fi
  echo "1..0 # SKIP $1"
  exit 0
}

py=/usr/bin/python3
demo=$top_builddir/examples/demo/demo
[ -x "$py" ] && "$py" -c 'import tornado.websocket' 2>/dev/null ||
  skip_all "python3-tornado for /usr/bin/python3 not installed (apt-get install python3-tornado)"
[ -x "$demo" ] || skip_all "examples/demo/demo not built"

command -v timeout >/dev/null 2>&1 && bound="timeout -k 5 300" || bound=
$bound "$py" "$top_srcdir/t/demo/demo_test.py" "$demo" \
  "$top_srcdir/examples/demo/static"
rc=$?
[ "$rc" -eq 124 ] && echo "Bail out! demo_test.py did not finish in 300 s"
exit $rc
