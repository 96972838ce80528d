#!/usr/bin/env bash
# tests/sweep/hnas.sh: kind hnas under a real mpirun, on the committed metric-table slice
# (hnas/data/nb201_cifar10_seed0.tsv, a partial table: the pool is restricted to it).
#   1 and 2 ranks give identical records; each record has `budget` steps, a pick inside the
#   table with the best signal of its queries, and the pick's accuracy fields;
#   `freenas hnas --json` with the same seed gives the same hnas{...} object, also with the
#   grid keys metric_abs and kappa_raw (--metric-abs, --kappa-raw);
#   resume: a results.jsonl cut after two records and a torn third line, rerun, gives the
#   same records as the uninterrupted run (same seed -> identical record).
#   bash tests/sweep/hnas.sh BIN_DIR SHARED_DIR WORK_DIR
source "$(dirname "$0")/common.sh"
SRC=$(cd "$(dirname "$0")/../.." && pwd)
TSV=$SHARED/data/nb201/nb201_accuracy.tsv
TABLE=$SRC/hnas/data/nb201_cifar10_seed0.tsv
cat > "$WORK/hnas.yaml" <<YAML
name: kinds_hnas
kind: hnas
output: $WORK/h1
benchmark: $TSV
table: $TABLE
grid:
  metric: [hnas_ntk_trace, hnas_grad_norm]
  strategy: [ei, alone, random]
  budget: 8
  seed: [0, 1]
YAML
"$SWEEP" "$WORK/hnas.yaml" --quiet > "$WORK/h1.log"
mpirun -n 2 "$SWEEP" "$WORK/hnas.yaml" --output "$WORK/h2" --quiet > "$WORK/h2.log"
n=$(wc -l < "$WORK/h1/results.jsonl")
[ "$n" -eq 10 ] || fail "expected 10 jobs (random reads no metric: one job per seed), got $n"
one_ok_each "$WORK/h1" 10
diff <(stable_records "$WORK/h1/results.jsonl") <(stable_records "$WORK/h2/results.jsonl") \
  || fail "hnas records differ between 1 and 2 ranks"
jq -s -e 'all(.[]; (.hnas.steps | length) == (if .params.strategy == "alone" then 1 else 8 end)
    and .nb201_index == .hnas.pick.index and (.accuracy.cifar10_test | type) == "number"
    and .value == .hnas.pick.signal
    and (if .params.strategy == "alone" then .hnas.cost_s == 0 else
         .hnas.pick.signal == ([.hnas.steps[] | select(.cached | not) | .signal] | max) end))' \
  "$WORK/h1/results.jsonl" > /dev/null || fail "hnas record fields"
# every queried architecture is in the table
cut -f1 "$TABLE" | grep -E '^[0-9]+$' | sort > "$WORK/rows"
jq -r '.hnas.steps[] | select(.arch >= 0) | .arch' "$WORK/h1/results.jsonl" | sort -u > "$WORK/q"
[ -z "$(comm -13 "$WORK/rows" "$WORK/q")" ] || fail "a query outside the table"
# the CLI computes the same search
"$BIN/freenas" hnas --seed 1 --T 8 --metric hnas_grad_norm --table "$TABLE" --benchmark "$TSV" \
  --extra "$SHARED/data/nb201/nb201_accuracy_extra.tsv" --json 2> /dev/null | jq -S -c .hnas > "$WORK/cli"
jq -S -c 'select(.params.seed == 1 and .params.metric == "hnas_grad_norm" and
  .params.strategy == "ei") | .hnas' "$WORK/h1/results.jsonl" > "$WORK/rec"
diff "$WORK/cli" "$WORK/rec" || fail "freenas hnas --json differs from the sweep record"
# the grid keys metric_abs and kappa_raw: the CLI's --metric-abs and --kappa-raw
cat > "$WORK/hnas_abs.yaml" <<YAML
name: kinds_hnas_abs
kind: hnas
output: $WORK/ha
benchmark: $TSV
table: $TABLE
grid:
  metric: hnas_grasp
  metric_abs: [false, true]
  kappa_raw: true
  budget: 8
  seed: 1
YAML
"$SWEEP" "$WORK/hnas_abs.yaml" --quiet > "$WORK/ha.log"
one_ok_each "$WORK/ha" 2
for abs in false true; do
  flag=$([ "$abs" = true ] && echo --metric-abs || true)
  "$BIN/freenas" hnas --seed 1 --T 8 --metric hnas_grasp $flag --kappa-raw --table "$TABLE" \
    --benchmark "$TSV" --extra "$SHARED/data/nb201/nb201_accuracy_extra.tsv" --json 2> /dev/null \
    | jq -S -c .hnas > "$WORK/cli_$abs"
  jq -S -c "select(.params.metric_abs == $abs and .params.kappa_raw == true) | .hnas" \
    "$WORK/ha/results.jsonl" > "$WORK/rec_$abs"
  [ -s "$WORK/rec_$abs" ] || fail "no record with metric_abs $abs"
  diff "$WORK/cli_$abs" "$WORK/rec_$abs" || fail "metric_abs $abs: the sweep record differs from freenas hnas"
done
jq -s -e 'all(.[]; .hnas.kappa_raw == true) and ([.[] | .hnas.metric_abs] | sort) == [false, true]' \
  "$WORK/ha/results.jsonl" > /dev/null || fail "hnas records: kappa_raw / metric_abs fields"
"$BIN/freenas_report" "$WORK/ha" --out "$WORK/report_abs" --quiet > /dev/null 2>&1 || true
grep -q "| freenas HNAS | hnas_grasp (κ raw) | ei | 8 |" "$WORK/report_abs/report.md" &&
  grep -q "| freenas HNAS | abs(hnas_grasp) (κ raw) | ei | 8 |" "$WORK/report_abs/report.md" ||
  fail "report: the metric_abs / kappa_raw groups are not told apart"
# resume from a cut history with a torn last line
mkdir -p "$WORK/h3"
head -n 2 "$WORK/h1/results.jsonl" > "$WORK/h3/results.jsonl"
sed -n 3p "$WORK/h1/results.jsonl" | head -c 100 >> "$WORK/h3/results.jsonl"
"$SWEEP" "$WORK/hnas.yaml" --output "$WORK/h3" --quiet > "$WORK/h3.log"
one_ok_each "$WORK/h3" 10
diff <(stable_records "$WORK/h1/results.jsonl") <(stable_records "$WORK/h3/results.jsonl") \
  || fail "a resumed hnas sweep differs from the uninterrupted one"
# the report: the HNAS table beside the authors' row, and the convergence data
"$BIN/freenas_report" "$WORK/h1" --out "$WORK/report" --quiet > /dev/null 2>&1 || true
grep -q "HNAS (authors) (paper) .* 94.04 ± 0.21" "$WORK/report/report.md" || fail "report: no HNAS table"
[ "$(wc -l < "$WORK/report/hnas.csv")" -eq 6 ] || fail "report: hnas.csv rows (5 groups)"
grep -q "random search, T = 8: by cost" "$WORK/report/hnas_convergence.dat" || fail "report: convergence data"
echo "sweep hnas: OK"
