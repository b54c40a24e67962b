#!/usr/bin/env bash
# Fuzz smoke test, run by .ci/run: builds every fuzz target once, then runs
# each for a few seconds from its committed seed corpus, and fails if any
# target finds anything (a panic, a failed property, an allocation over its
# bound, a timeout). Its point is that the targets still build and still pass
# on their seeds after a change; long campaigns are run by hand (README,
# "Fuzzing").
#
# Environment:
#   FUZZ_SECONDS           seconds per target (default 4)
#   FUZZ_TOOLCHAIN         rustup toolchain to build with (default: nightly
#                          if installed, else the default toolchain with
#                          RUSTC_BOOTSTRAP=1, since cargo-fuzz's flags are
#                          nightly-only)
#   CAIRN_FUZZ_TARGET_DIR  cargo target directory (default fuzz/target); CI
#                          points it outside the clone so builds are reused
set -euo pipefail
cd "$(dirname "$0")"

seconds="${FUZZ_SECONDS:-4}"
target_dir="${CAIRN_FUZZ_TARGET_DIR:-$PWD/target}"
started=$(date +%s)

# rustup's "+toolchain" argument, or none for the default toolchain.
if [ -n "${FUZZ_TOOLCHAIN:-}" ]; then
  tc=("+$FUZZ_TOOLCHAIN")
elif cargo +nightly --version >/dev/null 2>&1; then
  tc=(+nightly)
else
  tc=()
fi
if ! rustc "${tc[@]}" --version | grep -q nightly; then
  # The sanitizer and coverage flags cargo-fuzz passes are unstable; this
  # lets a stable compiler accept them.
  export RUSTC_BOOTSTRAP=1
fi
echo "fuzz: building with $(rustc "${tc[@]}" --version)${RUSTC_BOOTSTRAP:+ and RUSTC_BOOTSTRAP=1}"

if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "fuzz: installing cargo-fuzz"
  cargo install cargo-fuzz --locked --version 0.13.2
fi

# One build for all targets. 16 codegen units rather than cargo-fuzz's 1:
# about a third less build time, for slightly slower runs that a smoke test
# does not notice.
cargo "${tc[@]}" fuzz build --codegen-units 16 --target-dir "$target_dir"
host=$(rustc "${tc[@]}" -vV | sed -n 's/^host: //p')
bin="$target_dir/$host/release"
built=$(date +%s)

# Inputs found during the run go to a throwaway directory, not the
# committed corpus; findings go under fuzz/artifacts/ (ignored by git).
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# Store targets fsync on every input: on tmpfs that is free.
if [ -d /dev/shm ] && [ -w /dev/shm ]; then
  export TMPDIR
  TMPDIR=$(mktemp -d -p /dev/shm cairn-fuzz.XXXXXX)
  trap 'rm -rf "$work" "$TMPDIR"' EXIT
fi
mkdir -p artifacts

targets=$(cargo "${tc[@]}" fuzz list)
passed=0
failed=0
for t in $targets; do
  mkdir -p "$work/$t"
  log="$work/$t.log"
  if "$bin/$t" "$work/$t" "corpus/$t" \
    -max_total_time="$seconds" -timeout=10 \
    -rss_limit_mb=512 -malloc_limit_mb=128 \
    -artifact_prefix="artifacts/$t-" -print_final_stats=1 >"$log" 2>&1; then
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 || true)
    echo "fuzz: $t ok, ${runs:-?} runs, $cov"
    passed=$((passed + 1))
  else
    echo "fuzz: $t FAILED; its output ends:"
    tail -n 40 "$log"
    for found in artifacts/"$t"-*; do
      if [ -e "$found" ]; then
        echo "fuzz: reproduce with: cd fuzz && cargo +nightly fuzz run $t $found"
      fi
    done
    failed=$((failed + 1))
  fi
done

echo "fuzz: build $((built - started)) s, runs $(($(date +%s) - built)) s"
echo "fuzz: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
