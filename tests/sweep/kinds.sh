#!/usr/bin/env bash
# tests/sweep/kinds.sh: the per-architecture kinds under a real mpirun.
#   score      params of the all-none architecture (index 1651) is 73,306 (docs/METHOD.md §1.4),
#              its SynFlow 0 (the logits do not depend on any weight), the others > 0;
#              1 and 2 ranks give identical records; `freenas score` gives the same values
#   zc_search  the record is the best of the `sample` architectures it draws: a score sweep
#              over arch {sample: 6, seed: S} (the same draw) with the same seed has that
#              architecture and value as its maximum; with `scores` (those score records,
#              and freenas score --json lines) it finds the same, and a candidate missing
#              from the table fails the job with a data error
#   random     the architecture is the first index of arch {sample: 1, seed: S}
#   bundles    score jobs side by side in slots give the same records; CUDA score jobs
#              bundle apart from CPU jobs, and without a GPU each fails alone
#   bash tests/sweep/kinds.sh BIN_DIR SHARED_DIR WORK_DIR
source "$(dirname "$0")/common.sh"
TSV=$SHARED/data/nb201/nb201_accuracy.tsv
cat > "$WORK/score.yaml" <<YAML
name: kinds_score
kind: score
output: $WORK/score1
benchmark: $TSV
grid:
  metric: [params, synflow]
  arch: [1651, 1462, 6818, 2000]
YAML
"$SWEEP" "$WORK/score.yaml" --quiet > "$WORK/score1.log"
mpirun -n 2 "$SWEEP" "$WORK/score.yaml" --output "$WORK/score2" --quiet > "$WORK/score2.log"
diff <(stable_records "$WORK/score1/results.jsonl") <(stable_records "$WORK/score2/results.jsonl") \
  || fail "score records differ between 1 and 2 ranks"
# side by side (sweep/job.c sweep_job_run_slots): bundles of 3 on 3 threads, and of 2 on 3
# threads (one idle), give the same records
for tb in "3 3" "3 2"; do
  set -- $tb
  d=$WORK/score_t$1_b$2
  "$SWEEP" "$WORK/score.yaml" --output "$d" --threads "$1" --bundle "$2" > "$d.log"
  grep -q "^\[sweep\] 8 jobs in $(( (8 + $2 - 1) / $2 )) bundles of up to $2" "$d.log" \
    || { cat "$d.log"; fail "score: bundle plan, bundles of $2 on $1 threads"; }
  [ "$(jq -r '.run.bundle.size' "$d/results.jsonl" | sort -u | tr '\n' ' ')" = "$( [ "$2" = 3 ] && echo '2 3 ' || echo '2 ')" ] \
    || fail "score: run.bundle sizes, bundles of $2 on $1 threads"
  diff <(stable_records "$WORK/score1/results.jsonl") <(stable_records "$d/results.jsonl") \
    || fail "score records differ in bundles of $2 on $1 threads"
done
# CUDA jobs bundle only with a cap, never with CPU jobs (3 of each: bundles of 2 and 1 per
# device); where no GPU is, each CUDA job fails alone with the device's message. A build
# without the CUDA executor refuses the config instead.
sed -e "s|^output: .*|output: $WORK/score_cuda|" -e 's|^  metric: .*|  metric: [synflow]|' \
    -e 's|^  arch: .*|  arch: [1651, 1462, 6818]\n  device: [cpu, cuda]|' \
  "$WORK/score.yaml" > "$WORK/score_cuda.yaml"
