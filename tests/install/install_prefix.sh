#!/usr/bin/env bash
# tests/install/install_prefix.sh BUILD_DIR SHARED_DATA: `cmake --install` into a temporary
# prefix, then use freenas from there as a user without the source tree would: from a folder
# outside the checkout, with FREENAS_DATA naming only a copy of the CIFAR-10 images (which
# replaces the checkout's ../shared/data as a data root), so the NB201 tables must come from
# PREFIX/share/freenas/data and the config from PREFIX/share/freenas/configs.
# Checks: every program answers --version; `freenas info` names the prefix's table; a search
# prints ground-truth accuracies; HNAS runs from the installed tables; a sweep of the installed quick-start config (cut to two seeds
# of SynFlow and SNIP) writes ok records with accuracies; a report is written.
set -euo pipefail
build=$(cd "$1" && pwd); shared=$(cd "$2" && pwd)
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

cmake --install "$build" --prefix "$tmp/prefix" > "$tmp/install.log" || { cat "$tmp/install.log"; fail "cmake --install"; }
P=$tmp/prefix
for f in bin/freenas bin/freenas_sweep bin/freenas_report share/freenas/data/nb201/nb201_accuracy.tsv \
         share/freenas/data/nb201/nb201_accuracy_extra.tsv share/freenas/configs/quickstart.yaml \
         share/freenas/scripts/fetch_data.sh; do
  [ -e "$P/$f" ] || fail "$f not installed"
done
echo "installed: $(cd "$P" && find . -type f | wc -l) files"

mkdir -p "$tmp/images/cifar10" "$tmp/work"
cp "$shared/cifar10/"*.bin "$tmp/images/cifar10/"
export FREENAS_DATA=$tmp/images
cd "$tmp/work"   # outside the checkout: relative paths cannot reach the sources

for p in freenas freenas_sweep freenas_report; do
  v=$("$P/bin/$p" --version) || fail "$p --version"
  echo "$v" | grep -Eq "^$p [0-9]+\.[0-9]+\.[0-9]+ " || fail "$p --version printed '$v'"
done
"$P/bin/freenas" info > info.txt
grep -q "NB201    : $P/share/freenas/data/nb201/nb201_accuracy.tsv" info.txt || { cat info.txt; fail "info: table not from the prefix"; }

# one search: the ground truth comes without --benchmark (columns are numbers, not "-")
"$P/bin/freenas" search --seed 0 > search.txt
grep -Eq '^ +0  \|[^ ]+\| +[0-9]+\.[0-9]+ +[0-9]+\.[0-9]+' search.txt || { cat search.txt; fail "search: no accuracies"; }

# HNAS from the installed metric-table slice and the shipped 12-epoch table
"$P/bin/freenas" hnas --seed 0 > hnas.txt 2> hnas.err || { cat hnas.txt hnas.err; fail "hnas"; }
grep -Eq "^ +0 +[0-9]+  \|[^ ]+\| +[0-9.]+ +[0-9.]+ +[0-9.]+" hnas.txt || { cat hnas.txt; fail "hnas: no pick with accuracies printed"; }

# the installed quick start, cut to 2 seeds of SynFlow and SNIP (SNIP reads the images)
sed -e 's/^  metric: .*/  metric: [synflow, snip]/' -e 's/^  seed: .*/  seed: "0:1"/' \
    "$P/share/freenas/configs/quickstart.yaml" > quick.yaml
"$P/bin/freenas_sweep" quick.yaml --threads 1 --quiet > sweep.txt 2>&1 || { cat sweep.txt; fail "sweep"; }
n=$(grep -c '"status":"ok"' results/quickstart/results.jsonl)
[ "$n" -eq 4 ] || fail "expected 4 ok records, got $n"
na=$(grep -c '"cifar10_test":[0-9]' results/quickstart/results.jsonl)
[ "$na" -eq 4 ] || fail "expected 4 records with NB201 accuracies, got $na"
"$P/bin/freenas_report" results/quickstart --quiet || fail "report"
[ -s results/quickstart/report/report.md ] || fail "no report.md"
echo "install_prefix: ok (4 records with accuracies, report written, no source tree used)"
