"""Provenance in the window: the sidecar beside each MP4 turns back into the form — from the library ("Reuse
settings"), or from a sidecar or an MP4 dropped on the window."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from guikit import MULTIMEDIA_NOISE, OFFSCREEN_NOISE, make_image, make_video, until
from pytestqt.qtbot import QtBot
from test_slots import drag_and_drop, mime_for_files
from test_window import make_window

from core.jobs import Job, JobState
from core.params import validate
from core.provenance import sidecar_path
from core.providers import provider_spec
from core.runtime import Runtime
from core.submission import JobRequest, with_defaults
from gui.composer import Composer
from gui.main_window import MainWindow

#: Sora's prices, sizes and exact-size image fitting, with a user catalog that still serves it (it is retired;
#: tests/gui/test_catalog_gui.py shows the window refusing it).
pytestmark = [pytest.mark.qt_log_ignore(*MULTIMEDIA_NOISE, *OFFSCREEN_NOISE), pytest.mark.usefixtures("sora_served")]

ORIGINAL = {"prompt": "A kite over the dunes, slow pan", "duration": 7, "seed": 42, "aspect_ratio": "9:16",
            "audio": True, "image_fit": "crop"}


async def finished_job(runtime: Runtime, image: Path) -> Job:
    engine = runtime.engine
    assert engine is not None and runtime.store is not None
    job = await engine.submit(JobRequest("gateway", "viduq3p-720p", dict(ORIGINAL), {"image": [str(image)]}))
    await engine.wait([job.id], timeout=60)
    done = runtime.store.get(job.id)
    assert done.state == JobState.COMPLETED and done.video_path
    assert sidecar_path(Path(done.video_path)).is_file()
    return done


def form_matches(composer: Composer, job: Job) -> bool:
    """The form describes exactly the job: provider, model, every parameter (as sent) and the inputs."""
    request = composer.request()
    model = composer.model
    if request is None or model is None or (request.provider, request.model) != (job.provider, job.model):
        return False
    checked = validate(model, request.params, request.inputs)
    return with_defaults(job.provider, job.model, checked.params) == job.params and request.inputs == job.inputs


async def other_form(window: MainWindow) -> None:
    window.composer.select("aihubmix", "sora-2")
    window.composer.set_prompt("Something else entirely")


async def test_dropping_an_mp4_with_its_sidecar_fills_the_form(qtbot: QtBot, runtime: Runtime,
                                                               tmp_path: Path) -> None:
    job = await finished_job(runtime, make_image(tmp_path / "still.png", (640, 480)))
    window = await make_window(qtbot, runtime)
    await other_form(window)
    assert drag_and_drop(window, mime_for_files(Path(job.video_path or ""))) == (True, True)
    await until(lambda: form_matches(window.composer, job), what="the form to hold the video's settings")
    values = window.composer.form.values()  # type: ignore[union-attr]
    assert values["prompt"] == ORIGINAL["prompt"] and values["seed"] == "42" and values["duration"] == 7
    assert values["aspect_ratio"] == "9:16" and values["audio"] is True
    assert window.composer.slots.widgets["image"].values() == job.inputs["image"]  # type: ignore[union-attr]
    await until(lambda: window.composer.valid, what="a valid form")
    window.close()


async def test_dropping_an_mp4_moved_away_from_its_sidecar_fills_the_form(qtbot: QtBot, runtime: Runtime,
                                                                          tmp_path: Path) -> None:
    job = await finished_job(runtime, make_image(tmp_path / "still.png", (640, 480)))
    moved = tmp_path / "elsewhere" / "kite.mp4"  # the video alone: its settings ride inside it
    moved.parent.mkdir()
    shutil.move(job.video_path or "", moved)
    assert not sidecar_path(moved).exists()
    window = await make_window(qtbot, runtime)
    await other_form(window)
    assert drag_and_drop(window, mime_for_files(moved)) == (True, True)
    await until(lambda: form_matches(window.composer, job), what="the form to hold the moved video's settings")
    assert window.composer.form.values()["seed"] == "42"  # type: ignore[union-attr]
    window.close()


async def test_dropping_a_sidecar_and_reusing_from_the_library(qtbot: QtBot, runtime: Runtime,
                                                               tmp_path: Path) -> None:
    job = await finished_job(runtime, make_image(tmp_path / "still.png", (640, 480)))
    copy = tmp_path / "elsewhere" / "kite.json"  # a sidecar on its own, moved away from its video
    copy.parent.mkdir()
    copy.write_text(sidecar_path(Path(job.video_path or "")).read_text(encoding="utf-8"), encoding="utf-8")
    window = await make_window(qtbot, runtime)
    await other_form(window)
    assert drag_and_drop(window.library, mime_for_files(copy)) == (True, True)  # anywhere on the window
    await until(lambda: form_matches(window.composer, job), what="the settings from the dropped sidecar")
    assert window.tabs.currentIndex() == 0

    await other_form(window)
    window.tabs.setCurrentIndex(1)
    await until(lambda: window.job_list.loaded, what="the library")
    assert window.library.select_job(job.id)
    sink = window.library.player.video_sink()
    await until(lambda: sink.videoFrame().isValid(), what="the video on screen")
    assert window.library.reuse_button.isEnabled()
    window.library.reuse_button.click()
    await until(lambda: form_matches(window.composer, job), what="Reuse settings from the library")
    assert window.tabs.currentIndex() == 0
    window.close()


async def test_what_is_not_a_sidecar(qtbot: QtBot, runtime: Runtime, tmp_path: Path) -> None:
    window = await make_window(qtbot, runtime)
    messages: list[str] = []
    window.statusBar().messageChanged.connect(lambda text: text and messages.append(text))
    bogus = tmp_path / "notes.json"
    bogus.write_text(json.dumps({"hello": "world"}))
    await other_form(window)
    assert drag_and_drop(window, mime_for_files(bogus)) == (True, True)
    await until(lambda: any("not a Reeldeck sidecar" in m for m in messages), what="a clear message")
    assert window.composer.provider_id == "aihubmix"  # the form is untouched

    window.composer.select("novita", "img2video-motion")  # an MP4 without a sidecar is a motion video
    plain = make_video(tmp_path / "dance.mp4")
    assert drag_and_drop(window, mime_for_files(plain)) == (True, True)
    assert window.composer.slots.widgets["motion_video"].values() == [str(plain)]  # type: ignore[union-attr]
    await until(lambda: not window.composer.slots.busy(), what="the preview")  # type: ignore[union-attr]
    window.close()


def test_sidecar_of_a_model_from_another_version(qtbot: QtBot, runtime: Runtime, tmp_path: Path) -> None:
    assert provider_spec("gateway").model("viduq3p-720p") is not None
    composer = Composer()
    qtbot.addWidget(composer)
    assert not composer.load_request(JobRequest("gateway", "viduq9-8k", {"prompt": "x"}))
