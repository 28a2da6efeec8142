"""Where the time of the whole chain goes: each step of scripts/run_all.sh
(what `make all` runs) with its seconds and its share of all the steps'
time, then the chain's wall time.

    python benchmarks/bench_chain.py [--results DIR]   # read a finished run's timings
    python benchmarks/bench_chain.py --run [--out DIR] # run the chain in --quick mode first

run_all.sh times every step itself and writes them to <results>/timings.tsv;
this reads that file (with make_report's reader), so the figures are those
of the run that made the results, not a second run. The steps run in two
lanes side by side, so they add up to more than the wall time (the "wall"
row run_all.sh adds); their sum over twice the wall time says how busy the
two cores were. --run starts `QUICK=1 bash scripts/run_all.sh` into --out
(a fresh temporary folder by default, never results/) and then reads its
timings: the quick chain shows the fixed costs (start-up, data loading,
plotting) that a full run hides behind training. When the run's results
hold q7_1/summary.json, the Q7.1 parts are listed too (each part's own
`seconds`, which leave out the script's start-up).
This is a benchmark, not a test: it prints figures and asserts nothing.
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / 'python'))

import threads  # noqa: E402,F401,I001  (first: sets the math libraries' threads before numpy loads)

import argparse  # noqa: E402
import os  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402

from make_report import read_timings, split_wall  # noqa: E402
from util import REPO_ROOT, RESULTS_DIR, UsageError, load_json  # noqa: E402



def run_quick_chain(out):
    """QUICK=1 scripts/run_all.sh into out; its own log goes to out/chain.log.
    A failed step still leaves its time in timings.tsv, so the table shows it."""
    out.mkdir(parents=True, exist_ok=True)
    log = out / 'chain.log'
    print(f'running the chain in quick mode into {out} (log: {log}) ...', flush=True)
    with open(log, 'w') as f:
        proc = subprocess.run(['bash', str(REPO_ROOT / 'scripts' / 'run_all.sh')], cwd=REPO_ROOT,
                              stdout=f, stderr=subprocess.STDOUT,
                              env={**os.environ, 'QUICK': '1', 'HW5_RESULTS': str(out)})
    if proc.returncode != 0:
        print(f'note: some steps failed (exit code {proc.returncode}); see {log}')


def q7_1_parts(results):
    """[(part, seconds)] from q7_1/summary.json, [] when there is none."""
    path = results / 'q7_1' / 'summary.json'
    if not path.exists():
        return []
    summary = load_json(path)
    return [(part, m['seconds']) for part, m in summary.items()
            if isinstance(m, dict) and isinstance(m.get('seconds'), (int, float))]


def print_table(rows, parts):
    """Each step's seconds and share of the steps' total, the largest
    marked; then the Q7.1 parts, and the wall time with the cores' use."""
    rows, wall = split_wall(rows)
    total = sum(seconds for _, _, seconds in rows)
    if total <= 0:
        print('every step took 0 s')
        return
    biggest = max(rows, key=lambda row: row[2])[0]
    print(f'{"step":<18s} {"status":<7s} {"seconds":>8s} {"share":>7s}')
    for step, status, seconds in rows:
        mark = '  <- largest' if step == biggest else ''
        print(f'{step:<18s} {status:<7s} {seconds:8.1f} {seconds / total:7.1%}{mark}')
    print(f'{"all steps":<18s} {"":<7s} {total:8.1f} {1:7.1%}')
    for part, part_seconds in parts:
        print(f'  Q7.1 {part:<16s} {part_seconds:11.1f} {part_seconds / total:7.1%}')
    if wall:
        print(f'wall time {wall:.1f} s: the steps kept {total / wall:.2f} cores busy on average '
              f'({total / (2 * wall):.0%} of two)')
        longest = max(seconds for _, _, seconds in rows)
        print(f'two lanes cannot finish before {max(total / 2, longest):.1f} s '
              f'(half of all the steps, or the longest step)')
    failed = [step for step, status, _ in rows if status != 'ok']
    if failed:
        print(f'failed steps (their time is still counted): {", ".join(failed)}')


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter,
                                allow_abbrev=False)
    p.add_argument('--results', type=Path, default=RESULTS_DIR,
                   help='the results folder whose timings.tsv to read (default: %(default)s)')
    p.add_argument('--run', action='store_true', help='run the chain in --quick mode first, into --out')
    p.add_argument('--out', type=Path, default=None,
                   help='with --run: where the quick chain writes (default: a new temporary folder)')
    args = p.parse_args()

    results = args.results
    if args.run:
        results = (args.out or Path(tempfile.mkdtemp(prefix='hw5-chain-'))).resolve()
        run_quick_chain(results)
    try:
        rows = read_timings(results)
        parts = q7_1_parts(results)
    except UsageError as e:
        sys.exit(f'error: {e}')
    if not rows:
        sys.exit(f'error: no {results / "timings.tsv"}: run `make all` (or scripts/run_all.sh) first, '
                 'or pass --run to time the quick chain')
    print(f'timings of {results / "timings.tsv"}'
          + (' (quick chain, just run)' if args.run else ''))
    print_table(rows, parts)


if __name__ == '__main__':
    main()
