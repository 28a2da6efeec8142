"""The generated report: no broken links, numbers from metrics.json, and a
chain of quick runs that gives the same numbers twice."""
import json
import re
from pathlib import Path

import pytest

from conftest import ROOT, run_script

# The numpy questions, in the order of the main job, as quick runs on the
# synthetic NIST36 files. Q5 before Q6 (Q6 reads Q5's weights from
# HW5_RESULTS); Q4 is covered by tests/test_q4.py and Q7 by its own tests.
CHAIN = [('run_q2.py',), ('run_q3.py',), ('run_q5.py',), ('run_q6.py',)]


def run_chain(results, data_dir):
    env = {'HW5_RESULTS': str(results)}
    for (script,) in CHAIN:
        args = ['--quick'] + ([] if script == 'run_q2.py' else ['--data-dir', data_dir])
        run_script(script, *args, env=env)
    run_script('make_report.py', env=env)
    return results / 'REPORT.md'


def links(markdown):
    """Targets of Markdown links and images, without #anchors or URLs."""
    targets = re.findall(r'\]\(([^)\s]+)\)', markdown)
    return [t.split('#')[0] for t in targets if t.split('#')[0] and '://' not in t]


def numbers_of(metrics_dir):
    """Every metrics.json below a folder, with the timings removed."""
    def strip(obj):
        if isinstance(obj, dict):
            return {k: strip(v) for k, v in obj.items() if 'seconds' not in k and k != 'ae_weights'}
        if isinstance(obj, list):
            return [strip(v) for v in obj]
        return obj
    return {p.relative_to(metrics_dir).as_posix(): strip(json.loads(p.read_text()))
            for p in sorted(Path(metrics_dir).rglob('metrics.json'))}


@pytest.fixture(scope='module')
def two_quick_chains(tmp_path_factory):
    from conftest import write_nist36
    base = tmp_path_factory.mktemp('chain')
    data_dir = write_nist36(base / 'data')
    return [run_chain(base / name, data_dir) for name in ('first', 'second')]


def test_two_quick_runs_give_the_same_numbers(two_quick_chains):
    first, second = (numbers_of(report.parent) for report in two_quick_chains)
    assert set(first) == {'q2/metrics.json', 'q3/metrics.json', 'q5/metrics.json', 'q6/metrics.json'}
    assert first == second


def test_report_has_no_broken_links(two_quick_chains):
    report = two_quick_chains[0]
    text = report.read_text()
    targets = links(text)
    assert any(t.endswith('.png') for t in targets)
    missing = [t for t in targets if not (report.parent / t).exists()]
    assert not missing, missing


def test_report_quotes_the_metrics(two_quick_chains):
    report = two_quick_chains[0]
    text = report.read_text()
    q3 = json.loads((report.parent / 'q3' / 'metrics.json').read_text())
    q5 = json.loads((report.parent / 'q5' / 'metrics.json').read_text())
    assert f'test accuracy {100 * q3["test_acc"]:.1f}%' in text
    assert f'{q5["valid_psnr"]:.2f} dB' in text
    assert 'stand-in' in text
    # questions that were not run say how to run them instead of breaking
    assert 'Not run yet: `python python/run_q7_2.py`' in text


def test_report_on_an_empty_results_folder(tmp_path):
    run_script('make_report.py', '--results', tmp_path)
    text = (tmp_path / 'REPORT.md').read_text()
    assert text.count('Not run yet') == 6  # Q2-Q6 and Q7.2; Q7.1 lists its parts as not run
    assert not [t for t in links(text) if not (tmp_path / t).exists()]


def test_theory_links_point_at_real_files():
    """Links from docs/theory.md into the repository exist; those into
    results/ are made by the runs and are checked by the report tests."""
    theory = ROOT / 'docs' / 'theory.md'
    for target in links(theory.read_text()):
        path = (theory.parent / target).resolve()
        if 'results' in path.relative_to(ROOT).parts[:1]:
            continue
        assert path.exists(), target
