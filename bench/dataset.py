"""A data dir with many finished jobs, for the window benchmarks: ``make_home(root, 10_000)``.

Jobs spread over the five providers and the last 90 days (so the queue shows the recent few and the library all),
mostly completed, each completed one with its own small real MP4 in the library folder (hard links of one tiny
render: distinct files and paths, so every thumbnail is made and cached separately, but no disk to speak of).
"""

from __future__ import annotations

import os
import random
import shutil
import time
from pathlib import Path

from bench.emulator import tiny_renders
from core.jobs import Job, JobState
from core.paths import DataDir
from core.store import JobStore, new_job_id

MODELS = {
    "goapi": ("Qubico/hug-video", {}),
    "aimlapi": ("video-01-live2d", {"prompt_optimizer": True}),
    "aihubmix": ("veo-3.1-generate-preview", {"seconds": "8", "size": "720x1280"}),
    "gateway": ("viduq3p-720p", {"duration": 5, "aspect_ratio": "16:9"}),
    "novita": ("img2video-motion", {"seed": -1}),
}
WORDS = ("a", "red", "fox", "runs", "through", "snow", "at", "dawn", "while", "city", "lights", "flicker", "over",
         "the", "quiet", "harbour")


def make_home(root: Path, count: int, *, seed: int = 10) -> DataDir:
    """A data dir at ``root`` holding ``count`` jobs (made once; reused when it already has them)."""
    data = DataDir(root).ensure()
    marker = root / f".bench-{count}"
    if marker.exists():
        return data
    rng = random.Random(seed)
    sample = tiny_renders(root / "render-template").video
    store = JobStore(data.database)
    now = time.time()
    providers = list(MODELS)
    try:
        store._db.execute("BEGIN")  # one transaction: 10,000 separate commits would take minutes
        for index in range(count):
            provider = providers[index % len(providers)]
            model, params = MODELS[provider]
            created = now - rng.uniform(0, 90 * 86400)
            state = JobState.COMPLETED if rng.random() < 0.9 else rng.choice((JobState.FAILED, JobState.CANCELED))
            job = Job(id=new_job_id(), provider=provider, model=model,
                      params={"prompt": " ".join(rng.sample(WORDS, 6)), **params}, inputs={}, state=state,
                      remote_id=f"remote-{index}", remote_status=str(state),
                      created_at=created, submitted_at=created + 1, finished_at=created + rng.uniform(40, 300),
                      polls=rng.randint(3, 8), attempts=1)
            if state == JobState.COMPLETED:
                video = data.library / f"{index:05d}_{provider}_{job.id}.mp4"
                os.link(sample, video)
                job.video_path = str(video)
                job.progress = 100.0
            else:
                job.error = "The provider could not make this video."
            store.add(job)
        store._db.execute("COMMIT")
    finally:
        store.close()
    shutil.rmtree(root / "render-template", ignore_errors=True)
    marker.touch()
    return data
