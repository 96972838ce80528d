#!/usr/bin/env bash
# tests/bad_input.sh: the bad-input survey. Every case feeds one bad input to a command users
# run (freenas, freenas_sweep, freenas_report): configs, NB201 tables, data files, records,
# results directories and options with wrong types, absurd sizes, NaN / Inf, empty, huge,
# truncated or mis-sized files, wrong TSV columns, non-ASCII paths, very long strings, FIFOs,
# devices and directories where files are expected. Each must end within 10 s with the exit
# code and a message (substring) that names the input; a crash, hang or silent result fails.
# The cases run in about 10 s and all run even when one fails (the count is printed).
#   bash tests/bad_input.sh BIN_DIR SHARED_DIR WORK_DIR            run and check
#   bash tests/bad_input.sh BIN_DIR SHARED_DIR WORK_DIR --table F  also write the table
#     (docs/BAD_INPUT.md: case, message, exit code; WORK and SHARED written as such)
#   bash tests/bad_input.sh BIN_DIR SHARED_DIR WORK_DIR --check F  also compare F with it
set -uo pipefail
BIN=$(cd "$1" && pwd) SHARED=$(cd "$2" && pwd) WORK=$3 MODE=${4:-} TABLE=${5:-}
[ -n "$TABLE" ] && TABLE=$(cd "$(dirname "$TABLE")" && pwd)/$(basename "$TABLE")
rm -rf "$WORK" && mkdir -p "$WORK/out" && WORK=$(cd "$WORK" && pwd)
cd "$WORK" || exit 1
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMP_NUM_THREADS=1 LC_ALL=C
export FREENAS_GNUPLOT=/nonexistent-gnuplot
F="$BIN/freenas" S="$BIN/freenas_sweep" R="$BIN/freenas_report"
TSV="$SHARED/data/nb201/nb201_accuracy.tsv" C10="$SHARED/data/cifar10/test_batch_head.bin"
n=0 failed=0 rows=()

