"""The pytest front end of the suite: case files as pytest items (load with `-p conformance.pytest_plugin.plugin`).

It is deliberately not a pytest11 entry point: installing dxconform must not change anyone's other pytest runs.
"""
