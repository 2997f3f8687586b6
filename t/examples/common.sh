# Shared by the example tests (t/examples/*.sh): the peer client is
# /usr/bin/python3 with the `websockets` package; without it the tests
# skip, except under CI=true where they fail.
: "${top_srcdir:=.}" "${top_builddir:=.}"

# skip_all REASON: nothing can run without the peer.
skip_all() {
  if [ "${CI:-}" = true ]; then
    echo "Bail out! $1 (required under CI)"
    exit 1
  fi
  echo "1..0 # SKIP $1"
  exit 0
}

py=/usr/bin/python3
need_python() {
  [ -x "$py" ] && "$py" -c 'import websockets' 2>/dev/null ||
    skip_all "python3-websockets for /usr/bin/python3 not installed (apt-get install python3-websockets)"
}

# run_bounded SECONDS CMD...: runs CMD, killing it if it takes longer.
run_bounded() {
  limit=$1
  shift
  if command -v timeout >/dev/null 2>&1; then
    timeout -k 5 "$limit" "$@"
  else
    "$@"
  fi
  rc=$?
  [ "$rc" -eq 124 ] && echo "Bail out! $* did not finish in $limit s"
  return $rc
}
