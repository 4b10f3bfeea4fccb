"""Render Reeldeck's screens in sandbox mode with jobs in every state and save PNGs to docs/screenshots/.

    xvfb-run -a .venv/bin/python scripts/screenshots.py [--size 1024x700] [--dark] [--out DIR]

The shots are 1480×940 by default (``--size`` picks another window size; ``--dark`` takes every shot in the dark
theme; ``--out`` writes elsewhere than docs/screenshots) and are taken from the X screen (so video surfaces show);
when the screen is smaller than that (xvfb-run's default is 1280×1024) the script starts itself again on a large
enough virtual screen.
(``QT_QPA_PLATFORM=offscreen`` also works, but video surfaces come out empty there.)

A temporary data dir gets jobs written straight into its store (pending, submitting, running, downloading,
completed with a real MP4, failed, canceled, one that needs a decision, a finished batch of four takes and a
running one), so nothing depends on timing.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import av  # noqa: E402
import qasync  # noqa: E402
from keyring.backend import KeyringBackend  # noqa: E402
from PIL import Image, ImageDraw  # noqa: E402
from PySide6.QtGui import QGuiApplication, QPixmap  # noqa: E402
from PySide6.QtWidgets import QApplication, QWidget  # noqa: E402

from core.engine import EngineConfig  # noqa: E402
from core.jobs import Job, JobState  # noqa: E402
from core.paths import DataDir  # noqa: E402
from core.runtime import Runtime  # noqa: E402
from core.secrets import KeyStore  # noqa: E402
from core.store import JobStore  # noqa: E402
from gui.app import make_application  # noqa: E402

OUT = ROOT / "docs" / "screenshots"
SIZE = (1480, 940)
DARK = False
BIG_SCREEN_FLAG = "REELDECK_SHOTS_BIG_SCREEN"


class ShotKeyring(KeyringBackend):
    """An in-memory keyring so screenshots never touch the real one."""

    priority = 1

    def __init__(self) -> None:
        super().__init__()
        self.values = {("Reeldeck", "aihubmix"): "sk-demo-key-7f3a"}

    def get_password(self, service: str, username: str) -> str | None:
        return self.values.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.values[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.values.pop((service, username), None)


#: AIHubMix's current model (Sora was retired on 2026-09-24).
VEO = "veo-3.1-generate-preview"


def picture(path: Path, size: tuple[int, int], sky: tuple[int, int, int], sun: tuple[int, int, int]) -> Image.Image:
    """A simple landscape: sky, sun, hills."""
    image = Image.new("RGB", size, sky)
    draw = ImageDraw.Draw(image)
    w, h = size
    draw.ellipse((w * 0.62, h * 0.12, w * 0.82, h * 0.12 + w * 0.2), fill=sun)
    draw.polygon([(0, h), (0, h * 0.62), (w * 0.35, h * 0.48), (w * 0.7, h * 0.66), (w, h * 0.55), (w, h)],
                 fill=(40, 90, 60))
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path)
    return image


#: Takes of one batch: sky tint, sun size and where it sets, hill colour (each "seed" renders differently).
TAKES = (
    ((250, 170, 110), 90, 0.55, (30, 70, 50)),
    ((235, 140, 150), 70, 0.30, (45, 60, 80)),
    ((255, 190, 90), 120, 0.62, (60, 80, 40)),
    ((200, 150, 200), 80, 0.42, (35, 55, 65)),
)


def video(path: Path, seconds: float = 3.0, size: tuple[int, int] = (640, 360), fps: int = 12, take: int = 0) -> Path:
    """A small MP4: a sun setting over hills (real H.264, made with PyAV)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    sky, sun, across, hills = TAKES[take]
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height = size
        stream.pix_fmt = "yuv420p"
        frames = int(seconds * fps)
        for index in range(frames):
            t = index / frames
            frame_image = Image.new("RGB", size, (int(sky[0] - 120 * t), int(sky[1] - 90 * t), int(sky[2] + 40 * t)))
            draw = ImageDraw.Draw(frame_image)
            w, h = size
            y = h * (0.15 + 0.45 * t)
            draw.ellipse((w * across, y, w * across + sun, y + sun), fill=(255, 225, 120))
            draw.polygon([(0, h), (0, h * 0.62), (w * 0.35, h * 0.5), (w * 0.7, h * 0.66), (w, h * 0.56), (w, h)],
                         fill=hills)
            for packet in stream.encode(av.VideoFrame.from_image(frame_image)):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def seed_jobs(data: DataDir) -> dict[str, Job]:
    """Jobs in every state, written straight into the store."""
    data.ensure()
    store = JobStore(data.database, world="sandbox")  # shown by the sandbox-mode window
    now = time.time()
    fox = video(data.library / "20261121-090000_aihubmix_veo-3.1-generate-preview_sunset_fox.mp4")
    hills = video(data.library / "20261120-180000_gateway_viduq3p-720p_hills.mp4", size=(480, 480))
    still = data.inputs / "demo" / "image-0.png"
    picture(still, (720, 1280), (120, 170, 230), (255, 220, 120))

    def job(job_id: str, state: JobState, provider: str, model: str, prompt: str, age: float, **extra: object) -> Job:
        params: dict[str, object] = {"prompt": prompt}
        if provider == "aihubmix":
            params |= {"seconds": "4", "size": "720x1280", "image_fit": "crop"}
        if provider == "gateway":
            params |= {"duration": 5, "image_fit": "pad"}
        item = Job(id=job_id, provider=provider, model=model, params=params, inputs={}, state=state,
                   created_at=now - age, updated_at=now - 2)
        for name, value in extra.items():
            setattr(item, name, value)
        return item

    jobs = [
        job("a1pending001", JobState.PENDING, "aimlapi", "video-01-live2d", "A paper crane unfolds into a bird",
            5, inputs={"image": [str(still)]}),
        job("a2submit0001", JobState.SUBMITTING, "goapi", "Qubico/hug-video", "Two old friends hug at a station",
            12, inputs={"image": [str(still)]}),
        job("a3running001", JobState.RUNNING, "aihubmix", "veo-3.1-fast-generate-preview",
            "Slow dolly shot through a neon-lit night market in the rain, reflections everywhere", 95,
            remote_id="video_68f2a1", remote_status="in_progress", progress=42.0, eta=74.0, submitted_at=now - 90),
        job("a4download01", JobState.DOWNLOADING, "gateway", "viduq3p-720p", "Waves roll onto a black sand beach",
            140, remote_id="vidu-8812", submitted_at=now - 138),
        job("a5complete01", JobState.COMPLETED, "aihubmix", "veo-3.1-generate-preview",
            "A red fox trots through fresh snow at dawn, golden light, shallow depth of field", 3600,
            remote_id="video_5521ab", video_path=str(fox), submitted_at=now - 3598, finished_at=now - 3420,
            progress=100.0, polls=14, attempts=1),
        job("a6complete02", JobState.COMPLETED, "gateway", "viduq3p-720p", "Rolling green hills at sunset, drone",
            90000, remote_id="vidu-7710", video_path=str(hills), submitted_at=now - 89990,
            finished_at=now - 89800, polls=9, attempts=1),
        job("a7failed0001", JobState.FAILED, "novita", "img2video-motion", "A dancer spins in a white studio",
            7200, error="Novita could not make this video: the motion video is shorter than 2 seconds.",
            finished_at=now - 7100, remote_id="nv-331"),
        job("a8cancel0001", JobState.CANCELED, "aihubmix", VEO, "Timelapse of clouds over a mountain lake",
            9000, finished_at=now - 8900),
        job("a9decide0001", JobState.SUBMITTING, "goapi", "Qubico/hug-video", "A grandmother hugs her grandson",
            600, needs_decision=True, inputs={"image": [str(still)]},
            error="The submission reached GoAPI but its answer was lost, and GoAPI offers no way to check whether "
                  "the job was created. Send it again (you may be charged twice if it was created), or cancel it "
                  "(nothing more is sent)."),
    ]
    jobs[4].cost_usd = 0.40
    jobs[2].cost_usd = 1.20
    # A finished batch: one prompt on three models, the gateway with two seeds.
    sunset = "The sun sets behind rolling hills; the camera slowly pushes in"
    for index, (provider, model, seed) in enumerate((("gateway", "viduq3p-720p", 11), ("gateway", "viduq3p-720p", 12),
                                                      ("aihubmix", VEO, None), ("gateway", "viduq3t-720p", 11))):
        clip = video(data.library / f"20261121-08{index}000_{provider}_{model}_sunset.mp4", take=index)
        take = job(f"b{index}batch00001", JobState.COMPLETED, provider, model, sunset, 1800 - index,
                   remote_id=f"take-{index}", video_path=str(clip), submitted_at=now - 1790, finished_at=now - 1500,
                   group_id="g7a3c91e0b2d4", cost_usd=0.40 if provider == "aihubmix" else 0.25)
        if seed is not None:
            take.params["seed"] = seed
        jobs.append(take)
    # A batch still running: its own progress in the queue.
    for index, (state, progress) in enumerate(((JobState.RUNNING, 64.0), (JobState.PENDING, None))):
        jobs.append(job(f"c{index}batch00001", state, "gateway", "viduq3p-540p",
                        "Lanterns rise over a lake at night", 30 - index, group_id="g51e0aa2b7c19",
                        progress=progress, remote_id="vidu-99" if progress else None, submitted_at=now - 25,
                        remote_status="processing" if progress else None))
    for item in jobs:
        store.add(item)
        store.update(item.id, updated_at=now - 2)
    store.close()
    return {j.id: j for j in jobs}