dry=$("$SWEEP" "$WORK/score_cuda.yaml" --dry-run 2>&1 || true)
if ! grep -q "this build has no CUDA executor" <<< "$dry"; then
  rc=0
  "$SWEEP" "$WORK/score_cuda.yaml" --threads 2 --bundle 2 > "$WORK/score_cuda.log" 2>&1 || rc=$?
  [ "$rc" = 0 ] || [ "$rc" = 1 ] || { cat "$WORK/score_cuda.log"; fail "CUDA score sweep: exit $rc"; }
  got=$(jq -s -c 'group_by(.params.device) | map({d: .[0].params.device,
          sizes: (map(.run.bundle.size // 1) | sort),
          status: (map(.status) | unique)})' "$WORK/score_cuda/results.jsonl")
  echo "$got" | jq -e 'length == 2 and all(.sizes == [1, 2, 2]) and
      (.[0].d == "cpu" and .[0].status == ["ok"]) and
      (.[1].d == "cuda" and (.[1].status - ["ok", "device_error"]) == [])' > /dev/null \
    || { cat "$WORK/score_cuda.log"; fail "CUDA score jobs in bundles apart from CPU jobs: $got"; }
fi
v=$(jq -r 'select(.params.metric == "params" and .params.arch == 1651) | .value' "$WORK/score1/results.jsonl")
[ "$v" = "73306.0" ] || [ "$v" = "73306" ] || fail "params of the all-none cell: $v, want 73306"
jq -s -e 'map(select(.params.metric == "synflow")) | length == 4 and
  all(.proxies.synflow == .value and .nb201_index == .params.arch and
      (.value > 0) == (.params.arch != 1651))' \
  "$WORK/score1/results.jsonl" > /dev/null || fail "score record fields"
# what analysis/ reads instead of the registries: each proxy's direction (both larger is
# better), and the cell's unreachable ops, here counted by the path rule from the arch string
# (an op counts when an input->output path 0-3, 0-1-3, 0-2-3 or 0-1-2-3 runs through it,
# none-free; arch 2000 has 2)
unreachable='[.arch | scan("([a-z_0-9]+)~[0-9]") | .[0] != "none"] as $e
  | ($e[0] and $e[2] and $e[5]) as $p0123
  | [($e[0] and $e[4]) or $p0123, $e[1] and $e[5], $p0123, $e[3], $e[0] and $e[4],
     ($e[1] and $e[5]) or $p0123] as $live
  | [range(6) | select($e[.] and ($live[.] | not))] | length'
jq -s -e "all(.proxy_direction == {(.params.metric): 1} and .unreachable_ops == ($unreachable))
  and (map(select(.params.arch == 2000)) | all(.unreachable_ops == 2))" \
  "$WORK/score1/results.jsonl" > /dev/null \
  || fail "score records' proxy_direction / unreachable_ops: $(jq -c '[.params.arch, .proxy_direction, .unreachable_ops]' "$WORK/score1/results.jsonl")"
cli=$("$BIN/freenas" score --index 1462 --proxy synflow --benchmark "$TSV" --json | jq -r .proxies.synflow)
# freenas score --json lines are score records too: the same direction and unreachable_ops
# fields as the sweep's (ntk_cond smaller is better; arch 2000 has 2 unreachable ops)
"$BIN/freenas" score --index 2000 --proxy synflow,ntk_cond --benchmark "$TSV" --data "$SHARED/data" \
  --json > "$WORK/cli_score.jsonl"
jq -e '.proxy_direction == {synflow: 1, ntk_cond: -1} and .unreachable_ops == 2' \
  "$WORK/cli_score.jsonl" > /dev/null || fail "freenas score --json fields: $(cat "$WORK/cli_score.jsonl")"
rec=$(jq -r 'select(.params.metric == "synflow" and .params.arch == 1462) | .value' "$WORK/score1/results.jsonl")
awk -v a="$cli" -v b="$rec" 'BEGIN { exit !(a == b) }' || fail "freenas score $cli != sweep record $rec"

cat > "$WORK/zc.yaml" <<YAML
name: kinds_zc
kind: zc_search
output: $WORK/zc
benchmark: $TSV
grid:
  metric: synflow
  sample: 6
  seed: [3, 4]
YAML
mpirun -n 2 "$SWEEP" "$WORK/zc.yaml" --quiet > "$WORK/zc.log"
[ "$(jq -r .config.kind "$WORK/zc/manifest.json")" = zc_search ] || fail "manifest config.kind is not zc_search"
"$SWEEP" "$WORK/zc.yaml" --dry-run | grep -qF '#   kind: "zc_search"' || fail "dry-run does not print kind zc_search"
for s in 3 4; do
  cat > "$WORK/zc_check.yaml" <<YAML
name: kinds_zc_check
kind: score
output: $WORK/zc_check$s
benchmark: $TSV
grid:
  metric: synflow
  seed: $s
  arch: {sample: 6, seed: $s}
YAML
  "$SWEEP" "$WORK/zc_check.yaml" --quiet > /dev/null
  best=$(jq -s -r 'max_by(.value) | "\(.nb201_index) \(.value)"' "$WORK/zc_check$s/results.jsonl")
  got=$(jq -r "select(.params.seed == $s) | \"\(.nb201_index) \(.value)\"" "$WORK/zc/results.jsonl")
  [ "$best" = "$got" ] || fail "zc_search seed $s: $got, the best of its 6 draws is $best"
  jq -s -e "map(select(.params.seed == $s)) | length == 1 and (.[0] | .sampled == 6 and
    .nan_scores == 0 and .accuracy.cifar10_test > 0 and .proxy_direction == {synflow: 1} and
    .unreachable_ops == ($unreachable))" "$WORK/zc/results.jsonl" > /dev/null \
    || fail "zc_search record fields"
