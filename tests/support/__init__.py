"""Helpers shared by the test suites: fixtures (registered for every test in ``tests/conftest.py``),
builders of real data files, and clients for the services the tests talk to."""
