"""dxconform: conformance suite and protocol validator for the DNAnexus platform HTTP API."""

__version__ = "0.1.0"
