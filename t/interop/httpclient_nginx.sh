#!/bin/sh
# Interop: gust's HTTP client (tools/gust-fetch, t/interop/client_tool)
# against nginx serving static files: bodies, gzip (decoded by default,
# raw with --no-compressed), 301/302/307 redirects and a chain longer than
# --max-redirs, 404, HEAD, keep-alive reuse seen in nginx's access log
# ($connection, $connection_requests), and a sparse 1 GiB file streamed
# with flat memory.
# Without nginx or the programs the test skips, except under CI=true where
# it fails.
. "${top_srcdir:-.}/t/interop/httpserver_common.sh"
. "$top_srcdir/t/interop/httpclient_common.sh"

nginx=${NGINX:-/usr/sbin/nginx}
[ -x "$nginx" ] || skip_all "nginx not installed (nginx-light)"
[ -x "$py" ] || skip_all "/usr/bin/python3 not installed"
[ -x "$client_tool" ] || skip_all "t/interop/client_tool not built"

# The head lines of $out (CR removed) and the last status line.
heads() { tr -d '\r' <"$out"; }
last_status() { heads | grep '^HTTP/1.1 ' | tail -n 1; }

# The files served.
www=$hs_tmp/nginx/www
mkdir -p "$www" "$hs_tmp/nginx/temp"
printf 'Hello from nginx\n' >"$www/small.txt"
printf 'the redirect target\n' >"$www/new.txt"
head -c 100000 /dev/urandom >"$www/small.bin"
"$py" -c 'import sys
for i in range(20000):
    sys.stdout.write("line %d of a text that compresses well\n" % i)' \
  >"$www/text.txt"
truncate -s 1G "$www/big.bin" || { echo "Bail out! truncate -s 1G failed"; exit 1; }

# Temporary-file paths inside the prefix (the compiled-in ones are under
# /var/lib/nginx), for the modules this build has.
temps=
for m in client_body fastcgi proxy scgi uwsgi; do
  case $m in
  client_body) ;;
  *) "$nginx" -V 2>&1 | grep -q -- "--without-http_${m}_module" && continue ;;
  esac
  temps="$temps    ${m}_temp_path $hs_tmp/nginx/temp/$m;
"
done
# As root the workers would run as nobody, who cannot read $hs_tmp.
user=
[ "$(id -u)" -eq 0 ] && user="user root root;"

# start_nginx: nginx on a free loopback port (it cannot listen on port 0
# and tell), retried if another process takes the port first; sets $port.
start_nginx() {
  for _ in 1 2 3 4 5; do
    port=$(util free-port)
    cat >"$hs_tmp/nginx/nginx.conf" <<EOF
daemon off;
master_process on;
worker_processes 1;
$user
pid $hs_tmp/nginx/nginx.pid;
error_log $hs_tmp/nginx/error.log warn;
events {
    worker_connections 64;
}
http {
    types {
        text/plain txt;
    }
    default_type application/octet-stream;
    log_format conn '\$connection \$connection_requests \$request_method '
                    '"\$request_uri" \$status';
    access_log $hs_tmp/nginx/access.log conn;
    keepalive_timeout 60s;
    keepalive_requests 1000;
    gzip on;
    gzip_types text/plain;
    gzip_min_length 1;
$temps    server {
        listen 127.0.0.1:$port;
        root $www;
        location = /old { return 301 /new.txt; }
        location = /found { return 302 /new.txt; }
        location = /temp { return 307 /new.txt; }
        location = /c1 { return 302 /c2; }
        location = /c2 { return 302 /c3; }
        location = /c3 { return 302 /c4; }
        location = /c4 { return 302 /c5; }
        location = /c5 { return 302 /c6; }
        location = /c6 { return 302 /c7; }
        location = /c7 { return 302 /new.txt; }
    }
}
EOF
    "$nginx" -p "$hs_tmp/nginx" -e "$hs_tmp/nginx/error.log" \
      -c "$hs_tmp/nginx/nginx.conf" >"$hs_tmp/nginx.out" 2>"$hs_tmp/nginx.err" &
    nginx_pid=$!
    hs_pids="$hs_pids $nginx_pid"
    [ "$(util wait-port "$port" "$nginx_pid" 60)" = listening ] && return 0
    kill "$nginx_pid" 2>/dev/null
    wait "$nginx_pid" 2>/dev/null
    grep -q 'Address already in use' "$hs_tmp/nginx/error.log" \
      "$hs_tmp/nginx.err" 2>/dev/null || break
  done
  echo "Bail out! nginx did not start: $(cat "$hs_tmp/nginx.err" \
    "$hs_tmp/nginx/error.log" 2>/dev/null)"
  exit 1
}

