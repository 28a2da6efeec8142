"""Shared test fixtures: python/ on the path, and tiny synthetic datasets
written in the real file formats, so no test needs the real data."""
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import scipy.io

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / 'python'))


@pytest.fixture(autouse=True)
def float32_after_each_test():
    """A script's main() run in the test process sets torch_common's
    precision for the whole process: put float32 back after every test, so
    no test runs in the precision another one left (torch_common is not
    imported here, so tests that never load torch stay without it)."""
    yield
    torch_common = sys.modules.get('torch_common')
    if torch_common is not None:
        torch_common._bfloat16 = False


def write_nist36(folder, per_class=3, seed=0):
    """Write nist36_{train,valid,test}.mat with the course's keys and shapes.
    Class c is a bright bar at row c of the 32x32 image (stored column-major),
    so the classes are learnable."""
    rng = np.random.default_rng(seed)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for split in ('train', 'valid', 'test'):
        labels = np.repeat(np.arange(36), per_class)
        images = 0.9 + 0.1 * rng.random((len(labels), 32, 32))
        for i, c in enumerate(labels):
            images[i, c % 32, :] = 0.0          # ink is dark
        x = images.transpose(0, 2, 1).reshape(len(labels), 1024)  # column-major
        y = np.eye(36, dtype=np.uint8)[labels]
        scipy.io.savemat(folder / f'nist36_{split}.mat', {f'{split}_data': x, f'{split}_labels': y})
    return folder


@pytest.fixture
def nist36_dir(tmp_path):
    return write_nist36(tmp_path / 'data')


def run_script(name, *args, cwd=ROOT, check=True, env=None):
    """Run python/<name> as a user would; return the CompletedProcess.
    env: extra environment variables, e.g. {'HW5_RESULTS': ...}."""
    proc = subprocess.run([sys.executable, str(ROOT / 'python' / name), *map(str, args)],
                          cwd=cwd, capture_output=True, text=True, timeout=600,
                          env={**os.environ, **(env or {})})
    if check and proc.returncode != 0:
        raise AssertionError(f'{name} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}')
    return proc
