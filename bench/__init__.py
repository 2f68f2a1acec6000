"""Benchmarks: ``python -m bench`` runs them all; not part of the test run."""
