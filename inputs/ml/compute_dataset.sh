#!/usr/bin/env bash
# Compute the MLIP data set (issue 14 item 5) through lisflow's normal path, slice by slice:
#   lisflow ml dataset-study --part I/N  ->  lisflow submit  ->  lisflow run  ->  results DB.
# Every slice has its own embedded LaunchPad (LISFLOW_HOME=$OUT/home/partNN) and shares one
# results database ($LISFLOW_DB_URL, default $OUT/results.sqlite) and one study id, so a
# finished slice is complete sites and an interrupted run resumes where it stopped (COMPLETED
# calculations are skipped). Usage: compute_dataset.sh OUT_DIR [N_PARTS] [extra dataset-study
# options]. Run it niced on one core: OMP_NUM_THREADS=1 nice -n 19 compute_dataset.sh ...
set -euo pipefail
out=$(realpath -m "$1"); parts=${2:-20}; shift $(( $# > 1 ? 2 : 1 ))
mkdir -p "$out/studies" "$out/home"
export LISFLOW_DB_URL=${LISFLOW_DB_URL:-sqlite:///$out/results.sqlite}
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
for i in $(seq 1 "$parts"); do
  tag=$(printf "%02d" "$i")
  study="$out/studies/part$tag.yaml"
  lisflow ml dataset-study --part "$i/$parts" --out "$study" "$@"
  export LISFLOW_HOME="$out/home/part$tag"
  echo "$(date -u +%FT%TZ) part $i/$parts submit"
  lisflow submit "$study"
  lisflow run || echo "$(date -u +%FT%TZ) part $i/$parts: some Fireworks FIZZLED"
  echo "$(date -u +%FT%TZ) part $i/$parts done"
done
