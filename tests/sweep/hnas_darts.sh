#!/usr/bin/env bash
# tests/sweep/hnas_darts.sh: kind hnas on space darts (hnas/darts_bo.h, sweep/sweep_hnas_darts.c)
# under a real mpirun, on a tiny search: pool 40, C = 4, 2 cells, 64 shared CIFAR-10 images
# (train / valid 32 / 32), M / kappa batch 16, 1 epoch of batch 32 per evaluation.
#   1. one rank, T = 4: one ok record with 4 steps; the pool and M / kappa caches are written,
#      and `freenas hnas --space darts` (the sequential algorithm, reading those caches) gives
#      the same steps bit for bit (points, genotypes, accuracies);
#   2. two ranks (caches copied: nothing recomputed, the log says so), T = 4: finishes, one ok
#      record, 4 steps, no genotype trained twice;
#   3. kill -9 mid-search (T = 8, a torn line appended), rerun, on 2 ranks and on 1: the steps
#      recorded before stay, the search completes; on 1 rank it equals the sequential CLI;
#   4. bad darts_hnas values and keys are FILE:LINE:COL errors (exit 2).
#   bash tests/sweep/hnas_darts.sh BIN_DIR SHARED_DIR WORK_DIR
source "$(dirname "$0")/common.sh"
FREENAS="$BIN/freenas"
cfg() { # cfg NAME BUDGET [EPOCHS]
  cat > "$WORK/$1.yaml" <<YAML
name: $1
kind: hnas
output: $WORK/$1
data: $SHARED/data
darts_hnas: {pool: 40, epochs: ${3:-1}, train_batch: 32, images: 64, ntk_batch: 16,
             channels: 4, layers: 2}
grid:
  space: darts
  budget: $2
  seed: 0
YAML
}
steps() { jq -c '[.step, .nu, .log10_mu, .arch, .valid_acc]' "$1"/darts_hnas/*/steps.jsonl | sort; }

echo "== 1. one rank; the sequential CLI on the same caches"
cfg r1 4
"$SWEEP" "$WORK/r1.yaml" > "$WORK/r1.log" 2>&1 || { cat "$WORK/r1.log"; fail "1-rank sweep"; }
jq -s -e 'length == 1 and .[0].status == "ok" and (.[0].hnas.steps | length) == 4
          and .[0].value == .[0].hnas.pick.signal and (.[0].arch | startswith("Genotype("))' \
  "$WORK/r1/results.jsonl" > /dev/null || fail "1-rank record"
ls "$WORK"/r1/darts_hnas/pool_s0_n40_w8.bin "$WORK"/r1/darts_hnas/pool_s0_n40_w8_C4_L2_b16_m64.tsv \
  > /dev/null || fail "pool / metric caches missing"
[ "$(wc -l < "$WORK"/r1/darts_hnas/pool_s0_n40_w8_C4_L2_b16_m64.tsv)" -eq 40 ] || fail "metric cache"
"$FREENAS" hnas --space darts --seed 0 --out "$WORK/r1/darts_hnas" --data "$SHARED/data" \
  --pool 40 --epochs 1 --batch 32 --images 64 --ntk-batch 16 --channels 4 --layers 2 --budget 4 \
  --json --quiet > "$WORK/cli.jsonl" 2> "$WORK/cli.log" || { cat "$WORK/cli.log"; fail "freenas hnas --space darts"; }
diff <(steps "$WORK/r1") <(jq -c 'select(has("nu")) | [.step, .nu, .log10_mu, .arch, .valid_acc]' "$WORK/cli.jsonl" | sort) \
  || fail "the 1-rank sweep differs from the sequential algorithm"

echo "== 2. two ranks, caches reused"
cfg r2 4
mkdir -p "$WORK/r2/darts_hnas"
cp "$WORK"/r1/darts_hnas/pool_* "$WORK/r2/darts_hnas/"
mpirun -n 2 "$SWEEP" "$WORK/r2.yaml" > "$WORK/r2.log" 2>&1 || { cat "$WORK/r2.log"; fail "2-rank sweep"; }
grep -q "read from" "$WORK/r2.log" || fail "the pool cache was not read"
grep -q "M and kappa of" "$WORK/r2.log" && fail "M / kappa were recomputed"
jq -s -e 'length == 1 and .[0].status == "ok" and (.[0].hnas.steps | length) == 4
          and ([.[0].hnas.steps[] | select(.cached | not) | .arch] | length == (unique | length))' \
  "$WORK/r2/results.jsonl" > /dev/null || fail "2-rank record"
echo "2 ranks: $(jq -c '[.hnas.steps[] | [.step, .arch, .rank]]' "$WORK/r2/results.jsonl")"

echo "== 3. kill -9 mid-search and resume: on 2 ranks; on 1 rank against the sequential CLI"
# kill_resume NAME NP: runs WORK/NAME.yaml on NP ranks, kill -9 (mpirun and the ranks) once 3
# steps are recorded,
# appends a torn line, reruns; the steps recorded before the kill stay as they were
kill_resume() {
  mkdir -p "$WORK/$1/darts_hnas"
  cp "$WORK"/r1/darts_hnas/pool_* "$WORK/$1/darts_hnas/"
  mpirun -n "$2" "$SWEEP" "$WORK/$1.yaml" > "$WORK/${1}_1.log" 2>&1 &
  local pid=$! f="" before
  for _ in $(seq 900); do
    sleep 0.1
    f=$(ls "$WORK"/$1/darts_hnas/*/steps.jsonl 2> /dev/null || true)
    [ -n "$f" ] && [ "$(wc -l < "$f")" -ge 3 ] && break
  done
  # the whole job dies at once (scancel, a node lost): mpirun and its ranks, by their pids
  local ranks
  ranks=$(pgrep -P "$pid" || true)
  kill -9 "$pid" $ranks 2> /dev/null || true
  wait "$pid" 2> /dev/null || true
  flock -w 60 "$WORK/$1/.lock" true # rank 0 has exited (the sweep's results lock is free)
  f=$(ls "$WORK"/$1/darts_hnas/*/steps.jsonl)
  before=$(wc -l < "$f")
  echo "$2 rank(s): killed after $before of 8 steps"
  [ "$before" -lt 8 ] || fail "the search finished before the kill; nothing was tested"
  cp "$f" "$WORK/${1}_before.jsonl"
  printf '{"step": 7, "nu": 0.5' >> "$f" # a torn line
  mpirun -n "$2" "$SWEEP" "$WORK/$1.yaml" > "$WORK/${1}_2.log" 2>&1 || { cat "$WORK/${1}_2.log"; fail "resume"; }
  grep -q "$before steps recorded" "$WORK/${1}_2.log" || fail "the resumed search did not read its steps"
  head -n "$before" "$f" | cmp - "$WORK/${1}_before.jsonl" || fail "the resume changed recorded steps"
  jq -s -e 'length == 1 and .[0].status == "ok" and (.[0].hnas.steps | length) == 8' \
    "$WORK/$1/results.jsonl" > /dev/null || fail "resumed record"
}
cfg k2 8 2
kill_resume k2 2
cfg k1 8 2
kill_resume k1 1
"$FREENAS" hnas --space darts --seed 0 --out "$WORK/r1/darts_hnas" --data "$SHARED/data" \
  --pool 40 --epochs 2 --batch 32 --images 64 --ntk-batch 16 --channels 4 --layers 2 --budget 8 \
  --json --quiet > "$WORK/cli8.jsonl" 2> "$WORK/cli8.log" || { cat "$WORK/cli8.log"; fail "CLI T = 8"; }
diff <(steps "$WORK/k1") <(jq -c 'select(has("nu")) | [.step, .nu, .log10_mu, .arch, .valid_acc]' "$WORK/cli8.jsonl" | sort) \
  || fail "the killed and resumed 1-rank search differs from the sequential algorithm"

echo "== 4. bad values"
bad() { # bad LINE EXPECTED_REGEX
  cat > "$WORK/bad.yaml" <<YAML
kind: hnas
output: $WORK/bad
data: $SHARED/data
$1
grid:
  space: darts
YAML
  set +e
  "$SWEEP" "$WORK/bad.yaml" --dry-run > "$WORK/bad.log" 2>&1
  local rc=$?
  set -e
  [ "$rc" -eq 2 ] || { cat "$WORK/bad.log"; fail "exit $rc for: $1"; }
  grep -Eq "$2" "$WORK/bad.log" || { cat "$WORK/bad.log"; fail "message for: $1"; }
}
bad "darts_hnas: {pool_width: 9}" "bad.yaml:4:26: darts_hnas: pool_width: 9 is out of range"
bad "darts_hnas: {pol: 30}" "bad.yaml:4:14: darts_hnas: unknown key 'pol'.*pool"
bad "darts_hnas: {epochs: ten}" "bad.yaml:4:22: .*epochs"
bad "darts_hnas: 3" "bad.yaml:4:13: darts_hnas: must be a mapping"
echo "ok"
