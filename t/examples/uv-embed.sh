#!/bin/sh
# examples/uv-embed black-box over loopback (libuv builds only): gust's
# server answers inside the application's uv_run(), the application's own
# timer keeps ticking meanwhile, gust's client fetch succeeds, and SIGTERM
# tears everything down in gust/loop.h's order with exit status 0.
. "${top_srcdir:-.}/t/examples/common.sh"

app=$top_builddir/examples/uv-embed/uv-embed
# a libev build has no uv-embed by design: nothing is missing then
if [ ! -x "$app" ] && [ -f "$top_builddir/gust.pc" ] &&
  ! grep -q '^Requires.private:.*libuv' "$top_builddir/gust.pc"; then
  echo "1..0 # SKIP gust is built with libev: uv-embed needs libuv"
  exit 0
fi
[ -x "$app" ] ||
  skip_all "examples/uv-embed/uv-embed not built (make examples/uv-embed/uv-embed)"
need_python
run_bounded 120 "$py" "$top_srcdir/t/examples/uv_embed.py" "$app"
