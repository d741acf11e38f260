"""Training: the one population loop, pretraining around it, batches, evaluation, optimisers,
device layout and results."""
