#!/bin/sh
# The demo in a real browser: starts BUILD_DIR/examples/demo/demo on an
# ephemeral port with a temporary upload directory, runs t/browser/demo.cjs
# (headless Debian chromium driven by playwright-core from build/npm), stops
# the demo with SIGTERM and prints TAP. Screenshots go to build/browser/.
# Without chromium, node or playwright-core it skips, except under CI=true
# where it fails.
#
# usage: t/browser/run.sh BUILD_DIR
top=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:?usage: t/browser/run.sh BUILD_DIR}
build=$(cd "$build" && pwd) || exit 1

skip_all() {
  if [ "${CI:-}" = true ]; then
    echo "1..1"
    echo "not ok 1 - $1 (required under CI=true)"
    exit 1
  fi
  echo "1..0 # SKIP $1"
  exit 0
}

chromium=${CHROMIUM:-/usr/bin/chromium}
pw=$top/build/npm/node_modules/playwright-core
demo=$build/examples/demo/demo
[ -x "$chromium" ] || skip_all "$chromium missing (apt-get install chromium)"
command -v node >/dev/null 2>&1 || skip_all "node missing"
[ -f "$pw/package.json" ] ||
  skip_all "playwright-core missing (scripts/install-deps puts it in build/npm)"
[ -x "$demo" ] || skip_all "$demo not built"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/gust-browser.XXXXXX") || exit 1
pid=
cleanup() {
  [ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

"$demo" -p 0 --upload-dir "$tmp/up" --static-dir "$top/examples/demo/static" \
  >"$tmp/demo.out" 2>"$tmp/demo.err" &
pid=$!
url=
i=0
while [ $i -lt 300 ]; do
  url=$(sed -n 's|^gust demo: serving on \(http://[^ ]*\)/$|\1|p' "$tmp/demo.out")
  [ -n "$url" ] && break
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.1
  i=$((i + 1))
done
if [ -z "$url" ]; then
  echo "1..1"
  echo "not ok 1 - the demo starts"
  sed 's/^/# /' "$tmp/demo.err"
  exit 1
fi

command -v timeout >/dev/null 2>&1 && bound="timeout -k 5 600" || bound=
PLAYWRIGHT_CORE=$pw CHROMIUM=$chromium $bound node "$top/t/browser/demo.cjs" \
  "$url" "$tmp/up" "$tmp" "$top/build/browser" >"$tmp/tap" 2>"$tmp/node.err"
rc=$?
cat "$tmp/tap"
n=$(grep -c -E '^(not )?ok ' "$tmp/tap")
if [ "$rc" -ne 0 ]; then
  n=$((n + 1))
  echo "not ok $n - the browser script ended with status $rc"
  sed 's/^/# /' "$tmp/node.err" | tail -n 20
fi

kill -TERM "$pid"
wait "$pid"
st=$?
pid=
n=$((n + 1))
if [ "$st" -eq 0 ]; then
  echo "ok $n - the demo stops cleanly on SIGTERM"
else
  echo "not ok $n - the demo stops cleanly on SIGTERM (status $st)"
  tail -n 20 "$tmp/demo.err" | sed 's/^/# /'
fi
echo "1..$n"
grep -q -E '^not ok ' "$tmp/tap" && exit 1
[ "$st" -eq 0 ] && [ "$rc" -eq 0 ]
