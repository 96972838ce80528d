#!/usr/bin/env bash
# bench/run_hnas_ntk_torch.sh: freenas's HNAS metrics (hnas_ntk_trace = M, hnas_ntk_cond = kappa,
# hnas_grad_norm, hnas_snip) against PyTorch on full NAS-Bench-201 networks (hnas/README.md,
# "M and kappa against PyTorch"; bench/pytorch/hnas_ntk_torch.py says what PyTorch computes).
#  1. same weights, same batch: for each of SAME_INDICES the PyTorch script draws ZC's
#     NAS201Model weights and an augmented CIFAR-10 batch of 64, computes the values and writes
#     weights, batch and values to an FNREF001 file; ./build/bin/hnas_ntk_ref loads them into
#     freenas's network graph and computes the values with the proxies' own code. Tolerance:
#     relative 2e-3 on M in float32 (the run fails beyond it): PyTorch's own float32 M differs
#     from its float64 M by up to 5.6e-4 on the deep all-conv networks, so 1e-4 holds only for
#     shallow ones; kappa, grad_norm and snip are reported.
#     Then the same in float64 on both sides (the float32 draws cast exactly; hnas_ntk_ref
#     --f64): agreement there to ~1e-10 shows that a float32 difference is rounding, amplified
#     by the network, and not a difference in what is computed.
#  2. distribution: for every STRIDE-th index (0, 156, ... : 101 architectures) PyTorch's own
#     init and a fresh augmented batch (ZC's normalisation, as HNAS's loader) against freenas's
#     shipped whole-space table (build/share/freenas/data/hnas/nb201_cifar10_whole_seed0.tsv):
#     median ratio of M (PyTorch / freenas) and Spearman rho across architectures of M, kappa,
#     grad_norm and snip, and of M and kappa without the input-independent networks (freenas
#     M = 1: PyTorch's float32 M of those is rounding noise, hnas/README.md).
#  3. control: freenas's own values under seed 1 for the same indices (freenas hnas-table
#     --seed 1) against the shipped seed-0 table: the rank correlation a fresh draw of weights
#     and batch alone allows, the ceiling for stage 2's.
# Writes bench/results/hnas_ntk_vs_torch.json (--json FILE). PyTorch comes from $TORCH_PYTHON,
# else bench/.venv (bench/torch_python.sh); one thread (--threads), under nice. About 4 min on
# one core of this project's Xeon (1.3 s per architecture in PyTorch), over 10 min when shared.
#   bash bench/run_hnas_ntk_torch.sh [--same 0,1462,...] [--stride 156] [--threads 1]
#                                    [--json FILE] [--data DIR] [--keep DIR]
# --keep DIR keeps the intermediates (PyTorch's FNREF001 files and JSON lines) in DIR, and a
# rerun with the same DIR reuses the PyTorch stages already finished there.
set -euo pipefail
cd "$(dirname "$0")/.."
SAME=0,1462,8604,1651,3840,7581,14203,5159,5978,6330,11736 STRIDE=156 THREADS=1 JSON="" KEEP=""
DATA=${FREENAS_DATA:-../shared/data}
while [ $# -gt 0 ]; do
  case "$1" in
    --same) SAME=$2; shift 2 ;;
    --stride) STRIDE=$2; shift 2 ;;
    --threads) THREADS=$2; shift 2 ;;
    --json) JSON=$2; shift 2 ;;
    --data) DATA=$2; shift 2 ;;
    --keep) KEEP=$2; shift 2 ;;
    -h|--help) sed -n '2,30p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "run_hnas_ntk_torch.sh: unknown argument '$1' (--help)" >&2; exit 2 ;;
  esac
done
[ -n "$JSON" ] || JSON=bench/results/hnas_ntk_vs_torch.json
SHARE=build/share/freenas/data
TABLE=$SHARE/nb201/nb201_accuracy.tsv HNAS=$SHARE/hnas/nb201_cifar10_whole_seed0.tsv
for f in build/bin/hnas_ntk_ref "$TABLE" "$HNAS"; do
  [ -e "$f" ] || { echo "$f missing: build first (cmake --build build)" >&2; exit 2; }
