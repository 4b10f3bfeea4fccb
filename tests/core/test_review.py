"""Review and iterate, core side: costs and the budget cap, provenance sidecars, frames, batches, export."""

from __future__ import annotations

import json
from pathlib import Path

import av
import pytest
from harness import Harness
from PIL import Image

from core.batch import Target, expand_batch
from core.costs import PriceTable, check_budget, spend, total
from core.errors import InputError
from core.export import export_jobs
from core.frames import frame_at, last_frame
from core.jobs import Job, JobState
from core.provenance import read_sidecar, request_from_sidecar
from core.submission import JobRequest

#: The hand-written Sora emulation and Sora's own rules and prices, with a user catalog that still serves Sora
#: (it is retired; tests/core/test_catalog.py proves a new Sora job is refused).
pytestmark = pytest.mark.usefixtures("sora_served")


COLOURS = [(255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 0), (0, 255, 255), (255, 0, 255)]


def coloured_video(path: Path, fps: int = 4) -> Path:
    """A video whose frame i is a flat colour COLOURS[i]: frame i is on screen from i/fps to (i+1)/fps."""
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv444p"
        stream.options = {"qp": "0", "preset": "ultrafast"}
        for colour in COLOURS:
            frame = av.VideoFrame.from_image(Image.new("RGB", (64, 48), colour))
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return path


def _close(a: tuple[int, ...], b: tuple[int, ...]) -> bool:
    return all(abs(x - y) <= 6 for x, y in zip(a, b, strict=True))


@pytest.mark.parametrize(("seconds", "index"), [(0.0, 0), (0.26, 1), (0.74, 2), (0.75, 3), (1.1, 4), (1.49, 5)])
def test_frame_at_is_the_frame_on_screen(tmp_path: Path, seconds: float, index: int) -> None:
    video = coloured_video(tmp_path / "c.mp4")
    image, at = frame_at(video, seconds)
    assert _close(image.getpixel((10, 10)), COLOURS[index])
    assert at == pytest.approx(index / 4)


def test_last_frame(tmp_path: Path) -> None:
    image, at = last_frame(coloured_video(tmp_path / "c.mp4"))
    assert _close(image.getpixel((5, 5)), COLOURS[-1]) and at == pytest.approx(1.25)


def test_frames_of_a_broken_file_are_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"\x00\x00\x00\x18ftypisom" + b"junk" * 10)
    with pytest.raises(InputError, match="Cannot read frames"):
        frame_at(bad, 0.5)


def test_sora_estimate_and_unknown_prices() -> None:
    table = PriceTable()
    assert table.estimate("aihubmix", "sora-2", {"seconds": "8"}).usd == pytest.approx(0.8)
    assert table.estimate("aihubmix", "sora-2-pro", {"seconds": "4", "size": "1792x1024"}).usd == pytest.approx(2.0)
    assert table.estimate("aihubmix", "sora-2-pro", {"seconds": "4", "size": "1280x720"}).usd == pytest.approx(1.2)
    unknown = table.estimate("novita", "img2video-motion", {})
    assert unknown.usd is None and "No price known" in unknown.explanation
    batch = total([table.estimate("aihubmix", "sora-2", {"seconds": "4"}), unknown])
    assert batch.usd == pytest.approx(0.4) and "1 job has no known price" in batch.explanation


def test_prices_can_be_overridden_in_settings() -> None:
    table = PriceTable.from_settings({"prices": [{"provider": "novita", "model": "img2video-motion",
                                                  "unit": "video", "usd": 0.25}]})
    assert table.estimate("novita", "img2video-motion", {}).usd == 0.25


def _spent(cost: float, day_ts: float, provider: str = "aihubmix") -> Job:
    return Job(id=f"j{cost}{provider}", provider=provider, model="m", params={}, inputs={}, state=JobState.COMPLETED,
               remote_id="r", cost_usd=cost, created_at=day_ts, submitted_at=day_ts)


