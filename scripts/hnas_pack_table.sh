#!/usr/bin/env bash
# scripts/hnas_pack_table.sh: merges the parts of a whole-space metric table written by
# `freenas hnas-table --stride K --offset R` (one file per process) into one sorted table and
# packs it as freenas ships it (hnas/README.md): OUT_DIR/NAME.tsv inside a deterministic
# OUT_DIR/NAME.tar.xz, its SHA-256 in OUT_DIR/SHA256SUMS. The '#' provenance lines of every
# part are kept, with directories stripped from the file arguments (no machine's paths ship).
# Parts with other columns are joined by index: the parts with the first part's columns make
# one table, each further set of columns another, and every index must be in all of them
# (e.g. a packed M and kappa table beside the parts of a grad_norm and snip run). OUT_DIR's
# SHA256SUMS keeps the lines of other files. It refuses a table that lacks an index or holds
# one twice with different values.
#   bash scripts/hnas_pack_table.sh NAME OUT_DIR PART.tsv...
#   e.g. bash scripts/hnas_pack_table.sh nb201_cifar10_ntk_seed0 hnas/data ntk_cond_*.tsv
set -euo pipefail
[ $# -ge 3 ] || { echo "usage: $0 NAME OUT_DIR PART.tsv..." >&2; exit 2; }
name=$1 out=$2
shift 2
mkdir -p "$out"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# the column sets, in order of first appearance, and the parts of each
headers=()
for p in "$@"; do
  h=$(grep -m1 '^index' "$p") || { echo "$p: no header line" >&2; exit 1; }
  k=-1
  for i in "${!headers[@]}"; do [ "${headers[$i]}" = "$h" ] && k=$i; done
  if [ "$k" -lt 0 ]; then k=${#headers[@]}; headers+=("$h"); fi
  echo "$p" >> "$tmp/set$k"
done
{
  echo "# freenas hnas-table: per-architecture metrics of NAS-Bench-201 (hnas/table.h)"
  echo "# merged by scripts/hnas_pack_table.sh from $# parts (${#headers[@]} column set(s) joined by index); the provenance of each part follows"
  for p in "$@"; do
    { grep '^#' "$p" || true; } | { grep -v '^# freenas hnas-table: per-architecture' || true; } |
      sed -E 's#(^| )/[^ ]*/([^/ ]+)#\1\2#g; s#--data [^ ]+#--data DATA#g'
  done
  header=index
  for h in "${headers[@]}"; do header="$header	${h#index	}"; done
  echo "$header"
} > "$tmp/head"
for k in "${!headers[@]}"; do
  mapfile -t parts < "$tmp/set$k"
  cat "${parts[@]}" | grep -E '^[0-9]+	' | sort -u | sort -n -k1,1 > "$tmp/rows$k"   # equal rows once
  dups=$(cut -f1 "$tmp/rows$k" | uniq -d | head -3)
  [ -z "$dups" ] || { echo "indices given twice with different values: $dups" >&2; exit 1; }
  n=$(wc -l < "$tmp/rows$k")
  [ "$n" -eq 15625 ] || { echo "the parts with columns '${headers[$k]}' hold $n of 15,625 architectures" >&2; exit 1; }
  [ "$(cut -f1 "$tmp/rows$k" | tr '\n' ' ')" = "$(seq 0 15624 | tr '\n' ' ')" ] ||
    { echo "the indices are not 0..15624" >&2; exit 1; }
  if [ "$k" -eq 0 ]; then cp "$tmp/rows0" "$tmp/rows"
  else # join wants both sides in text order of the index
    join -t $'\t' -j1 <(sort -k1,1 "$tmp/rows") <(sort -k1,1 "$tmp/rows$k") | sort -n -k1,1 > "$tmp/joined"
    mv "$tmp/joined" "$tmp/rows"
  fi
done
n=$(wc -l < "$tmp/rows")
cat "$tmp/head" "$tmp/rows" > "$tmp/$name.tsv"
(cd "$tmp" && tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -cf - "$name.tsv" |
   xz -9e -T1 > "$name.tar.xz" && sha256sum "$name.tsv" > SHA256SUMS)
cp "$tmp/$name.tar.xz" "$out/"
# the other files' lines stay
{ [ -f "$out/SHA256SUMS" ] && grep -v "  $name.tsv\$" "$out/SHA256SUMS" || true; cat "$tmp/SHA256SUMS"; } |
  sort -k2 > "$tmp/sums" && cp "$tmp/sums" "$out/SHA256SUMS"
echo "$out/$name.tar.xz: $n rows, $(stat -c %s "$out/$name.tar.xz") bytes; $(cat "$tmp/SHA256SUMS")"
