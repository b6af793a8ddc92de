"""The audit service: an append-only, hash-chained log of who read or changed what (issue 21)."""
