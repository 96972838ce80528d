#!/usr/bin/env bash
# tests/analysis/report_large.sh: freenas_report on results directories with many groups runs
# in linear time: 20,000 groups of 2 seeds that differ in batch (the varying-key scan and the
# per-group peer checks of the tables were pairwise: hours), and one alpha-scale line of
# 20,000 alpha values (one scan of the line per value). CTest's TIMEOUT catches a quadratic
# pass; the times are printed, not asserted; the tables are checked for every group.
#   bash tests/analysis/report_large.sh BIN_DIR WORK_DIR
set -euo pipefail
BIN=$1 WORK=$2
rm -rf "$WORK" && mkdir -p "$WORK/groups" "$WORK/alpha"
fail() { echo "FAIL: $*" >&2; exit 1; }
export FREENAS_GNUPLOT=/nonexistent-gnuplot   # tables only: the test times the report itself
awk 'BEGIN { for (i = 0; i < 40000; i++)
  printf "{\"job_id\":\"%016x\",\"index\":%d,\"sweep\":\"large\",\"params\":{\"kind\":\"search\",\"space\":\"nb201\",\"dataset\":\"cifar10\",\"metric\":\"synflow\",\"batch\":%d,\"seed\":%d},\"status\":\"ok\",\"error\":null,\"attempt\":1,\"arch\":\"|nor_conv_3x3~0|\",\"nb201_index\":5,\"accuracy\":{\"cifar10_valid\":90,\"cifar10_test\":93,\"cifar100_test\":70,\"imagenet16_test\":40},\"run\":{\"time_s\":{\"search\":0.1}}}\n", i, i, 1 + int(i / 2), i % 2 }' \
  > "$WORK/groups/results.jsonl"
awk 'BEGIN { for (i = 0; i < 20000; i++)
  printf "{\"job_id\":\"%016x\",\"index\":%d,\"sweep\":\"large\",\"params\":{\"kind\":\"search\",\"space\":\"nb201\",\"dataset\":\"cifar10\",\"metric\":\"synflow\",\"alpha_scale\":%.6g,\"seed\":0},\"status\":\"ok\",\"error\":null,\"attempt\":1,\"arch\":\"|nor_conv_3x3~0|\",\"nb201_index\":5,\"accuracy\":{\"cifar10_valid\":90,\"cifar10_test\":93,\"cifar100_test\":70,\"imagenet16_test\":40},\"run\":{\"time_s\":{\"search\":0.1}}}\n", i, i, 1e-3 * (i + 1) }' \
  > "$WORK/alpha/results.jsonl"

t0=$(date +%s.%N)
"$BIN/freenas_report" "$WORK/groups" --quiet 2> "$WORK/groups.err" || { cat "$WORK/groups.err"; fail "groups: exit $?"; }
echo "20,000 groups: report in $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }') s"
[ "$(wc -l < "$WORK/groups/report/search_table.csv")" -eq 20001 ] || fail "groups: search_table.csv rows"
[ "$(grep -c '^| FreeDARTS SynFlow (batch=[0-9]*) | 93.00 ± 0.00 (2) |' "$WORK/groups/report/report.md")" -eq 20000 ] \
  || fail "groups: paper table rows"

t0=$(date +%s.%N)
"$BIN/freenas_report" "$WORK/alpha" --quiet 2> "$WORK/alpha.err" || { cat "$WORK/alpha.err"; fail "alpha: exit $?"; }
echo "20,000 alpha values: report in $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }') s"
[ "$(grep -c '^| 0\.[0-9]* | 93.00 |\|^| [0-9.]* | 93.00 |' "$WORK/alpha/report/report.md")" -eq 20000 ] \
  || fail "alpha: curve rows"
[ "$(wc -l < "$WORK/alpha/report/alpha_scale.csv")" -gt 20000 ] || fail "alpha: alpha_scale.csv rows"
echo PASS
