"""Differential mode: record a trusted server's answers to the suite (golden), hold a candidate to them."""
