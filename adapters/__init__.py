"""Where the core meets the outside: the command line and the embedded local model provider.

Installed as ``guard.adapters``; adapters import the core, never the reverse.
"""
