#!/usr/bin/env bash
# slurm/submit_array.sh: submits a sweep as a job array of N shards plus its merge step (which
# starts when every shard has ended, whatever their exit codes), and prints both job ids.
#
#   slurm/submit_array.sh N CONFIG.yaml [freenas_sweep options]
#   FREENAS_SBATCH_OPTS="--partition=gpu --cpus-per-task=4" slurm/submit_array.sh 8 configs/nb201_table2.yaml
#
# FREENAS_SBATCH_OPTS: sbatch options for both submissions (they override the #SBATCH lines).
# Run from the freenas checkout or set FREENAS_HOME.
set -euo pipefail
[ $# -ge 2 ] && [[ $1 =~ ^[1-9][0-9]*$ ]] || { echo "usage: $0 N CONFIG.yaml [freenas_sweep options]" >&2; exit 2; }
n=$1; shift
here=$(cd "$(dirname "$0")" && pwd)
export FREENAS_HOME=${FREENAS_HOME:-$(dirname "$here")}
read -r -a opts <<< "${FREENAS_SBATCH_OPTS:-}"
array=$(sbatch --parsable "${opts[@]}" --array=0-$((n - 1)) "$here/freenas_sweep_array.sbatch" "$@")
array=${array%%;*}
merge=$(sbatch --parsable "${opts[@]}" --dependency=afterany:"$array" "$here/freenas_merge.sbatch" "$@")
merge=${merge%%;*}
echo "array job $array ($n shards), merge job $merge"
