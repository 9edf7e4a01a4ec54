#!/usr/bin/env bash
# Install hexzero in editable mode. `./install.sh dev` adds the test tools.
# torch comes first: with no NVIDIA GPU the pinned CPU build, so pip never pulls a multi-GB CUDA
# build onto a CPU-only machine; with a GPU, the default (CUDA) build.
set -euo pipefail
cd "$(dirname "$0")"
extras="${1:-}"
if command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1; then
  python -m pip install --quiet "torch>=2.1"
else
  python -m pip install --quiet "torch==2.13.0"
fi
if [ -n "$extras" ]; then
  python -m pip install --quiet -e ".[$extras]"
else
  python -m pip install --quiet -e .
fi