def test_spend_per_day_and_provider_and_the_budget_cap() -> None:
    import datetime as dt

    today_ts = dt.datetime.now().timestamp()
    jobs = [_spent(1.0, today_ts), _spent(0.5, today_ts, "gateway"), _spent(2.0, today_ts - 3 * 86400)]
    today = dt.date.today().isoformat()
    assert spend(jobs, by="day")[today] == pytest.approx(1.5)
    assert spend(jobs, by="provider") == {"aihubmix": 3.0, "gateway": 0.5}
    check_budget(jobs, 0.4, cap_usd=2.0)
    with pytest.raises(InputError, match=r"past your daily budget of \$2\.00"):
        check_budget(jobs, 0.6, cap_usd=2.0)


async def test_budget_cap_blocks_submission_and_sends_nothing(real_harness: Harness) -> None:
    h = real_harness
    h.hub.settings.data["budget_daily_usd"] = 0.5
    first = await h.engine.submit(JobRequest("aihubmix", "sora-2", {"prompt": "a", "seconds": "4"}))
    await h.engine.wait([first.id], timeout=60)
    with pytest.raises(InputError, match="daily budget"):
        await h.engine.submit(JobRequest("aihubmix", "sora-2", {"prompt": "b", "seconds": "4"}))
    assert h.sandbox.count("aihubmix", "create") == 1
    assert len(h.engine.store.all()) == 1
    problem = h.engine.budget_problem(1.0, what="This batch")  # the batch dialog asks the same rule
    assert problem is not None and problem.startswith("This batch would take today's estimated spend to $1.40")


async def test_a_job_of_unknown_price_is_refused_while_a_budget_is_set(real_harness: Harness) -> None:
    """A daily budget must hold: a model whose price Reeldeck does not know (Veo: no price documented where we read)
    cannot be counted, so with a budget set it is refused — nothing stored, nothing sent — until its price is set."""
    h = real_harness
    veo = JobRequest("aihubmix", "veo-3.1-generate-preview", {"prompt": "a kite"})
    h.hub.settings.data["budget_daily_usd"] = 5.0
    with pytest.raises(InputError, match=r"no known price.*Settings → Prices"):
        await h.engine.submit(veo)
    assert h.sandbox.count("aihubmix", "create") == 0 and h.engine.store.all() == []
    problem = h.engine.budget_problem(0.8, what="This batch", unpriced=2)  # a batch with two unpriced jobs
    assert problem is not None and problem.startswith("2 jobs of this batch have no known price")
    h.hub.settings.data["prices"] = [{"provider": "aihubmix", "model": "veo-3.1-generate-preview", "unit": "video",
                                      "usd": 1.2}]  # the person sets its price: counted from now on
    job = await h.engine.submit(veo)
    assert job.cost_usd == 1.2
    del h.hub.settings.data["budget_daily_usd"]
    h.hub.settings.data.pop("prices")
    assert h.engine.budget_problem(None) is None  # no budget: nothing to keep, an unknown price is fine


async def test_sandbox_renders_cost_nothing_and_never_count_toward_the_budget(harness: Harness) -> None:
    harness.hub.settings.data["budget_daily_usd"] = 0.5
    jobs = [await harness.engine.submit(JobRequest("aihubmix", "sora-2", {"prompt": p, "seconds": "4"}))
            for p in ("a", "b")]
    done = await harness.engine.wait([j.id for j in jobs], timeout=60)
    assert [j.state for j in done] == [JobState.COMPLETED] * 2 and {j.world for j in done} == {"sandbox"}
    assert spend(done) == {}
    assert harness.engine.budget_problem(100.0, what="This batch") is None  # a sandbox batch is never refused


