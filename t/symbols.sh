#!/bin/sh
# Asserts that the shared objects export nothing but the public gust_* API
# (no gust__ internals, no helpers from static functions or backends).
: "${top_builddir:=.}" "${NM:=nm}"
n=0
fail=0
found=0
for lib in libgust-proto libgust; do
  so="$top_builddir/.libs/$lib.so"
  if [ ! -f "$so" ]; then
    echo "ok $((n += 1)) # skip $lib.so not built (static-only build)"
    continue
  fi
  found=1
  if ! dyn=$($NM -D --defined-only "$so"); then
    echo "not ok $((n += 1)) - nm can read $lib.so"
    fail=1
    continue
  fi
  syms=$(printf '%s\n' "$dyn" | awk '$2 ~ /^[TDBRVWiu]$/ { print $3 }' | sed 's/@.*//' | sort -u)
  bad=$(printf '%s\n' "$syms" | grep -v '^gust_[^_]' | grep -v '^$' || true)
  count=$(printf '%s\n' "$syms" | grep -c '^gust_[^_]' || true)
  if [ -z "$bad" ]; then
    echo "ok $((n += 1)) - $lib.so exports only gust_* symbols ($count of them)"
  else
    echo "not ok $((n += 1)) - $lib.so exports only gust_* symbols"
    printf '%s\n' "$bad" | sed 's/^/#   unexpected: /'
    fail=1
  fi
  if [ "$count" -gt 0 ]; then
    echo "ok $((n += 1)) - $lib.so exports a non-empty public API"
  else
    echo "not ok $((n += 1)) - $lib.so exports a non-empty public API"
    fail=1
  fi
done
# A symbol that must be public and one that must stay hidden.
if [ $found = 1 ]; then
  if $NM -D --defined-only "$top_builddir/.libs/libgust-proto.so" | grep -q ' gust_strerror@'; then
    echo "ok $((n += 1)) - gust_strerror is exported"
  else
    echo "not ok $((n += 1)) - gust_strerror is exported"; fail=1
  fi
  if $NM -D --defined-only "$top_builddir/.libs/libgust-proto.so" | grep -q 'gust__crypto_backend'; then
    echo "not ok $((n += 1)) - the internal crypto vtable stays hidden"; fail=1
  else
    echo "ok $((n += 1)) - the internal crypto vtable stays hidden"
  fi
fi
echo "1..$n"
exit $fail
