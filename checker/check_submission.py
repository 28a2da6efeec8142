"""Check a student's nn.py (and q4.py) against the handout, function by function.

    python checker/check_submission.py PATH [--train] [--json FILE]

PATH is a folder or a .zip holding the student's nn.py, the util.py it
imports (as the starter code does) and, optionally, q4.py. For every
function of the handout's starter code the report says pass, warn (right
answer, but in a form or by a choice the handout leaves open: a list for an
array, a dropped leftover batch; the warn says what it costs), fail (only
what the handout asks), missing or skipped (nothing to check, or a library
the handout allows is missing on this machine), with a hint naming what
differs. Code written for older numpy and scikit-image runs with the names
removed since mapped to today's, and the report says so. --train also trains
the 1024-64-36 network with the student's functions on NIST36 and holds its
validation accuracy against the handout's 75%.

How the student's code is run, so that nothing it does can take the
checker down or touch their files:
  * PATH is copied (or unzipped) into a temporary folder; nothing is
    written into PATH, and their run_q*.py scripts are never run.
  * Each check is a separate process (submission_probe.py) with a time
    limit, stdin closed (an input() fails at once), stdout discarded and
    their printing capped, MPLBACKEND=Agg (plt.show() returns at once).
    A crash, an endless loop or a print flood fails that check alone.
  * Each check feeds its function inputs made by this project's own
    functions, so one bug fails one check (see submission_checks.py).

Exit code: 0 when no check fails or is missing (skipped ones, such as
findLetters without a q4.py, do not count), 1 otherwise, 2 for a bad PATH.
"""
import sys
from pathlib import Path

# The reference answers are this project's own python/ modules (nn.py, q4.py).
sys.path.insert(1, str(Path(__file__).resolve().parents[1] / 'python'))

import threads  # noqa: E402,F401,I001  (first: sets the math libraries' threads before numpy loads)

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import pickle  # noqa: E402
import shutil  # noqa: E402
import signal  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import textwrap  # noqa: E402
import time  # noqa: E402
import zipfile  # noqa: E402
from concurrent.futures import ThreadPoolExecutor  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402

import numpy as np  # noqa: E402

import submission_checks as sc  # noqa: E402

HERE = Path(__file__).resolve().parent
PROBE = HERE / 'submission_probe.py'
DATA_DIR = HERE.parent / 'data'
SKIP_DIRS = {'__pycache__', '.git', '__MACOSX', '.ipynb_checkpoints', '.venv', 'venv'}
MAX_FILE_BYTES = 10 * 2 ** 20     # larger files (datasets, weights) are not copied
MAX_TOTAL_BYTES = 200 * 2 ** 20   # a folder or zip beyond this is refused
# 'error' is the checker's own failure to judge a result (a bug here, not theirs).
MAPPED_TEXT = 'ran with names removed from the libraries since mapped to today\'s'
STATUS_LABEL = {'pass': 'pass', 'warn': 'warn', 'fail': 'FAIL', 'missing': 'MISSING',
                'skipped': 'skipped', 'error': 'ERROR'}


class SubmissionError(Exception):
    """A PATH the checker cannot use; printed as one line."""


# ----------------------------------------------------------------------------
# A private copy of the submission
# ----------------------------------------------------------------------------
def wanted(rel_parts, size):
    """Copy this file? Not caches or VCS folders, not big data files."""
    return not SKIP_DIRS.intersection(rel_parts[:-1]) and size <= MAX_FILE_BYTES


def copy_folder(src, dest):
    total = 0
    for path in sorted(src.rglob('*')):
        rel = path.relative_to(src)
        if path.is_symlink() or not path.is_file() or not wanted(rel.parts, path.stat().st_size):
            continue
        total += path.stat().st_size
        if total > MAX_TOTAL_BYTES:
            raise SubmissionError(f'{src} holds over {MAX_TOTAL_BYTES >> 20} MB of files; '
                                  'point PATH at the folder with nn.py')
        (dest / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, dest / rel)


def unzip(src, dest):
    try:
        with zipfile.ZipFile(src) as z:
            members = [m for m in z.infolist() if not m.is_dir()]
            if sum(m.file_size for m in members) > MAX_TOTAL_BYTES * 5:
                raise SubmissionError(f'{src} unpacks to over {MAX_TOTAL_BYTES * 5 >> 20} MB')
            for m in members:
                parts = Path(m.filename).parts
                # zipfile would sanitise these too; skipping them is clearer
                if Path(m.filename).is_absolute() or '..' in parts or not wanted(parts, m.file_size):
                    continue
                z.extract(m, dest)
    except zipfile.BadZipFile as e:
        raise SubmissionError(f'{src} is not a readable zip file ({e})') from None


