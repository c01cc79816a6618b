#!/bin/sh
# The library figures of bench/README.md in one command: builds the benchmark targets
# (Release), runs the Google Benchmark suite (REPS repetitions, medians), the memory check,
# and the callgrind instruction counts (deterministic, unlike times on a shared machine).
#
#   bench/run-benchmarks.sh [BUILD_DIR]     (default: ../build-bench next to the checkout)
#
# Environment: REPS (default 5), MIN_TIME (seconds per benchmark, default 0.5),
# NO_CALLGRIND=1 to skip the instruction counts.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/.." && pwd)
build=${1:-$src/../build-bench}
reps=${REPS:-5}
min_time=${MIN_TIME:-0.5}

cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=Release -DPOP3DECODE_BUILD_BENCH=ON > /dev/null
cmake --build "$build" -j "$(nproc)" --target pop3decode_bench pop3decode_bench_memory \
  pop3decode_bench_profile > /dev/null
build=$(cd "$build" && pwd)

echo "# $(date -u '+%Y-%m-%d %H:%M UTC'); $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) CPUs"
echo "# load before: $(uptime | sed 's/.*load average/load average/')"
"$build/bench/pop3decode_bench" --benchmark_min_time="$min_time" \
  --benchmark_repetitions="$reps" --benchmark_report_aggregates_only=true \
  --benchmark_display_aggregates_only=true 2>&1 | grep -v '_mean\|_stddev\|_cv'
echo "# load after: $(uptime | sed 's/.*load average/load average/')"
echo
"$build/bench/pop3decode_bench_memory"

[ -n "${NO_CALLGRIND:-}" ] && exit 0
command -v valgrind > /dev/null || { echo "(no valgrind: instruction counts skipped)"; exit 0; }
echo
echo "# instructions (callgrind, the decode loop only), 1460-byte chunks:"
printf '%-9s %-8s %14s %10s %12s %10s\n' workload path instructions lines instr/line instr/byte
for w in body lines listings commands sasl; do
  for mode in decoder capi memchr; do
    out=$(valgrind --tool=callgrind --callgrind-out-file=/dev/null \
            --toggle-collect='*decode(pop3bench*' --toggle-collect='*decode_c(pop3bench*' \
            --toggle-collect='*memchr_pass(pop3bench*' \
            "$build/bench/pop3decode_bench_profile" "$w" 1 1460 "$mode" 2>&1)
    ir=$(printf '%s\n' "$out" | sed -n 's/.*Collected : *//p' | tr -d ,)
    bytes=$(printf '%s\n' "$out" | sed -n "s/^$w: \([0-9]*\) bytes, \([0-9]*\) lines.*/\1/p")
    lines=$(printf '%s\n' "$out" | sed -n "s/^$w: \([0-9]*\) bytes, \([0-9]*\) lines.*/\2/p")
    printf '%-9s %-8s %14s %10s %12.0f %10.2f\n' "$w" "$mode" "$ir" "$lines" \
      "$(echo "$ir / $lines" | bc -l)" "$(echo "$ir / $bytes" | bc -l)"
  done
done
