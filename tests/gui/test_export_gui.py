"""Export from the library: the selected videos and their sidecars are copied to a folder, with readable names."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from guikit import MULTIMEDIA_NOISE, OFFSCREEN_NOISE, make_job, make_video, until
from pytestqt.qtbot import QtBot
from test_window import make_window

from core.jobs import JobState
from core.runtime import Runtime
from gui.export_action import Exporter, exportable

pytestmark = pytest.mark.qt_log_ignore(*MULTIMEDIA_NOISE, *OFFSCREEN_NOISE)


async def test_export_selected_videos(qtbot: QtBot, runtime: Runtime, tmp_path: Path) -> None:
    store = runtime.store
    assert store is not None
    fox = make_job("exp1", JobState.COMPLETED, prompt="A red fox in the snow", created_at=1_700_000_000,
                   video_path=str(make_video(tmp_path / "lib" / "a.mp4")), remote_id="r1")
    hills = make_job("exp2", JobState.COMPLETED, provider="gateway", model="viduq3p-720p", prompt="Green hills",
                     created_at=1_700_000_100, video_path=str(make_video(tmp_path / "lib" / "b.mp4")))
    store.add(fox)
    store.add(hills)
    store.add(make_job("exp3", JobState.FAILED, prompt="Did not work"))
    window = await make_window(qtbot, runtime)
    library = window.library
    window.tabs.setCurrentIndex(1)
    await until(lambda: window.job_list.loaded, what="the library")
    assert not library.export_button.isEnabled()  # nothing selected
    library.select_jobs(["exp1", "exp2"])
    assert library.export_button.isEnabled() and library.selection_label.text() == "2 selected"
    target = tmp_path / "out"
    asked: list[str] = []
    window.exporter.pick_folder = lambda start: asked.append(start) or str(target)
    library.export_button.click()
    await until(lambda: library.export_report.isVisibleTo(library), what="the export report")

    videos = sorted(p.name for p in target.glob("*.mp4"))
    assert len(videos) == 2 and len(list(target.glob("*.json"))) == 2
    assert any(name.startswith("aihubmix sora-2 - A red fox in the snow - ") for name in videos)
    assert any(name.startswith("gateway viduq3p-720p - Green hills - ") for name in videos)
    for name in videos:
        video = target / name
        sidecar = json.loads(video.with_suffix(".json").read_text(encoding="utf-8"))
        assert sidecar["video"]["file"] == name and sidecar["schema"] == "reeldeck.provenance/1"
        assert video.read_bytes() == Path(fox.video_path if "fox" in name else hills.video_path or "").read_bytes()
    report = library.export_report.text()
    assert report.startswith("Copied 2 videos and their sidecars to ") and str(target) in report
    assert all(name in report for name in videos) and library.export_report.property("role") == "ok"
    assert window.prefs.get("export/folder") == str(target)

    library.export_button.click()  # again: never overwrites, the copies get numbered
    await until(lambda: len(list(target.glob("*.mp4"))) == 4, what="the second export")
    assert asked[1] == str(target) and asked[0] != str(target)  # the picker starts where the last export went
    window.close()


async def test_cancel_and_failures_are_reported(qtbot: QtBot, tmp_path: Path) -> None:
    exporter = Exporter()
    reports: list[tuple[str, bool]] = []
    exporter.finished.connect(lambda text, ok: reports.append((text, ok)))
    gone = make_job("gone1", JobState.COMPLETED, video_path=str(tmp_path / "missing.mp4"))
    assert exportable([gone, make_job("p", JobState.PENDING)]) == [gone]
    exporter.pick_folder = lambda start: None
    assert not exporter.export([gone])  # the person closed the folder picker: nothing happens
    assert reports == []
    assert not exporter.export([make_job("p", JobState.PENDING)])
    assert reports[-1] == ("Select finished videos to export.", False)
    exporter.pick_folder = lambda start: str(tmp_path / "out")
    assert exporter.export([gone])
    qtbot.waitUntil(lambda: len(reports) == 2)
    text, ok = reports[-1]
    assert not ok and "no finished video to export" in text
