"""Experiments on live traffic: variants of the model, system prompt and guard settings, assigned by a stable hash
of the user, defined in the store, and reported with always-valid intervals.

- ``definitions``: the store's experiments (seed from the config, start, pause, end).
- ``live``: each worker's copy of them, refreshed in the background, and the arm a request gets.
- ``assign``: the stable hash and the system-prompt swap.
- ``sequential``: confidence sequences; ``report``: metrics, differences, guardrails and the verdict.
"""
