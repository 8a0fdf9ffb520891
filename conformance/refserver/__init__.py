"""The embedded reference server: a faithful local DNAnexus API (core profile) on SQLite.

It imports nothing of the conformance engine: the server and schemas/ are two independent readings of
the spec, and each catches the other's mistakes when the suite runs.
"""