async def test_sidecar_written_and_reused(harness: Harness) -> None:
    h = harness
    image = h.image("start.png", (800, 600))
    job = await h.run("gateway", "viduq3p-720p", {"prompt": "a kite", "seed": "7", "duration": "2"}, image=[image])
    assert job.state == JobState.COMPLETED, job.error
    sidecar = Path(job.video_path or "").with_suffix(".json")
    data = json.loads(sidecar.read_text())
    assert data["seed"] == 7 and data["remote_id"] == job.remote_id and data["prompt"] == "a kite"
    assert data["inputs"]["image"][0]["sha256"] and len(data["inputs"]["image"][0]["sha256"]) == 64
    assert "sandbox-key" not in sidecar.read_text()
    request = request_from_sidecar(read_sidecar(Path(job.video_path or "")))  # dropped MP4 -> its sidecar
    assert (request.provider, request.model) == ("gateway", "viduq3p-720p")
    assert request.params["prompt"] == "a kite" and request.params["seed"] == 7
    assert request.inputs["image"] == job.inputs["image"]
    again = await h.engine.submit(request)
    assert again.params["seed"] == 7


def test_not_a_sidecar(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="No Reeldeck sidecar"):
        read_sidecar(tmp_path / "x.mp4")
    (tmp_path / "y.json").write_text('{"hello": 1}')
    with pytest.raises(InputError, match="not a Reeldeck sidecar"):
        read_sidecar(tmp_path / "y.json")


def test_batch_fan_out() -> None:
    base = JobRequest("aihubmix", "sora-2", {"prompt": "a fox", "size": "1280x720"}, {"image": ["/tmp/a.png"]})
    targets = [Target("aihubmix", "sora-2"), Target("gateway", "viduq3p-720p"), Target("novita", "img2video-motion")]
    jobs = expand_batch(base, targets, seeds=[1, 2, 3])
    assert [(j.provider, j.params.get("seed")) for j in jobs] == [
        ("aihubmix", None), ("gateway", 1), ("gateway", 2), ("gateway", 3),
        ("novita", 1), ("novita", 2), ("novita", 3)]
    assert len({j.group_id for j in jobs}) == 1
    assert "size" not in jobs[1].params and jobs[0].params["size"] == "1280x720"
    assert "prompt" not in jobs[4].params  # Novita takes no prompt


async def test_export_copies_with_readable_names(harness: Harness, tmp_path: Path) -> None:
    job = await harness.run("aihubmix", "sora-2", {"prompt": "A fox: on/the run?", "seconds": "4"})
    out = tmp_path / "export"
    first = export_jobs([job], out)
    second = export_jobs([job], out)
    assert first[0].video.name.startswith("aihubmix sora-2 - A fox- on-the run-")
    assert second[0].video.name.endswith("(2).mp4")
    assert json.loads(first[0].sidecar.read_text())["video"]["file"] == first[0].video.name
    assert first[0].video.read_bytes() == Path(job.video_path or "").read_bytes()


def test_counts_are_said_in_words() -> None:
    from core.words import count, have

    assert (count(1, "job"), count(2, "job"), count(0, "seed")) == ("1 job", "2 jobs", "0 seeds")
    assert count(2, "batch", "batches") == "2 batches" and (have(1), have(3)) == ("has", "have")


def test_takes_of_a_batch_export_under_names_that_tell_them_apart(tmp_path: Path) -> None:
    video = tmp_path / "v.mp4"
    video.write_bytes(b"\0" * 64)
    takes = [Job(id=f"t{seed}", provider="gateway", model="viduq3t-540p", params={"prompt": "a kite", "seed": seed},
                 inputs={}, state=JobState.COMPLETED, video_path=str(video), created_at=1_800_000_000.0)
             for seed in (7, 8)]
    names = [e.video.name for e in export_jobs(takes, tmp_path / "out")]
    assert "seed 7" in names[0] and "seed 8" in names[1] and not any("(2)" in n for n in names)
    unseeded = Job(id="u", provider="novita", model="img2video-motion", params={"seed": -1}, inputs={})
    assert unseeded.seed is None and takes[0].seed == "7"
