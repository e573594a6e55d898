"""Entry point for `python -m profiling`."""

import sys

from profiling.cli import main

sys.exit(main())
