"""Learning rules: Problem and Rule, one module per family, and the registry of rules."""
