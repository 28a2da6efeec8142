"""Shared test fixtures: python/ on the path, and tiny synthetic datasets
written in the real file formats, so no test needs the real data."""
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / 'python'))
sys.path.insert(1, str(ROOT / 'checker'))  # the submission checker's modules

import threads  # noqa: E402,F401,I001  (first: sets the math libraries' threads, as the scripts do)

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import scipy.io  # noqa: E402


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


@pytest.fixture
def weights(tmp_path):
    """Q3 weights for run_q4 (a random network). An untrained network is
    unsure of every crop, and run_q4 writes no text for that; large output
    weights make it sure (of random answers)."""
    import nn
    from util import save_params
    params = {}
    rng = np.random.default_rng(0)
    nn.initialize_weights(1024, 64, params, 'layer1', rng=rng)
    nn.initialize_weights(64, 36, params, 'output', rng=rng)
    params['Woutput'] *= 200
    save_params(tmp_path / 'w.pickle', params)
    return tmp_path / 'w.pickle'
