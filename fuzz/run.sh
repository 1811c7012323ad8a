#!/usr/bin/env bash
# Runs every libFuzzer target of BUILD_DIR for SECONDS each, starting from the seed
# corpus in fuzz/corpus/<target>/ (never written to: new inputs go to the build
# folder). Prints executions and findings per target and writes them to
# BUILD_DIR/fuzz-summary.txt; exits 1 if any target found a crash.
# Usage: fuzz/run.sh BUILD_DIR SECONDS [target ...]
set -u
build=${1:?build folder}
seconds=${2:-60}
shift 2 || true
here=$(cd "$(dirname "$0")" && pwd)
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(safetensors regions_tsv docred captions image wordpiece bpe)
summary=$build/fuzz-summary.txt
: > "$summary"
status=0
for t in "${targets[@]}"; do
  work=$build/fuzz-work/$t
  mkdir -p "$work/corpus" "$work/artifacts"
  log=$work/log.txt
  # detect_leaks stays on: the readers hold no global caches besides the tokenizers'.
  ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1} UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1} \
    "$build/fuzz/fuzz_$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=3072 -max_len=8192 \
    -print_final_stats=1 -print_funcs=0 -artifact_prefix="$work/artifacts/" "$work/corpus" "$here/corpus/$t" > "$log" 2>&1
  rc=$?
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1)
  crashes=$(ls "$work/artifacts" | wc -l)
  line=$(printf '%-12s rc=%d executions=%s %s artifacts=%s' "$t" "$rc" "${execs:-?}" "${cov:-}" "$crashes")
  echo "$line" | tee -a "$summary"
  if [ "$rc" -ne 0 ]; then
    status=1
    grep -m3 -E 'ERROR|runtime error|SUMMARY' "$log" | sed 's/^/    /' | tee -a "$summary"
  fi
done
exit $status