def grab(widget: QWidget) -> QPixmap:
    """The widget as the screen shows it (native video surfaces included when a real display exists)."""
    screen = widget.screen() or QGuiApplication.primaryScreen()
    if QGuiApplication.platformName() == "xcb" and screen is not None:
        origin = widget.mapToGlobal(widget.rect().topLeft())
        shot = screen.grabWindow(0, origin.x(), origin.y(), widget.width(), widget.height())
        if not shot.isNull():
            return shot
    return widget.grab()


async def settle(seconds: float = 0.4) -> None:
    await asyncio.sleep(seconds)


async def wait_for(predicate: Callable[[], object], timeout: float = 20.0) -> bool:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            return False
        await asyncio.sleep(0.05)
    return True


async def shoot(app: QApplication, root: Path) -> list[Path]:
    from gui.keys_dialog import KeysDialog
    from gui.main_window import MainWindow
    from gui.settings_dialog import SettingsDialog

    data = DataDir(root / "data")
    jobs = seed_jobs(data)
    (data.settings_file).write_text(json.dumps({  # one price of your own and a daily budget, as Settings writes
        "prices": [{"provider": "gateway", "model": "viduq3p-720p", "unit": "video", "usd": 0.25,
                    "source": "your settings", "as_of": "2026-11-20", "condition": ""}],
        "budget_daily_usd": 10.0}), encoding="utf-8")
    keys = KeyStore(environ={}, backend=ShotKeyring())
    runtime = Runtime(data, sandbox_mode=True, keys=keys, engine_config=EngineConfig(poll_interval=0.5))
    await runtime.start()
    saved: list[Path] = []

    def save(pixmap: QPixmap, name: str) -> None:
        path = OUT / name
        pixmap.save(str(path))
        saved.append(path)
        print(f"saved {path}")

    theme = getattr(app, "_reeldeck_theme", None)
    try:
        window = MainWindow(runtime)
        window.confirm_close = lambda title, text: True
        window.resize(*SIZE)
        if DARK and theme is not None:
            theme.apply(dark=True)  # after the window, which applies the saved choice
        window.show()
        await settle()

        # Studio: a filled form (first frame image, prepared and padded) and the fox video playing.
        composer = window.composer
        composer.select("gateway", "viduq3p-720p")
        composer.set_prompt("The sun sets behind rolling hills; the camera slowly pushes in")
        still = picture(root / "inputs" / "hills.png", (1600, 300), (240, 170, 110), (255, 230, 140))
        del still
        composer.fill_first_empty([str(root / "inputs" / "hills.png")])
        window.queue_view.select_job("a5complete01")
        await wait_for(lambda: window.player.path is not None)
        await wait_for(lambda: window.player.player.position() > 600)
        window.player.player.pause()
        await wait_for(lambda: composer.slots is not None and not composer.slots.busy())
        await settle(1.0)
        save(grab(window), "studio.png")

        # The queue with two batches: one running (its own progress bar), one finished.
        window.queue_view.select_job("c0batch00001")
        await settle(0.6)
        save(grab(window.queue_view), "queue-batches.png")
        window.queue_view.select_job("a5complete01")
        await wait_for(lambda: window.player.player.position() > 1500)
        window.player.player.pause()
        await settle(0.3)

        # Chaining: the frame on screen goes into the form's "Last frame" slot.
        window.chainer.choose_slot = lambda choices: "last_image"
        window.player.use_frame()
        await wait_for(lambda: bool(composer.slots and composer.slots.widgets["last_image"].values()))
        await wait_for(lambda: composer.slots is not None and not composer.slots.busy())
        await settle(0.6)
        composer.scroll_area.verticalScrollBar().setValue(composer.scroll_area.verticalScrollBar().maximum())
        await settle(0.3)
        save(grab(composer), "composer-chained-frame.png")
        composer.scroll_area.verticalScrollBar().setValue(0)

        # The batch dialog over that form: three models × two seeds.
        dialog = window.open_batch(composer.request())  # type: ignore[arg-type]
        dialog.set_targets([("gateway", "viduq3p-720p"), ("gateway", "viduq3t-720p"), ("aihubmix", VEO)])
        dialog.seeds.setText("11, 12")  # type: ignore[attr-defined]
        await settle(0.4)
        save(grab(dialog), "batch-dialog.png")
        dialog.reject()

        # The compare view on the finished batch, paused mid-way.
        window.queue_view.select_job("b1batch00001")
        window.queue_view.compare_action.trigger()
        view = window.compare
        await wait_for(lambda: all(p.duration > 0 for p in view.panes))
        view.seek(1400)
        view.focus_pane(1)
        await wait_for(lambda: all(p.video.videoSink().videoFrame().isValid() for p in view.panes))
        await settle(1.0)
        save(grab(window), "compare.png")
        window.tabs.setCurrentIndex(0)

        # A job that needs a decision, with both choices explained.
        window.queue_view.select_job("a9decide0001")
        await settle()
        save(grab(window), "studio-decision.png")

        # The form explaining why Submit is disabled.
        composer.select("gateway", "viduq3p-mix-720p")
        composer.set_prompt("")
        window.queue_view.select_job("a7failed0001")
        await settle()
        save(grab(window), "studio-invalid-form.png")

        # Reference images (@Image1..) and a motion-video slot with a preset.
        composer.select("gateway", "viduq3p-mix-720p")
        refs = [root / "inputs" / f"ref{i}.png" for i in range(3)]
        for path, colours in zip(refs, (((90, 140, 220), (250, 240, 200)), ((230, 120, 90), (255, 250, 220)),
                                        ((120, 200, 160), (255, 230, 120))), strict=True):
            picture(path, (800, 800), *colours)
        composer.fill_first_empty([str(p) for p in refs])
        composer.set_prompt("@Image1 walks past @Image2 while @Image3 watches from a window")
        await wait_for(lambda: composer.slots is not None and not composer.slots.busy())
        await settle(0.6)
        composer.scroll_area.verticalScrollBar().setValue(composer.scroll_area.verticalScrollBar().maximum())
        await settle(0.3)
        save(grab(composer), "composer-reference-images.png")
        composer.select("novita", "img2video-motion")
        composer.fill_first_empty([str(root / "inputs" / "hills.png")])
        assert composer.slots is not None
        motion = composer.slots.widgets["motion_video"]
        motion.set_values([motion.slot.presets[0].name])
        await wait_for(lambda: composer.slots is not None and not composer.slots.busy())
        await settle(0.6)
        composer.scroll_area.verticalScrollBar().setValue(composer.scroll_area.verticalScrollBar().maximum())
        await settle(0.3)
        save(grab(composer), "composer-motion-video.png")

        # Library with the details of the fox video.
        window.tabs.setCurrentIndex(1)
        await wait_for(lambda: window.job_list.loaded)
        window.library.select_job("a5complete01")
        window.library.favourite_button.setChecked(True)
        window.library.rating.setCurrentIndex(4)
        window.library.note.setPlainText("Best take so far — use for the intro.")
        window.library.flush_note()
        for row in range(window.library.proxy.rowCount()):
            window.library.proxy.index(row, 0).data(1)  # ask for thumbnails
        await settle(2.0)
        save(grab(window), "library.png")

        # Dialogs.
        keys_dialog = KeysDialog(runtime, window)
        keys_dialog.show()
        await settle()
        save(grab(keys_dialog), "keys.png")
        keys_dialog.close()
        import keyring.backends.fail

        no_keyring = Runtime(data, sandbox_mode=False,
                             keys=KeyStore(environ={}, backend=keyring.backends.fail.Keyring()))
        bare_dialog = KeysDialog(no_keyring, window)
        bare_dialog.show()
        await settle()
        save(grab(bare_dialog), "keys-no-keyring.png")
        bare_dialog.close()
        settings_dialog = SettingsDialog(runtime, window.prefs, window)
        settings_dialog.urls["gateway"].edit.setText("http://gateway.example.com")
        settings_dialog.show()
        await settle()
        save(grab(settings_dialog), "settings.png")
        settings_dialog.urls["gateway"].edit.setText("")
        settings_dialog.prices.set_price(1, 0.12)  # the shipped Sora 2 price, overridden
        settings_dialog.prices.table.selectRow(2)
        await settle()
        save(grab(settings_dialog), "settings-prices.png")
        settings_dialog.close()

        # The charge ledger: this month's jobs, estimates and what the providers reported.
        ledger = window.open_ledger()
        ledger.resize(min(SIZE[0], 1200), min(SIZE[1], 640))
        await settle(0.6)
        save(grab(ledger), "ledger.png")
        ledger.close()

        # Dark theme.
        if theme is not None and not DARK:
            theme.apply(dark=True)
            window.tabs.setCurrentIndex(0)
            composer.select("aihubmix", "veo-3.1-generate-preview")
            composer.set_prompt("A red fox trots through fresh snow at dawn")
            window.queue_view.select_job("a3running001")
            await settle(1.0)
            save(grab(window), "studio-dark.png")
            window.tabs.setCurrentIndex(1)
            await settle(0.6)
            save(grab(window), "library-dark.png")
            theme.apply(dark=False)
        window.close()
        await settle(0.2)
    finally:
        await runtime.close()
    assert jobs
    return saved