start_nginx
url=http://127.0.0.1:$port
diag "$("$nginx" -v 2>&1) on port $port"

# Bodies.
run -s "$url/small.txt"
t "GET a small text file: exit 0, body equal" \
  '[ $rc -eq 0 ] && cmp -s "$out" "$www/small.txt"'
run -s -o "$hs_tmp/small.bin" "$url/small.bin"
t "GET 100 kB of binary into -o FILE: body equal" \
  '[ $rc -eq 0 ] && cmp -s "$hs_tmp/small.bin" "$www/small.bin"'

# gzip: asked for and decoded by default (-i writes the head as nginx
# sent it).
run -s -i -o "$hs_tmp/text.head" "$url/text.txt"
sed '1,/^\r$/d' "$hs_tmp/text.head" >"$hs_tmp/text.got"
t "gzip (default --compressed): body equals the original text" \
  '[ $rc -eq 0 ] && cmp -s "$hs_tmp/text.got" "$www/text.txt"'
t "gzip: -i shows nginx sent Content-Encoding: gzip" \
  'tr -d "\r" <"$hs_tmp/text.head" | sed "/^\$/q" |
   grep -qi "^Content-Encoding: gzip\$"'
run -s -v --compressed "$url/text.txt"
t "gzip: -v shows Content-Encoding gzip as received" \
  '[ $rc -eq 0 ] && grep -qi "^< Content-Encoding: gzip\$" "$err"'
run -s --no-compressed -H 'Accept-Encoding: gzip' -o "$hs_tmp/text.gz" "$url/text.txt"
t "--no-compressed with Accept-Encoding: gzip: the gzip bytes (1f 8b)" \
  '[ $rc -eq 0 ] && [ "$(head -c 2 "$hs_tmp/text.gz" | od -An -tx1 | tr -d " ")" = 1f8b ]'
t "--no-compressed: the raw bytes gunzip to the original text" \
  'gzip -dc <"$hs_tmp/text.gz" | cmp -s - "$www/text.txt"'
run -s --no-compressed -i "$url/text.txt"
t "--no-compressed: no Accept-Encoding sent, nginx sends plain text" \
  '[ $rc -eq 0 ] && ! heads | sed "/^\$/q" | grep -qi "Content-Encoding" &&
   heads | sed "1,/^\$/d" | cmp -s - "$www/text.txt"'

# Redirects.
run -s -L "$url/old"
t "301 with -L: the target's body" '[ $rc -eq 0 ] && cmp -s "$out" "$www/new.txt"'
run -s -i "$url/old"
t "301 without -L: exit 0, the 301 and its Location with -i" \
  '[ $rc -eq 0 ] && [ "$(last_status)" = "HTTP/1.1 301 Moved Permanently" ] &&
   heads | grep -qi "^Location: .*/new.txt\$"'
run -s -L "$url/found"
t "302 with -L: the target's body" '[ $rc -eq 0 ] && cmp -s "$out" "$www/new.txt"'
run -s -L "$url/temp"
t "307 with -L: the target's body" '[ $rc -eq 0 ] && cmp -s "$out" "$www/new.txt"'
run -s -L -d x "$url/found"
t "POST through a 302 becomes GET (200)" \
  '[ $rc -eq 0 ] && cmp -s "$out" "$www/new.txt"'
run -s -L -i -d x "$url/temp"
t "POST through a 307 stays POST (nginx: 405 for a static file, exit 2)" \
  '[ $rc -eq 2 ] && [ "$(last_status)" = "HTTP/1.1 405 Not Allowed" ]'
run -s -L -v "$url/c1"
t "a chain of 7 redirects beyond the default 5: the 6th 302 is the response" \
  '[ $rc -eq 0 ] && grep -q "^\* response: 302 " "$err" &&
   grep -q "^\* redirects followed: 5\$" "$err" &&
   grep -qi "^< Location: .*/c7\$" "$err"'
run -s -L -i --max-redirs 2 "$url/c1"
t "--max-redirs 2: the third 302 (to /c4) is the response" \
  '[ $rc -eq 0 ] && [ "$(last_status)" = "HTTP/1.1 302 Moved Temporarily" ] &&
   [ "$(heads | grep -c "^HTTP/1.1 ")" -eq 3 ] &&
   heads | grep -i "^Location: " | tail -n 1 | grep -q "/c4\$"'
