"""The ``streamgauge`` command: a thin shell over the modules."""