done

# zc_search with scores: the candidates' values looked up in score records (a kind score
# sweep's results.jsonl, or freenas score --json) give the computed search's record; a
# candidate missing from the table fails the job and names it
cat "$WORK/zc_check3/results.jsonl" > "$WORK/table.jsonl"
idx4=$(jq -r '"--index \(.nb201_index)"' "$WORK/zc_check4/results.jsonl")
# shellcheck disable=SC2086
"$BIN/freenas" score $idx4 --seed 4 --proxy synflow,params --benchmark "$TSV" --json >> "$WORK/table.jsonl"
cat > "$WORK/zc_lookup.yaml" <<YAML
name: kinds_zc_lookup
kind: zc_search
output: $WORK/zc_lookup
benchmark: $TSV
scores: $WORK/table.jsonl
grid:
  metric: synflow
  sample: 6
  seed: [3, 4, 5]
YAML
set +e
"$SWEEP" "$WORK/zc_lookup.yaml" --quiet > "$WORK/zc_lookup.log"
rc=$?
set -e
[ "$rc" = 1 ] || fail "zc_search with scores: exit $rc, want 1 (seed 5's draw is not in the table)"
for s in 3 4; do
  want=$(jq -r "select(.params.seed == $s) | \"\(.nb201_index) \(.value)\"" "$WORK/zc/results.jsonl")
  got=$(jq -r "select(.params.seed == $s) | \"\(.status) \(.nb201_index) \(.value)\"" "$WORK/zc_lookup/results.jsonl")
  [ "$got" = "ok $want" ] || fail "zc_search seed $s with scores: $got, computed: $want"
done
jq -s -e 'map(select(.params.seed == 5)) | length == 1 and (.[0] | .status == "data_error" and
  (.error | test("has no synflow score of architecture [0-9]+ on cifar10")) and
  .params.scores != null)' "$WORK/zc_lookup/results.jsonl" > /dev/null \
  || fail "zc_search with scores, a candidate missing: $(jq -c 'select(.params.seed == 5) | [.status, .error]' "$WORK/zc_lookup/results.jsonl")"
[ -z "$(comm -12 <(jq -r .job_id "$WORK/zc/results.jsonl" | sort) <(jq -r .job_id "$WORK/zc_lookup/results.jsonl" | sort))" ] \
  || fail "looked-up and computed zc_search jobs share job ids"

cat > "$WORK/rnd.yaml" <<YAML
name: kinds_random
kind: random
output: $WORK/rnd
benchmark: $TSV
grid:
  seed: 5
YAML
"$SWEEP" "$WORK/rnd.yaml" --quiet > /dev/null
cat > "$WORK/rnd_check.yaml" <<YAML
name: kinds_random_check
kind: score
output: $WORK/rnd_check
benchmark: $TSV
grid:
  metric: params
  arch: {sample: 1, seed: 5}
YAML
"$SWEEP" "$WORK/rnd_check.yaml" --quiet > /dev/null
[ "$(jq -r .nb201_index "$WORK/rnd/results.jsonl")" = "$(jq -r .nb201_index "$WORK/rnd_check/results.jsonl")" ] \
  || fail "random search did not take the seed's first draw"
echo "PASS: score (1 = 2 ranks, all-none params 73306, = freenas score), zc_search = best of its draws (computed, and looked up in scores), random = first draw"
