"""Export: copy chosen videos with readable file names, and their provenance sidecars, to a folder."""

from __future__ import annotations

import json
import re
import shutil
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from core.errors import InputError
from core.jobs import Job, JobState
from core.provenance import build_sidecar, sidecar_path

_UNSAFE = re.compile(r'[\\/:*?"<>|\x00-\x1f]+')


@dataclass(frozen=True)
class Exported:
    """One exported video and its sidecar."""

    job_id: str
    video: Path
    sidecar: Path


def readable_name(job: Job) -> str:
    """``provider model - first words of the prompt - date`` — safe on every file system."""
    words = " ".join(job.prompt.split()[:8]) or "video"
    stamp = time.strftime("%Y-%m-%d %H.%M", time.localtime(job.created_at)) if job.created_at else "undated"
    seed = f" seed {job.seed}" if job.seed else ""  # takes of one batch differ by seed, not by " (2)"
    name = f"{job.provider} {job.model}{seed} - {words} - {stamp}"
    name = _UNSAFE.sub("-", name).strip(" .-")
    return name[:150]


def _free_path(folder: Path, stem: str, suffix: str) -> Path:
    candidate = folder / f"{stem}{suffix}"
    counter = 2
    while candidate.exists() or sidecar_path(candidate).exists():
        candidate = folder / f"{stem} ({counter}){suffix}"
        counter += 1
    return candidate


def export_jobs(jobs: Iterable[Job], folder: Path) -> list[Exported]:
    """Copy each completed job's video and a fresh sidecar into ``folder``; never overwrites. Synchronous."""
    folder.mkdir(parents=True, exist_ok=True)
    done: list[Exported] = []
    for job in jobs:
        if job.state != JobState.COMPLETED or not job.video_path or not Path(job.video_path).is_file():
            raise InputError(f"Job {job.id} has no finished video to export.")
        target = _free_path(folder, readable_name(job), ".mp4")
        partial = target.with_name(target.name + ".part")
        shutil.copy2(job.video_path, partial)
        partial.replace(target)
        side = sidecar_path(target)
        document = build_sidecar(job)
        document["video"]["file"] = target.name
        side.write_text(json.dumps(document, indent=2, ensure_ascii=False), encoding="utf-8")
        done.append(Exported(job.id, target, side))
    return done
