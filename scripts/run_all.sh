#!/usr/bin/env bash
# Run every question in order and write the report. Called by `make all`.
#
#   bash scripts/run_all.sh            full runs into results/
#   QUICK=1 bash scripts/run_all.sh    smoke runs (--quick) into results-quick/
#
# Each step prints its name and time. A step that fails is reported and the
# chain goes on, so one missing dataset does not hide the other questions;
# the exit code is non-zero if any step failed.
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PY="${PYTHON:-$ROOT/.venv/bin/python}"
QUICK="${QUICK:-0}"
if [ "$QUICK" = 1 ]; then
  export HW5_RESULTS="${HW5_RESULTS:-$ROOT/results-quick}"
  Q="--quick"
else
  export HW5_RESULTS="${HW5_RESULTS:-$ROOT/results}"
  Q=""
fi
mkdir -p "$HW5_RESULTS"
TIMINGS="$HW5_RESULTS/timings.tsv"
printf 'step\tstatus\tseconds\n' > "$TIMINGS"
failed=()

step() {  # step NAME COMMAND...
  local name="$1"; shift
  printf '\n======== %s: %s\n' "$name" "$*"
  local start end status
  start=$(date +%s.%N)
  if "$@"; then status=ok; else status=failed; failed+=("$name"); fi
  end=$(date +%s.%N)
  local secs; secs=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }')
  printf '======== %s: %s in %s s\n' "$name" "$status" "$secs"
  printf '%s\t%s\t%s\n' "$name" "$status" "$secs" >> "$TIMINGS"
}

echo "results go to $HW5_RESULTS${Q:+ (quick mode)}"
# shellcheck disable=SC2086
{
  step q2        "$PY" python/run_q2.py $Q
  step q3        "$PY" python/run_q3.py $Q
  step q4        "$PY" python/run_q4.py
  step q4.1      "$PY" python/q4_failures.py
  step q5        "$PY" python/run_q5.py $Q
  step q6        "$PY" python/run_q6.py $Q
  step q7.1      "$PY" python/run_q7_1.py all $Q
  step q4-emnist "$PY" python/run_q4.py --classifier emnist
  step q7.2      "$PY" python/run_q7_2.py $Q
  step theory    "$PY" docs/plot_activations.py
  step report    "$PY" python/make_report.py
}

echo
column -t -s $'\t' "$TIMINGS" 2>/dev/null || cat "$TIMINGS"
if [ ${#failed[@]} -gt 0 ]; then
  echo "FAILED steps: ${failed[*]} (see their messages above)"
  exit 1
fi
echo "all steps ok; report: $HW5_RESULTS/REPORT.md"
