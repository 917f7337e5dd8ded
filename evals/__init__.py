"""Offline eval suites: run guard over labelled data, gate releases on thresholds, compare runs.

A suite is a YAML file (kind, dataset, thresholds); ``guard eval run`` scores
it and ``guard eval compare`` sets two reports side by side.
"""
