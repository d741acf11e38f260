"""The verbs of the ``coagentnet`` command line, one module each, and what they share
(``common``)."""
