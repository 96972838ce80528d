#!/usr/bin/env bash
# bench/run_bench_search_torch.sh: FreeDARTS searches, freenas's CPU engine against PyTorch running
# the same method (bench/pytorch/search_torch.py: the same supernets, saliencies, dtypes, batch
# sizes and thread count). Runs ./build/bin/bench_search --warm (OMP_NUM_THREADS=T,
# OPENBLAS_NUM_THREADS=1) and the PyTorch script in turn, PAIRS times (the machine's drift hits
# both alike). Both report steady state: one untimed warm-up search per case, then the median
# of REPS searches with seeds 1..REPS; a whole search each (data, build, init, score, prune) and
# its scoring step (forward, backward, saliency) alone. The table has the medians over the
# pairs and the ratio PyTorch / freenas; bench/results/search_cpu_vs_torch.json keeps one entry
# per thread count (a rerun replaces its own) with every run, the machine and the torch version.
# PyTorch comes from $TORCH_PYTHON, else a virtual environment bench/.venv, made when asked
# (FREENAS_INSTALL_TORCH=1: python3 -m venv bench/.venv && pip install torch; a few GB; not a freenas
# dependency). Cases: bench_search's names; nb201-synflow nb201-snip darts8-synflow darts8-snip
# darts20-synflow darts20-snip darts224-synflow darts224-snip (n1ss3-* have no PyTorch side).
#   bash bench/run_bench_search_torch.sh [--pairs 3] [--threads 2] [--reps 5] [--cases a,b]
#                                        [--json FILE] [--data DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
PAIRS=3 THREADS=2 REPS=5 JSON="" DATA=${FREENAS_DATA:-../shared/data}
CASES=nb201-synflow,nb201-snip,darts8-synflow,darts8-snip,darts20-synflow,darts224-synflow,darts224-snip
while [ $# -gt 0 ]; do
  case "$1" in
    --pairs) PAIRS=$2; shift 2 ;;
    --threads) THREADS=$2; shift 2 ;;
    --reps) REPS=$2; shift 2 ;;
    --cases) CASES=$2; shift 2 ;;
    --json) JSON=$2; shift 2 ;;
    --data) DATA=$2; shift 2 ;;
    -h|--help) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "run_bench_search_torch.sh: unknown argument '$1' (--help)" >&2; exit 2 ;;
  esac
done
[ -n "$JSON" ] || JSON=bench/results/search_cpu_vs_torch.json
[ -x build/bin/bench_search ] || { echo "build/bin/bench_search missing: build first (scripts/build.sh)" >&2; exit 2; }
command -v jq > /dev/null || { echo "jq is needed (scripts/install_deps.sh)" >&2; exit 2; }
source bench/torch_python.sh # PY: $TORCH_PYTHON or bench/.venv
mkdir -p "$(dirname "$JSON")"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for i in $(seq "$PAIRS"); do
  echo "# pair $i/$PAIRS: freenas" >&2
  OMP_NUM_THREADS=$THREADS OPENBLAS_NUM_THREADS=1 ./build/bin/bench_search --warm --reps "$REPS" \
      --cases "$CASES" --data "$DATA" --json "$tmp/f$i.json" > "$tmp/f$i.txt"
  jq -c '.rows[] | {impl: "freenas", case, space, metric, dataset, batch, params, searches,
                    search_s, score_s}' "$tmp/f$i.json" >> "$tmp/runs.jsonl"
  echo "# pair $i/$PAIRS: pytorch" >&2
  "$PY" bench/pytorch/search_torch.py --cases "$CASES" --reps "$REPS" --threads "$THREADS" \
      --data "$DATA" >> "$tmp/runs.jsonl"
done
jq -s --arg machine "$(lscpu | sed -n 's/^Model name: *//p' | head -1)" --argjson threads "$THREADS" \
      --argjson pairs "$PAIRS" --argjson reps "$REPS" '
  def med: sort | if length % 2 == 1 then .[length / 2 | floor]
                  else (.[length / 2 - 1] + .[length / 2]) / 2 end;
  (map(select(.impl == "pytorch")) | .[0].torch) as $torch |
  {machine: $machine, threads: $threads, pairs: $pairs, searches_per_run: $reps, torch: $torch,
   timing: "steady state: per run one untimed warm-up search, then the median of searches_per_run; here the median over the pairs of those medians",
   rows: (group_by(.case) | map(
     (map(select(.impl == "freenas"))) as $f | (map(select(.impl == "pytorch"))) as $t |
     {case: .[0].case, space: .[0].space, metric: .[0].metric, dataset: .[0].dataset,
      batch: .[0].batch, params_freenas: $f[0].params, params_pytorch: $t[0].params,
      freenas_search_s: ($f | map(.search_s) | med), pytorch_search_s: ($t | map(.search_s) | med),
      freenas_score_s: ($f | map(.score_s) | med), pytorch_score_s: ($t | map(.score_s) | med),
      pytorch_build_s: ($t | map(.build_s) | med),
      freenas_search_runs_s: ($f | map(.search_s)), pytorch_search_runs_s: ($t | map(.search_s))}
     | .ratio_search = (.pytorch_search_s / .freenas_search_s)
     | .ratio_score = (.pytorch_score_s / .freenas_score_s)))}' "$tmp/runs.jsonl" > "$tmp/entry.json"
old='{"results":[]}'
[ -s "$JSON" ] && jq -e '.results | type == "array"' "$JSON" > /dev/null 2>&1 && old=$(cat "$JSON")
jq --slurpfile e "$tmp/entry.json" '{results: ((.results | map(select(.threads != $e[0].threads)))
    + $e | sort_by(.threads))}' <<< "$old" > "$tmp/all.json"
mv "$tmp/all.json" "$JSON"
jq -r '"# \(.machine), \(.threads) thread(s), PyTorch \(.torch), medians of \(.pairs) pair(s), each the median of \(.searches_per_run) searches after a warm-up",
  "case              batch  freenas[ms]  pytorch[ms]  ratio   score: freenas[ms]  pytorch[ms]  ratio",
  (.rows[] | "\(.case | . + " " * (17 - length)) \(.batch | tostring | " " * (5 - length) + .)  \(.freenas_search_s * 1e3 * 100 | round / 100 | tostring | " " * (11 - length) + .)  \(.pytorch_search_s * 1e3 * 100 | round / 100 | tostring | " " * (11 - length) + .)  \(.ratio_search * 100 | round / 100 | tostring | " " * (5 - length) + .)   \(.freenas_score_s * 1e3 * 100 | round / 100 | tostring | " " * (18 - length) + .)  \(.pytorch_score_s * 1e3 * 100 | round / 100 | tostring | " " * (11 - length) + .)  \(.ratio_score * 100 | round / 100 | tostring | " " * (5 - length) + .)")' "$tmp/entry.json"
echo "# wrote $JSON"
