#!/bin/sh
# Interop: gust's HTTPS client (tools/gust-fetch) against openssl s_server
# -WWW and gnutls-serv --http, with the test certificates of
# t/proto/mkcerts.sh: a trusted CA (--cacert), the system store and an
# unrelated CA (refused), -k (accepted with a warning), a certificate for
# another host, an expired one, a self-signed one, and servers that
# require a client certificate (--cert/--key).
# Without openssl, gnutls-serv or gust-fetch the test skips, except under
# CI=true where it fails.
. "${top_srcdir:-.}/t/interop/httpserver_common.sh"
. "$top_srcdir/t/interop/httpclient_common.sh"

command -v openssl >/dev/null 2>&1 || skip_all "openssl not installed"
command -v gnutls-serv >/dev/null 2>&1 || skip_all "gnutls-serv not installed (gnutls-bin)"
[ -x "$py" ] || skip_all "/usr/bin/python3 not installed"

certs=$hs_tmp/certs
sh "$top_srcdir/t/proto/mkcerts.sh" "$certs" >"$hs_tmp/mkcerts.log" 2>&1 ||
  { echo "Bail out! t/proto/mkcerts.sh failed: $(cat "$hs_tmp/mkcerts.log")"; exit 1; }
ca=$certs/ca.pem
www=$hs_tmp/www
mkdir -p "$www"
printf 'served by openssl s_server\n' >"$www/index.txt"

# stop_peer: stops the last server started.
stop_peer() {
  kill "$peer_pid" 2>/dev/null
  wait "$peer_pid" 2>/dev/null
}

# start_s_server NAME CERT [ARG...]: openssl s_server -WWW serving $www
# with CERT.pem/CERT.key; it prints the port it got ("ACCEPT
# 127.0.0.1:PORT"). Sets $port and $peer_pid; stderr in $hs_tmp/NAME.err.
start_s_server() {
  ss_name=$1
  ss_cert=$2
  shift 2
  (cd "$www" && exec openssl s_server -WWW -accept 127.0.0.1:0 \
    -cert "$certs/$ss_cert.pem" -key "$certs/$ss_cert.key" "$@" \
    </dev/null >"$hs_tmp/$ss_name.out" 2>"$hs_tmp/$ss_name.err") &
  peer_pid=$!
  hs_pids="$hs_pids $peer_pid"
  i=0
  while [ $i -lt 600 ]; do
    port=$(sed -n 's/^ACCEPT .*:\([0-9][0-9]*\)$/\1/p' "$hs_tmp/$ss_name.out")
    [ -n "$port" ] && return 0
    kill -0 "$peer_pid" 2>/dev/null || break
    sleep 0.1
    i=$((i + 1))
  done
  echo "Bail out! openssl s_server ($ss_name) did not start: $(cat "$hs_tmp/$ss_name.err")"
  exit 1
}

# start_gnutls NAME [ARG...]: gnutls-serv --http with server.pem on a free
# port (it cannot listen on port 0 and tell), polled until it accepts.
# Sets $port and $peer_pid.
start_gnutls() {
  gs_name=$1
  shift
  for _ in 1 2 3 4 5; do
    port=$(util free-port)
    gnutls-serv --http --port "$port" --x509certfile "$certs/server.pem" \
      --x509keyfile "$certs/server.key" "$@" \
      </dev/null >"$hs_tmp/$gs_name.out" 2>"$hs_tmp/$gs_name.err" &
    peer_pid=$!
    hs_pids="$hs_pids $peer_pid"
    [ "$(util wait-port "$port" "$peer_pid" 60)" = listening ] && return 0
    stop_peer
  done
  echo "Bail out! gnutls-serv ($gs_name) did not start: $(cat "$hs_tmp/$gs_name.err")"
  exit 1
}

# trust_checks LABEL URL CONDITION: the checks of a server with the valid
# certificate; CONDITION tells the expected body in $out.
trust_checks() {
  run --cacert "$ca" "$2"
  t "$1: --cacert ca.pem: GET succeeds with the expected body" \
    "[ \$rc -eq 0 ] && $3"
  run --cacert "$ca" "$(echo "$2" | sed 's|//localhost:|//127.0.0.1:|')"
  t "$1: --cacert ca.pem by IP address (IP SAN)" "[ \$rc -eq 0 ] && $3"
  run "$2"
  t "$1: without --cacert (system store): exit 3, the certificate refused" \
    '[ $rc -eq 3 ] && grep -qi "certificate" "$err"'
  run --cacert "$certs/other-ca.pem" "$2"
  t "$1: --cacert of an unrelated CA: exit 3, the certificate refused" \
    '[ $rc -eq 3 ] && grep -qi "certificate" "$err"'
  run -k "$2"
  t "$1: -k: GET succeeds, with a warning" \
    "[ \$rc -eq 0 ] && $3 &&
     grep -q '^gust-fetch: warning: certificate verification disabled\$' \"\$err\""
}

