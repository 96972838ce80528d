#!/usr/bin/env bash
# tests/analysis/report.sh: freenas_report on synthetic results directories, every expected
# number computed here by hand or independently (awk), not by the program:
#   1. NB201 search: 2 metrics x 3 alpha scales x 3 seeds with known accuracies; a failed
#      attempt then ok (counts once), a job that never succeeds, a second ok record of a job
#      (ignored: the first ok counts, as in freenas_sweep): search_table.csv, report.md, paper_table.csv, alpha_scale.csv, PNG
#   2. DARTS genotypes: exact op counts per cell type beside docs/METHOD.md §7.4; eval-net sizes
#   3. score records: Spearman / Kendall tau-b of proxies vs --benchmark ground truth
#      (perfect = 1, reversed = -1, a tied proxy with NaNs against awk's brute force), and
#      from the records' accuracy without --benchmark
#   4. bad input: no results.jsonl, torn last line, malformed middle line, missing
#      --benchmark, no ok records, unknown option, gnuplot missing or failing
#   bash tests/analysis/report.sh BIN_DIR SHARED_DIR WORK_DIR
set -euo pipefail
BIN=$1 SHARED=$2 WORK=$3
REPORT="$BIN/freenas_report"
TSV="$SHARED/data/nb201/nb201_accuracy.tsv"
rm -rf "$WORK"
mkdir -p "$WORK"
checks=0
fail() { echo "FAIL: $*" >&2; exit 1; }
ok() { checks=$((checks + 1)); echo "ok   $*"; }
# has FILE TEXT: FILE holds the line fragment TEXT exactly (fixed string)
has() { grep -qF -- "$2" "$1" || { echo "--- $1:" >&2; cat "$1" >&2; fail "$1 lacks: $2"; }; ok "$(basename "$1"): $2"; }
hasnt() { ! grep -qF -- "$2" "$1" || fail "$1 has: $2"; ok "$(basename "$1") lacks: $2"; }
# run_rc OUTFILE ERRFILE CMD...: runs CMD, its exit code in $rc
run_rc() { local out=$1 err=$2; shift 2; rc=0; "$@" > "$out" 2> "$err" || rc=$?; }
have_gnuplot=0
command -v gnuplot > /dev/null && have_gnuplot=1

# ---- 1. NB201 search records --------------------------------------------------------------
# nb201_rec JOB_ID INDEX METRIC ALPHA SEED STATUS ATTEMPT ACCURACY_JSON TIME_S
nb201_rec() {
  jq -n -c --arg id "$1" --argjson index "$2" --arg metric "$3" --argjson alpha "$4" \
    --argjson seed "$5" --arg status "$6" --argjson attempt "$7" --argjson acc "$8" \
    --argjson t "$9" '
    {job_id: $id, index: $index, sweep: "synthetic",
     params: {kind: "search", space: "nb201", cells: 5, channels: 16, ss: 0, dataset: "cifar10",
              metric: $metric, batch: (if $metric == "synflow" then 1 else 64 end),
              alpha_scale: $alpha, seed: $seed, precision: 64},
     status: $status, error: (if $status == "ok" then null else "cannot read data file" end),
     attempt: $attempt, arch: "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|"}
    + (if $status == "ok" then {accuracy: $acc, run: {time_s: {search: $t, job: $t}}} else {} end)'
}
# accuracies: C10 test = base + d[seed] (synflow d = -0.5 0 0.5: std 0.5; snip d = -2 0 2:
# std 2); C10 valid = test - 3.25; C100 = 70 + seed (71 +- 1); IN16 = 44 + seed * (a + 1)
# (45 + a +- (a + 1)); search time 0.1 * (seed + 1) s (200 +- 100 ms)
acc_json() { # METRIC A SEED
  awk -v m="$1" -v a="$2" -v s="$3" 'BEGIN {
    split("93.0 93.5 91.0", bs); split("92.0 92.5 80.0", bn)
    base = (m == "synflow") ? bs[a + 1] : bn[a + 1]
    d = (s - 1) * ((m == "synflow") ? 0.5 : 2)
    printf "{\"cifar10_valid\":%.2f,\"cifar10_test\":%.2f,\"cifar100_test\":%.2f,\"imagenet16_test\":%.2f}",
      base + d - 3.25, base + d, 70 + s, 44 + s * (a + 1) }'
}
D1="$WORK/nb201"
mkdir -p "$D1"
alphas=(1e-05 0.001 0.1)
{
  idx=0
  for metric in synflow snip; do
    for a in 0 1 2; do
      for seed in 0 1 2; do
        id=$(printf '%s%02d%02d' "${metric:0:2}" "$a" "$seed")
        t=$(awk -v s="$seed" 'BEGIN { printf "%.1f", 0.1 * (s + 1) }')
        if [ "$metric$a$seed" = synflow11 ]; then   # a failed attempt first
          nb201_rec "$id" $idx "$metric" "${alphas[$a]}" "$seed" data_error 1 null 0
        fi
        nb201_rec "$id" $idx "$metric" "${alphas[$a]}" "$seed" ok 1 "$(acc_json "$metric" "$a" "$seed")" "$t"
        if [ "$metric$a$seed" = snip00 ]; then      # a second ok record (orphaned rank): ignored
          nb201_rec "$id" $idx "$metric" "${alphas[$a]}" "$seed" ok 1 \
            '{"cifar10_valid":0,"cifar10_test":0,"cifar100_test":0,"imagenet16_test":0}' 9
        fi
        idx=$((idx + 1))
      done
    done
  done
  # a job that never succeeds: counted as failed in its group (synflow, 0.1), no accuracy
  nb201_rec never03 99 synflow 0.1 3 data_error 1 null 0
  nb201_rec never03 99 synflow 0.1 3 data_error 2 null 0
} > "$D1/results.jsonl"
jq -n -c '{freenas: "0.1.0", git_rev: "abc1234", run: 2, config_file: "configs/synthetic.yaml",
           config: {name: "synthetic"}, plan: {jobs: 19}, ranks: 3, threads_per_rank: 1,
           hosts: [{host: "node1", ranks: 2}, {host: "node2", ranks: 1}]}' > "$D1/manifest.json"
