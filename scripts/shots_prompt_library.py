"""Render the prompt library and a batch over a template at 1024×700 and 1600×1000, light and dark, for review.

    xvfb-run -a -s "-screen 0 1700x1100x24" .venv/bin/python scripts/shots_prompt_library.py [OUT_DIR]

The window is shown at each size with a template in the form (its placeholders under the prompt); then the prompt
library, then the batch dialog over the template, each grabbed from the screen with the window behind it. PNGs go
to OUT_DIR (default /tmp/reeldeck-prompt-shots); the 1600×1000 light pair is also copied to docs/screenshots/.
"""

from __future__ import annotations

import asyncio
import shutil
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import qasync  # noqa: E402
from PySide6.QtGui import QGuiApplication, QPixmap  # noqa: E402
from PySide6.QtWidgets import QApplication, QWidget  # noqa: E402

from core.paths import DataDir  # noqa: E402
from core.prompts import PromptHistory  # noqa: E402
from core.runtime import Runtime  # noqa: E402
from core.secrets import KeyStore  # noqa: E402
from gui.app import make_application  # noqa: E402
from gui.theme import theme_manager  # noqa: E402

SIZES = ((1024, 700), (1600, 1000))
TEMPLATE = "A {animal|red fox,snowy owl,elk} crosses a frozen lake at {time|dawn,dusk}, the camera tracking low"
USED = ("Lanterns drift over a river at night, slow dolly forward",
        "A paper boat in the rain, macro, shallow depth of field",
        "A {colour} kite over green hills, wide shot",
        "Waves on a black sand beach, drone shot pulling back",
        "A heron lifts off the marsh at first light")


def grab_screen(window: QWidget) -> QPixmap:
    """The window's rectangle of the screen, so a dialog over it shows too (offscreen: the window alone)."""
    screen = window.screen() or QGuiApplication.primaryScreen()
    if QGuiApplication.platformName() == "xcb" and screen is not None:
        origin = window.mapToGlobal(window.rect().topLeft())
        return screen.grabWindow(0, origin.x(), origin.y(), window.width(), window.height())
    return window.grab()


async def wait_for(predicate: Callable[[], object], timeout: float = 10.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate() and loop.time() < deadline:
        await asyncio.sleep(0.05)


async def shoot(root: Path, out: Path) -> list[Path]:
    from gui.main_window import MainWindow

    data = DataDir(root / "data")
    data.ensure()
    history = PromptHistory.in_data_dir(data.root)
    for text in USED:
        history.record(text, "gateway", "viduq3p-720p")
    history.set_favourite(USED[1])
    history.set_favourite(TEMPLATE, provider="gateway", model="viduq3p-720p")
    history.close()
    runtime = Runtime(data, sandbox_mode=True, keys=KeyStore(environ={}))
    await runtime.start()
    saved: list[Path] = []
    try:
        for theme in ("light", "dark"):
            for width, height in SIZES:
                window = MainWindow(runtime)
                theme_manager().set_mode(theme)  # after the window, which applies the saved choice
                window.confirm_close = lambda title, text: True
                window.move(0, 0)
                window.resize(width, height)
                window.show()
                await wait_for(lambda w=window: w.windowHandle() is not None and w.windowHandle().isExposed())
                composer = window.composer
                composer.select("gateway", "viduq3p-720p")
                composer.set_prompt(TEMPLATE)
                await asyncio.sleep(0.4)
                name = f"{theme}-{width}x{height}"
                saved.append(save(grab_screen(window), out / f"form-template-{name}.png"))

                library = window.open_prompt_history()
                assert library is not None
                await asyncio.sleep(0.4)
                saved.append(save(grab_screen(window), out / f"prompt-library-{name}.png"))
                library.set_view("Templates")  # type: ignore[attr-defined]
                await asyncio.sleep(0.3)
                saved.append(save(grab_screen(window), out / f"prompt-library-templates-{name}.png"))
                library.reject()

                request = composer.request()
                assert request is not None
                dialog = window.open_batch(request)
                dialog.set_targets([("gateway", "viduq3p-720p"), ("aihubmix", "veo-3.1-generate-preview")])  # type: ignore[attr-defined]
                dialog.value_edits["animal"].setText("red fox, snowy owl")  # type: ignore[attr-defined]
                await asyncio.sleep(0.4)
                saved.append(save(grab_screen(window), out / f"batch-template-{name}.png"))
                saved.append(save(dialog.grab(), out / f"batch-template-dialog-{name}.png"))
                dialog.reject()
                window.close()
                await asyncio.sleep(0.2)
    finally:
        await runtime.close()
    return saved


def save(pixmap: QPixmap, path: Path) -> Path:
    pixmap.save(str(path))
    print(f"saved {path}")
    return path


def main() -> int:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("/tmp/reeldeck-prompt-shots")
    out.mkdir(parents=True, exist_ok=True)
    app: QApplication = make_application(sys.argv[:1])
    app.setQuitOnLastWindowClosed(False)
    with tempfile.TemporaryDirectory(prefix="reeldeck-prompt-shots-") as tmp, \
            asyncio.Runner(loop_factory=lambda: qasync.QEventLoop(app)) as runner:
        runner.run(shoot(Path(tmp), out))
    docs = ROOT / "docs" / "screenshots"
    shutil.copy(out / "prompt-library-light-1600x1000.png", docs / "prompt-library.png")
    shutil.copy(out / "batch-template-dialog-light-1600x1000.png", docs / "batch-template.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
