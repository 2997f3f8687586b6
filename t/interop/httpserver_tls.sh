#!/bin/sh
# Interop: HTTPS through gust_http_server_opts.tls (t/interop/https_server,
# examples/hello's answers) with curl --cacert and with Tornado's HTTP
# client (ca_certs and ssl_options), using the test certificates of
# t/proto/mkcerts.sh; clients that do not trust the CA must refuse the
# certificate.
# Without openssl, curl, Tornado or the server the test skips, except under
# CI=true where it fails.
. "${top_srcdir:-.}/t/interop/httpserver_common.sh"

server=$top_builddir/t/interop/https_server
py=/usr/bin/python3
command -v openssl >/dev/null 2>&1 || skip_all "openssl not installed (certificates)"
command -v curl >/dev/null 2>&1 || skip_all "curl not installed"
[ -x "$py" ] && "$py" -c 'import tornado.simple_httpclient' 2>/dev/null ||
  skip_all "python3-tornado for /usr/bin/python3 not installed"
[ -x "$server" ] || skip_all "t/interop/https_server not built"

certs=$hs_tmp/certs
sh "$top_srcdir/t/proto/mkcerts.sh" "$certs" ||
  { echo "Bail out! t/proto/mkcerts.sh failed"; exit 1; }

start_server https "$server" --cert "$certs/server.pem" --key "$certs/server.key" -p 0
base=https://localhost:$port
c() { curl -sS --max-time 60 --cacert "$certs/ca.pem" "$@"; }

is "$(c "$base/")" "Hello, World!" "curl --cacert: GET /"
is "$(c "https://127.0.0.1:$port/protocol")" "https" \
  "curl by IP address: the request's protocol is https"
head -c 1048576 /dev/urandom >"$hs_tmp/mib"
c --data-binary @"$hs_tmp/mib" -o "$hs_tmp/mib.out" "$base/echo"
check "curl: POST /echo echoes 1 MiB over TLS" cmp -s "$hs_tmp/mib" "$hs_tmp/mib.out"
is "$(c -o /dev/null -o /dev/null -o /dev/null -w '%{http_code}:%{num_connects} ' \
  "$base/" "$base/nope" "$base/")" "200:1 404:0 200:0 " \
  "curl reuses one TLS connection"
is "$(c --tlsv1.2 --tls-max 1.2 "$base/")" "Hello, World!" "curl: TLS 1.2"
is "$(c --tlsv1.3 "$base/")" "Hello, World!" "curl: TLS 1.3"
curl -sS --max-time 60 -o /dev/null "$base/" 2>/dev/null
is "$?" 60 "curl without the CA refuses the certificate (exit 60)"
curl -sS --max-time 60 --cacert "$certs/other-ca.pem" -o /dev/null "$base/" 2>/dev/null
is "$?" 60 "curl trusting another CA refuses the certificate"

# Tornado's client; its TAP numbers continue ours.
"$py" "$top_srcdir/t/interop/httpserver_client.py" "$base" --ca "$certs/ca.pem" \
  >"$hs_tmp/tornado.tap"
rc=$?
while IFS= read -r line; do
  case $line in
  'ok '*) check "tornado: ${line#ok * - }" true ;;
  'not ok '*) check "tornado: ${line#not ok * - }" false ;;
  '#'*) echo "$line" ;;
  esac
done <"$hs_tmp/tornado.tap"
check "tornado: the client exited 0" [ "$rc" -eq 0 ]

stop_server
is "$server_status" 0 "SIGTERM: https_server exits 0"

done_testing
