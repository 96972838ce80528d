#!/usr/bin/env bash
# scripts/layer_graph.sh: the layer include graph, which top-level folder includes which, from
# the project's own #include "folder/file.h" lines in C, CUDA and header files (system and
# library headers are not counted). One line per folder: its name, then each folder it
# includes with the number of include lines, e.g.
#   analysis -> base (4) datasets (1)
# Reads the working tree, or with REV a commit (git grep), so two versions compare:
#   bash scripts/layer_graph.sh              # the working tree
#   bash scripts/layer_graph.sh HEAD~3       # a commit
#   diff <(bash scripts/layer_graph.sh main) <(bash scripts/layer_graph.sh)
# A folder that includes no other folder is listed with "-> (none)".
set -euo pipefail
cd "$(dirname "$0")/.."
rev=${1:-}
pathspec=('*.c' '*.h' '*.cu' '*.cuh')
if [ -n "$rev" ]; then
  git rev-parse --verify -q "$rev^{commit}" > /dev/null || { echo "layer_graph: no commit '$rev'" >&2; exit 2; }
  # REV:path:#include "dir/...
  lines=$(git grep -e '^#include "[A-Za-z0-9_]*/' "$rev" -- "${pathspec[@]}" | cut -d: -f2- || true)
  files=$(git ls-tree -r --name-only "$rev" | grep -E '\.(c|h|cu|cuh)$' || true)
else
  lines=$(git grep --untracked -e '^#include "[A-Za-z0-9_]*/' -- "${pathspec[@]}" || true)
  files=$(git ls-files --cached --others --exclude-standard -- "${pathspec[@]}")
fi
{
  # every folder holding sources, so one that includes nothing still shows
  printf '%s\n' "$files" | awk -F/ 'NF > 1 { print "F", $1 }'
  printf '%s\n' "$lines" | awk -F: 'NF > 1 {
      split($1, p, "/"); from = p[1]
      if (match($0, /#include "[A-Za-z0-9_]+\//)) {
        to = substr($0, RSTART + 10, RLENGTH - 11)
        if (to != from) print "E", from, to } }'
} | awk '
  $1 == "F" { folders[$2] = 1 }
  $1 == "E" { folders[$2] = 1; n[$2 " " $3]++ }
  END {
    for (f in folders) {
      line = ""
      for (k in n) { split(k, e, " "); if (e[1] == f) line = line " " e[2] " (" n[k] ")" }
      if (line == "") line = " (none)"
      print f " ->" line
    } }' | sort | awk '{
    # sort the targets of each line by name
    if ($3 == "(none)") { print; next }
    head = $1 " " $2; m = 0
    for (i = 3; i <= NF; i += 2) { m++; t[m] = $i " " $(i + 1) }
    for (i = 2; i <= m; i++) { v = t[i]; j = i - 1; while (j > 0 && t[j] > v) { t[j + 1] = t[j]; j-- } t[j + 1] = v }
    out = head; for (i = 1; i <= m; i++) out = out " " t[i]
    if (m == 0) out = head " (none)"
    print out }'
