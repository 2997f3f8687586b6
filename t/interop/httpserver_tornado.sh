#!/bin/sh
# Interop: Tornado's HTTP client (simple_httpclient, Debian's
# python3-tornado run by /usr/bin/python3) against examples/hello: GET,
# HEAD, 404, POST /echo of a 1 MiB body, a chunked request body from a
# body_producer, and concurrent requests.
# Without Tornado or examples/hello the test skips, except under CI=true
# where it fails.
. "${top_srcdir:-.}/t/interop/httpserver_common.sh"

py=/usr/bin/python3
[ -x "$py" ] && "$py" -c 'import tornado.simple_httpclient' 2>/dev/null ||
  skip_all "python3-tornado for /usr/bin/python3 not installed"
[ -x "$hello" ] || skip_all "examples/hello not built"

start_server hello "$hello" -p 0 --host 127.0.0.1
"$py" "$top_srcdir/t/interop/httpserver_client.py" "http://127.0.0.1:$port"
rc=$?
stop_server
if [ "$server_status" -ne 0 ]; then
  echo "# examples/hello exited with status $server_status after SIGTERM"
  exit 1
fi
exit $rc
