"""GUI test kit: Qt offscreen (set before Qt is imported), qasync as the asyncio loop, shared helpers.

Imported by tests as ``from guikit import ...`` (a unique module name; ``conftest`` is ambiguous across folders).

Async GUI tests run on a qasync loop through pytest-asyncio's ``pytest_asyncio_loop_factories`` hook
(docs/ARCHITECTURE.md, "Known pitfalls"). ``MULTIMEDIA_NOISE`` lists Qt Multimedia warnings this headless machine
cannot avoid; tests that create the player ignore exactly those with ``qt_log_ignore`` (the global WARNING failure
level stays on).
"""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable, Mapping
from pathlib import Path
from typing import Any

import keyring.errors
import pytest
import qasync
from keyring.backend import KeyringBackend
from PIL import Image
from PySide6.QtWidgets import QApplication

from core.engine import EngineConfig
from core.jobs import Job, JobState
from core.paths import DataDir
from core.runtime import Runtime
from core.secrets import KeyStore

#: Warnings Qt Multimedia prints on a headless machine: no VA-API driver library for hardware decoding (it falls
#: back to software decoding), no PipeWire/PulseAudio server for the audio output (playback runs without sound).
MULTIMEDIA_NOISE = (
    r"Couldn't (load|resolve) (va|pipewire)",
    r"PulseAudioService",
    r"pa_context_connect",
    r"No RHI backend",  # no GPU offscreen: frames are converted on the CPU instead
)

#: Warnings of the offscreen platform plugin when a real top-level window is shown: there is no window manager to
#: pass size hints to or to raise a window with.
OFFSCREEN_NOISE = (
    r"does not support propagateSizeHints",
    r"does not support raise\(\)",
    # The video widget's native child window has no platform handle offscreen; a paint that lands while the window
    # closes or resizes makes Qt say so (never on a real display).
    r"QBackingStore::flush\(\) called for +QVideoWindow",
)


def pytest_asyncio_loop_factories(config: pytest.Config, item: pytest.Item) -> Mapping[str, Callable[[], object]]:
    """Async tests under tests/gui run on qasync's loop, driven by the QApplication pytest-qt uses."""
    return {"qasync": lambda: qasync.QEventLoop(QApplication.instance() or QApplication([]))}


def make_image(path: Path, size: tuple[int, int] = (400, 300), color: str = "orange") -> Path:
    """A small real image file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, color).save(path)
    return path


@pytest.fixture
def image_file(tmp_path: Path) -> Path:
    return make_image(tmp_path / "inputs" / "photo.png")


class MemoryKeyring(KeyringBackend):
    """An in-memory keyring backend for tests (never touches the real keyring)."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.passwords: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.passwords.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.passwords[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if (service, username) not in self.passwords:
            raise keyring.errors.PasswordDeleteError("no such password")
        del self.passwords[(service, username)]


def memory_keys() -> KeyStore:
    return KeyStore(environ={}, backend=MemoryKeyring())


def sandbox_runtime(root: Path, *, job_seconds: float = 1.0) -> Runtime:
    """A fast sandbox runtime in ``root`` with an in-memory keyring."""
    return Runtime(DataDir(root), sandbox_mode=True, keys=memory_keys(), sandbox_options={"job_seconds": job_seconds},
                   engine_config=EngineConfig(poll_interval=0.2))


async def until(predicate: Callable[[], object], timeout: float = 30.0, what: str = "condition") -> None:
    """Wait on the running (qasync) loop until ``predicate()`` is true; Qt events keep flowing meanwhile."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        await asyncio.sleep(0.02)


@contextlib.asynccontextmanager
async def started(rt: Runtime, *, in_thread: bool = False) -> AsyncIterator[Runtime]:
    """``rt`` started (its engine on an engine thread of its own when ``in_thread``), closed afterwards."""
    await (rt.start_in_thread() if in_thread else rt.start())
    try:
        yield rt
    finally:
        await rt.close()


@pytest.fixture
async def runtime(tmp_path: Path) -> AsyncIterator[Runtime]:
    """A started sandbox runtime in a temp data dir."""
    async with started(sandbox_runtime(tmp_path / "data")) as rt:
        yield rt


@pytest.fixture
async def threaded(tmp_path: Path) -> AsyncIterator[Runtime]:
    """A sandbox runtime whose engine (and emulator) run on an engine thread, as the window runs it."""
    async with started(sandbox_runtime(tmp_path / "data"), in_thread=True) as rt:
        yield rt


@pytest.fixture
async def real_runtime(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Runtime]:
    """A started runtime of the real world (spend and budgets count there), its providers' base URLs and key set
    in the environment as a user would, pointing at an emulator on loopback."""
    from core.sandbox import Sandbox

    provider = Sandbox(tmp_path / "provider", job_seconds=1.0)
    await provider.start()
    for name, url in provider.endpoints().items():
        monkeypatch.setenv(name, url)
    keys = KeyStore(environ={"REELDECK_AIHUBMIX_API_KEY": "sk-gui-real-0123456789abcdef"}, backend=MemoryKeyring())
    rt = Runtime(DataDir(tmp_path / "data"), keys=keys, engine_config=EngineConfig(poll_interval=0.2))
    await rt.start()
    try:
        yield rt
    finally:
        await rt.close()
        await provider.stop()


def make_video(path: Path, *, seconds: float = 1.0, size: tuple[int, int] = (160, 96), fps: int = 12) -> Path:
    """A real, small H.264 MP4 made with PyAV."""
    import av

    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height = size
        stream.pix_fmt = "yuv420p"
        frames = max(1, int(seconds * fps))
        for index in range(frames):
            picture = Image.new("RGB", size, (int(255 * index / frames), 80, 160))
            picture.paste((240, 200, 40), (0, 0, size[0] // 2, size[1] // 3))
            frame = av.VideoFrame.from_image(picture)
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def make_job(job_id: str, state: JobState, *, provider: str = "aihubmix", model: str = "sora-2",
             prompt: str = "A test prompt", created_at: float | None = None, **fields: object) -> Job:
    """A job record in any state (for models and the store)."""
    now = time.time() if created_at is None else created_at
    job = Job(id=job_id, provider=provider, model=model, params={"prompt": prompt, "seconds": "4"}, inputs={},
              state=state, created_at=now, updated_at=now)
    for name, value in fields.items():
        setattr(job, name, value)
    return job


@pytest.fixture(autouse=True)
def _qt_application(qapp: QApplication) -> QApplication:
    """Every GUI test has the QApplication (models start timers, which need its event dispatcher).

    Like ``run_gui``, closing the last window must not quit the application: the qasync loop lives on it.
    """
    qapp.setQuitOnLastWindowClosed(False)
    return qapp


async def open_window(qtbot: Any, runtime: Any) -> Any:
    """The main window over ``runtime``, shown and on screen (closing a never-exposed QVideoWidget makes Qt warn);
    closing it asks nothing."""
    from gui.main_window import MainWindow

    window = MainWindow(runtime)
    qtbot.addWidget(window)
    window.confirm_close = lambda title, text: True
    window.show()
    await until(lambda: window.windowHandle() is not None and window.windowHandle().isExposed(), what="exposure")
    return window
