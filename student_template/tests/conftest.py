"""Put the folder with your task files first on the import path, so `import cdcgan` finds yours."""

import sys
from pathlib import Path

import torch
from threadpoolctl import threadpool_limits  # comes with scikit-learn

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
# The tests' networks are tiny: one thread is fastest, and several threads on a busy machine fight over the
# cores and can make a step a hundred times slower.
torch.set_num_threads(1)
threadpool_limits(1)
