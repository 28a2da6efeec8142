"""scripts/run_all.sh, the `make all` chain, with a stand-in python that only
logs what it was asked to run: every step runs once, a step that needs
another starts after it has finished, and a failed step is reported
without stopping the others."""
import os
import subprocess

import pytest

from conftest import ROOT

FAKE_PYTHON = r'''#!/usr/bin/env bash
# log "start|end <time> <script and args>"; the EMNIST training takes longest
echo "start $(date +%s.%N) $*" >> "$LOG"
case "$*" in *cnn_emnist*) sleep 1.5 ;; *) sleep 0.1 ;; esac
echo "end $(date +%s.%N) $*" >> "$LOG"
case "$*" in *"$FAIL"*) exit 1 ;; esac
exit 0
'''
# a step's script (and part) as run_all.sh passes it -> the step's name;
# the first key found in a command wins ('--classifier emnist' before 'run_q4.py')
STEPS = {'run_q7_2.py': 'q7.2', 'cnn_emnist': 'q7.1-emnist', 'cnn_nist36': 'q7.1-nist36',
         'cnn_mnist': 'q7.1-mnist', 'fc_nist36': 'q7.1-fc', '--classifier emnist': 'q4-emnist',
         'run_q2.py': 'q2', 'run_q3.py': 'q3', 'run_q4.py': 'q4', 'q4_failures.py': 'q4.1',
         'run_q5.py': 'q5', 'run_q6.py': 'q6', 'plot_activations.py': 'theory',
         'make_report.py': 'report'}


def step_name(command):
    return next(name for key, name in STEPS.items() if key in command)


def run_chain(tmp_path, lanes, fail='nothing-fails'):
    fake = tmp_path / 'python'
    fake.write_text(FAKE_PYTHON)
    fake.chmod(0o755)
    log = tmp_path / 'log'
    env = {**os.environ, 'PYTHON': str(fake), 'LOG': str(log), 'FAIL': fail, 'LANES': str(lanes),
           'HW5_RESULTS': str(tmp_path / 'results')}
    proc = subprocess.run(['bash', str(ROOT / 'scripts' / 'run_all.sh')], env=env, capture_output=True,
                          text=True, timeout=120)
    times = {}
    for line in log.read_text().splitlines():
        what, when, command = line.split(' ', 2)
        times.setdefault(step_name(command), {})[what] = float(when)
    return proc, times


@pytest.mark.parametrize('lanes', [1, 2])
def test_every_step_runs_once_after_what_it_needs(tmp_path, lanes):
    proc, times = run_chain(tmp_path, lanes)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert set(times) == set(STEPS.values())
    log = (tmp_path / 'log').read_text()
    assert log.count('start') == len(STEPS)                     # nothing ran twice
    # what each script reads from another's results (or writes into its folder)
    needs = (('q4', 'q3'), ('q6', 'q5'), ('q4-emnist', 'q7.1-emnist'), ('q7.1-fc', 'q3'), ('q4.1', 'q4'))
    for step, need in needs:
        assert times[step]['start'] >= times[need]['end'], f'{step} started before {need} ended'
    report = times.pop('report')
    assert all(report['start'] >= t['end'] for t in times.values())   # the report comes last
    rows = (tmp_path / 'results' / 'timings.tsv').read_text().splitlines()
    assert rows[0] == 'step\tstatus\tseconds' and rows[-1].startswith('wall\tok\t')
    assert len(rows) == 1 + len(STEPS) + 1
    if lanes == 2:   # the two longest steps start together, one per lane
        assert abs(times['q7.2']['start'] - times['q7.1-emnist']['start']) < 1.0


def test_a_failed_step_is_reported_and_the_others_still_run(tmp_path):
    proc, times = run_chain(tmp_path, 2, fail='run_q3.py')
    assert proc.returncode == 1
    assert 'FAILED steps: q3' in proc.stdout
    assert set(times) == set(STEPS.values())     # q7.1-fc, which needs q3, still ran
    assert '[q3] ======== failed' in proc.stdout
