#!/usr/bin/env bash
# shellcheck disable=SC2086  # $Q (empty or --quick) and the step commands split on purpose
# Run every question and write the report. Called by `make all`.
#
#   bash scripts/run_all.sh            full runs into results/
#   QUICK=1 bash scripts/run_all.sh    smoke runs (--quick) into results-quick/
#   LANES=1 bash scripts/run_all.sh    one step at a time (the default on one core)
#
# The steps run in two lanes side by side, one per core: every script here
# computes on one thread at a time (numpy's BLAS is set to one thread, and
# torch gets half the cores below), so two lanes keep both cores of a
# laptop busy. Both lanes take their next step from one list (below).
# Every output line is prefixed with its step's name. Each step's time goes
# to <results>/timings.tsv, and the whole chain's wall time as the step "wall".
# A step that fails is reported and its lane goes on, so one missing dataset
# does not hide the other questions; the exit code is non-zero if any failed.
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
CORES="$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 1)"
LANES="${LANES:-$([ "$CORES" -ge 2 ] && echo 2 || echo 1)}"
if [ "$LANES" = 2 ]; then
  # torch's share of the cores (a value you set yourself is kept)
  export OMP_NUM_THREADS="${OMP_NUM_THREADS:-$(( CORES / 2 > 1 ? CORES / 2 : 1 ))}"
fi
export PYTHONUNBUFFERED=1   # each epoch's line shows when it is printed, not when a buffer fills
mkdir -p "$HW5_RESULTS"
CLAIMS="$(mktemp -d)"       # a folder per step a lane has taken
trap 'rm -rf "$CLAIMS"' EXIT
TIMINGS="$HW5_RESULTS/timings.tsv"
printf 'step\tstatus\tseconds\n' > "$TIMINGS"

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }

step() {  # step NAME COMMAND...: run it, its lines prefixed with [NAME]
  local name="$1"; shift
  printf '[%s] ======== %s\n' "$name" "$*"
  local start status
  start=$(now)
  "$@" 2>&1 | sed -u "s/^/[$name] /"
  if [ "${PIPESTATUS[0]}" = 0 ]; then status=ok; else status=failed; fi
  local secs; secs=$(elapsed "$start" "$(now)")
  printf '[%s] ======== %s in %s s\n' "$name" "$status" "$secs"
  printf '%s\t%s\t%s\n' "$name" "$status" "$secs" >> "$TIMINGS"
}

# Every step, in the order the lanes take them: longest first (the seconds
# each took in `make all` on a 2-core machine, the other lane busy), so the
# two longest start together and the short ones fill in at the end. A step
# comes after the one it needs (one whose results it reads, or whose folder
# it writes into), early enough not to keep the other waiting. Each lane walks the list and runs every step nobody has
# taken yet (mkdir is atomic, so each runs once); a step whose need is
# still running in the other lane waits for it.
NAMES=(); NEEDS=(); COMMANDS=()
add() { NAMES+=("$1"); NEEDS+=("$2"); shift 2; COMMANDS+=("$*"); }
#   name         needs                                             seconds
add q7.2         -            python/run_q7_2.py $Q                   #  72
add q7.1-emnist  -            python/run_q7_1.py cnn_emnist $Q        #  71
add q7.1-mnist   -            python/run_q7_1.py cnn_mnist $Q         #  38
add q7.1-nist36  -            python/run_q7_1.py cnn_nist36 $Q        #  37
add q3           -            python/run_q3.py $Q                     #  24
add q5           -            python/run_q5.py $Q                     #  17 (early: Q6 needs it)
add q4-emnist    q7.1-emnist  python/run_q4.py --classifier emnist $Q #  22 (reads the EMNIST model)
add q7.1-fc      q3           python/run_q7_1.py fc_nist36 $Q         #  20 (compares itself with Q3)
add q4           q3           python/run_q4.py $Q                     #  19 (reads the Q3 weights)
add q6           q5           python/run_q6.py $Q                     #   6 (reads the Q5 weights)
add q4.1         q4           python/q4_failures.py                   #   2 (writes into q4's folder)
add q2           -            python/run_q2.py $Q                     #   1
add theory       -            docs/plot_activations.py                #   1

claim() { mkdir "$CLAIMS/$1" 2>/dev/null; }
wait_for() {  # wait_for NAME: until step NAME has finished (ok or not)
  [ "$1" = - ] && return
  while [ ! -e "$CLAIMS/$1/finished" ]; do sleep 1; done
}
lane() {
  local i
  for i in "${!NAMES[@]}"; do
    claim "${NAMES[$i]}" || continue
    wait_for "${NEEDS[$i]}"
    step "${NAMES[$i]}" "$PY" ${COMMANDS[$i]}
    touch "$CLAIMS/${NAMES[$i]}/finished"
  done
}

echo "results go to $HW5_RESULTS${Q:+ (quick mode)}; $LANES lane(s) on $CORES core(s)"
START=$(now)
if [ "$LANES" = 2 ]; then
  lane & pid1=$!
  lane & pid2=$!
  wait "$pid1" "$pid2"
else
  lane
fi
step report "$PY" python/make_report.py
printf 'wall\tok\t%s\n' "$(elapsed "$START" "$(now)")" >> "$TIMINGS"

echo
column -t -s $'\t' "$TIMINGS" 2>/dev/null || cat "$TIMINGS"
failed=$(awk -F'\t' 'NR > 1 && $2 != "ok" { printf "%s ", $1 }' "$TIMINGS")
if [ -n "$failed" ]; then
  echo "FAILED steps: $failed(see their messages above)"
  exit 1
fi
echo "all steps ok; report: $HW5_RESULTS/REPORT.md"