def find_code_folder(root, shown):
    """The folder holding nn.py: the shallowest one (zips often nest it in
    'andrewid/python/')."""
    found = sorted((p for p in root.rglob('nn.py') if not SKIP_DIRS.intersection(p.parts)),
                   key=lambda p: (len(p.parts), str(p)))
    if not found:
        raise SubmissionError(f'no nn.py in {shown} (searched every subfolder); PATH should be '
                              'the student\'s python/ folder or a zip of their submission')
    return found[0].parent


def prepare_submission(path, workdir):
    """Copy or unzip PATH into workdir/submission; return the folder with nn.py."""
    path = Path(path)
    if not path.exists():
        raise SubmissionError(f'{path} does not exist')
    dest = Path(workdir) / 'submission'
    dest.mkdir()
    if path.is_dir():
        copy_folder(path, dest)
    elif zipfile.is_zipfile(path):
        unzip(path, dest)
    else:
        raise SubmissionError(f'{path} is neither a folder nor a .zip file')
    return find_code_folder(dest, path)


# ----------------------------------------------------------------------------
# Running one check in a child process
# ----------------------------------------------------------------------------
class SafeUnpickler(pickle.Unpickler):
    """The child's result is written by a process running the student's code:
    unpickle numpy arrays and builtins only, never code."""
    NUMPY = {'_reconstruct', 'ndarray', 'dtype', 'scalar', '_frombuffer'}

    def find_class(self, module, name):
        if module.split('.')[0] == 'numpy' and name in self.NUMPY or \
                (module == 'numpy' and name.endswith('DType')) or \
                (module.startswith('numpy.dtypes') and name.endswith('DType')):
            return super().find_class(module, name)
        if module == 'builtins' and name in ('complex', 'set', 'frozenset', 'slice', 'range'):
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f'refused {module}.{name} in a result')


def read_result(path):
    if not path.exists():
        return None
    try:
        with open(path, 'rb') as f:
            return SafeUnpickler(f).load()
    except Exception:  # noqa: BLE001  (a half-written or forged file is "no result")
        return None


def child_env():
    """The environment of a student's process: headless matplotlib, one BLAS
    thread, no bytecode files, and no PYTHONPATH that could put this
    project's nn.py or util.py in place of theirs."""
    env = {k: v for k, v in os.environ.items()
           if k not in ('PYTHONPATH', 'PYTHONSTARTUP', 'PYTHONINSPECT')}
    env.update(MPLBACKEND='Agg', OPENBLAS_NUM_THREADS='1', OMP_NUM_THREADS='1',
               MKL_NUM_THREADS='1', PYTHONDONTWRITEBYTECODE='1', PYTHONIOENCODING='utf-8')
    return env


