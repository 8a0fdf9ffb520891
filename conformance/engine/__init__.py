"""The engine: sends requests (transport) and, later, runs cases into results; it knows nothing of pytest."""