run_rc "$WORK/nb201.out" "$WORK/nb201.err" "$REPORT" "$D1"
[ "$rc" -eq 0 ] || { cat "$WORK/nb201.err"; fail "nb201 report exit $rc"; }
[ ! -s "$WORK/nb201.err" ] || { cat "$WORK/nb201.err"; fail "warnings on a clean directory"; }
ok "nb201: exit 0, no warnings"
R="$D1/report"
CSV="$R/search_table.csv"
has "$CSV" "space,dataset,metric,batch,alpha_scale,jobs,ok,failed,cifar10_valid_mean,cifar10_valid_std,cifar10_valid_n,cifar10_test_mean,cifar10_test_std,cifar10_test_n,cifar100_test_mean,cifar100_test_std,cifar100_test_n,imagenet16_test_mean,imagenet16_test_std,imagenet16_test_n,search_ms_mean,search_ms_std"
has "$CSV" "nb201,cifar10,synflow,1,1e-05,3,3,0,89.750000,0.500000,3,93.000000,0.500000,3,71.000000,1.000000,3,45.000000,1.000000,3,200.000,100.000"
has "$CSV" "nb201,cifar10,synflow,1,0.001,3,3,0,90.250000,0.500000,3,93.500000,0.500000,3,71.000000,1.000000,3,46.000000,2.000000,3,200.000,100.000"
has "$CSV" "nb201,cifar10,synflow,1,0.1,4,3,1,87.750000,0.500000,3,91.000000,0.500000,3,71.000000,1.000000,3,47.000000,3.000000,3,200.000,100.000"
has "$CSV" "nb201,cifar10,snip,64,1e-05,3,3,0,88.750000,2.000000,3,92.000000,2.000000,3,71.000000,1.000000,3,45.000000,1.000000,3,200.000,100.000"
has "$CSV" "nb201,cifar10,snip,64,0.1,3,3,0,76.750000,2.000000,3,80.000000,2.000000,3,71.000000,1.000000,3,47.000000,3.000000,3,200.000,100.000"
[ "$(wc -l < "$CSV")" -eq 7 ] || fail "search_table.csv: expected 6 rows"
ok "search_table.csv: 6 rows"
M="$R/report.md"
has "$M" "| space | dataset | metric | alpha_scale | jobs | ok | failed | C10 valid | C10 test | C100 test | IN16 test | time [ms] |"
has "$M" "| nb201 | cifar10 | synflow | 1e-05 | 3 | 3 | 0 | 89.75 ± 0.50 | 93.00 ± 0.50 | 71.00 ± 1.00 | 45.00 ± 1.00 | 200.0 ± 100.0 |"
has "$M" "| nb201 | cifar10 | synflow | 0.1 | 4 | 3 | 1 | 87.75 ± 0.50 | 91.00 ± 0.50 | 71.00 ± 1.00 | 47.00 ± 3.00 | 200.0 ± 100.0 |"
has "$M" "| nb201 | cifar10 | snip | 0.001 | 3 | 3 | 0 | 89.25 ± 2.00 | 92.50 ± 2.00 | 71.00 ± 1.00 | 46.00 ± 2.00 | 200.0 ± 100.0 |"
has "$M" "Also varying, but fixed by space / dataset / metric (columns of the CSV): batch."
has "$M" "| sweep | synthetic |"
has "$M" "| config | \`configs/synthetic.yaml\` |"
has "$M" "| git rev (sweep) | \`abc1234\` |"
has "$M" "| ranks | 3 x 1 thread on 2 hosts (node1: 2, node2: 1) |"
has "$M" "| records | 22 in 22 lines of results.jsonl |"
has "$M" "| jobs | 19: 18 ok, 1 failed (plan: 19 jobs) |"
has "$M" "| \`never03\` | 2 | data_error | cannot read data file |"
has "$R/failed_jobs.csv" "never03,2,data_error,cannot read data file,"
for f in search_table.csv paper_table.csv alpha_scale.csv alpha_scale.png alpha_scale.svg \
         alpha_scale.gp alpha_scale.dat failed_jobs.csv; do
  has "$M" "($f)"
