#!/usr/bin/env bash
# scripts/quickstart.sh: the main job on a fresh Debian machine: installs dependencies (apt),
# builds, and runs the small real sweep configs/quickstart.yaml with freenas_sweep under
# mpirun (one rank per core, up to 4): SynFlow, SNIP and GraSP on NAS-Bench-201, seeds 0..4,
# on real CIFAR-10 images, each found architecture looked up in the NB201 ground truth, the
# summary table and the seed / metric ensembles. Results in results/quickstart/; rerunning
# resumes (nothing left to do); then the report (tables and figures) in results/quickstart/report/.
# Data: the default data roots (docs/DATA.md): FREENAS_DATA=DIR, ~/.local/share/freenas/data
# (scripts/fetch_data.sh puts CIFAR there), ../shared/data next to the checkout; the NB201
# tables ship with freenas.
#   bash scripts/quickstart.sh
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install_deps.sh
bash scripts/build.sh
./build/bin/freenas info
ranks=$(nproc)
[ "$ranks" -gt 4 ] && ranks=4
if [ "$(id -u)" -eq 0 ]; then # Open MPI refuses root unless told (HPC_NOTES.md)
  export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
fi
mpirun -n "$ranks" ./build/bin/freenas_sweep configs/quickstart.yaml --threads 1
./build/bin/freenas_report results/quickstart --quiet
echo "quickstart: records in results/quickstart/results.jsonl; report in" \
     "results/quickstart/report/report.md (figures: results/quickstart/report/*.png)"
