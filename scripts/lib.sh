# Shared helpers for scripts/check and scripts/demo (sourced, not run).

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
jobs=$(( $(nproc 2>/dev/null || echo 2) + 1 ))

log() { printf '%s\n' "$*" >&2; }

# Generates configure when it is missing or older than its inputs.
bootstrap() {
  local f stale=0
  if [ ! -x "$top/configure" ] || [ ! -f "$top/Makefile.in" ]; then
    stale=1
  else
    for f in "$top/configure.ac" "$top/Makefile.am" "$top"/m4/gust_*.m4 \
             $(find "$top" -name "*.mk" -not -path "$top/build/*"); do
      if [ "$f" -nt "$top/configure" ] || [ "$f" -nt "$top/Makefile.in" ]; then
        stale=1
        break
      fi
    done
  fi
  if [ $stale = 1 ]; then
    log "bootstrapping (autoreconf)"
    (cd "$top" && ./autogen.sh) >"$top/build/autogen.log" 2>&1 || {
      cat "$top/build/autogen.log" >&2
      return 1
    }
  fi
}

# configure_build DIR ARGS...: configures an out-of-tree build in DIR
# (re-running configure only when the arguments changed).
configure_build() {
  local dir=$1
  shift
  mkdir -p "$dir"
  local want="$*"
  if [ -f "$dir/Makefile" ] && [ -f "$dir/.gust-configure-args" ] &&
     [ "$(cat "$dir/.gust-configure-args")" = "$want" ] &&
     [ "$dir/Makefile" -nt "$top/configure" ]; then
    return 0
  fi
  (cd "$dir" && "$top/configure" "$@") || return 1
  printf '%s' "$want" >"$dir/.gust-configure-args"
}
