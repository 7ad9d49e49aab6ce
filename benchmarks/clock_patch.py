"""
Speed of the generated network loop with and without Brian2 2.9's per-step ``std::clock()``
call (`brianlearn.codepatch.patch_network_loop` takes it out; Brian2 2.10 removed it upstream).

Run ``python benchmarks/clock_patch.py``: the dictionary-learning network (256 atoms, 128
inputs, 2 x 3200 steps per sample) trains on 1000 patches three times per build, with the
patched and the unpatched loop, each in its own build folder under a temporary cache; prints
samples/s. (A first step toward issue #11's side-by-side benchmarks; not asserted in tests.)
"""

import os
import subprocess
import sys
import tempfile

CHILD = """
import sys, time
import brianlearn.codepatch as bc
if sys.argv[1] == "unpatched":
    bc.patch_network_loop = lambda directory: False
from brianlearn.figures.dictionary_learning import patch_sets
from brianlearn.protocols.dictionary import SpikingDictionaryLearning
X = patch_sets(1000, 0, 0, seed=100)[0]
est = SpikingDictionaryLearning(n_components=256, lam1=0.1, shuffle=False, seed=0)
est.fit(X[:200])  # (the build)
rates = []
for _ in range(3):
    t = time.perf_counter()
    est.fit(X)
    rates.append(len(X) / (time.perf_counter() - t))
print(sys.argv[1], "samples/s:", ", ".join(f"{r:.1f}" for r in rates))
"""


def main():
    with tempfile.TemporaryDirectory() as cache:
        for mode in ("patched", "unpatched"):
            env = dict(os.environ, BRIANLEARN_CACHE=os.path.join(cache, mode))
            out = subprocess.run([sys.executable, "-c", CHILD, mode], env=env, capture_output=True, text=True)
            print(out.stdout.strip() or out.stderr[-2000:])


if __name__ == "__main__":
    main()
