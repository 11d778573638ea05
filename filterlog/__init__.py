"""filterlog: evidence from a school's web-filter logs."""

__version__ = "0.1.0"