done
# paper Table 2 layout: one row per alpha scale, ours beside the paper's
P="$R/paper_table.csv"
has "$M" "| FreeDARTS SynFlow (alpha_scale=1e-05) | 93.00 ± 0.50 (3) | 93.52 ± 0.11 | - | 70.78 ± 0.08 | - | 45.28 ± 1.73 | 89.75 ± 0.50 (3) | 90.39 ± 0.30 | 70.96 ± 0.51 | 44.68 ± 1.67 |"
has "$M" "| FreeDARTS SNIP (alpha_scale=0.1) | 80.00 ± 2.00 (3) | 92.96 ± 0.52 |"
has "$P" "FreeDARTS SynFlow,alpha_scale=0.001,93.500000,0.500000,3,93.52,0.11,,,0,70.78,0.08,,,0,45.28,1.73,90.250000,0.500000,3,90.39,0.30,70.96,0.51,44.68,1.67,"
# baselines: zc_search (SynFlow, NASWOT) and random records get the paper's baseline rows
base_rec() { # JOB_ID KIND METRIC DATASET SEED C10_TEST C100_TEST IN16_TEST
  jq -n -c --arg id "$1" --arg kind "$2" --arg metric "$3" --arg ds "$4" --argjson seed "$5" \
    --argjson c10 "$6" --argjson c100 "$7" --argjson in16 "$8" '
    {job_id: $id, index: 0, sweep: "baselines",
     params: ({kind: $kind, space: "nb201", dataset: $ds, seed: $seed}
              + (if $metric == "" then {} else {metric: $metric, sample: 1000} end)),
     status: "ok", error: null, attempt: 1, arch: "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|",
     accuracy: {cifar10_valid: ([$c10 - 3, 0] | max), cifar10_test: $c10, cifar100_test: $c100,
                imagenet16_test: $in16}, run: {time_s: {search: 1, job: 1}}}'
}
D5="$WORK/baselines"
mkdir -p "$D5"
{
  base_rec z0 zc_search synflow cifar10 0 93 0 0
  base_rec z1 zc_search synflow cifar10 1 94 0 0
  base_rec z2 zc_search synflow cifar100 0 0 70 0
  base_rec z3 zc_search synflow cifar100 1 0 72 0
  base_rec n0 zc_search naswot cifar10 0 92 0 0
  base_rec n1 zc_search naswot cifar10 1 90 0 0
  base_rec r0 random "" cifar10 0 80 0 0
  base_rec r1 random "" cifar10 1 90 0 0
  base_rec r2 random "" cifar10 2 85 0 0
} > "$D5/results.jsonl"
run_rc "$WORK/base.out" "$WORK/base.err" "$REPORT" "$D5"
[ "$rc" -eq 0 ] || { cat "$WORK/base.err"; fail "baselines report exit $rc"; }
BM="$D5/report/report.md"
has "$BM" "| Zero-cost (per-arch) SynFlow | 93.50 ± 0.71 (2) | 93.45 ± 0.28 | 71.00 ± 1.41 (2) | 70.73 ± 1.36 | - | 43.64 ± 2.42 |"
has "$BM" "| NASWOT | 91.00 ± 1.41 (2) | 92.45 ± 1.12 | - | 68.66 ± 2.02 | - | 41.35 ± 4.08 |"
has "$BM" "| Random | 85.00 ± 5.00 (3) | 86.61 ± 13.46 | - | 60.83 ± 12.58 | - | 33.13 ± 9.66 |"
has "$BM" "| TE-NAS (paper only) | | 93.28 ± 0.25 |"
has "$BM" "| Zero-cost (per-arch) SNIP (paper only) |"
hasnt "$BM" "| Zero-cost (per-arch) SynFlow (paper only)"
hasnt "$BM" "| Random (paper only)"
hasnt "$BM" "FreeDARTS SynFlow |"
has "$D5/report/paper_table.csv" "Random,,85.000000,5.000000,3,86.61,13.46,"
# a zc_search that looked its candidates up in a score table (params.scores) says so
D6="$WORK/baselines_lookup"
mkdir -p "$D6"
{
  base_rec l0 zc_search snip cifar10 0 91 0 0
  base_rec l1 zc_search snip cifar10 1 89 0 0
} | jq -c '.params.scores = "table.jsonl"' > "$D6/results.jsonl"
run_rc "$WORK/lookup.out" "$WORK/lookup.err" "$REPORT" "$D6"
[ "$rc" -eq 0 ] || { cat "$WORK/lookup.err"; fail "lookup report exit $rc"; }
has "$D6/report/report.md" "| Zero-cost (per-arch) SNIP, looked up in a score table | 90.00 ± 1.41 (2) | 91.82 ± 1.56 |"

# alpha-scale curve
A="$R/alpha_scale.csv"
has "$A" "line,dataset,accuracy,alpha_scale,n,mean,std"
has "$A" "SynFlow,cifar10,cifar10_test,1e-05,3,93.000000,0.500000"
has "$A" "SynFlow,cifar10,cifar10_test,0.1,3,91.000000,0.500000"
has "$A" "SNIP,cifar10,cifar10_test,0.001,3,92.500000,2.000000"
has "$M" "| 0.001 | 93.50 ± 0.50 | 92.50 ± 2.00 |"
if [ $have_gnuplot = 1 ]; then
  magic=$(head -c 8 "$R/alpha_scale.png" | od -An -tx1 | tr -d ' \n')
  [ "$magic" = 89504e470d0a1a0a ] || fail "alpha_scale.png is not a PNG (magic $magic)"
  ok "alpha_scale.png is a PNG"
  head -c 200 "$R/alpha_scale.svg" | grep -q '<svg' || fail "alpha_scale.svg is not an SVG"
  ok "alpha_scale.svg is an SVG"
  has "$M" "![test accuracy against the alpha scale](alpha_scale.png)"
else
  echo "skip PNG checks: gnuplot not installed"
fi

