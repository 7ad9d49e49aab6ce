"""Speed benchmarks (installed as ``brianlearn.benchmarks``): `bench` writes
``benchmarks/RESULTS.md``; `numba_loops` holds the hand-written compiled loops it compares with."""