def kill_tree(proc):
    """End the child and anything it started (it leads its own session)."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError, AttributeError):
        proc.kill()
    proc.wait()


def run_child(folder, module, check, inputs, timeout, scratch):
    """Run submission_probe.py for one check. Returns (result dict or None,
    how it ended: 'ok', 'timeout' or 'crash: <stderr head>', seconds)."""
    in_path, out_path = scratch / f'{check}.in.pickle', scratch / f'{check}.out.pickle'
    err_path = scratch / f'{check}.stderr'
    with open(in_path, 'wb') as fh:
        pickle.dump(inputs, fh, protocol=pickle.HIGHEST_PROTOCOL)
    start = time.perf_counter()
    with open(err_path, 'wb') as err:
        proc = subprocess.Popen([sys.executable, str(PROBE), str(folder), module, check,
                                 str(in_path), str(out_path)],
                                cwd=folder, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=err, env=child_env(), start_new_session=True)
        try:
            proc.wait(timeout=timeout)
            ended = 'ok'
        except subprocess.TimeoutExpired:
            kill_tree(proc)
            ended = 'timeout'
    result = read_result(out_path)
    if ended == 'ok' and proc.returncode != 0:
        ended = crash_text(proc.returncode, err_path)
    return result, ended, time.perf_counter() - start


def crash_text(returncode, err_path):
    """'crashed (SIGSEGV)' and the last line the process wrote to stderr."""
    try:
        why = f'crashed ({signal.Signals(-returncode).name})' if returncode < 0 else \
            f'exited with code {returncode}'
    except ValueError:
        why = f'exited with code {returncode}'
    with open(err_path, 'rb') as fh:
        head = fh.read(2000).decode('utf-8', 'replace').strip().splitlines()
    return why + (f': {head[-1]}' if head else '')


# ----------------------------------------------------------------------------
# From a child's result to a report row
# ----------------------------------------------------------------------------
def row(function, module, status, hint, **extra):
    return {'function': function, 'file': f'{module}.py', 'status': status, 'hint': hint, **extra}


def import_problem(module, imported, ended, timeout, folder):
    """(status, hint) if importing the student's module failed, else None.
    A library the handout allows but this machine lacks is the environment's
    problem: the module's checks are skipped, not failed."""
    if imported and (imported.get('import') or {}).get('ok'):
        return None       # imported; a later trial of its activations may have hung
    if ended == 'timeout':
        return 'fail', (f'importing {module}.py did not finish within {timeout:g} s: code at '
                        'module level (training? input()?) runs on import; put it under '
                        'if __name__ == "__main__":')
    if imported is None or imported.get('import') is None:
        return 'fail', f'importing {module}.py: the process {ended}'
    imp = imported['import']
    if imp.get('environment'):
        return 'skipped', sc.environment_hint(f'importing {module}.py', imp)
    hint = f'importing {module}.py failed: {sc.short_error(imp)}'
    if "No module named 'util'" in imp['error'] and not (folder / 'util.py').exists():
        hint += f'; {module}.py imports util: put the util.py it uses next to it'
    elif imp['error'].startswith('ModuleNotFoundError'):
        hint += f'; {sc.ALLOWED_LIBRARIES}'
    return 'fail', hint


def judged_row(check, inputs, result, ended, seconds, timeout):
    """Judge one check's result. After a timeout the calls that finished are
    still judged, and the unfinished ones fail with a time-limit hint."""
    base = {'seconds': round(seconds, 2)}
    if result is not None:
        base.update(printed=result.get('printed', '')[:500], printed_chars=result.get('printed_chars', 0))
        env = next((r for r in (result.get('calls') or {}).values()
                    if isinstance(r, dict) and r.get('environment')), None)
        if env:
            return row(check.function, check.module, 'skipped',
                       sc.environment_hint(check.function, env), **base)
    if result is None or (ended != 'ok' and ended != 'timeout') or not result.get('calls'):
        why = (f'did not finish within {timeout:g} s (an endless loop, or waiting for input?)'
               if ended == 'timeout' else f'the process {ended}' if ended != 'ok' else
               'the process finished, but its result could not be read')
        return row(check.function, check.module, 'fail', why, **base)
    calls = result['calls']
    if ended == 'timeout':
        calls = sc.Unfinished(calls, timeout)
    try:
        findings = check.judge(inputs, calls)
    except Exception as e:  # noqa: BLE001  (odd student output must not stop the report)
        return row(check.function, check.module, 'error',
                   f'the checker could not judge what came back ({type(e).__name__}: {e})', **base)
    sc.judge_side_effects(check.function, result['calls'], findings)
    mapped = [m for m in result.get('mapped', []) if m not in result.get('mapped_on_import', [])]
    if mapped:
        findings.notes.insert(0, f'{MAPPED_TEXT}: {"; ".join(mapped)}')
    # The whole message and traceback of every call that raised, for the JSON.
    errors = {label: {k: r.get(k) for k in ('error', 'where', 'traceback')}
              for label, r in result['calls'].items() if isinstance(r, dict) and 'error' in r}
    return row(check.function, check.module, findings.status, findings.hint,
               problems=findings.problems, warnings=findings.warnings, notes=findings.notes,
               details=findings.details, errors=errors, **base)


def training_inputs(settings, scratch):
    """The NIST36 train/valid arrays saved for the child, or a skip reason."""
    from data import load_nist36  # here: only --train needs data.py (and util.py behind it)
    from util import UsageError
    data_dir = settings['data_dir']
    try:
        (x, y), (xv, yv) = load_nist36('train', data_dir), load_nist36('valid', data_dir)
    except UsageError as e:
        return None, f'no NIST36 data: {e}'
    path = scratch / 'nist36.npz'
    np.savez(path, x=x, y=y, xv=xv, yv=yv)
    return {'data': str(path), 'hidden': 64, 'seed': 0,
            **{k: settings[k] for k in ('epochs', 'lr', 'batch_size')}}, None


