"""The performance harness."""