# ---- 2. DARTS genotypes ---------------------------------------------------------------------
darts_rec() { # JOB_ID SEED CELLS STATUS NORMAL REDUCE EVAL_PARAMS
  jq -n -c --arg id "$1" --argjson seed "$2" --argjson cells "$3" --arg status "$4" \
    --argjson normal "$5" --argjson red "$6" --argjson ep "$7" '
    {job_id: $id, index: $seed, sweep: "darts_synthetic",
     params: {kind: "search", space: "darts", cells: $cells, channels: 16, dataset: "cifar10",
              metric: "synflow", batch: 1, alpha_scale: 0.001, seed: $seed},
     status: $status, error: null, attempt: 1, degenerate: false,
     supernet: {params: 1930618, macs: 300255744},
     run: {time_s: {search: 0.2, job: 0.2}}}
    + (if $status == "ok" then {arch: "Genotype(...)",
         arch_json: {normal: $normal, normal_concat: [2, 3, 4, 5], "reduce": $red,
                     reduce_concat: [2, 3, 4, 5]},
         eval_net: {cifar10_c36_20cells: {params: $ep, macs: 1}}} else {} end)'
}
D2="$WORK/darts"
mkdir -p "$D2"
{
  # normal, seed 0: sep5 4, sep3 1, dil5 1, skip 1, max 1; seed 1: sep5 1, dil3 1, sep3 3, avg 1, dil5 2
  # reduce, seed 0: max 3, sep5 1, skip 1, dil3 1, avg 1, sep3 1; seed 1: max 2, sep3 1, sep5 2, skip 1, dil5 2
  darts_rec d0 0 8 ok \
    '[["sep_conv_5x5",0],["sep_conv_5x5",1],["sep_conv_3x3",0],["dil_conv_5x5",2],["sep_conv_5x5",1],["skip_connect",0],["sep_conv_5x5",2],["max_pool_3x3",3]]' \
    '[["max_pool_3x3",0],["max_pool_3x3",1],["sep_conv_5x5",0],["skip_connect",2],["max_pool_3x3",1],["dil_conv_3x3",0],["avg_pool_3x3",2],["sep_conv_3x3",3]]' 3000000
  darts_rec d1 1 8 ok \
    '[["sep_conv_5x5",0],["dil_conv_3x3",1],["sep_conv_3x3",0],["sep_conv_3x3",1],["avg_pool_3x3",0],["dil_conv_5x5",2],["sep_conv_3x3",3],["dil_conv_5x5",1]]' \
    '[["max_pool_3x3",0],["sep_conv_3x3",1],["max_pool_3x3",0],["sep_conv_5x5",2],["sep_conv_5x5",1],["skip_connect",0],["dil_conv_5x5",3],["dil_conv_5x5",1]]' 3200000
  darts_rec d2 2 8 nan_score null null 0
  darts_rec e0 0 20 ok \
    '[["sep_conv_5x5",0],["sep_conv_5x5",1],["sep_conv_5x5",0],["sep_conv_5x5",1],["sep_conv_5x5",0],["sep_conv_5x5",1],["sep_conv_5x5",0],["sep_conv_5x5",1]]' \
    '[["max_pool_3x3",0],["max_pool_3x3",1],["max_pool_3x3",0],["max_pool_3x3",1],["max_pool_3x3",0],["max_pool_3x3",1],["max_pool_3x3",0],["max_pool_3x3",1]]' 5000000
  # one NB201 record: the DARTS rows show "-" in its accuracy columns
  nb201_rec n0 10 synflow 0.001 0 ok 1 "$(acc_json synflow 1 1)" 0.1
} > "$D2/results.jsonl"
run_rc "$WORK/darts.out" "$WORK/darts.err" "$REPORT" "$D2" --out "$WORK/darts_report" --quiet
[ "$rc" -eq 0 ] || { cat "$WORK/darts.err"; fail "darts report exit $rc"; }
[ ! -s "$WORK/darts.out" ] || fail "--quiet printed to stdout"
ok "darts: exit 0, --quiet silent"
O="$WORK/darts_report/darts_ops.csv"
G8="darts cells=8 dataset=cifar10 metric=synflow"
has "$O" "group,cell,op,count,total,fraction,paper_search,paper_count,paper_total,paper_fraction"
has "$O" "$G8,normal,sep_conv_5x5,5,16,0.312500,\"SynFlow, 8 cells\",12,40,0.300000"
has "$O" "$G8,normal,sep_conv_3x3,4,16,0.250000,\"SynFlow, 8 cells\",9,40,0.225000"
has "$O" "$G8,normal,dil_conv_5x5,3,16,0.187500,\"SynFlow, 8 cells\",9,40,0.225000"
has "$O" "$G8,normal,dil_conv_3x3,1,16,0.062500,\"SynFlow, 8 cells\",4,40,0.100000"
has "$O" "$G8,normal,skip_connect,1,16,0.062500,\"SynFlow, 8 cells\",0,40,0.000000"
has "$O" "$G8,normal,max_pool_3x3,1,16,0.062500,\"SynFlow, 8 cells\",2,40,0.050000"
has "$O" "$G8,normal,avg_pool_3x3,1,16,0.062500,\"SynFlow, 8 cells\",4,40,0.100000"
has "$O" "$G8,reduce,max_pool_3x3,5,16,0.312500,\"SynFlow, 8 cells\",1,40,0.025000"
has "$O" "$G8,reduce,sep_conv_5x5,3,16,0.187500,\"SynFlow, 8 cells\",11,40,0.275000"
has "$O" "$G8,reduce,sep_conv_3x3,2,16,0.125000,\"SynFlow, 8 cells\",13,40,0.325000"
has "$O" "$G8,reduce,skip_connect,2,16,0.125000,\"SynFlow, 8 cells\",2,40,0.050000"
has "$O" "$G8,reduce,dil_conv_5x5,2,16,0.125000,\"SynFlow, 8 cells\",9,40,0.225000"
has "$O" "$G8,reduce,dil_conv_3x3,1,16,0.062500,\"SynFlow, 8 cells\",0,40,0.000000"
has "$O" "$G8,reduce,avg_pool_3x3,1,16,0.062500,\"SynFlow, 8 cells\",4,40,0.100000"
has "$O" "darts cells=20 dataset=cifar10 metric=synflow,normal,sep_conv_5x5,8,8,1.000000,\"SynFlow, 20 cells\",11,40,0.275000"
has "$O" "darts cells=20 dataset=cifar10 metric=synflow,reduce,max_pool_3x3,8,8,1.000000,\"SynFlow, 20 cells\",13,40,0.325000"
# the counts again, independently with jq, from the records
for cell in normal reduce; do
  want=$(jq -r "select(.status == \"ok\" and .params.cells == 8) | .arch_json[\"$cell\"][][0]" \
           "$D2/results.jsonl" | sort | uniq -c | awk '{ printf "%s=%s ", $2, $1 }')
  got=$(awk -F, -v g="$G8" -v c="$cell" '$1 == g && $2 == c && $4 > 0 { print $3 "=" $4 }' "$O" \
          | sort | tr '\n' ' ')
  [ "$want" = "$got" ] || fail "darts $cell counts: jq $want, report $got"
  ok "darts $cell counts match jq: $got"
