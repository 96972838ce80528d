# bench/torch_python.sh: sourced by the PyTorch side-by-side runners (run_bench_train.sh,
# run_bench_search_torch.sh, run_hnas_ntk_torch.sh) from the repository root: sets PY to
# $TORCH_PYTHON, else to the virtual environment bench/.venv when it has PyTorch. Making that
# environment downloads a few GB, so it happens only when asked: FREENAS_INSTALL_TORCH=1 makes
# it (python3 -m venv bench/.venv && bench/.venv/bin/pip install torch; not a freenas
# dependency); otherwise the runner stops and says how.
PY=${TORCH_PYTHON:-}
if [ -z "$PY" ]; then
  if [ ! -x bench/.venv/bin/python ] || ! bench/.venv/bin/python -c 'import torch' 2> /dev/null; then
    if [ "${FREENAS_INSTALL_TORCH:-0}" != 1 ]; then
      echo "PyTorch is needed for this side-by-side and is not a freenas dependency: set" >&2
      echo "TORCH_PYTHON to a Python that has torch, or run again with FREENAS_INSTALL_TORCH=1" >&2
      echo "to make bench/.venv (python3 -m venv bench/.venv; pip install torch; a few GB)" >&2
      exit 2
    fi
    echo "making bench/.venv with PyTorch (pip install torch)" >&2
    python3 -m venv bench/.venv && bench/.venv/bin/pip install -q torch
  fi
  PY=bench/.venv/bin/python
fi
