#!/bin/sh
# Asserts that libgust-testing exports nothing but the public gust_* API
# and that the loop probes it relies on are exported by libgust.
: "${top_builddir:=.}" "${NM:=nm}"
n=0
fail=0
so="$top_builddir/.libs/libgust-testing.so"
if [ ! -f "$so" ]; then
  echo "1..0 # SKIP libgust-testing.so not built (static-only build)"
  exit 0
fi
syms=$($NM -D --defined-only "$so" | awk '$2 ~ /^[TDBRVWiu]$/ { print $3 }' | sed 's/@.*//' | sort -u)
bad=$(printf '%s\n' "$syms" | grep -v '^gust_[^_]' | grep -v '^$' || true)
if [ -z "$bad" ]; then
  echo "ok $((n += 1)) - libgust-testing.so exports only gust_* symbols"
else
  echo "not ok $((n += 1)) - libgust-testing.so exports only gust_* symbols"
  printf '%s\n' "$bad" | sed 's/^/#   unexpected: /'
  fail=1
fi
for s in gust_test_new gust_test_fetch gust_tap_done gust_test_cert_new; do
  if printf '%s\n' "$syms" | grep -qx "$s"; then
    echo "ok $((n += 1)) - libgust-testing.so exports $s"
  else
    echo "not ok $((n += 1)) - libgust-testing.so exports $s"; fail=1
  fi
done
if printf '%s\n' "$syms" | grep -q 'gust__cert_backend'; then
  echo "not ok $((n += 1)) - the certificate backend's vtable stays hidden"; fail=1
else
  echo "ok $((n += 1)) - the certificate backend's vtable stays hidden"
fi
core=$($NM -D --defined-only "$top_builddir/.libs/libgust.so" | awk '{ print $3 }' | sed 's/@.*//')
for s in gust_test_loop_pending gust_test_loop_iterations gust_test_loop_set_unobserved_hook; do
  if printf '%s\n' "$core" | grep -qx "$s"; then
    echo "ok $((n += 1)) - libgust.so exports the probe $s"
  else
    echo "not ok $((n += 1)) - libgust.so exports the probe $s"; fail=1
  fi
done
echo "1..$n"
exit $fail