done
# the distance to §7.4 (analysis/op_stats.h): TV by hand from the counts above, 8 cells normal
# 1/2 (.0125 + .025 + .0375 + .0375 + .0625 + .0125 + .0375) = .1125; 20 cells: 1 - 11/40, 1 - 13/40
OS="$WORK/darts_report/darts_opstats.csv"
has "$OS" "group,cell,genotypes,degenerate,paper_search,ops,paper_ops,tv,boot_lo,boot_hi,null_q95,p_value,verdict"
has "$OS" "$G8,normal,2,0,\"SynFlow, 8 cells\",16,40,0.112500,"
has "$OS" "darts cells=20 dataset=cifar10 metric=synflow,normal,1,0,\"SynFlow, 20 cells\",8,40,0.725000,"
has "$OS" "darts cells=20 dataset=cifar10 metric=synflow,reduce,1,0,\"SynFlow, 20 cells\",8,40,0.675000,"
DM="$WORK/darts_report/report.md"
has "$DM" "### Distance to FreeDARTS's op distributions (docs/METHOD.md §7.4)"
has "$DM" "| sep_conv_5x5 | 5 | 31.2 | 12 | 30.0 | 3 | 18.8 | 11 | 27.5 |"
has "$DM" "| total | 16 | | 40 | | 16 | | 40 | |"
has "$DM" "| space | dataset | metric | cells | jobs | ok | failed | C10 valid | C10 test | C100 test | IN16 test | time [ms] | supernet params [M] | eval-net cifar10_c36_20cells params [M] |"
has "$DM" "| darts | cifar10 | synflow | 8 | 3 | 2 | 1 | - | - | - | - | 200.0 ± 0.0 | 1.931 | 3.100 ± 0.141 |"
has "$DM" "| nb201 | cifar10 | synflow | 5 | 1 | 1 | 0 | 90.25 | 93.50 | 71.00 | 46.00 | 100.0 | - | - |"
if [ $have_gnuplot = 1 ]; then
  png="$WORK/darts_report/darts_ops_darts_8cells_cifar10_synflow.png"
  [ "$(head -c 8 "$png" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] || fail "$png is not a PNG"
  ok "darts_ops png is a PNG"
fi

# ---- 3. score records: rank correlations --------------------------------------------------
# score records as freenas_sweep writes them: proxy_direction beside proxies (the registry's
# sign: ntk_cond smaller is better, the others larger), and with an arch its unreachable_ops
score_rec() { # JOB_ID NB201_INDEX SEED PROXIES_JSON [ACCURACY_JSON [ARCH UNREACHABLE_OPS]]
  jq -n -c --arg id "$1" --argjson i "$2" --argjson seed "$3" --argjson p "$4" \
    --argjson acc "${5:-null}" --arg arch "${6:-}" --argjson unr "${7:-null}" '
    {job_id: $id, index: $i, sweep: "scores",
     params: {kind: "score", space: "nb201", dataset: "cifar10", batch: 64, seed: $seed,
              nb201_index: $i},
     status: "ok", error: null, attempt: 1, nb201_index: $i, proxies: $p,
     proxy_direction: ($p | with_entries(.value = (if .key == "ntk_cond" then -1 else 1 end)))}
    + (if $acc == null then {} else {accuracy: $acc} end)
    + (if $arch == "" then {} else {arch: $arch, unreachable_ops: $unr} end)'
}
D3="$WORK/scores"
mkdir -p "$D3"
# archs 0..59 of the benchmark: synflow = cifar10_test (perfect), snip = -cifar10_test
# (reversed), naswot = floor(cifar100_test / 4) (ties), NaN (null) for every 10th arch and
# "-inf" (a singular K: ranked below all, tied) for archs 7, 17, 27.
# Column 4 of gt.txt: 1 when the cell has no unreachable op, by the path rule (an op counts
# when one of the input->output paths 0-3, 0-1-3, 0-2-3, 0-1-2-3 runs through it, none-free);
# column 5 the number of unreachable ops, the record's unreachable_ops.
awk -F'\t' 'NR > 1 && NR <= 61 {
    n = split($2, t, "|"); k = 0
    for (j = 1; j <= n; j++) if (t[j] != "" && t[j] != "+") { sub(/~.*/, "", t[j]); e[k++] = t[j] != "none" }
    live[0] = live[1] = live[2] = live[3] = live[4] = live[5] = 0
    if (e[3]) live[3] = 1
    if (e[0] && e[4]) live[0] = live[4] = 1
    if (e[1] && e[5]) live[1] = live[5] = 1
    if (e[0] && e[2] && e[5]) live[0] = live[2] = live[5] = 1
    unr = 0
    for (j = 0; j < 6; j++) if (e[j] && !live[j]) unr++
    print $1, $4, $5, unr == 0, unr, $2 }' "$TSV" > "$WORK/gt.txt"
{
  while read -r i c10 c100 clean unr arch; do
    naswot=$(awk -v i="$i" -v v="$c100" 'BEGIN { if (i % 10 == 3) print "null"
      else if (i % 10 == 7 && i < 30) print "\"-inf\""; else print int(v / 4) }')
    if [ "$i" -lt 10 ]; then   # two seeds: +-1 around the value, averaged back by the report
      lo=$(awk -v v="$c10" 'BEGIN { printf "%.8f", v - 1 }')
      hi=$(awk -v v="$c10" 'BEGIN { printf "%.8f", v + 1 }')
      score_rec "s${i}a" "$i" 0 "{\"synflow\":$lo,\"snip\":-$hi,\"naswot\":$naswot}" null "$arch" "$unr"
      score_rec "s${i}b" "$i" 1 "{\"synflow\":$hi,\"snip\":-$lo,\"naswot\":$naswot}" null "$arch" "$unr"
    else
      score_rec "s$i" "$i" 0 "{\"synflow\":$c10,\"snip\":-$c10,\"naswot\":$naswot}" null "$arch" "$unr"
    fi
  done < "$WORK/gt.txt"
} > "$D3/results.jsonl"
run_rc "$WORK/scores.out" "$WORK/scores.err" "$REPORT" "$D3" --benchmark "$TSV"
[ "$rc" -eq 0 ] || { cat "$WORK/scores.err"; fail "scores report exit $rc"; }
ok "scores: exit 0"
C="$D3/report/correlations.csv"
GS="space=nb201 dataset=cifar10"
has "$C" "group,dataset,proxy,ground_truth,n,nan_proxy,missing_ground_truth,spearman_rho,kendall_tau_b,n_no_unreachable,spearman_rho_no_unreachable,kendall_tau_b_no_unreachable,paper_abs_rho"
nclean=$(awk '$4 == 1' "$WORK/gt.txt" | wc -l)
[ "$nclean" -gt 10 ] && [ "$nclean" -lt 60 ] || fail "archs 0..59: $nclean without unreachable ops (want a proper subset)"
has "$C" "$GS,cifar10,synflow,cifar10_test,60,0,0,1.000000,1.000000,$nclean,1.000000,1.000000,0.737"
has "$C" "$GS,cifar10,snip,cifar10_test,60,0,0,-1.000000,-1.000000,$nclean,-1.000000,-1.000000,0.596"
has "$C" "$GS,cifar10,naswot,cifar100_test,54,6,0,"
# naswot vs cifar100_test: brute-force tau-b and Pearson of average ranks in awk, over all
# and over the archs without unreachable ops (SUB=1)
brute='$1 % 10 != 3 && (!SUB || $4 == 1) { n++; x[n] = ($1 % 10 == 7 && $1 < 30) ? -1e300 : int($3 / 4); y[n] = $3 }
  function ranks(v, r,   i, j, less, eq) {
    for (i = 1; i <= n; i++) { less = 0; eq = 0
      for (j = 1; j <= n; j++) { less += v[j] < v[i]; eq += v[j] == v[i] }
      r[i] = 1 + less + (eq - 1) / 2 } }
  END {
    for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) {
      dx = x[i] - x[j]; dy = y[i] - y[j]; n0++
      if (dx == 0) tx++; if (dy == 0) ty++
      if (dx * dy > 0) cc++; else if (dx * dy < 0) dd++ }
    tau = (cc - dd) / sqrt((n0 - tx) * (n0 - ty))
    ranks(x, rx); ranks(y, ry)
    for (i = 1; i <= n; i++) { mx += rx[i] / n; my += ry[i] / n }
    for (i = 1; i <= n; i++) { sxy += (rx[i] - mx) * (ry[i] - my); sxx += (rx[i] - mx) ^ 2; syy += (ry[i] - my) ^ 2 }
    printf "%.6f,%.6f", sxy / sqrt(sxx * syy), tau }'
