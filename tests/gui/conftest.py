"""GUI test setup: registers the shared fixtures and the qasync loop hook from ``guikit``."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from guikit import (  # noqa: F401  (fixtures and hooks are registered by being imported here)
    _qt_application,
    image_file,
    pytest_asyncio_loop_factories,
    runtime,
)
