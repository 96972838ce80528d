# bench/torch_python.sh: sourced by the PyTorch side-by-side runners (run_bench_train.sh,
# run_bench_search_torch.sh) from the repository root: sets PY to $TORCH_PYTHON, else to a
# virtual environment bench/.venv with PyTorch, made on first use (python3 -m venv bench/.venv
# && bench/.venv/bin/pip install torch; a few GB; not a freenas dependency).
PY=${TORCH_PYTHON:-}
if [ -z "$PY" ]; then
  if [ ! -x bench/.venv/bin/python ] || ! bench/.venv/bin/python -c 'import torch' 2> /dev/null; then
    echo "making bench/.venv with PyTorch (pip install torch)" >&2
    python3 -m venv bench/.venv && bench/.venv/bin/pip install -q torch
  fi
  PY=bench/.venv/bin/python
fi