want=$(awk -v SUB=0 "$brute" "$WORK/gt.txt")
nsub=$(awk '$1 % 10 != 3 && $4 == 1' "$WORK/gt.txt" | wc -l)
want_sub=$(awk -v SUB=1 "$brute" "$WORK/gt.txt")
has "$C" "$GS,cifar10,naswot,cifar100_test,54,6,0,$want,$nsub,$want_sub,"
SM="$D3/report/report.md"
has "$SM" "### space=nb201 dataset=cifar10 (60 architectures, 70 records; the records of one architecture merged: one per proxy, seeds averaged)"
has "$SM" "| synflow | cifar10_test | 60 | 0 | 0 | 1.0000 | 1.0000 | $nclean | 1.0000 | 1.0000 | 0.737 |"
has "$SM" "ground truth (from the --benchmark table nb201_accuracy.tsv)"
hasnt "$SM" "$SHARED"
# without --benchmark: the records' accuracy object
D4="$WORK/scores_acc"
mkdir -p "$D4"
jc=(0 3 1 4 1 5)   # jacob_cov of archs 1..5
for i in 1 2 3 4 5; do
  score_rec "t$i" "$i" 0 "{\"synflow\":$((i * i)),\"snip\":$((10 - i)),\"jacob_cov\":${jc[$i]}}" \
    "{\"cifar10_valid\":$((80 + i)),\"cifar10_test\":$((90 + i))}"
done > "$D4/results.jsonl"
run_rc "$WORK/acc.out" "$WORK/acc.err" "$REPORT" "$D4"
[ "$rc" -eq 0 ] || fail "scores_acc report exit $rc"
# ranking against cifar10_valid (80 + i: arch j above i when j > i), 20 ordered pairs: synflow
# (i^2) orders all right, snip (10 - i) all wrong. jacob_cov 3 1 4 1 5: its pairs with
# jc_i < jc_j (i < j) are right both ways (6 pairs: 12), jc_i > jc_j wrong both ways (3 pairs:
# 0), the tie (archs 2, 4) right one way: 13 / 20. The vote (2 of 3 greater): synflow and snip
# always split, so jacob_cov decides every pair (a tie: no majority): also 13 / 20. 5 archs are
# too few for the top-10 % statistics: empty.
A="$D4/report/ranking.csv"
has "$A" "group,dataset,predictor,direction,ground_truth,n,nan_scores,ordered_pairs,agreement,paper_vote,n_top10,spearman_rho_top10,kendall_tau_b_top10,top10_in_top10_pct,top64_in_top5"
has "$A" "$GS,cifar10,synflow,1,cifar10_valid,5,0,20,1.000000,,,,,,"
has "$A" "$GS,cifar10,snip,1,cifar10_valid,5,0,20,0.000000,,"
has "$A" "$GS,cifar10,jacob_cov,1,cifar10_valid,5,0,20,0.650000,,"
has "$A" "$GS,cifar10,vote,1,cifar10_valid,5,0,20,0.650000,0.817,,,,,"
has "$D4/report/report.md" "| vote (synflow, jacob_cov, snip) | cifar10_valid | 5 | 0 | 0.6500 | 0.817 | - | - | - | - | - |"
# 100 archs, cifar10_valid = i: synflow = i (perfect), snip = -i (reversed), jacob_cov = 7 for
# all (every pair tied), naswot = NaN on arch 99 and i elsewhere, ntk_cond = -i (smaller is
# better in the registry: negated, so it ranks as synflow). Top 10 % = archs 90..99, top
# 5 % = 95..99. synflow: rho = tau = 1 there, 100 % of the top 10 % shared, all 5 of the top 5 %
# in its top 64. snip: rho = tau = -1, 0 %, 0. jacob_cov: agreement 0.5; random tie-breaking
# puts each arch in its top 10 with probability 10/100: 10 %, and 5 x 64/100 = 3.2 of the top
# 5 % in its top 64; rho undefined. naswot: agreement over all 100 archs, arch 99's 99 pairs
# right in one order of two: (9702 + 99) / 9900 = 0.99; without arch 99 (99 archs) the top 9
# (floor) = 90..98 by both, 100 %, and the top 5 % = 4 archs (floor(99/20)), all in its top 64.
# The vote: synflow and snip split, jacob_cov ties: no majority, every pair right in one order.
D5="$WORK/scores_rank"
mkdir -p "$D5"
for i in $(seq 0 99); do
  nw=$([ "$i" -eq 99 ] && echo null || echo "$i")
  score_rec "r$i" "$i" 0 "{\"synflow\":$i,\"snip\":-$i,\"jacob_cov\":7,\"naswot\":$nw,\"ntk_cond\":-$i}" \
    "{\"cifar10_valid\":$i}"
