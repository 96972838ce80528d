#!/usr/bin/env bash
# bench/plot_bundle.sh: searches (or architectures) per second against bundle size from
# bench_bundle's JSON, one line per case, as a PNG (gnuplot; log y).
#   bash bench/plot_bundle.sh [bench/results/bundle_cpu.json] [docs/figures/bundle_cpu.png]
#   bash bench/plot_bundle.sh bench/results/bundle_cuda.json docs/figures/bundle_cuda.png
set -euo pipefail
json=${1:-bench/results/bundle_cpu.json}; png=${2:-docs/figures/bundle_cpu.png}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
threads=$(jq -r .threads "$json")
where=$(jq -r '.where // "the CPU"' "$json") # bench_bundle --device cuda writes the GPU's name
plot=""
for c in $(jq -r '.rows[].case' "$json" | awk '!seen[$0]++'); do
  jq -r --arg c "$c" '.rows[] | select(.case == $c) | [.bundle, (.searches_per_s // .archs_per_s)] | @tsv' \
    "$json" > "$tmp/$c.dat"
  plot="$plot${plot:+, }'$tmp/$c.dat' u 1:2 w lp lw 2 t '$c'"
done
gnuplot <<GP
set terminal pngcairo size 900,520 noenhanced
set output '$png'
set title 'freenas bundles on $where: K searches side by side, $threads threads (bench/bench_bundle.c)'
set xlabel 'bundle size K'; set ylabel 'searches (architectures) per second'
set logscale y; set grid; set key outside right
set xtics 1
plot $plot
GP
echo "$png"
