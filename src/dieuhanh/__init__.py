"""DieuHanh: the platform of a Vietnamese province's Intelligent Operations Center."""

__version__ = "0.1.0"
