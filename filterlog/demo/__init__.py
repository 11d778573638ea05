"""A synthetic school day: generated logs with planted misuse, and the run that ingests them."""

from .generate import MIN_USERS, DemoDay, generate_day
from .run import DemoResult, run_demo

__all__ = ["MIN_USERS", "DemoDay", "DemoResult", "generate_day", "run_demo"]
