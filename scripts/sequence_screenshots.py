"""Render the Sequence tab (light and dark, 1024×700 and 1600×1000) into a temp folder, to look at.

    xvfb-run -a -s "-screen 0 1920x1200x24" .venv/bin/python scripts/sequence_screenshots.py

Seeds the same jobs as ``screenshots.py`` plus a sequence of four clips (one trimmed, a 6-frame crossfade) and
shows a frame of the preview mid-piece. The 1600×1000 light one becomes ``docs/screenshots/sequence.png``.
"""

from __future__ import annotations

import asyncio
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

import qasync  # noqa: E402
from screenshots import ShotKeyring, grab, seed_jobs, settle, wait_for  # noqa: E402

from core.engine import EngineConfig  # noqa: E402
from core.paths import DataDir  # noqa: E402
from core.runtime import Runtime  # noqa: E402
from core.secrets import KeyStore  # noqa: E402
from core.sequence import Sequence  # noqa: E402
from core.store import JobStore  # noqa: E402
from gui.app import make_application  # noqa: E402
from gui.main_window import MainWindow  # noqa: E402

OUT = Path(tempfile.gettempdir()) / "reeldeck-sequence-shots"  # all four; the README shows one

async def shoot(app: object, root: Path) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    data = DataDir(root)
    jobs = seed_jobs(data)
    store = JobStore(data.database, world="sandbox")
    seq = Sequence.new("Sunset story")
    for jid in ("a5complete01", "b0batch00001", "b2batch00001", "a6complete02"):
        seq.add(jobs[jid])
    seq.clips[1].start, seq.clips[1].end = 0.5, 2.5
    seq.set_crossfade(6)
    store.save_sequence(seq)
    store.save_sequence(Sequence.new("Trailer draft"))
    store.close()
    rt = Runtime(data, sandbox_mode=True, keys=KeyStore(environ={}, backend=ShotKeyring()),
                 engine_config=EngineConfig(poll_interval=0.5))
    await rt.start()
    try:
        window = MainWindow(rt)
        window.confirm_close = lambda *_args: True
        window.show()
        view = window.sequence_view
        theme = getattr(app, "_reeldeck_theme", None)
        for dark in (True, False):
            if theme is not None:
                theme.apply(dark=dark)
            for size in ((1024, 700), (1600, 1000)):
                window.resize(*size)
                window.tabs.setCurrentWidget(window.sequence_view)
                await settle(0.5)
                view.strip.setCurrentIndex(view.strip_model.index(1, 0))
                view.preview.play(view.current)
                await wait_for(lambda: view.preview.frames_shown >= 38, 20)
                view.preview.timer.stop()
                await settle(0.6)
                name = f"sequence-{size[0]}-{'dark' if dark else 'light'}.png"
                grab(window).save(str(OUT / name))
                print("saved", name, view.plan_label.text())
                view.preview.stop()
        window.close()
        await settle(0.2)
    finally:
        await rt.close()
    shutil.copyfile(OUT / "sequence-1600-light.png", ROOT / "docs" / "screenshots" / "sequence.png")

def main() -> None:
    app = make_application(sys.argv[:1])
    app.setQuitOnLastWindowClosed(False)
    with tempfile.TemporaryDirectory() as tmp, asyncio.Runner(loop_factory=lambda: qasync.QEventLoop(app)) as runner:
        runner.run(shoot(app, Path(tmp)))


if __name__ == "__main__":
    main()
