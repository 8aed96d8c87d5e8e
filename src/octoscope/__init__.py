"""octoscope: a self-hosted data hub for Octopus Energy customers."""

__version__ = "0.1.0"
__all__ = ["__version__"]
