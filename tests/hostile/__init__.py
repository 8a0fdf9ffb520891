"""Hostile input: what a malicious client, web page or file must not get from dxconform."""