@dataclass
class Session:
    """One submission being checked: where its copy lives, and what
    importing each of its modules gave."""
    folder: Path                  # the copy's folder holding nn.py
    scratch: Path                 # inputs and results of the child processes
    timeout: float                # seconds per check
    functions: dict = field(default_factory=dict)    # module -> {function: defined?}
    broken: dict = field(default_factory=dict)       # module -> (status, why) if not importable
    theirs: dict = field(default_factory=dict)       # their activations that give ours' values
    mapped: dict = field(default_factory=dict)       # module -> old names its import used


def import_modules(session, modules, pool):
    """Import each module once in a child. A module that cannot load (or
    hangs on import) then fails its checks at once, not one limit each."""
    def one(m):
        needs = [c.function for c in sc.CHECKS if c.module == m]
        return run_child(session.folder, m, f'import_{m}', {'needs': needs}, session.timeout,
                         session.scratch)
    for m, (result, ended, _) in zip(modules, pool.map(one, modules)):
        session.broken[m] = import_problem(m, result, ended, session.timeout, session.folder)
        session.functions[m] = (result or {}).get('functions', {})
        session.theirs.update((result or {}).get('theirs', {}))
        session.mapped[m] = (result or {}).get('mapped_on_import', [])


def run_check(check, session, train_settings):
    """One report row: skipped, missing or failed before running anything
    when that is already known, else the check run in a child and judged."""
    if check.module not in session.functions:
        return row(check.function, check.module, 'skipped', f'no {check.module}.py next to nn.py')
    if session.broken[check.module]:
        return row(check.function, check.module, *session.broken[check.module])
    absent = [f for f in check.needs if not session.functions[check.module].get(f, True)]
    if check.function == 'train':
        if absent:
            return row('train', 'nn', 'fail', f'cannot train: {", ".join(absent)} missing')
        inputs, skip = training_inputs(train_settings, session.scratch)
        if skip:
            return row('train', 'nn', 'skipped', skip)
        limit = train_settings['timeout']
    else:
        if absent:
            return row(check.function, check.module, 'missing',
                       f'{check.module}.py defines no function {check.function}')
        inputs, limit = check.inputs(), session.timeout
    result, ended, seconds = run_child(session.folder, check.module, check.function,
                                       {**inputs, 'needs': list(check.needs), 'theirs': session.theirs},
                                       limit, session.scratch)
    out = judged_row(check, inputs, result, ended, seconds, limit)
    if check.function == 'findLetters':
        out.setdefault('details', {})['ours'] = sc.reference_findLetters()
    return out


def run_checks(path, train=False, timeout=60.0, train_timeout=900.0, jobs=2, epochs=20,
               lr=1e-2, batch_size=32, data_dir=DATA_DIR):
    """Check the submission at PATH. Returns the report as a dict (what
    --json writes). Raises SubmissionError for an unusable PATH."""
    train_settings = {'timeout': train_timeout, 'epochs': epochs, 'lr': lr,
                      'batch_size': batch_size, 'data_dir': Path(data_dir)}
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix='check_submission_') as tmp:
        folder = prepare_submission(path, tmp)
        session = Session(folder, Path(tmp) / 'scratch', timeout)
        session.scratch.mkdir()
        modules = ['nn'] + (['q4'] if (folder / 'q4.py').exists() else [])
        with ThreadPoolExecutor(max(1, jobs)) as pool:
            import_modules(session, modules, pool)
            # --train starts first, as it takes longest; its row goes last.
            checks = ([sc.TRAIN_CHECK] if train else []) + sc.CHECKS
            rows = list(pool.map(lambda c: run_check(c, session, train_settings), checks))
        if train:
            rows = rows[1:] + rows[:1]
        files = sorted(p.name for p in folder.iterdir() if p.suffix == '.py')
        code_folder = str(folder.relative_to(Path(tmp) / 'submission'))
    counts = {s: sum(r['status'] == s for r in rows) for s in STATUS_LABEL}
    placeholders = [r['function'] for r in rows
                    if r['status'] == 'fail' and 'the starter\'s placeholder' in (r['hint'] or '')]
    return {'path': str(path), 'code_folder': code_folder, 'files': files,
            'placeholders': placeholders, 'mapped_on_import': session.mapped,
            'passed': not (counts['fail'] or counts['missing'] or counts['error']), 'counts': counts,
            'seconds': round(time.perf_counter() - start, 1), 'checks': rows}