diag "$(openssl version), $(gnutls-serv --version 2>&1 | head -n 1)"

# openssl s_server -WWW with the valid certificate.
start_s_server openssl server
trust_checks "openssl s_server" "https://localhost:$port/index.txt" \
  'cmp -s "$out" "$www/index.txt"'
# s_server ends the page with close_notify right behind the last bytes: a
# client holding its reads back (streaming callback with a future) must
# still get every byte that came before the end.
head -c 3000000 /dev/zero >"$www/big.bin"
slow_out=$(timeout 300 "$top_builddir/t/interop/client_tool" --cacert "$ca" \
  --slow "https://localhost:$port/big.bin" 2>&1)
t "openssl s_server, 3 MB read with back-pressure: every byte" \
  'echo "$slow_out" | grep -q "^200 3000000 "'
stop_peer

# Certificates that must be refused even with the CA trusted.
start_s_server wronghost wronghost
run --cacert "$ca" "https://localhost:$port/index.txt"
t "openssl s_server, certificate for wrong.example: exit 3, hostname error" \
  '[ $rc -eq 3 ] && grep -qi "hostname\|name in the certificate" "$err"'
run -k "https://localhost:$port/index.txt"
t "certificate for wrong.example with -k: GET succeeds" \
  '[ $rc -eq 0 ] && cmp -s "$out" "$www/index.txt"'
stop_peer
start_s_server expired expired
run --cacert "$ca" "https://localhost:$port/index.txt"
t "openssl s_server, expired certificate: exit 3, expired" \
  '[ $rc -eq 3 ] && grep -qi "expired" "$err"'
stop_peer
start_s_server selfsigned selfsigned
run --cacert "$ca" "https://localhost:$port/index.txt"
t "openssl s_server, self-signed certificate: exit 3, certificate refused" \
  '[ $rc -eq 3 ] && grep -qi "certificate" "$err"'
stop_peer

# A required client certificate.
start_s_server clientcert server -Verify 1 -verify_return_error -CAfile "$ca"
url=https://localhost:$port/index.txt
run --cacert "$ca" "$url"
t "s_server requiring a client certificate: without --cert: exit 3" '[ $rc -eq 3 ]'
check "s_server requiring a client certificate: the request without a certificate never reached it" \
  eval '! grep -q "^FILE:" "$hs_tmp/clientcert.err"'
run --cacert "$ca" --cert "$certs/client.pem" --key "$certs/client.key" "$url"
t "s_server requiring a client certificate: --cert client.pem --key client.key: GET succeeds" \
  '[ $rc -eq 0 ] && cmp -s "$out" "$www/index.txt"'
check "s_server requiring a client certificate: the request with the certificate reached it" \
  grep -q "^FILE:index.txt" "$hs_tmp/clientcert.err"
run --cacert "$ca" --cert "$certs/selfsigned.pem" --key "$certs/selfsigned.key" "$url"
t "s_server requiring a client certificate: a client certificate the server does not trust: exit 3" \
  '[ $rc -eq 3 ]'
stop_peer

# gnutls-serv --http: its page names GnuTLS and shows the request head.
start_gnutls gnutls
trust_checks "gnutls-serv" "https://localhost:$port/" \
  'grep -q "GnuTLS" "$out" && grep -q "^User-Agent: gust/" "$out"'
stop_peer

start_gnutls gnutls-clientcert --require-client-cert --x509cafile "$ca"
url=https://localhost:$port/
run --cacert "$ca" "$url"
t "gnutls-serv --require-client-cert: without --cert: exit 3" '[ $rc -eq 3 ]'
run --cacert "$ca" --cert "$certs/client.pem" --key "$certs/client.key" "$url"
t "gnutls-serv --require-client-cert: with --cert/--key: GET succeeds" \
  '[ $rc -eq 0 ] && grep -q "GnuTLS" "$out"'
stop_peer

done_testing
