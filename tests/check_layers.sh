#!/usr/bin/env bash
# check_layers: holds the engine to its boundaries, by looking at what was built and at the sources.
#   1. Symbols: no undefined symbol of the engine archive is one that libncursesw / libtinfo / libreadline /
#      libcurl (as the r1lab binary links them) or an object of the front ends (cli, tui, repl, text) defines.
#      So the engine cannot call curses, readline, curl or UI code, even through a declaration it wrote itself.
#   2. Includes: each folder of src/engine includes only the engine folders its "may include:" line in
#      src/engine/README.md names, and no engine or kernels/ file includes a front-end or UI header.
# Usage: check_layers.sh ENGINE_ARCHIVE R1LAB_BINARY FRONT_END_OBJECT...   Exit status 0 when clean, 1 otherwise.
set -euo pipefail
lib=$1 bin=$2
shift 2
root=$(cd "$(dirname "$0")/.." && pwd)
fail=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# --- 1. symbols ------------------------------------------------------------------------------------------------
nm -u "$lib" | awk 'NF == 2 {print $2}' | sed 's/@.*//' | sort -u >"$tmp/engine_needs"
# The engine's own definitions satisfy some of its undefined references (one object calling another).
nm --defined-only -g "$lib" | awk 'NF == 3 {print $3}' | sort -u >"$tmp/engine_has"
: >"$tmp/ui_defines"
uilibs=$(ldd "$bin" | awk '/lib(ncursesw?|tinfo|readline|curl)[.-]/ {print $3}')
if [ -z "$uilibs" ]; then
    echo "check_layers: found no curses/readline/curl library in ldd $bin" >&2
    exit 1
fi
for so in $uilibs; do
    nm -D --defined-only "$so" | awk 'NF == 3 {print $3}' | sed 's/@.*//' | sed "s|\$| ($(basename "$so"))|" \
        >>"$tmp/ui_defines"
done
for o in "$@"; do
    nm --defined-only -g "$o" | awk 'NF == 3 {print $3}' | sed "s|\$| (${o#*/src/})|" >>"$tmp/ui_defines"
done
bad=$(awk 'NR == FNR {need[$1] = 1; next} ($1 in need) {print}' "$tmp/engine_needs" "$tmp/ui_defines" | sort -u)
bad=$(printf '%s\n' "$bad" | grep -v -x -F -f "$tmp/engine_has" || true)
if [ -n "$bad" ]; then
    echo "check_layers: the engine library references symbols of the UI layers:" >&2
    printf '%s\n' "$bad" | sed 's/^/  /' >&2
    fail=1
fi

# --- 2. includes -----------------------------------------------------------------------------------------------
readme=$root/src/engine/README.md
folders=$(awk '/^## [a-z]+\/$/ {sub(/^## /, ""); sub(/\/$/, ""); print}' "$readme")
for f in $folders; do
    allowed=$(awk -v f="$f" '$0 == "## " f "/" {in_ = 1; next} /^## / {in_ = 0}
                             in_ && /^may include:/ {sub(/^may include:/, ""); gsub(/\(nothing\)/, ""); print}' "$readme")
    [ -d "$root/src/engine/$f" ] || { echo "check_layers: README names $f/, which does not exist" >&2; fail=1; continue; }
    for src in "$root/src/engine/$f"/*.[ch]; do
        while IFS= read -r inc; do
            case $inc in
            engine/*/*)
                dir=${inc#engine/}
                dir=${dir%%/*}
                ok=0
                for a in $f $allowed; do [ "$dir" = "$a" ] && ok=1; done
                if [ $ok = 0 ]; then
                    echo "check_layers: ${src#$root/} includes $inc, but $f/ may include only: $f ${allowed:-}" >&2
                    fail=1
                fi
                ;;
            *)
                echo "check_layers: ${src#$root/} includes \"$inc\": engine headers are included by path (engine/FOLDER/x.h)" >&2
                fail=1
                ;;
            esac
        done < <(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$src")
    done
done
for d in "$root"/src/engine/*/; do
    d=$(basename "$d")
    # a match in the shell, not `printf | grep -q`: grep -q exits at the first match, printf can then die of
    # SIGPIPE, and under pipefail that read as "not described" now and then
    [[ $'\n'$folders$'\n' == *$'\n'"$d"$'\n'* ]] || { echo "check_layers: src/engine/$d/ is not described in $readme" >&2; fail=1; }
done
uihdr=$(grep -n -E '^[[:space:]]*#[[:space:]]*include[[:space:]]*[<"]((n?curses|ncursesw/|readline/|curl/|term)[^">]*|(cli|tui|repl|text)/[^">]*)[">]' \
    "$root"/src/engine/*/*.[ch] "$root"/kernels/*.[ch] "$root"/kernels/*.cu "$root"/kernels/*.cuh 2>/dev/null || true)
if [ -n "$uihdr" ]; then
    echo "check_layers: UI headers included below the front ends:" >&2
    printf '%s\n' "${uihdr//$root\//}" >&2
    fail=1
fi

n_obj=$(ar t "$lib" | wc -l)
if [ $fail = 0 ]; then
    echo "check_layers: engine ($n_obj objects, folders: $(echo $folders)) needs no UI symbol; includes follow the layers"
fi
exit $fail
