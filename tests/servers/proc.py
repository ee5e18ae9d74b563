"""Start and stop real local servers for tests.

The generic runner moved to :mod:`devtools.process` so the dev-mode
launchers (``python -m devtools.litecoind`` …) can use it without importing
from ``tests/``. This module re-exports it unchanged; test-only helpers go here.
"""

from devtools.process import *  # noqa: F401,F403
from devtools.process import __all__  # noqa: F401
