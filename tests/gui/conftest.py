"""GUI test setup: registers the shared fixtures and the qasync loop hook from ``guikit``.

After every async test the cyclic garbage is collected here, on the GUI thread. Each async test gets its own qasync
event loop, and a finished loop is cyclic garbage holding a Qt object with timers (qasync's ``_SimpleTimer``). Left
alone, Python's collector frees it whenever some thread allocates enough — often a worker thread (an export, the
sandbox's renderer); the Qt object is then destroyed there ("QObject::~QObject: Timers cannot be stopped from
another thread") and a timer left registered on the GUI thread later crashes the process in
``QTimerInfoList::activateTimers``. (The app itself has one loop for its whole life.)
"""

from __future__ import annotations

import gc
import os
from collections.abc import Generator

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from guikit import (  # noqa: F401  (fixtures and hooks are registered by being imported here)
    _qt_application,
    image_file,
    pytest_asyncio_loop_factories,
    real_runtime,
    runtime,
    threaded,
)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> Generator[None, None, None]:
    """Once an async test's fixtures and event loop are gone, free what they left on this, the GUI, thread."""
    try:
        return (yield)
    finally:
        if item.get_closest_marker("asyncio") is not None:
            gc.collect()