# ----------------------------------------------------------------------------
# The report
# ----------------------------------------------------------------------------
def format_table(report, width=None):
    """The report as the text table printed on the terminal."""
    width = width or min(shutil.get_terminal_size((110, 20)).columns, 120)
    name_w = max(len(r['function']) for r in report['checks']) + 2
    lead = name_w + 9
    where = '' if report['code_folder'] == '.' else f' (in {report["code_folder"]}/)'
    used = [f for f in ('nn.py', 'util.py', 'q4.py') if f in report['files']]
    others = len(report['files']) - len(used)
    listed = ', '.join(used) + (f' (and {others} other .py files, not run)' if others else '')
    headlines = [starter_line(report)] + [
        f'{module}.py {MAPPED_TEXT}: {"; ".join(names)}'
        for module, names in report.get('mapped_on_import', {}).items() if names]
    lines = [f'check_submission: {report["path"]}{where}: {listed}', *filter(None, headlines), '',
             f'{"function":<{name_w}}{"result":<9}what differs (or what was measured)',
             '-' * min(width, 100)]
    for r in report['checks']:
        text = r['hint'] or ''
        if r['status'] in ('fail', 'warn') and r.get('notes') and r['notes'][0] not in text:
            text += f' [{r["notes"][0]}]'
        wrapped = textwrap.wrap(text, max(30, width - lead)) or ['']
        lines.append(f'{r["function"]:<{name_w}}{STATUS_LABEL[r["status"]]:<9}{wrapped[0]}')
        lines += [' ' * lead + w for w in wrapped[1:]]
    c = report['counts']
    summary = ', '.join(f'{c[s]} {w}' for s, w in (('pass', 'pass'), ('warn', 'warn'),
                        ('fail', 'fail'), ('missing', 'missing'), ('skipped', 'skipped'),
                        ('error', 'checker error')) if c[s])
    lines += ['', f'{summary} ({report["seconds"]:g} s)']
    return '\n'.join(lines)


def starter_line(report):
    """A headline when most functions still return the starter's placeholders:
    the submission is the untouched starter, not a set of separate bugs."""
    held = report.get('placeholders', [])
    if len(held) * 2 < len(report['checks']):
        return ''
    return (f'this is mostly the untouched starter: {len(held)} of {len(report["checks"])} '
            f'functions still return its placeholders ({", ".join(held)})')


def jsonable(obj):
    """numpy values and non-finite floats made into strict JSON."""
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return jsonable(obj.tolist())
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float) and not np.isfinite(obj):
        return None
    return obj


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument('path', help='folder or .zip with the student\'s nn.py (and util.py, q4.py)')
    p.add_argument('--train', action='store_true',
                   help='also train their network on NIST36 and check the 75%% bar')
    p.add_argument('--json', type=Path, metavar='FILE', help='write every check to this JSON file')
    p.add_argument('--timeout', type=float, default=60.0, help='seconds each check may run')
    p.add_argument('--train-timeout', type=float, default=900.0, help='seconds --train may run')
    p.add_argument('--epochs', type=int, default=20, help='--train: epochs')
    p.add_argument('--lr', type=float, default=1e-2,
                   help='--train: learning rate per example (cosine schedule; the loss is summed)')
    p.add_argument('--batch-size', type=int, default=32, help='--train: batch size')
    p.add_argument('--data-dir', type=Path, default=DATA_DIR, help='--train: folder with nist36_*.mat')
    p.add_argument('--jobs', type=int, default=2, help='checks run at the same time')
    args = p.parse_args(argv)
    if args.json and not args.json.parent.is_dir():
        print(f'error: --json {args.json}: the folder {args.json.parent} does not exist',
              file=sys.stderr)
        return 2
    if args.train:
        print(f'(--train: the student\'s network trains for {args.epochs} epochs on NIST36 '
              'alongside the other checks)', file=sys.stderr, flush=True)
    try:
        report = run_checks(args.path, args.train, args.timeout, args.train_timeout, args.jobs,
                            args.epochs, args.lr, args.batch_size, args.data_dir)
    except SubmissionError as e:
        print(f'error: {e}', file=sys.stderr)
        return 2
    print(format_table(report))
    if args.json:
        args.json.write_text(json.dumps(jsonable(report), indent=2, allow_nan=False) + '\n')
        print(f'wrote {args.json}')
    return 0 if report['passed'] else 1


if __name__ == '__main__':
    sys.exit(main())
