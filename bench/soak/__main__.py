"""``python -m bench.soak``: see the package's docstring (bench/soak/__init__.py)."""

import sys
from pathlib import Path

if __package__ in (None, ""):  # `python bench/soak`: make the `bench` package importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.soak.run import main

sys.exit(main())