run -s -L --max-redirs 7 "$url/c1"
t "--max-redirs 7: the chain ends at the target" \
  '[ $rc -eq 0 ] && cmp -s "$out" "$www/new.txt"'
run -s -L --max-redirs 0 -i "$url/old"
t "--max-redirs 0: the 301 itself" \
  '[ $rc -eq 0 ] && [ "$(last_status)" = "HTTP/1.1 301 Moved Permanently" ]'

# Errors and HEAD.
run -s "$url/missing"
t "404: exit 2, nginx's page written" '[ $rc -eq 2 ] && grep -q "404 Not Found" "$out"'
# nginx's answer to a HEAD that accepts gzip says Content-Encoding: gzip
# with no body; Tornado's client takes it as an empty body.
run -s -X HEAD -i "$url/small.txt"
t "HEAD (Content-Encoding: gzip, no body): 200, no body" \
  '[ $rc -eq 0 ] && [ "$(last_status)" = "HTTP/1.1 200 OK" ] &&
   [ "$(tail -c 4 "$out" | od -An -tx1 | tr -d " ")" = 0d0a0d0a ]'
run -s -X HEAD -i --no-compressed "$url/small.txt"
t "HEAD --no-compressed: 200, the Content-Length of the file, no body" \
  '[ $rc -eq 0 ] && [ "$(last_status)" = "HTTP/1.1 200 OK" ] &&
   heads | grep -qi "^Content-Length: $(wc -c <"$www/small.txt" | tr -d " ")\$" &&
   [ "$(tail -c 4 "$out" | od -An -tx1 | tr -d " ")" = 0d0a0d0a ]'
run -s -X HEAD "$url/big.bin"
t "HEAD of the 1 GiB file: nothing written" '[ $rc -eq 0 ] && [ ! -s "$out" ]'

# Keep-alive: five requests on one client go over one nginx connection.
timeout 300 "$client_tool" "$url/small.txt?reuse=1" "$url/new.txt?reuse=2" \
  "$url/text.txt?reuse=3" "$url/small.bin?reuse=4" "$url/small.txt?reuse=5" \
  >"$out" 2>"$err"
rc=$?
t "client_tool: 5 GETs, the first on a new connection, 4 reused" \
  '[ $rc -eq 0 ] && [ "$(cut -d" " -f3 "$out" | head -n 5 | tr "\n" " ")" = "reused=0 reused=1 reused=1 reused=1 reused=1 " ]'
t "client_tool: stats say 1 connect, 4 reuses" \
  '[ "$(tail -n 1 "$out")" = "connects 1 reuses 4" ]'
# nginx logs a request once it is over, maybe after the client saw it.
i=0
while [ "$(grep -c 'reuse=' "$hs_tmp/nginx/access.log")" -lt 5 ] && [ $i -lt 600 ]; do
  sleep 0.1
  i=$((i + 1))
done
grep 'reuse=' "$hs_tmp/nginx/access.log" >"$hs_tmp/reuse.log"
sed 's/^/# access.log: /' "$hs_tmp/reuse.log"
is "$(cut -d' ' -f1 "$hs_tmp/reuse.log" | sort -u | wc -l | tr -d ' ')" 1 \
  "nginx: the 5 requests share one \$connection"
is "$(cut -d' ' -f2 "$hs_tmp/reuse.log" | tr '\n' ' ')" "1 2 3 4 5 " \
  "nginx: \$connection_requests 1..5"

# 1 GiB streamed to standard output: counted by the helper, which reports
# the peak RSS of gust-fetch (getrusage's figure also counts the Python
# RSS the child starts with: an upper bound; VmHWM is gust-fetch's own).
# The bound is on memory, never on speed.
util rss 300 "$fetch" -s "$url/big.bin" >"$hs_tmp/rss" 2>"$err"
read -r _ status _ bytes _ nonzero _ maxrss _ <"$hs_tmp/rss"
diag "1 GiB download: $(cat "$hs_tmp/rss")"
[ -s "$err" ] && diag "stderr: $(cat "$err")"
is "$status $bytes $nonzero" "0 1073741824 0" \
  "1 GiB sparse file streamed: exit 0, exactly 1073741824 zero bytes"
check "1 GiB download complete, max RSS (getrusage) below 64 MiB" \
  [ "$bytes" = 1073741824 -a "${maxrss:-999999}" -lt 65536 ]

done_testing
