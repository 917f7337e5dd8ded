"""How guard's shipped models and parameters are made: training, fitting, export, synthetic data.

Apart from the runtime: nothing under ``guard.verify`` (or any serving path) imports this package, and
it needs the ``train`` extra (torch 2.13.0 CPU, transformers, sentence-transformers, scikit-learn).
Every command writes what it fits into a folder named on its command line (``guard.training.outputs``).
"""

from guard.extras import require

require("train", "torch", "transformers", "sentence_transformers", "sklearn", purpose="guard.training")
