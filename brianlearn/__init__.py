"""brianlearn: spiking networks that learn with local rules derived from cost or energy functions."""

__version__ = "0.1.0"
