# Shared by the HTTP server interop tests (t/interop/httpserver_*.sh), which
# source it: TAP output, peers that may be missing, servers started on a
# free port and always stopped.
#
# A missing peer (a client program, python3-tornado, a server binary not
# built) skips the whole test, saying why, except under CI=true where it
# fails.
: "${top_srcdir:=.}"
: "${top_builddir:=.}"
hs_n=0
hs_failed=0
hs_pids=
hs_tmp=$(mktemp -d "${TMPDIR:-/tmp}/gust-interop.XXXXXX") || exit 1

hs_cleanup() {
  for p in $hs_pids; do
    kill "$p" 2>/dev/null
  done
  for p in $hs_pids; do
    wait "$p" 2>/dev/null
  done
  rm -rf "$hs_tmp"
}
trap hs_cleanup EXIT
trap 'exit 1' INT TERM HUP

# skip_all REASON: no test can run without a peer.
skip_all() {
  if [ "${CI:-}" = true ]; then
    echo "Bail out! $1 (required under CI)"
    exit 1
  fi
  echo "1..0 # SKIP $1"
  exit 0
}

# check NAME COMMAND...: one test, passing when COMMAND succeeds.
check() {
  hs_name=$1
  shift
  hs_n=$((hs_n + 1))
  if "$@"; then
    echo "ok $hs_n - $hs_name"
  else
    hs_failed=$((hs_failed + 1))
    echo "not ok $hs_n - $hs_name"
  fi
}

# is GOT WANT NAME: one test comparing two strings.
is() {
  hs_n=$((hs_n + 1))
  if [ "$1" = "$2" ]; then
    echo "ok $hs_n - $3"
  else
    hs_failed=$((hs_failed + 1))
    echo "not ok $hs_n - $3"
    printf '%s\n' "got:      $1" "expected: $2" | sed 's/^/#   /'
  fi
}

diag() { printf '%s\n' "$*" | sed 's/^/# /'; }

# done_testing: the plan, and the exit status.
done_testing() {
  echo "1..$hs_n"
  [ "$hs_failed" -eq 0 ]
  exit $?
}

# start_server NAME COMMAND...: starts a server that prints
# "listening on PORT"; sets $port and $server_pid. Its output goes to
# $hs_tmp/NAME.out and NAME.err. Bails out if it does not start within
# 60 s.
start_server() {
  hs_sname=$1
  shift
  : >"$hs_tmp/$hs_sname.out"
  "$@" >"$hs_tmp/$hs_sname.out" 2>"$hs_tmp/$hs_sname.err" &
  server_pid=$!
  hs_pids="$hs_pids $server_pid"
  port=
  hs_i=0
  while [ $hs_i -lt 600 ]; do
    port=$(sed -n 's/^listening on \([0-9][0-9]*\).*/\1/p' "$hs_tmp/$hs_sname.out" | head -n 1)
    [ -n "$port" ] && return 0
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.1
    hs_i=$((hs_i + 1))
  done
  echo "Bail out! $hs_sname did not start: $(cat "$hs_tmp/$hs_sname.err")"
  exit 1
}

# stop_server: SIGTERM (graceful shutdown); stores the exit status in
# $server_status (124 when it did not exit within 30 s, then killed).
stop_server() {
  kill -TERM "$server_pid" 2>/dev/null
  hs_i=0
  while kill -0 "$server_pid" 2>/dev/null && [ $hs_i -lt 300 ]; do
    # A zombie has exited: wait collects it below.
    case $(ps -o stat= -p "$server_pid" 2>/dev/null) in Z*) break ;; esac
    sleep 0.1
    hs_i=$((hs_i + 1))
  done
  if [ $hs_i -ge 300 ]; then
    kill -KILL "$server_pid" 2>/dev/null
    wait "$server_pid" 2>/dev/null
    server_status=124
  else
    wait "$server_pid"
    server_status=$?
  fi
}

# The example server, built by make.
hello=$top_builddir/examples/hello
