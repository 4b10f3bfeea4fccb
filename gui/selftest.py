"""``Reeldeck --self-test``: a headless check that the app (from source or frozen) works end to end.

It starts the sandbox emulator in a temporary data dir, runs one job to a verified MP4, decodes a frame of it
through Qt Multimedia, and writes, reads and deletes a key through the keyring backend it finds (or says there is
none). Exit status 0 only when every step worked.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
import uuid
from collections.abc import Callable
from pathlib import Path

import keyring.errors
import qasync
from PySide6.QtCore import QUrl
from PySide6.QtMultimedia import QMediaPlayer, QVideoFrame, QVideoSink
from PySide6.QtWidgets import QApplication

from core import __version__
from core.engine import EngineConfig
from core.jobs import JobState
from core.paths import DataDir
from core.runtime import Runtime
from core.secrets import KeyStore
from core.submission import JobRequest

SELF_TEST_SERVICE = "Reeldeck self-test"
Report = Callable[[str, bool, str], None]


async def _job_end_to_end(data: DataDir, report: Report) -> Path | None:
    runtime = Runtime(data, sandbox_mode=True, sandbox_options={"job_seconds": 2.0},
                      engine_config=EngineConfig(poll_interval=0.3))
    try:
        engine = await runtime.start()
        job = await engine.submit(JobRequest("aihubmix", "veo-3.1-generate-preview",
                                             {"prompt": "Reeldeck self-test", "seconds": "4", "size": "1280x720"}))
        (final,) = await engine.wait([job.id], timeout=90)
    finally:
        await runtime.close()
    ok = final.state == JobState.COMPLETED and final.video_path is not None
    report("sandbox job end to end", ok, final.video_path or final.error or str(final.state))
    return Path(final.video_path) if ok and final.video_path else None


async def _decode_with_qt(video: Path, report: Report) -> None:
    player = QMediaPlayer()
    sink = QVideoSink()
    player.setVideoSink(sink)
    frame_seen: asyncio.Future[tuple[int, int]] = asyncio.get_running_loop().create_future()

    def on_frame(frame: QVideoFrame) -> None:
        if frame.isValid() and not frame_seen.done():
            frame_seen.set_result((frame.width(), frame.height()))

    def on_error(_error: QMediaPlayer.Error, message: str) -> None:
        if not frame_seen.done():
            frame_seen.set_exception(RuntimeError(message or "media error"))

    sink.videoFrameChanged.connect(on_frame)
    player.errorOccurred.connect(on_error)
    player.setSource(QUrl.fromLocalFile(str(video)))
    player.play()
    try:
        width, height = await asyncio.wait_for(frame_seen, 30)
        report("decode a frame with Qt Multimedia", (width, height) == (1280, 720), f"{width}×{height}")
    except (TimeoutError, RuntimeError) as exc:
        report("decode a frame with Qt Multimedia", False, str(exc) or "no frame within 30 s")
    finally:
        player.stop()


def _keyring_round_trip(report: Report) -> None:
    store = KeyStore()
    if not store.available:
        report("keyring", True, f"no keyring backend available ({store.backend_name}); keys can come from "
                                "REELDECK_<ID>_API_KEY instead")
        return
    backend = store.backend
    secret = uuid.uuid4().hex
    try:
        backend.set_password(SELF_TEST_SERVICE, "self-test", secret)
        read = backend.get_password(SELF_TEST_SERVICE, "self-test")
        backend.delete_password(SELF_TEST_SERVICE, "self-test")
        gone = backend.get_password(SELF_TEST_SERVICE, "self-test") is None
        report("keyring write/read/delete", read == secret and gone, store.backend_name)
    except keyring.errors.KeyringError as exc:
        report("keyring write/read/delete", False, f"{store.backend_name}: {type(exc).__name__}")


async def _run_all(report: Report) -> None:
    with tempfile.TemporaryDirectory(prefix="reeldeck-selftest-") as folder:
        video = await _job_end_to_end(DataDir(Path(folder)), report)
        if video is not None:
            await _decode_with_qt(video, report)
    _keyring_round_trip(report)


def run_self_test() -> int:
    """Run every check, print one line each, and return the exit status."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    app = QApplication.instance() or QApplication(sys.argv[:1])
    results: list[bool] = []

    def report(step: str, ok: bool, detail: str) -> None:
        results.append(ok)
        print(f"{'ok  ' if ok else 'FAIL'} {step}: {detail}", flush=True)

    print(f"Reeldeck {__version__} self-test ({'frozen' if getattr(sys, 'frozen', False) else 'from source'})")
    with asyncio.Runner(loop_factory=lambda: qasync.QEventLoop(app)) as runner:
        runner.run(_run_all(report))
    passed = len(results) >= 3 and all(results)
    print("self-test passed" if passed else "self-test FAILED", flush=True)
    return 0 if passed else 1
