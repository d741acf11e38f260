"""The paper's studies: their registry, runner and report."""
