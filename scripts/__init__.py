"""Operational scripts, run as modules (``python -m scripts.cluster``) and importable by tests."""
