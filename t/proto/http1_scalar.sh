#!/bin/sh
# Runs the parser and chunked-coding tests again with the byte scanners
# capped at the portable eight-byte form (GUST_SIMD=0) and at SSE2
# (GUST_SIMD=1), so that every scanner this machine can run is tested, not
# only the fastest one. The programs' TAP lines are renumbered into one plan.
: "${top_builddir:=.}"
n=0
fail=0
for level in 0 1; do
  for prog in http1_parse http1_chunked; do
    out=$(GUST_SIMD=$level "$top_builddir/t/proto/$prog" 2>/dev/null)
    st=$?
    bad=$(printf '%s\n' "$out" | grep -c '^not ok')
    total=$(printf '%s\n' "$out" | grep -c '^ok\|^not ok')
    if [ $st -eq 0 ] && [ "$bad" -eq 0 ] && [ "$total" -gt 0 ]; then
      echo "ok $((n += 1)) - GUST_SIMD=$level $prog: $total checks pass"
    else
      echo "not ok $((n += 1)) - GUST_SIMD=$level $prog: $bad of $total checks fail (exit $st)"
      printf '%s\n' "$out" | grep '^not ok' | head -n 20 | sed 's/^/# /'
      fail=1
    fi
  done
done
echo "1..$n"
exit $fail