done > "$D5/results.jsonl"
run_rc "$WORK/rank.out" "$WORK/rank.err" "$REPORT" "$D5"
[ "$rc" -eq 0 ] || { cat "$WORK/rank.err"; fail "scores_rank report exit $rc"; }
R="$D5/report/ranking.csv"
has "$R" "$GS,cifar10,synflow,1,cifar10_valid,100,0,9900,1.000000,,10,1.000000,1.000000,100.0000,5.0000"
has "$R" "$GS,cifar10,snip,1,cifar10_valid,100,0,9900,0.000000,,10,-1.000000,-1.000000,0.0000,0.0000"
has "$R" "$GS,cifar10,jacob_cov,1,cifar10_valid,100,0,9900,0.500000,,10,,,10.0000,3.2000"
has "$R" "$GS,cifar10,naswot,1,cifar10_valid,100,1,9900,0.990000,,9,1.000000,1.000000,100.0000,4.0000"
has "$R" "$GS,cifar10,vote,1,cifar10_valid,100,0,9900,0.500000,0.817,,,,,"
has "$R" "$GS,cifar10,ntk_cond,-1,cifar10_valid,100,0,9900,1.000000,,10,1.000000,1.000000,100.0000,5.0000"
has "$D5/report/report.md" "| ntk_cond (smaller is better) | cifar10_valid | 100 | 0 | 1.0000 |"
has "$D5/report/report.md" "| synflow | cifar10_valid | 100 | 0 | 1.0000 | - | 10 | 1.0000 | 1.0000 | 100.0 | 5.0 |"
# without jacob_cov there is no vote row
hasnt "$D3/report/ranking.csv" ",vote,"
has "$D3/report/ranking.csv" "$GS,cifar10,synflow,1,cifar10_valid,60,0,"
# (no arch strings: the subset is empty, its correlations blank)
has "$D4/report/correlations.csv" "$GS,cifar10,synflow,cifar10_valid,5,0,0,1.000000,1.000000,0,,,0.737"
has "$D4/report/correlations.csv" "$GS,cifar10,snip,cifar10_test,5,0,0,-1.000000,-1.000000,0,,,0.596"
hasnt "$D4/report/correlations.csv" "cifar100_test"
# records written before freenas_sweep recorded unreachable_ops and proxy_direction (or
# without an arch): the architectures are left out of the subset, the proxies taken as larger
# is better, and report.md says so; records that carry both get neither note
has "$D4/report/report.md" "5 architectures without an \`unreachable_ops\` count in their records"
hasnt "$SM" "without an \`unreachable_ops\` count"
hasnt "$SM" "without a \`proxy_direction\`"
D6="$WORK/scores_old"
mkdir -p "$D6"
jq -c 'del(.unreachable_ops, .proxy_direction)' "$D3/results.jsonl" > "$D6/results.jsonl"
run_rc "$WORK/old.out" "$WORK/old.err" "$REPORT" "$D6" --benchmark "$TSV"
[ "$rc" -eq 0 ] || { cat "$WORK/old.err"; fail "scores_old report exit $rc"; }
has "$D6/report/correlations.csv" "$GS,cifar10,synflow,cifar10_test,60,0,0,1.000000,1.000000,0,,,0.737"
has "$D6/report/report.md" "60 architectures without an \`unreachable_ops\` count in their records (written before freenas_sweep recorded it)"
has "$D6/report/report.md" "Proxies without a \`proxy_direction\` in their records (written before freenas_sweep recorded it), taken as larger is better: synflow, snip, naswot."
# ntk_cond without its direction: larger taken as better, so it ranks as snip (all reversed)
D7="$WORK/scores_rank_old"
mkdir -p "$D7"
jq -c 'del(.proxy_direction)' "$D5/results.jsonl" > "$D7/results.jsonl"
run_rc "$WORK/rank_old.out" "$WORK/rank_old.err" "$REPORT" "$D7"
[ "$rc" -eq 0 ] || { cat "$WORK/rank_old.err"; fail "scores_rank_old report exit $rc"; }
has "$D7/report/ranking.csv" "$GS,cifar10,ntk_cond,1,cifar10_valid,100,0,9900,0.000000,,10,-1.000000,-1.000000,0.0000,0.0000"
has "$D7/report/report.md" "taken as larger is better: synflow, snip, jacob_cov, naswot, ntk_cond."

