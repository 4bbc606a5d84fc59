#!/usr/bin/env python3
"""Django's manage.py; operators use the `ismit` command, which is the same thing."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent / "src"))

from ismit.cli import main

if __name__ == "__main__":
    main()
