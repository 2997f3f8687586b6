#!/bin/sh
# Interop of gust's web layer with Tornado (Debian's python3-tornado, run by
# /usr/bin/python3): signed cookies set by one side are read by the other
# (single secret, key-versioned table, values that need quoting, refused
# when tampered or signed with another secret), plain cookies quote
# alike, and XSRF tokens and cookies (v1 and v2) made by one side pass the
# other's check. t/interop/web_tornado.py runs the Tornado application and
# starts t/interop/web_peer, the gust one.
# Without Tornado or the peer the test skips, except under CI=true where it
# fails.
. "${top_srcdir:-.}/t/interop/httpserver_common.sh"

py=/usr/bin/python3
peer=$top_builddir/t/interop/web_peer
[ -x "$py" ] && "$py" -c 'import tornado.web' 2>/dev/null ||
  skip_all "python3-tornado for /usr/bin/python3 not installed (apt-get install python3-tornado)"
[ -x "$peer" ] ||
  skip_all "t/interop/web_peer not built (make t/interop/web_peer)"

command -v timeout >/dev/null 2>&1 && bound="timeout -k 5 60" || bound=
$bound "$py" "$top_srcdir/t/interop/web_tornado.py" "$peer"
rc=$?
[ "$rc" -eq 124 ] && echo "Bail out! web_tornado.py did not finish in 60 s"
exit $rc