done
command -v jq > /dev/null || { echo "jq is needed (scripts/install_deps.sh)" >&2; exit 2; }
source bench/torch_python.sh # PY: $TORCH_PYTHON or bench/.venv
if [ -n "$KEEP" ]; then # intermediates kept there; a rerun reuses the finished stages
  tmp=$KEEP; mkdir -p "$tmp"
else
  tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fi
export OMP_NUM_THREADS=$THREADS OPENBLAS_NUM_THREADS=1

echo "# 1. same weights, same batch: $SAME" >&2
[ -s "$tmp/same_torch.jsonl" ] ||
  nice "$PY" bench/pytorch/hnas_ntk_torch.py same --indices "$SAME" --table "$TABLE" --data "$DATA" \
      --threads "$THREADS" --out "$tmp" > "$tmp/same_torch.jsonl"
files=()
for i in ${SAME//,/ }; do files+=("$tmp/arch$i.bin"); done
same_rc=0
nice ./build/bin/hnas_ntk_ref --tol 2e-3 "${files[@]}" > "$tmp/same.jsonl" || same_rc=$?
[ "$same_rc" -le 1 ] || { echo "hnas_ntk_ref failed ($same_rc)" >&2; exit 1; }
f64_rc=0
nice ./build/bin/hnas_ntk_ref --f64 --tol 1e-8 "${files[@]}" > "$tmp/same64.jsonl" || f64_rc=$?
[ "$f64_rc" -le 1 ] || { echo "hnas_ntk_ref --f64 failed ($f64_rc)" >&2; exit 1; }
[ "$f64_rc" -eq 0 ] || same_rc=1

echo "# 2. distribution: every ${STRIDE}th index, PyTorch's init and batch vs the shipped table" >&2
idx=$(seq -s, 0 "$STRIDE" 15624)
[ -s "$tmp/dist_torch.jsonl" ] ||
  nice "$PY" bench/pytorch/hnas_ntk_torch.py dist --indices "$idx" --table "$TABLE" --data "$DATA" \
      --threads "$THREADS" > "$tmp/dist_torch.jsonl"
echo "# 3. control: freenas seed 1 on the same indices" >&2
nice ./build/bin/freenas hnas-table --out "$tmp/seed1.tsv" --seed 1 --stride "$STRIDE" --offset 0 \
    --proxy hnas_ntk_trace,hnas_ntk_cond,hnas_grad_norm,hnas_snip --data "$DATA" > /dev/null
tsv2json() { grep -v '^#' "$1" | jq -R -s 'split("\n") | map(select(length > 0) | split("\t"))
  | .[0] as $h | .[1:] | map([$h, .] | transpose | map({(.[0]): (.[1] | tonumber? // null)}) | add)'; }
tsv2json "$tmp/seed1.tsv" > "$tmp/seed1.json"
grep -v '^#' "$HNAS" | jq -R -s 'split("\n") | map(select(length > 0) | split("\t"))
  | .[0] as $h | .[1:] | map([$h, .] | transpose | map({(.[0]): (.[1] | tonumber? // null)}) | add)' \
  > "$tmp/table.json"

jq -n --slurpfile same "$tmp/same.jsonl" --slurpfile same64 "$tmp/same64.jsonl" --slurpfile dist "$tmp/dist_torch.jsonl" \
      --slurpfile table "$tmp/table.json" --slurpfile seed1 "$tmp/seed1.json" \
      --slurpfile st "$tmp/same_torch.jsonl" --arg machine "$(lscpu | sed -n 's/^Model name: *//p' | head -1)" \
      --argjson stride "$STRIDE" --argjson threads "$THREADS" '
  def ratio($a; $b): map(select(.[$b] != null and .[$b] != 0) | .[$a] / .[$b]);
  def med: sort | if length % 2 == 1 then .[length / 2 | floor] else (.[length / 2 - 1] + .[length / 2]) / 2 end;
  def ranks: . as $v | ($v | to_entries | sort_by(.value)) as $s
    | reduce range(0; $s | length) as $i ({}; .[$s[$i].key | tostring] = $i)
    | . as $r | [range(0; $v | length) | $r[tostring]]
    | . as $raw | [range(0; length) as $i | ($v[$i]) as $x
       | ([range(0; $v | length) | select($v[.] == $x) | $raw[.]] | add / length)];
  def pearson($a; $b): ($a | add / length) as $ma | ($b | add / length) as $mb
    | ([range(0; $a | length) | ($a[.] - $ma) * ($b[.] - $mb)] | add)
      / ((([$a[] | (. - $ma) * (. - $ma)] | add) * ([$b[] | (. - $mb) * (. - $mb)] | add)) | sqrt);
  def spearman($a; $b): pearson($a | ranks; $b | ranks);
  ($table[0] | map({(.index | tostring): .}) | add) as $t |
  [$dist[] | . as $p | $t[.index | tostring] as $f
   | {index, arch, M_torch: .M, M_freenas: $f.hnas_ntk_trace, kappa_torch: .kappa,
      kappa_freenas: $f.hnas_ntk_cond, grad_norm_torch: .grad_norm, grad_norm_freenas: $f.hnas_grad_norm,
      snip_torch: .snip, snip_freenas: $f.hnas_snip}] as $rows |
  ($rows | map(select(.kappa_torch > 0 and .kappa_freenas > 0 and .kappa_torch < 1e9 and .kappa_freenas < 1e9))) as $kr |
  ($st | map({(.index | tostring): .}) | add) as $tt |
  ($seed1[0] | map({(.index | tostring): .}) | add) as $s1 |
  ($rows | map(select($s1[.index | tostring]) | . as $r | $s1[.index | tostring] as $o
   | {M: $o.hnas_ntk_trace, M0: $r.M_freenas, kappa: $o.hnas_ntk_cond, kappa0: $r.kappa_freenas,
      grad_norm: $o.hnas_grad_norm, grad_norm0: $r.grad_norm_freenas, snip: $o.hnas_snip,
      snip0: $r.snip_freenas})) as $c |
  {machine: $machine, threads: $threads, torch: $dist[0].torch,
   same_weights: {tolerance_M_rel: 2e-3, architectures: ($same | length),
     pytorch_f32_vs_f64_M_rel: ($same | map($tt[.index | tostring] | ((.M - .M_f64) / .M_f64) | fabs) | max),
     freenas_f32_vs_pytorch_f64_M_rel: ($same | map(. as $r | $tt[.index | tostring]
       | (($r.freenas.M - .M_f64) / .M_f64) | fabs) | max),
     max_rel: {M: ($same | map(.rel.M) | max), kappa: ($same | map(.rel.kappa) | max),
               grad_norm: ($same | map(.rel.grad_norm) | max), snip: ($same | map(.rel.snip) | max),
               theta: ($same | map(.theta_max_rel) | max), layer_diag: ($same | map(.worst_layer_rel) | max)},
     pass_M: ($same | all(.rel.M <= 2e-3)), rows: $same},
   same_weights_f64: {tolerance_M_rel: 1e-8, architectures: ($same64 | length),
     max_rel: {M: ($same64 | map(.rel.M) | max), kappa: ($same64 | map(.rel.kappa) | max),
               grad_norm: ($same64 | map(.rel.grad_norm) | max), snip: ($same64 | map(.rel.snip) | max),
               theta: ($same64 | map(.theta_max_rel) | max), layer_diag: ($same64 | map(.worst_layer_rel) | max)},
     pass_M: ($same64 | all(.rel.M <= 1e-8)), rows: $same64},
   distribution: {stride: $stride, architectures: ($rows | length),
     torch_batch: "PyTorch default init (torch.manual_seed(index)), 64 distinct records of the CIFAR-10 head file, RandomCrop(32, pad 4) + flip, ZC normalisation",
     median_ratio_torch_over_freenas: {M: ($rows | ratio("M_torch"; "M_freenas") | med),
       grad_norm: ($rows | ratio("grad_norm_torch"; "grad_norm_freenas") | med),
       snip: ($rows | ratio("snip_torch"; "snip_freenas") | med),
       kappa: ($kr | ratio("kappa_torch"; "kappa_freenas") | med)},
     spearman: {M: spearman($rows | map(.M_torch); $rows | map(.M_freenas)),
       kappa: spearman($rows | map(.kappa_torch); $rows | map(.kappa_freenas)),
       kappa_finite_positive: spearman($kr | map(.kappa_torch); $kr | map(.kappa_freenas)),
       kappa_finite_positive_n: ($kr | length),
       grad_norm: spearman($rows | map(.grad_norm_torch); $rows | map(.grad_norm_freenas)),
       snip: spearman($rows | map(.snip_torch); $rows | map(.snip_freenas))},
     input_independent: ($rows | map(select(.M_freenas == 1) | {index, M_torch, M_freenas})),
     spearman_input_dependent: (($rows | map(select(.M_freenas != 1))) as $d
       | {n: ($d | length), M: spearman($d | map(.M_torch); $d | map(.M_freenas)),
          kappa: spearman($d | map(.kappa_torch); $d | map(.kappa_freenas))}),
     rows: $rows},
   control_freenas_seed1_vs_seed0: {architectures: ($c | length),
     median_ratio_seed1_over_seed0: {M: ($c | ratio("M"; "M0") | med)},
     spearman: {M: spearman($c | map(.M); $c | map(.M0)), kappa: spearman($c | map(.kappa); $c | map(.kappa0)),
       grad_norm: spearman($c | map(.grad_norm); $c | map(.grad_norm0)),
       snip: spearman($c | map(.snip); $c | map(.snip0))}}}' > "$tmp/out.json"
mkdir -p "$(dirname "$JSON")"
mv "$tmp/out.json" "$JSON"
jq -r '"# same weights and batch (\(.same_weights.architectures) archs, float32): relative difference freenas vs PyTorch",
  "index  M          kappa      grad_norm  snip       Theta      worst layer",
  (.same_weights.rows[] | "\(.index | tostring | . + " " * (6 - length)) \(.rel.M | tostring | .[0:9] | . + " " * (10 - length)) \(.rel.kappa | tostring | .[0:9] | . + " " * (10 - length)) \(.rel.grad_norm | tostring | .[0:9] | . + " " * (10 - length)) \(.rel.snip | tostring | .[0:9] | . + " " * (10 - length)) \(.theta_max_rel | tostring | .[0:9] | . + " " * (10 - length)) \(.worst_layer) \(.worst_layer_rel)"),
  "M within 2e-3 everywhere: \(.same_weights.pass_M) (PyTorch float32 vs its float64: up to \(.same_weights.pytorch_f32_vs_f64_M_rel); freenas float32 vs PyTorch float64: up to \(.same_weights.freenas_f32_vs_pytorch_f64_M_rel))",
  "# the same in float64: max relative difference M \(.same_weights_f64.max_rel.M), kappa \(.same_weights_f64.max_rel.kappa), grad_norm \(.same_weights_f64.max_rel.grad_norm), snip \(.same_weights_f64.max_rel.snip), Theta \(.same_weights_f64.max_rel.theta), layer diagonals \(.same_weights_f64.max_rel.layer_diag)",
  (.same_weights_f64.rows[] | "  \(.index): M \(.rel.M) kappa \(.rel.kappa) Theta \(.theta_max_rel)"),
  "# distribution (\(.distribution.architectures) archs): median PyTorch/freenas ratio and Spearman rho",
  (.distribution | "M: ratio \(.median_ratio_torch_over_freenas.M)  rho \(.spearman.M)",
   "kappa: ratio \(.median_ratio_torch_over_freenas.kappa)  rho \(.spearman.kappa) (finite positive only: \(.spearman.kappa_finite_positive), n = \(.spearman.kappa_finite_positive_n))",
   "grad_norm: ratio \(.median_ratio_torch_over_freenas.grad_norm)  rho \(.spearman.grad_norm)",
   "snip: ratio \(.median_ratio_torch_over_freenas.snip)  rho \(.spearman.snip)",
   "without the input-independent networks (freenas M = 1; \(.input_independent | map("\(.index): PyTorch M \(.M_torch)") | join(", "))): rho M \(.spearman_input_dependent.M), kappa \(.spearman_input_dependent.kappa), n = \(.spearman_input_dependent.n)"),
  (.control_freenas_seed1_vs_seed0 | "# control, freenas seed 1 vs seed 0 (\(.architectures) archs): M ratio \(.median_ratio_seed1_over_seed0.M), rho M \(.spearman.M), kappa \(.spearman.kappa), grad_norm \(.spearman.grad_norm), snip \(.spearman.snip)")' "$JSON"
echo "# wrote $JSON"
exit "$same_rc"