# ---- 4. bad input ---------------------------------------------------------------------------
mkdir -p "$WORK/empty"
run_rc "$WORK/e.out" "$WORK/e.err" "$REPORT" "$WORK/empty"
[ "$rc" -eq 2 ] || fail "empty dir: exit $rc, want 2"
has "$WORK/e.err" "freenas_report: $WORK/empty: no results.jsonl (hint: is this a freenas_sweep output directory?)"
run_rc "$WORK/e.out" "$WORK/e.err" "$REPORT" "$WORK/does_not_exist"
[ "$rc" -eq 2 ] || fail "missing dir: exit $rc, want 2"
has "$WORK/e.err" "freenas_report: $WORK/does_not_exist: no results.jsonl (hint: is this a freenas_sweep output directory?)"
run_rc "$WORK/e.out" "$WORK/e.err" "$REPORT" "$D1" --benchmark "$WORK/none.tsv"
[ "$rc" -eq 2 ] || fail "missing benchmark: exit $rc, want 2"
has "$WORK/e.err" "freenas_report: cannot open NB201 table '$WORK/none.tsv': No such file or directory"
run_rc "$WORK/e.out" "$WORK/e.err" "$REPORT" "$D1" --bogus
[ "$rc" -eq 2 ] || fail "unknown option: exit $rc, want 2"
has "$WORK/e.err" "freenas_report: unknown option '--bogus' (hint: freenas_report --help)"
run_rc "$WORK/e.out" "$WORK/e.err" "$REPORT" --help
[ "$rc" -eq 0 ] || fail "--help: exit $rc"
has "$WORK/e.out" "usage: freenas_report RESULTS_DIR"
# torn last line: a warning, the rest as before
D5="$WORK/torn"
mkdir -p "$D5"
cp "$D1/results.jsonl" "$D5/"
printf '{"job_id":"sy0000","index":0,"sweep":"synth' >> "$D5/results.jsonl"
run_rc "$WORK/t.out" "$WORK/t.err" "$REPORT" "$D5"
[ "$rc" -eq 0 ] || fail "torn: exit $rc, want 0"
has "$WORK/t.err" "$D5/results.jsonl:23: torn last line ignored"
cmp "$D1/report/search_table.csv" "$D5/report/search_table.csv" || fail "torn line changed the table"
ok "torn: search_table.csv unchanged"
has "$D5/report/report.md" "| records | 22 in 23 lines of results.jsonl; torn last line ignored |"
# a malformed line in the middle: reported with its line, skipped, counted
D6="$WORK/malformed"
mkdir -p "$D6"
{ head -n 4 "$D1/results.jsonl"; echo '{"job_id": "x", oops}'; echo '[1, 2]'; echo '{"job_id":"y","status":"ok"}'; tail -n +5 "$D1/results.jsonl"; } > "$D6/results.jsonl"
run_rc "$WORK/m.out" "$WORK/m.err" "$REPORT" "$D6"
[ "$rc" -eq 0 ] || fail "malformed: exit $rc, want 0"
has "$WORK/m.err" "$D6/results.jsonl:5: error: invalid JSON at column"
has "$WORK/m.err" "; line skipped"
has "$WORK/m.err" "$D6/results.jsonl:6: error: not a JSON object; line skipped"
has "$WORK/m.err" "$D6/results.jsonl:7: error: record y has no \"params\" object; line skipped"
has "$D6/report/report.md" "| records | 22 in 25 lines of results.jsonl; 3 malformed lines skipped |"
cmp "$D1/report/search_table.csv" "$D6/report/search_table.csv" || fail "malformed lines changed the table"
ok "malformed: search_table.csv unchanged"
# no ok records: the report says so
D7="$WORK/all_failed"
mkdir -p "$D7"
{ nb201_rec f1 0 synflow 0.001 0 data_error 1 null 0; nb201_rec f2 1 synflow 0.001 1 out_of_memory 1 null 0; } > "$D7/results.jsonl"
run_rc "$WORK/f.out" "$WORK/f.err" "$REPORT" "$D7"
[ "$rc" -eq 0 ] || fail "no ok records: exit $rc, want 0"
has "$D7/report/report.md" "**No job finished ok**"
has "$D7/report/report.md" "| jobs | 2: 0 ok, 2 failed |"
has "$D7/report/report.md" "| nb201 | cifar10 | synflow | 2 | 0 | 2 |"
# an empty results.jsonl: a report with no records
D8="$WORK/no_records"
mkdir -p "$D8"
: > "$D8/results.jsonl"
run_rc "$WORK/n.out" "$WORK/n.err" "$REPORT" "$D8"
[ "$rc" -eq 0 ] || fail "empty results.jsonl: exit $rc, want 0"
has "$D8/report/report.md" "No search records."
# gnuplot missing: tables written, figures skipped, exit 0
run_rc "$WORK/g.out" "$WORK/g.err" env PATH=/nonexistent "$REPORT" "$D1" --out "$WORK/nogp"
[ "$rc" -eq 0 ] || fail "no gnuplot: exit $rc, want 0"
has "$WORK/g.err" "freenas_report: warning: gnuplot not found in PATH: figures skipped, tables written"
[ -s "$WORK/nogp/alpha_scale.csv" ] && [ -s "$WORK/nogp/alpha_scale.gp" ] && [ ! -e "$WORK/nogp/alpha_scale.png" ] \
  || fail "no gnuplot: expected the CSV and .gp, and no PNG"
ok "no gnuplot: CSV and .gp written, no PNG"
has "$WORK/nogp/report.md" "(figure not drawn: gnuplot not found)"
# gnuplot present but failing: an error, exit 1, the report still written
run_rc "$WORK/g.out" "$WORK/g.err" env FREENAS_GNUPLOT=false "$REPORT" "$D1" --out "$WORK/badgp"
[ "$rc" -eq 1 ] || fail "failing gnuplot: exit $rc, want 1"
has "$WORK/g.err" "freenas_report: error: false failed on $WORK/badgp/alpha_scale.gp (exit status 1)"
has "$WORK/badgp/report.md" "(figure not drawn: gnuplot failed)"

echo "PASS: $checks checks"
