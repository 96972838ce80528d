#!/usr/bin/env bash
# tests/analysis/pandas.sh BIN_DIR SHARED_DATA: a small real sweep (NB201 SynFlow and SNIP, two
# seeds each) and its report, then tests/analysis/pandas_load.py reads them with pandas as
# docs/PANDAS.md shows, and the landscape percentiles against the NB201 table. Skips (77) where Debian's python3-pandas is missing.
set -euo pipefail
bin=$(cd "$1" && pwd); shared=$(cd "$2" && pwd); here=$(cd "$(dirname "$0")" && pwd)
py=/usr/bin/python3; [ -x "$py" ] || py=python3
"$py" -c "import pandas" 2>/dev/null || { echo "SKIP: python3-pandas not installed"; exit 77; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
cat > "$tmp/sweep.yaml" <<YAML
name: pandas
output: $tmp/out
data: $shared
benchmark: $shared/nb201/nb201_accuracy.tsv
grid:
  space: nb201
  metric: [synflow, snip]
  seed: "0:1"
YAML
"$bin/freenas_sweep" "$tmp/sweep.yaml" --threads 1 --quiet > "$tmp/log" 2>&1 || { cat "$tmp/log"; exit 1; }
"$bin/freenas_report" "$tmp/out" --quiet
"$py" "$here/pandas_load.py" "$tmp/out" "$shared/nb201/nb201_accuracy.tsv"
