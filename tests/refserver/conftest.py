"""Fixtures for the reference server tests (the shared ones live in tests/conftest.py)."""
