"""Sweeps: sweep files, the planner, the SQLite store, backends and the driver that runs what a
store is missing."""
