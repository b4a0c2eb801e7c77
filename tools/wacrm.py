#!/usr/bin/env python3
"""`python3 tools/wacrm.py test|run|bench`: the code is the package tools/wacrm_cli/."""

import sys
from pathlib import Path

# The package is not named `wacrm`: this script would shadow it on sys.path.
sys.path.insert(0, str(Path(__file__).resolve().parent))

from wacrm_cli.__main__ import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
