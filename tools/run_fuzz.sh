#!/usr/bin/env bash
# Configures the "fuzz" preset (clang++-14, ASan + UBSan + libFuzzer), builds the format fuzzers and runs each
# for N seconds (default 600) with the seed corpus. Findings land in build-fuzz/fuzz/artifacts/.
# Usage: tools/run_fuzz.sh [seconds] [jobs for the build, default 2]
# FUZZERS="gguf safetensors jinja" selects targets (default: the two format parsers).
set -euo pipefail
secs="${1:-600}"
jobs="${2:-2}"
fuzzers="${FUZZERS:-gguf safetensors}"
targets=""
for f in $fuzzers; do targets="$targets ${f}_fuzz"; done
cd "$(dirname "$0")/.."
cmake --preset fuzz -DSEEK_FUZZ_SECONDS="$secs" >/dev/null
cmake --build build-fuzz --target $targets -j"$jobs"
mkdir -p build-fuzz/fuzz/artifacts
status=0
for f in $fuzzers; do
  echo "== ${f}_fuzz for ${secs}s"
  mkdir -p "build-fuzz/fuzz/corpus/$f"
  build-fuzz/bin/${f}_fuzz -max_total_time="$secs" -max_len=65536 -rss_limit_mb=2048 -timeout=10 \
    -print_final_stats=1 -artifact_prefix="build-fuzz/fuzz/artifacts/${f}-" \
    "build-fuzz/fuzz/corpus/$f" "build-fuzz/fuzz/seeds/$f" 2>&1 | tail -n 25 || status=1
done
exit $status
