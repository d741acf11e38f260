"""Estimator diagnostics: how noisy, how large and how well aimed each layer's update is."""
