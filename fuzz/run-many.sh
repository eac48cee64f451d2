#!/usr/bin/env bash
# Runs fuzz targets with many workers and writes a summary line per target.
#   bash fuzz/run-many.sh OUTDIR TOTAL_EXECS JOBS TARGET...
# Expects stripped binaries in fuzz/bin/ (`cargo +nightly fuzz build -O`, then strip; see
# README.md) and seed corpora in fuzz/corpus/<target>/ (fuzz/seed.sh). Each of JOBS workers runs
# TOTAL_EXECS/JOBS inputs; crashes go to OUTDIR/crashes-<target>.tar.
set -uo pipefail
cd "$(dirname "$0")"
out=$1 total=$2 jobs=$3; shift 3
export LD_LIBRARY_PATH="$PWD/bin/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
mkdir -p "$out"
for t in "$@"; do
  art="/tmp/fuzz-artifacts/$t"; logs="/tmp/fuzz-logs/$t"; mkdir -p "$art" "$logs" "corpus/$t"
  t0=$(date +%s)
  (cd "$logs" && "$OLDPWD/bin/$t" "$OLDPWD/corpus/$t" -jobs="$jobs" -workers="$jobs" -runs=$(( total / jobs )) \
      -rss_limit_mb=2048 -timeout=20 -max_len=65536 -artifact_prefix="$art/" -print_final_stats=1 >/dev/null 2>&1)
  rc=$?
  execs=$(cat "$logs"/fuzz-*.log | grep -h 'stat::number_of_executed_units' | awk '{s+=$2} END {print s+0}')
  crashes=$(ls "$art" | wc -l)
  echo "$t: ${execs} executions in $(( $(date +%s) - t0 )) s with $jobs workers, exit $rc, $crashes crash/timeout/oom artifact(s), corpus $(ls "corpus/$t" | wc -l) files" | tee -a "$out/summary.txt"
  if [ "$crashes" -gt 0 ]; then tar cf "$out/crashes-$t.tar" -C "$art" .; grep -h -m3 -A12 'panicked\|ERROR: libFuzzer\|SUMMARY' "$logs"/fuzz-*.log | head -60 > "$out/log-$t.txt"; fi
done
