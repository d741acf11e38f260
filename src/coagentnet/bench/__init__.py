"""The performance harness (DESIGN.md section 4)."""
