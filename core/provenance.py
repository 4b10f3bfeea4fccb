"""Provenance: how each finished MP4 was made, in a JSON sidecar beside it and inside the MP4 itself.

Prompt, parameters, seed, provider, model, remote id, timings, cost estimate and hashes of the inputs — never a key.
The same document (less the video's own hash, which it cannot hold) is written into the MP4's metadata under the
tag ``reeldeck`` by a stream copy (``core.media.write_tags``), so a video moved anywhere on its own still carries
it. A sidecar, an MP4 with its sidecar beside it, or an MP4 that carries the document turns back into a
``JobRequest`` to reuse the settings.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from pathlib import Path
from typing import Any

from core import __version__
from core.errors import InputError
from core.jobs import Job, iso
from core.media import read_tags, write_tags
from core.redact import redact
from core.submission import JobRequest, is_url

SCHEMA = "reeldeck.provenance/1"
#: The MP4 metadata tag that holds the provenance document.
MP4_TAG = "reeldeck"
VIDEO_SUFFIXES = (".mp4", ".mov", ".m4v")

log = logging.getLogger(__name__)


def sidecar_path(video: Path) -> Path:
    return video.with_suffix(".json")


def file_sha256(path: Path) -> str | None:
    try:
        digest = hashlib.sha256()
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        return digest.hexdigest()
    except OSError:
        return None


def describe_inputs(job: Job) -> dict[str, list[dict[str, Any]]]:
    described: dict[str, list[dict[str, Any]]] = {}
    for slot, items in job.inputs.items():
        for item in items:
            if is_url(item) or item.startswith("preset:"):
                entry: dict[str, Any] = {"value": item}
            else:
                entry = {"file": Path(item).name, "path": item, "sha256": file_sha256(Path(item))}
            described.setdefault(slot, []).append(entry)
    return described


def build_sidecar(job: Job) -> dict[str, Any]:
    """The sidecar document for a job (no secrets: jobs never hold keys)."""
    elapsed = (job.finished_at - job.submitted_at) if job.finished_at and job.submitted_at else None
    return {
        "schema": SCHEMA,
        "app": f"Reeldeck {__version__}",
        "job_id": job.id,
        "provider": job.provider,
        "model": job.model,
        "mode": job.mode,
        "prompt": job.prompt,
        "params": {k: v for k, v in job.params.items() if k != "prompt"},
        "seed": job.params.get("seed"),
        "remote_id": job.remote_id,
        "group_id": job.group_id,
        "cost_estimate_usd": job.cost_usd,
        "timings": {"created_at": iso(job.created_at), "submitted_at": iso(job.submitted_at),
                    "finished_at": iso(job.finished_at), "seconds": round(elapsed, 3) if elapsed else None},
        "inputs": describe_inputs(job),
        "video": {"file": Path(job.video_path).name if job.video_path else None,
                  "sha256": file_sha256(Path(job.video_path)) if job.video_path else None},
    }


def embed_provenance(job: Job) -> bool:
    """Write the provenance into the job's MP4 itself (stream copy, atomic); False (logged) when it cannot be."""
    if not job.video_path:
        return False
    document = {k: v for k, v in build_sidecar(job).items() if k != "video"}
    text = redact(json.dumps(document, ensure_ascii=False))  # provider text never holds a key
    try:
        write_tags(Path(job.video_path), {MP4_TAG: text})
    except ValueError as exc:
        log.warning("job %s: the video keeps no settings of its own: %s", job.id, exc)
        return False
    return True


def write_sidecar(job: Job) -> Path | None:
    """Put the provenance into the job's video, then write the sidecar next to it atomically (its video hash is
    the final file's); returns the sidecar's path (None when there is no video)."""
    if not job.video_path:
        return None
    embed_provenance(job)
    target = sidecar_path(Path(job.video_path))
    tmp = target.with_name(target.name + ".tmp")
    text = redact(json.dumps(build_sidecar(job), indent=2, ensure_ascii=False))  # provider text never holds a key
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, target)
    return target


def embedded_provenance(video: Path) -> dict[str, Any] | None:
    """The provenance document a video carries in its own metadata, or None (no tag, not a video, unreadable)."""
    try:
        text = read_tags(video).get(MP4_TAG)
        data = json.loads(text) if text else None
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and data.get("schema") == SCHEMA else None


def carries_provenance(path: Path) -> bool:
    """True for a sidecar file, or a video with its sidecar beside it or its settings inside."""
    if path.suffix.lower() == ".json":
        return path.is_file()
    if path.suffix.lower() not in VIDEO_SUFFIXES or not path.is_file():
        return False
    return sidecar_path(path).is_file() or embedded_provenance(path) is not None


def read_sidecar(path: Path) -> dict[str, Any]:
    """Read a sidecar, or a dropped video's provenance: the sidecar beside it, else the one inside it.
    Raises InputError with a plain reason."""
    if path.suffix.lower() in VIDEO_SUFFIXES:
        if not sidecar_path(path).is_file() and (inside := embedded_provenance(path)) is not None:
            return inside
        path = sidecar_path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"No Reeldeck sidecar found at {path.name}; only videos made by Reeldeck carry their "
                         "settings.") from None
    except (OSError, ValueError) as exc:
        raise InputError(f"{path.name} is not a readable Reeldeck sidecar ({exc}).") from None
    if not isinstance(data, dict) or data.get("schema") != SCHEMA:
        raise InputError(f"{path.name} is not a Reeldeck sidecar.")
    return data


def request_from_sidecar(data: dict[str, Any]) -> JobRequest:
    """The settings of a sidecar as a new request (inputs whose files still exist, URLs and presets)."""
    params = dict(data.get("params") or {})
    if data.get("prompt"):
        params["prompt"] = data["prompt"]
    inputs: dict[str, list[str]] = {}
    for slot, items in (data.get("inputs") or {}).items():
        for item in items:
            value = item.get("value") or (item.get("path") if item.get("path") and Path(item["path"]).exists()
                                          else None)
            if value:
                inputs.setdefault(slot, []).append(value)
    return JobRequest(str(data.get("provider")), str(data.get("model")), params, inputs)
