"""The values Config's choice fields allow, and the named groups of data sets and fields.

Plain constants, importable without the data sets, the model or the rules.
"""

VALUE_MAPS = ("index", "unit", "symmetric")
OPTIMIZERS = ("rmsprop", "adam", "sgd")
ACTIVATIONS = ("relu", "tanh", "sigmoid", "identity")
GAUSSIAN_ACTIVATIONS = ("identity", "relu")
BACKPROP_ACTIVATIONS = ("relu", "tanh", "sigmoid")
ACTOR_SIGNALS = ("target", "q")
EVAL_MODES = ("greedy", "sampled")

#: The correlated online-regression stream (generated, not loaded).
STREAM = "correlated"
#: Data sets read from files, the only ones a ``data_dir`` applies to.
FILE_DATASETS = ("mnist", "fashion-mnist", "mnist-test10k")

#: Scalar hyperparameters that may vary inside one population (vmapped, not compiled in).
POPULATION_SCALARS = ("lr", "unit_std", "critic_ratio", "ema_decay", "epsilon")
