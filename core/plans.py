"""Carrying out what a provider plans: every I/O a job's requests need, so providers stay pure.

- ``prepare_inputs``: the provider's ``InputPlan`` — values kept as they are, and uploads (read the local file or
  fetch the URL through the transport, never with the key; check or convert the bytes in a worker thread; send
  the upload; keep what its answer names).
- ``with_files``: the local files a create carries itself, read (in a worker thread) into ``JobInput.files``.
- ``find_created``: after a create whose outcome is unknown, the provider's list read page by page.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path
from typing import Any

from core.errors import InputError
from core.providers.base import JobInput, Provider, Upload
from core.providers.wire import is_url

#: The most list pages read to find one create (20 pages of 100 tasks).
MAX_LIST_PAGES = 20


async def prepare_inputs(provider: Provider, job: JobInput) -> dict[str, Any]:
    """Carry out the provider's input plan; the result is stored with the job so nothing is uploaded twice."""
    plan = provider.plan_inputs(job)
    prepared: dict[str, Any] = dict(plan.kept)
    for upload in plan.uploads:
        data = await _bytes_of(provider, upload)
        if upload.check is not None:
            data = await asyncio.to_thread(upload.check, data)
        answer = await provider.api.send(upload.request(data))
        prepared[upload.key] = upload.parse(answer.body)
    return prepared


async def _bytes_of(provider: Provider, upload: Upload) -> bytes:
    if is_url(upload.source):
        return await provider.api.fetch_public(upload.source, limit=upload.limit or 2**31, what=upload.what)
    return await asyncio.to_thread(_read_local, Path(upload.source), upload.what, upload.limit)


def _read_local(path: Path, what: str, limit: int | None) -> bytes:
    try:
        if limit is not None and path.stat().st_size > limit:
            raise InputError(f"The {what} {path.name} is over {limit // (1024 * 1024)} MB.")
        return path.read_bytes()
    except OSError as exc:
        raise InputError(f"The {what} {path.name} could not be read ({exc.strerror or exc}).") from None


async def with_files(provider: Provider, job: JobInput) -> JobInput:
    """The job with the bytes of the local files its create carries inline (``Provider.inline_files``), read in a
    worker thread."""
    return await asyncio.to_thread(read_files, provider, job)


def read_files(provider: Provider, job: JobInput) -> JobInput:
    """``with_files`` in the calling thread (tools and tests)."""
    paths = [p for p in provider.inline_files(job) if p not in job.files]
    if not paths:
        return job
    return replace(job, files={**job.files, **{p: _read_local(Path(p), "input", None) for p in paths}})


def build_create(provider: Provider, job: JobInput) -> Any:
    """The provider's create request with the job's inline files read (in the calling thread: tools and tests)."""
    return provider.build_create(read_files(provider, job))


async def find_created(provider: Provider, job: JobInput, exclude: set[str]) -> str | None:
    """The task an unknown create made, read from the provider's list (``build_list``/``match_created``)."""
    cursor: str | None = None
    for _ in range(MAX_LIST_PAGES):
        answer = await provider.api.send(provider.build_list(cursor))
        match = provider.match_created(answer.body, job, exclude)
        if match.found or not match.next_cursor:
            return match.found
        cursor = match.next_cursor
    return None
