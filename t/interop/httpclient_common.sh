# Shared by the HTTP client interop tests (t/interop/httpclient_*.sh),
# which source it after t/interop/httpserver_common.sh: running gust-fetch
# with a bound and one-line checks that show the last run when they fail.
py=/usr/bin/python3
fetch=$top_builddir/tools/gust-fetch
client_tool=$top_builddir/t/interop/client_tool
command -v timeout >/dev/null 2>&1 || skip_all "timeout (coreutils) not installed"
[ -x "$fetch" ] || skip_all "tools/gust-fetch not built"

util() { "$py" "$top_srcdir/t/interop/httpclient_util.py" "$@"; }

# run ARGS...: gust-fetch ARGS, killed after 300 s; stdout in $out, stderr
# in $err, exit status in $rc.
out=$hs_tmp/out
err=$hs_tmp/err
rc=0
run() {
  timeout 300 "$fetch" "$@" >"$out" 2>"$err"
  rc=$?
}

# t NAME CONDITION: one test of the shell CONDITION, showing the last run
# when it fails.
t() {
  t_failed=$hs_failed
  check "$1" eval "$2"
  if [ "$hs_failed" -ne "$t_failed" ]; then
    diag "exit status $rc; stdout (start):"
    head -c 600 "$out" | tr -d '\r' | sed 's/^/#   /'
    diag "stderr:"
    head -c 2000 "$err" | sed 's/^/#   /'
  fi
}
