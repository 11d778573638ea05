"""Allow ``python -m filterlog``."""

from .cli import main

main()
