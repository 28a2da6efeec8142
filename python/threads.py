"""How the math libraries use the CPU's threads, set once for every script.

Both settings are read only when the library first loads, so this module
must run before numpy or torch is imported: every entry script (run_q*.py,
the tools, the benchmarks, the tests' conftest.py) imports it on its first
line, and no library module needs to. Set either variable yourself to
override it.
"""
import os

# numpy: the matmuls here are small (a batch is 32 x 1024 x 64). One BLAS
# thread runs them fastest; with several, OpenBLAS threads spin-wait, and
# when anything else shares the cores an epoch gets up to 10x slower.
os.environ.setdefault('OPENBLAS_NUM_THREADS', '1')

# torch: its CPU threads (OpenMP) spin while they wait for each other. When
# anything else shares the cores, a waiting thread burns the time slice its
# partner needs: on a busy 2-core machine two threads trained the Q7.1 CNNs
# 7 to 20x slower than one (benchmarks/bench_q7_1_cnn.py). With passive
# waiting they were as fast as one or faster.
os.environ.setdefault('OMP_WAIT_POLICY', 'PASSIVE')
