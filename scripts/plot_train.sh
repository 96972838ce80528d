#!/usr/bin/env bash
# scripts/plot_train.sh: per-epoch curves of a `freenas train --out DIR` run (DIR/records.jsonl):
# train / validation loss and accuracy against the epoch, as a PNG (gnuplot).
#   bash scripts/plot_train.sh DIR [out.png]
set -euo pipefail
dir=${1:?usage: plot_train.sh DIR [out.png]}; png=${2:-$dir/curves.png}
tsv=$(mktemp)
# records.jsonl lines are flat objects written by train/checkpoint.c: "key": number, ...
awk '{ line = $0; gsub(/[{}" ]/, "", line); n = split(line, kv, ",");
       for (i = 1; i <= n; i++) { split(kv[i], p, ":"); v[p[1]] = p[2] }
       print v["epoch"] + 1, v["train_loss"], v["valid_loss"], 100 * v["train_acc"], 100 * v["valid_acc"] }' \
  "$dir/records.jsonl" > "$tsv"
gnuplot <<GP
set terminal pngcairo size 1000,420
set output '$png'
set multiplot layout 1,2 title 'freenas train: $(basename "$dir")'
set xlabel 'epoch'; set grid; set key top right
set ylabel 'cross-entropy'
plot '$tsv' u 1:2 w lp t 'train (train mode, drop-path)', '' u 1:3 w lp t 'validation (eval mode)'
set ylabel 'accuracy (%)'; set key bottom right
plot '$tsv' u 1:4 w lp t 'train', '' u 1:5 w lp t 'validation'
unset multiplot
GP
rm -f "$tsv"
echo "$png"