# expect "CASE" RC "MESSAGE SUBSTRING" CMD...: runs CMD (10 s at most, times
# FREENAS_TIMEOUT_SCALE in slow builds such as the sanitizer one), checks its exit code and
# that stderr or stdout holds the substring; the line holding it goes into the table
expect() {
  local name=$1 want_rc=$2 want=$3 rc line
  shift 3
  n=$((n + 1))
  timeout -k 2 $((30 * ${FREENAS_TIMEOUT_SCALE:-1})) "$@" > "out/$n.out" 2> "out/$n.err" < /dev/null
  rc=$?
  line=$(grep -h -F -m1 -- "$want" "out/$n.err" "out/$n.out" | head -n 1)
  if [ "$rc" -eq "$want_rc" ] && [ -n "$line" ]; then
    echo "ok   $n. $name (exit $rc)"
  else
    failed=$((failed + 1))
    echo "FAIL $n. $name: exit $rc (want $want_rc)$([ "$rc" -eq 124 ] && echo ', timed out')," \
         "message '$want' $([ -n "$line" ] && echo found || echo missing); stderr:"
    head -c 600 "out/$n.err" | sed 's/^/       /'
    line=$want
  fi
  line=${line//$WORK/WORK}
  line=${line//$SHARED/SHARED}
  [ ${#line} -gt 220 ] && line="${line:0:217}..."
  line=${line//|/\\|}
  rows+=("| $n | $name | \`${line//\`/\'}\` | $want_rc |")
}

# ---- inputs ---------------------------------------------------------------------------
mkfifo fifo.yaml fifo.tsv fifo.bin fifo.jsonl
mkdir -p adir empty_data 'données'
: > empty.yaml
: > empty.tsv
: > empty.bin
cfg() { printf 'output: %s/o\n%b' "$WORK" "$1" > "$2"; }  # cfg BODY FILE
cfg 'grid: {metric: [snip\n' trunc.yaml
cfg 'grid:\n  batch: "64"\n' type.yaml
cfg 'grid:\n  batch: 100000\n' huge_batch.yaml
cfg 'grid:\n  seed: "0:99999999"\n' huge_seeds.yaml
cfg 'grid:\n  alpha_scale: .nan\n' nan.yaml
cfg 'grid:\n  alpha_scale: 1e999\n' inf.yaml
cfg 'kind: noop\nnoop_ms: 1e308\n' noop.yaml
cfg 'threads: -1\n' threads.yaml
cfg "name: $(printf 'x%.0s' $(seq 10000))\n" long_name.yaml
printf 'output: %s\n' "$(printf 'o/%.0s' $(seq 3000))" > long_output.yaml
printf '\xff\xfe\x00\x01garbage' > binary.yaml
cfg 'thread: 2\n' unknown_key.yaml
cfg "benchmark: $WORK/données/nb201.tsv\n" nonascii_bench.yaml
cfg "benchmark: $WORK/fifo.tsv\n" fifo_bench.yaml
cfg "benchmark: $WORK/adir\n" dir_bench.yaml
cfg "kind: zc_search\nbenchmark: $TSV\nscores: $WORK/fifo.jsonl\ngrid: {metric: snip}\n" fifo_scores.yaml
{ printf 'output: o\ngrid:\n  seed: ['; seq -s ', ' 0 643999 | tr -d '\n'; printf ', 5]\n'; } > many_seeds.yaml
{ printf 'output: o\ngrid:\n  space:\n'
  for s in darts nb201 nb1shot1; do
    printf '    - {name: %s, cells: [%s], channels: [%s]}\n' "$s" "$(seq -s, 1 64)" "$(seq -s, 2 1023)"
  done
  printf '    - {name: darts, cells: 64, channels: 1023}\n'; } > big_spaces.yaml
# NB201 tables
awk -F'\t' 'BEGIN { OFS = "\t" } NR == 7 { $5 = 150 } 1' "$TSV" > acc150.tsv
awk -F'\t' 'BEGIN { OFS = "\t" } NR == 7 { $5 = -5 } 1' "$TSV" > acc_neg.tsv
awk -F'\t' 'BEGIN { OFS = "\t" } NR == 7 { $3 = "1e999" } 1' "$TSV" > acc_inf.tsv
head -n 1000 "$TSV" > truncated.tsv
cut -f 1-5 "$TSV" > five_columns.tsv
awk 'NR == 9 { $0 = $0 "\textra" } 1' "$TSV" > extra_field.tsv
# data files
head -c 1000 "$C10" > truncated.bin
# a finished two-job sweep whose records the resume cases edit
cat > base.yaml <<YAML
name: bad_input
output: $WORK/base
benchmark: $TSV
grid:
  metric: synflow
  seed: "0:1"
ensembles:
  - {name: seeds, over: [seed]}
YAML
"$S" base.yaml --threads 1 --quiet > out/base.log 2>&1 || { cat out/base.log; echo "FAIL: base sweep"; exit 1; }
# results_case NAME JQ_FILTER: a copy of the sweep whose first record is edited
results_case() {
  rm -rf "$1" && cp -r base "$1"
  { head -n 1 base/results.jsonl | jq -c "$2"; tail -n +2 base/results.jsonl; } > "$1/results.jsonl"
  sed "s#output: .*#output: $WORK/$1#" base.yaml > "$1.yaml"
}
results_case overflow '.scores = {rows: 65536, cols: 65536, values: ([range(65536)] | map([1]))}'
results_case column '.scores = {rows: 256, cols: 1, values: ([range(256)] | map([1]))}'
results_case noscores 'del(.scores)'
results_case strings '.scores.values[0][1] = "0.5"'
results_case acc_huge '.accuracy.cifar10_test = 1e308'
results_case acc_neg '.accuracy.cifar100_test = -5'
results_case index '.nb201_index = 99999'
results_case garbage '"not json"' && sed -i '1s/.*/{"job_id": "zz/' garbage/results.jsonl
for d in fifo_results dir_results fifo_manifest fifo_ens; do rm -rf $d && cp -r base $d; done
rm fifo_results/results.jsonl && mkfifo fifo_results/results.jsonl
rm dir_results/results.jsonl && mkdir dir_results/results.jsonl
rm fifo_manifest/manifest.json && mkfifo fifo_manifest/manifest.json
rm fifo_ens/ensembles.jsonl && mkfifo fifo_ens/ensembles.jsonl
for d in fifo_results dir_results fifo_manifest; do sed "s#output: .*#output: $WORK/$d#" base.yaml > $d.yaml; done
# a shard whose record has a 256 x 1 score matrix, merged
sed "s#output: .*#output: $WORK/merged#" base.yaml > merged.yaml
"$S" merged.yaml --shard 0/1 --threads 1 --quiet > out/shard.log 2>&1
sh=merged/shard-0-of-1/results.jsonl
{ head -n 1 $sh | jq -c '.scores = {rows: 256, cols: 1, values: ([range(256)] | map([1]))}'; tail -n +2 $sh; } > $sh.new && mv $sh.new $sh

# ---- freenas_sweep: the config file ----------------------------------------------------
expect "config is a FIFO" 2 "cannot read fifo.yaml: not a regular file (a FIFO)" "$S" fifo.yaml --dry-run
expect "config is a directory" 2 "cannot read adir: not a regular file (a directory)" "$S" adir --dry-run
expect "config is a device (/dev/zero)" 2 "cannot read /dev/zero: not a regular file (a character device)" "$S" /dev/zero --dry-run
expect "config file is empty" 2 "empty.yaml:1:1: the configuration is empty" "$S" empty.yaml --dry-run
expect "config truncated in a flow list" 2 "trunc.yaml:3:1: YAML syntax error" "$S" trunc.yaml --dry-run
expect "config is binary garbage" 2 "binary.yaml:1:1: " "$S" binary.yaml --dry-run
expect "config path with non-ASCII letters, missing" 2 "cannot open résumé.yaml: No such file or directory" "$S" résumé.yaml --dry-run
expect "integer written as a string" 2 'type.yaml:3:10: batch: expected an integer, got a string "64"' "$S" type.yaml --dry-run
expect "absurd batch size" 2 "huge_batch.yaml:3:10: batch: 100000 is out of range" "$S" huge_batch.yaml --dry-run
expect "seed range of 10^8 seeds" 2 "huge_seeds.yaml:3:9: more than 10000000 values in one list" "$S" huge_seeds.yaml --dry-run
expect "alpha_scale: .nan" 2 'nan.yaml:3:16: alpha_scale: expected a number, got ".nan"' "$S" nan.yaml --dry-run
expect "alpha_scale: 1e999 (inf)" 2 'inf.yaml:3:16: alpha_scale: expected a number, got "1e999"' "$S" inf.yaml --dry-run
expect "noop_ms: 1e308" 2 "noop.yaml:3:10: noop_ms: 1e308 is out of range" "$S" noop.yaml --dry-run
expect "threads: -1" 2 "threads.yaml:2:10: threads: -1 is out of range" "$S" threads.yaml --dry-run
expect "name of 10,000 characters" 2 "long_name.yaml:2:7: name: longer than 127 characters" "$S" long_name.yaml --dry-run
expect "output path of 6,000 characters" 2 "long_output.yaml:1:9: output: path longer than 4095 characters" "$S" long_output.yaml --dry-run
expect "misspelt key" 2 "unknown_key.yaml:2:1: unknown key 'thread' (hint: did you mean 'threads'?)" "$S" unknown_key.yaml --dry-run
expect "benchmark path with non-ASCII letters, missing" 2 "nonascii_bench.yaml:2:12: benchmark: cannot read $WORK/données/nb201.tsv: No such file or directory" "$S" nonascii_bench.yaml --dry-run
expect "benchmark is a FIFO" 2 "fifo_bench.yaml:2:12: benchmark: cannot read $WORK/fifo.tsv: not a regular file (a FIFO)" "$S" fifo_bench.yaml --dry-run
expect "benchmark is a directory" 2 "dir_bench.yaml:2:12: benchmark: cannot read $WORK/adir: not a regular file (a directory)" "$S" dir_bench.yaml --dry-run
expect "zc_search scores file is a FIFO" 2 "scores: cannot read $WORK/fifo.jsonl: not a regular file (a FIFO)" "$S" fifo_scores.yaml --dry-run
expect "644,001 seeds, one repeated (was minutes)" 2 "many_seeds.yaml:3:" "$S" many_seeds.yaml --dry-run
expect "3 space entries of 65,408 variants, one repeated (never finished)" 2 "big_spaces.yaml:7:7: space: this entry repeats a value given at 4:7" "$S" big_spaces.yaml --dry-run
expect "--threads -5" 2 "--threads expects 0..1024, got '-5'" "$S" base.yaml --threads -5 --dry-run
expect "--lock-wait nan" 2 "--lock-wait expects seconds 0..10000000, got 'nan'" "$S" base.yaml --lock-wait nan --dry-run
expect "--shard 3/3" 2 "--shard expects I/N" "$S" base.yaml --shard 3/3 --dry-run

# ---- freenas_sweep: records and the results directory ----------------------------------
expect "record with 65536 x 65536 scores (heap overflow)" 0 "overflow/results.jsonl:1: invalid ok record of job cb52b5628ebad46c: scores are 65536 x 65536, the nb201 layout is 6 x 5" "$S" overflow.yaml --threads 1
expect "record with 256 x 1 scores" 0 "column/results.jsonl:1: invalid ok record of job cb52b5628ebad46c: scores are 256 x 1" "$S" column.yaml --threads 1
expect "ok record without scores" 0 'noscores/results.jsonl:1: invalid ok record of job cb52b5628ebad46c: an ok nb201 record without a "scores" matrix' "$S" noscores.yaml --threads 1
expect "score written as a string" 0 'strings/results.jsonl:1: invalid ok record of job cb52b5628ebad46c: scores.values[0][1] is the string "0.5", not a finite number' "$S" strings.yaml --threads 1
expect "accuracy 1e308 in a record" 0 "acc_huge/results.jsonl:1: invalid ok record of job cb52b5628ebad46c: accuracy.cifar10_test is 1e308, not a number in [0, 100]" "$S" acc_huge.yaml --threads 1
expect "accuracy -5 in a record" 0 "acc_neg/results.jsonl:1: invalid ok record of job cb52b5628ebad46c: accuracy.cifar100_test is -5" "$S" acc_neg.yaml --threads 1
expect "record line that is not JSON" 0 "garbage/results.jsonl:1: not a record, skipped" "$S" garbage.yaml --threads 1
expect "--merge of a shard record with 256 x 1 scores" 0 "merged/shard-0-of-1/results.jsonl:1: invalid ok record of job cb52b5628ebad46c: scores are 256 x 1" "$S" merged.yaml --merge --threads 1
expect "results.jsonl is a FIFO" 3 "cannot use $WORK/fifo_results/results.jsonl: not a regular file (a FIFO)" "$S" fifo_results.yaml
expect "results.jsonl is a directory" 3 "cannot use $WORK/dir_results/results.jsonl: not a regular file (a directory)" "$S" dir_results.yaml
expect "manifest.json is a FIFO" 3 "cannot use $WORK/fifo_manifest/manifest.json: not a regular file (a FIFO)" "$S" fifo_manifest.yaml

# ---- freenas: options, NB201 tables, data files ----------------------------------------
expect "--ss with --space darts (was ignored)" 2 "--ss: only nb1shot1 has search spaces 1-3, this search is --space darts" "$F" search --space darts --ss 2
expect "--seeds 5:3" 2 "--seeds expects an integer in [5, 2147483647], got '3'" "$F" search --seeds 5:3
expect "--seed 99999999999" 2 "--seed expects an integer in [0, 2147483647], got '99999999999'" "$F" search --seed 99999999999
expect "--alpha-scale nan" 2 "--alpha-scale expects a positive number, got 'nan'" "$F" search --alpha-scale nan
expect "--alpha-scale 1e999" 2 "--alpha-scale expects a positive number, got '1e999'" "$F" search --alpha-scale 1e999
expect "--batch 0" 2 "--batch expects an integer in [1, 4096], got '0'" "$F" search --batch 0
expect "metric name of 5,000 characters" 2 "unknown metric 'xxxxx" "$F" search --metric "$(printf 'x%.0s' $(seq 5000))"
expect "NB201 index out of range" 2 "NB201 index 15625 is not in the table (0..15624)" "$F" score --index 15625 --proxy params --benchmark "$TSV"
expect "NB201 table: accuracy 150" 2 "acc150.tsv:7: column cifar100_test: '150' is not an accuracy in [0, 100]" "$F" search --benchmark acc150.tsv
expect "NB201 table: accuracy -5" 2 "acc_neg.tsv:7: column cifar100_test: '-5' is not an accuracy in [0, 100]" "$F" search --benchmark acc_neg.tsv
expect "NB201 table: accuracy 1e999" 2 "acc_inf.tsv:7: column cifar10_valid: '1e999' is not an accuracy in [0, 100]" "$F" search --benchmark acc_inf.tsv
expect "NB201 table truncated to 999 rows" 2 "truncated.tsv: 999 of 15625 architectures, index 999 is missing" "$F" search --benchmark truncated.tsv
expect "NB201 table without a column" 2 "five_columns.tsv:1: header lacks the column 'imagenet16_test'" "$F" search --benchmark five_columns.tsv
expect "NB201 table row with an extra field" 2 "extra_field.tsv:9: expected 6 tab-separated fields (as the header), found 7" "$F" search --benchmark extra_field.tsv
expect "NB201 table empty" 2 "empty.tsv: empty file (expected a header line)" "$F" search --benchmark empty.tsv
expect "NB201 table is a FIFO" 2 "cannot read NB201 table 'fifo.tsv': not a regular file (a FIFO)" "$F" search --benchmark fifo.tsv
expect "NB201 table is /dev/urandom" 2 "cannot read NB201 table '/dev/urandom': not a regular file (a character device)" "$F" search --benchmark /dev/urandom
expect "data file truncated (1000 bytes)" 1 "cifar10: 'truncated.bin' truncated: 1000 bytes is not a multiple of the 3073-byte record" "$F" search --metric snip --data truncated.bin
expect "data file empty" 1 "cifar10: empty file 'empty.bin'" "$F" search --metric snip --data empty.bin
expect "data file is a FIFO" 1 "cifar10: data path 'fifo.bin' is not a regular file or directory" "$F" search --metric snip --data fifo.bin
expect "data file is /dev/zero" 1 "cifar10: data path '/dev/zero' is not a regular file or directory" "$F" search --metric snip --data /dev/zero
expect "data directory without data files" 1 "cifar10: no data file found in directory 'empty_data'" "$F" search --metric snip --data empty_data
expect "batch larger than the data file" 1 "cifar10: requested 2000 records but '$C10' holds only" "$F" search --metric snip --batch 2000 --data "$C10"

# ---- freenas_report --------------------------------------------------------------------
expect "report: results.jsonl is a FIFO" 2 "freenas_report: cannot read fifo_results/results.jsonl: not a regular file (a FIFO)" "$R" fifo_results
expect "report: RESULTS_DIR is a file" 2 "base.yaml is not a directory (a regular file)" "$R" base.yaml
expect "report: RESULTS_DIR missing (non-ASCII name)" 2 "données/x: no results.jsonl" "$R" données/x
expect "report: accuracy 1e308 in a record" 0 "acc_huge/results.jsonl:1: error: record cb52b5628ebad46c: accuracy.cifar10_test is 1e+308, not a number in [0, 100]; line skipped" "$R" acc_huge --out out/r1
expect "report: nb201_index 99999" 0 "index/results.jsonl:1: error: record cb52b5628ebad46c: nb201_index is 99999, not an NB201 index 0..15624" "$R" index --out out/r2
expect "report: ensembles.jsonl is a FIFO" 0 "fifo_ens/ensembles.jsonl: warning: cannot read fifo_ens/ensembles.jsonl: not a regular file (a FIFO); the ensembles are left out" "$R" fifo_ens --out out/r3
expect "report: manifest.json is a FIFO" 0 "fifo_manifest/manifest.json: warning: not a regular file (a FIFO)" "$R" fifo_manifest --out out/r4
expect "report: --benchmark truncated" 2 "truncated.tsv: 999 of 15625 architectures" "$R" base --benchmark truncated.tsv --out out/r5

echo "$n cases, $failed failed"
if [ -n "$MODE" ]; then
  table() {
    echo "# Bad-input survey"
    echo
    echo "Generated by \`bash tests/bad_input.sh BIN_DIR SHARED_DIR WORK_DIR --table docs/BAD_INPUT.md\`"
    echo "(CTest \`bad_input\` runs every case and checks that this file is in step with them)."
    echo "Each case feeds one bad input to freenas, freenas_sweep or freenas_report; the command"
    echo "must end within 10 s with the exit code below and a message holding the text shown (the"
    echo "line it printed, with the scratch directory written WORK and the shared data SHARED)."
    echo "Exit codes: freenas 1 = a search failed (recorded with its cause), 2 = usage / input error;"
    echo "freenas_sweep 0 = the invalid record's job was recomputed, 2 = config error, 3 = results"
    echo "directory unusable; freenas_report 0 = written (bad lines skipped and named), 2 = unusable."
    echo
    echo "| # | input | message | exit |"
    echo "|---|---|---|---|"
    printf '%s\n' "${rows[@]}"
  }
  case "$MODE" in
    --table) table > "$TABLE" && echo "wrote $TABLE" ;;
    --check) if ! diff <(table) "$TABLE" > out/table.diff; then
               failed=$((failed + 1)); echo "FAIL: $TABLE is not in step with the cases:"
               head -n 40 out/table.diff
             fi ;;
  esac
fi
[ "$failed" -eq 0 ]