def ensure_big_screen() -> None:
    """On an X screen smaller than the shots, run again under xvfb-run with a large virtual screen."""
    screen = QGuiApplication.primaryScreen()
    if QGuiApplication.platformName() != "xcb" or screen is None or os.environ.get(BIG_SCREEN_FLAG):
        return
    size = screen.size()
    if size.width() >= SIZE[0] and size.height() >= SIZE[1]:
        return
    if shutil.which("xvfb-run") is None:
        print(f"The screen is {size.width()}×{size.height()}, smaller than the {SIZE[0]}×{SIZE[1]} shots; they will "
              "be cut off.", file=sys.stderr)
        return
    print(f"The screen is {size.width()}×{size.height()}; starting again on a 1920×1200 virtual screen.",
          file=sys.stderr)
    os.execvpe("xvfb-run", ["xvfb-run", "-a", "-s", "-screen 0 1920x1200x24", sys.executable, __file__,
                            *sys.argv[1:]], {**os.environ, BIG_SCREEN_FLAG: "1"})


def read_options() -> None:
    """--size WxH, --dark and --out DIR (see the module's docstring)."""
    global OUT, SIZE, DARK
    parser = argparse.ArgumentParser(description="Render Reeldeck's screens to PNGs.")
    parser.add_argument("--size", default=f"{SIZE[0]}x{SIZE[1]}", help="window size, WIDTHxHEIGHT")
    parser.add_argument("--dark", action="store_true", help="take every shot in the dark theme")
    parser.add_argument("--out", type=Path, default=OUT, help="folder for the PNGs")
    options = parser.parse_args()
    width, _, height = options.size.partition("x")
    SIZE, DARK, OUT = (int(width), int(height)), options.dark, options.out.resolve()


def main() -> int:
    read_options()
    OUT.mkdir(parents=True, exist_ok=True)
    app = make_application(sys.argv[:1])
    ensure_big_screen()
    app.setQuitOnLastWindowClosed(False)
    with tempfile.TemporaryDirectory(prefix="reeldeck-shots-") as tmp, \
            asyncio.Runner(loop_factory=lambda: qasync.QEventLoop(app)) as runner:
        saved = runner.run(shoot(app, Path(tmp)))
    print(f"{len(saved)} screenshots in {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
