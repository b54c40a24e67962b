#!/usr/bin/env bash
# Creates (or reuses) the Python virtual environment holding the reference
# validators the interoperability tests run: OASIS stix2-validator, stix2 and
# taxii2-client, MISP's pymisp and pytaxonomies, the csaf package. Versions
# are pinned in requirements.txt beside this script.
#
# Idempotent and fast when nothing changed: a stamp in the venv records the
# requirements and the Python it was built from; a matching stamp means no
# pip call at all. Prints the venv's path on stdout (everything else goes to
# stderr), so callers can do `venv=$(tests/interop/setup.sh)`.
#
# With --bench it also installs bench-requirements.txt (medallion, the
# baseline of `cairn-bench taxii`), under a stamp of its own, so the tests'
# calls without the flag neither need nor undo it.
#
# Where: $CAIRN_INTEROP_VENV, else ${XDG_CACHE_HOME:-~/.cache}/cairn/interop-venv.
# A package that fails to install is reported and listed in
# $venv/skipped.txt; the others are still installed. Tests that need a
# skipped tool fail, naming it, rather than skip.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
requirements="$here/requirements.txt"
bench=false
for arg in "$@"; do
  case "$arg" in
    --bench) bench=true ;;
    *) echo "setup.sh: unknown argument $arg (the only one is --bench)" >&2; exit 2 ;;
  esac
done
venv="${CAIRN_INTEROP_VENV:-${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/cairn/interop-venv}"
python="${CAIRN_PYTHON:-python3}"

if ! command -v "$python" >/dev/null 2>&1; then
  echo "setup.sh: $python is missing; install Python 3.9 or newer (python3, python3-venv)" >&2
  exit 1
fi
want="$("$python" -c 'import sys; print(sys.version)' | head -1)
$(grep -v '^\s*#' "$requirements" | grep -v '^\s*$')"

# The bench's extra packages, once per version of bench-requirements.txt.
install_bench() {
  $bench || return 0
  local want_bench
  want_bench="$(grep -v '^\s*#' "$here/bench-requirements.txt" | grep -v '^\s*$')"
  if [ -f "$venv/cairn-bench-stamp" ] && [ "$(cat "$venv/cairn-bench-stamp")" = "$want_bench" ]; then
    return 0
  fi
  # shellcheck disable=SC2046
  if "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
    $(echo "$want_bench") >&2; then
    printf '%s' "$want_bench" >"$venv/cairn-bench-stamp"
    echo "setup.sh: installed the bench baseline (bench-requirements.txt)" >&2
  else
    echo "setup.sh: the bench baseline (bench-requirements.txt) could not be installed" >&2
    return 1
  fi
}

if [ -f "$venv/cairn-stamp" ] && [ "$(cat "$venv/cairn-stamp")" = "$want" ] \
  && [ -x "$venv/bin/python" ]; then
  if [ -s "$venv/skipped.txt" ]; then
    echo "setup.sh: not installed (see above when the venv was built; remove $venv to retry):" \
      $(cat "$venv/skipped.txt") >&2
  fi
  install_bench
  echo "$venv"
  exit 0
fi

mkdir -p "$(dirname "$venv")"
# One writer at a time: tests running in parallel may all call this.
exec 9>"$venv.lock"
flock 9
if [ -f "$venv/cairn-stamp" ] && [ "$(cat "$venv/cairn-stamp")" = "$want" ]; then
  install_bench
  echo "$venv"
  exit 0
fi

echo "setup.sh: building the interop venv in $venv" >&2
rm -rf "$venv"
if ! "$python" -m venv "$venv" >&2; then
  echo "setup.sh: '$python -m venv' failed: install python3-venv" >&2
  exit 1
fi
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip >&2 || true
: >"$venv/skipped.txt"
while read -r req; do
  case "$req" in '' | \#*) continue ;; esac
  if "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "$req" >&2; then
    echo "setup.sh: installed $req" >&2
  else
    echo "setup.sh: WARNING: $req could not be installed on $("$python" --version 2>&1); skipped" >&2
    echo "$req" >>"$venv/skipped.txt"
  fi
done <"$requirements"
printf '%s' "$want" >"$venv/cairn-stamp"
install_bench
echo "$venv"
