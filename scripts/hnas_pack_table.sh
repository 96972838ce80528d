#!/usr/bin/env bash
# scripts/hnas_pack_table.sh: merges the parts of a whole-space metric table written by
# `freenas hnas-table --stride K --offset R` (one file per process) into one sorted table and
# packs it as freenas ships it (hnas/README.md): OUT_DIR/NAME.tsv inside a deterministic
# OUT_DIR/NAME.tar.xz, its SHA-256 in OUT_DIR/SHA256SUMS. The '#' provenance lines of every
# part are kept, with directories stripped from the file arguments (no machine's paths ship).
# It refuses a table that lacks an index, holds one twice with different values, or has
# parts with different columns.
#   bash scripts/hnas_pack_table.sh NAME OUT_DIR PART.tsv...
#   e.g. bash scripts/hnas_pack_table.sh nb201_cifar10_ntk_seed0 hnas/data ntk_cond_*.tsv
set -euo pipefail
[ $# -ge 3 ] || { echo "usage: $0 NAME OUT_DIR PART.tsv..." >&2; exit 2; }
name=$1 out=$2
shift 2
mkdir -p "$out"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
header=""
for p in "$@"; do
  h=$(grep -m1 '^index' "$p") || { echo "$p: no header line" >&2; exit 1; }
  [ -z "$header" ] || [ "$h" = "$header" ] || { echo "$p: columns '$h' differ from '$header'" >&2; exit 1; }
  header=$h
done
{
  echo "# freenas hnas-table: per-architecture metrics of NAS-Bench-201 (hnas/table.h)"
  echo "# merged by scripts/hnas_pack_table.sh from $# parts; the provenance of each part follows"
  for p in "$@"; do
    { grep '^#' "$p" || true; } | { grep -v '^# freenas hnas-table: per-architecture' || true; } |
      sed -E 's#(^| )/[^ ]*/([^/ ]+)#\1\2#g; s#--data [^ ]+#--data DATA#g'
  done
  echo "$header"
} > "$tmp/head"
cat "$@" | grep -E '^[0-9]+	' | sort -u | sort -n -k1,1 > "$tmp/rows"   # equal rows once
dups=$(cut -f1 "$tmp/rows" | uniq -d | head -3)
[ -z "$dups" ] || { echo "indices given twice with different values: $dups" >&2; exit 1; }
n=$(wc -l < "$tmp/rows")
[ "$n" -eq 15625 ] || { echo "the parts hold $n of 15,625 architectures" >&2; exit 1; }
[ "$(cut -f1 "$tmp/rows" | tr '\n' ' ')" = "$(seq 0 15624 | tr '\n' ' ')" ] ||
  { echo "the indices are not 0..15624" >&2; exit 1; }
cat "$tmp/head" "$tmp/rows" > "$tmp/$name.tsv"
(cd "$tmp" && tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -cf - "$name.tsv" |
   xz -9e -T1 > "$name.tar.xz" && sha256sum "$name.tsv" > SHA256SUMS)
cp "$tmp/$name.tar.xz" "$tmp/SHA256SUMS" "$out/"
echo "$out/$name.tar.xz: $n rows, $(stat -c %s "$out/$name.tar.xz") bytes; $(cat "$tmp/SHA256SUMS")"
