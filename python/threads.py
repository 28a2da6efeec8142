"""How the math libraries use the CPU's threads, set once for every script.

Both settings are read only when the library first loads, so this module
must run before numpy or torch is imported: every entry script (run_q*.py,
the tools, the benchmarks, the tests' conftest.py) imports it on its first
line, and no library module needs to. Set either variable yourself to
override it.
"""
import os

# numpy: the matmuls here are small (a batch is 32 x 1024 x 64). One BLAS
# thread runs them fastest; several spin-wait for each other, which is slow
# whenever anything else shares the cores (docs/measurements.md).
os.environ.setdefault('OPENBLAS_NUM_THREADS', '1')

# torch: its CPU threads (OpenMP) spin while they wait for each other, and a
# waiting thread burns the time slice its partner needs when anything else
# shares the cores; waiting passively avoids that (docs/measurements.md).
os.environ.setdefault('OMP_WAIT_POLICY', 'PASSIVE')
