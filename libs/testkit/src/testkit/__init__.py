"""Test infrastructure: real servers and processes, resolved env var → bundled binary → skip (or fail)."""
