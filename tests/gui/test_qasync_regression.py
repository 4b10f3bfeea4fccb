"""Regression for a known pitfall (docs/ARCHITECTURE.md): PySide6 6.12 on Python 3.11 drops a reference to None on
every Python override of a Qt virtual (qasync's ``timerEvent``), aborting with ``none_dealloc`` after ~5,000-15,000
callbacks.

Run ~20,000 callbacks on the qasync loop (plus the direct ``timerEvent`` reproduction) in a fresh process: it must
exit normally and ``sys.getrefcount(None)`` must not have fallen.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CALLBACKS = 20_000

SCRIPT = textwrap.dedent(f"""
    import asyncio, sys
    import qasync
    from PySide6.QtCore import QObject
    from PySide6.QtWidgets import QApplication

    app = QApplication([])

    class Restarter(QObject):
        def __init__(self, times):
            super().__init__()
            self.left = times
            self.startTimer(0)

        def timerEvent(self, event):
            self.killTimer(event.timerId())
            self.left -= 1
            if self.left > 0:
                self.startTimer(0)
            else:
                app.quit()

    before = sys.getrefcount(None)
    restarter = Restarter(3000)
    app.exec()
    after_timer = sys.getrefcount(None)

    async def main():
        loop = asyncio.get_running_loop()
        assert isinstance(loop, qasync.QEventLoop), type(loop)
        done = loop.create_future()
        count = 0

        def tick():
            nonlocal count
            count += 1
            if count >= {CALLBACKS}:
                done.set_result(count)
            elif count % 2:
                loop.call_soon(tick)
            else:
                loop.call_later(0, tick)

        loop.call_soon(tick)
        return await done

    with asyncio.Runner(loop_factory=lambda: qasync.QEventLoop(app)) as runner:
        ran = runner.run(main())
    after = sys.getrefcount(None)
    print(ran, before, after_timer, after)
""")


def test_twenty_thousand_qasync_callbacks_keep_none_alive() -> None:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    result = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=240, env=env,
                            cwd=ROOT)
    assert result.returncode == 0, f"the process died ({result.returncode}):\n{result.stderr[-2000:]}"
    assert "none_dealloc" not in result.stderr
    ran, before, after_timer, after = (int(v) for v in result.stdout.split()[-4:])
    assert ran == CALLBACKS
    # A leak loses one reference per callback (thousands); normal churn is a handful either way.
    assert after_timer >= before - 100, (before, after_timer)
    assert after >= before - 100, (before, after)
