"""Downloads of finished videos: stream to a ``.part`` file, resume with ``Range``, verify, then rename.

The provider key is sent only when the result lives on the provider's own API origin; CDN and S3 URLs get no
auth header at all. Disk writes are batched and done in a thread so the event loop never waits on the disk.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import os
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import httpx

from core.errors import DiskFullError, DownloadError, ExpiredURLError, NetworkError
from core.http import MAX_REDIRECTS, Sleep, certificate_error, origin_of
from core.media import has_mp4_signature, probe_video

log = logging.getLogger(__name__)

WRITE_BATCH = 1024 * 1024
MAX_VIDEO_BYTES = 8 * 1024 * 1024 * 1024
Progress = Callable[[int, int | None], None]


@dataclass(frozen=True)
class DownloadResult:
    """A verified video in its final place."""

    path: Path
    size: int


def check_result_url(url: str) -> None:
    """Refuse anything but http(s) result URLs (file://, data:, ftp:, ...)."""
    scheme = urlsplit(url).scheme.lower()
    if scheme not in ("http", "https"):
        raise DownloadError(f"The provider gave a result address with an unsupported scheme ({scheme or 'none'}:); "
                            "it was not opened.")


async def download_video(
    client: httpx.AsyncClient,
    url: str,
    dest: Path,
    *,
    headers: dict[str, str] | None = None,
    progress: Progress | None = None,
    max_attempts: int = 4,
    sleep: Sleep = asyncio.sleep,
) -> DownloadResult:
    """Download ``url`` to ``dest`` through ``dest.part``, resuming on interruptions; verify; rename.

    Interrupted downloads are resumed (``Range``) or restarted after a short backoff, at most ``max_attempts``
    times in all.
    """
    check_result_url(url)
    part = dest.with_name(dest.name + ".part")
    dest.parent.mkdir(parents=True, exist_ok=True)
    last_error: Exception | None = None
    for attempt in range(max_attempts):
        if attempt:
            await sleep(min(2.0 ** (attempt - 1), 8.0))
        try:
            total = await _fetch_into(client, url, part, headers or {}, progress)
            break
        except DiskFullError:
            part.unlink(missing_ok=True)  # free the space; nothing half-written stays behind
            raise
        except NetworkError as exc:
            if not exc.retryable:
                raise
            last_error = exc
            log.info("download interrupted (%s); resuming", exc.detail or exc.message)
    else:
        part.unlink(missing_ok=True)  # a new attempt (a new remote task) must not resume from these bytes
        raise DownloadError(f"The download kept failing: {last_error}")
    size = await asyncio.to_thread(_verify, part, total)
    await asyncio.to_thread(os.replace, part, dest)
    return DownloadResult(dest, size)


async def _fetch_into(
    client: httpx.AsyncClient, url: str, part: Path, headers: dict[str, str], progress: Progress | None
) -> int | None:
    have = part.stat().st_size if part.exists() else 0
    request_headers = dict(headers)
    if have:
        request_headers["Range"] = f"bytes={have}-"
    try:
        async with _open_following(client, url, request_headers) as response:
            total = _expected_total(response, have)
            if response.status_code in (401, 403, 404, 410):
                raise ExpiredURLError(f"The result link answered HTTP {response.status_code} (expired or gone).",
                                      status_code=response.status_code)
            if response.status_code == 416 and have:
                return have  # we already have everything
            if response.status_code not in (200, 206):
                raise NetworkError(f"The result host answered HTTP {response.status_code}.")
            resume = response.status_code == 206 and have > 0
            await _write_stream(response, part, append=resume, progress=progress, total=total)
            return total
    except httpx.TransportError as exc:
        raise certificate_error(exc, url) or NetworkError("The download was interrupted.", detail=repr(exc)) from exc


@contextlib.asynccontextmanager
async def _open_following(
    client: httpx.AsyncClient, url: str, headers: dict[str, str]
) -> AsyncIterator[httpx.Response]:
    """GET with redirects followed by hand: auth headers are dropped as soon as the origin changes."""
    first = origin_of(url)
    for _ in range(MAX_REDIRECTS + 1):
        send_headers = headers if origin_of(url) == first else _without_auth(headers)
        request = client.build_request("GET", url, headers=send_headers)
        response = await client.send(request, stream=True, follow_redirects=False)
        location = response.headers.get("location")
        if response.status_code in (301, 302, 303, 307, 308) and location:
            await response.aclose()
            url = urljoin(url, location)
            check_result_url(url)
            continue
        try:
            yield response
        finally:
            await response.aclose()
        return
    raise DownloadError("The result link redirected too many times.")


def _without_auth(headers: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in headers.items() if k.lower() in ("range",)}


def _expected_total(response: httpx.Response, have: int) -> int | None:
    content_range = response.headers.get("content-range", "")
    if response.status_code == 206 and "/" in content_range:
        tail = content_range.rsplit("/", 1)[1]
        return int(tail) if tail.isdigit() else None
    length = response.headers.get("content-length")
    return int(length) if length and length.isdigit() else None


async def _write_stream(response: httpx.Response, part: Path, *, append: bool, progress: Progress | None,
                        total: int | None) -> None:
    handle = await asyncio.to_thread(open, part, "ab" if append else "wb")
    try:
        writer = _PipelinedWriter(handle, handle.tell() if append else 0)
        try:
            async for chunk in response.aiter_raw():
                if await writer.add(chunk) and progress:
                    progress(writer.written, total)
                if writer.written + writer.buffered > MAX_VIDEO_BYTES:
                    raise DownloadError("The result is larger than 8 GB; the download was stopped.")
        finally:
            await writer.finish()  # keep what arrived: a resume continues from it
        if progress:
            progress(writer.written, total)
    finally:
        await asyncio.to_thread(handle.close)


class _PipelinedWriter:
    """Writes batches of chunks in a thread while the next batch is read: one write in flight, no copies."""

    def __init__(self, handle: object, written: int) -> None:
        self.handle = handle
        self.written = written  # bytes on disk
        self.buffered = 0  # bytes read but not yet written
        self._chunks: list[bytes] = []
        self._pending: asyncio.Future[None] | None = None
        self._pending_size = 0

    async def add(self, chunk: bytes) -> bool:
        """Queue a chunk; returns True when a batch was handed to the writer thread (progress moved)."""
        self._chunks.append(chunk)
        self.buffered += len(chunk)
        if self.buffered < WRITE_BATCH:
            return False
        await self._hand_off()
        return True

    async def finish(self) -> None:
        await self._hand_off()
        await self._settle()

    async def _hand_off(self) -> None:
        await self._settle()
        if not self._chunks:
            return
        batch, self._chunks = self._chunks, []
        self._pending_size, self.buffered = self.buffered, 0
        self._pending = asyncio.ensure_future(asyncio.to_thread(_write_all, self.handle, batch))

    async def _settle(self) -> None:
        if self._pending is None:
            return
        pending, self._pending = self._pending, None
        try:
            await pending
        except OSError as exc:
            if exc.errno in (errno.ENOSPC, errno.EDQUOT):
                raise DiskFullError("The disk is full; the download stopped. Free some space and retry the job.") \
                    from None
            raise DownloadError(f"Could not write the video: {exc.strerror or exc}.") from None
        self.written += self._pending_size


def _write_all(handle: object, chunks: list[bytes]) -> None:
    handle.writelines(chunks)  # type: ignore[attr-defined]
    handle.flush()  # type: ignore[attr-defined]


def _verify(part: Path, total: int | None) -> int:
    size = part.stat().st_size
    if total is not None and size != total:
        part.unlink(missing_ok=True)
        raise DownloadError(f"The download ended early ({size} of {total} bytes).")
    with part.open("rb") as handle:
        head = handle.read(16)
    if not has_mp4_signature(head):
        part.unlink(missing_ok=True)
        raise DownloadError("The downloaded file is not an MP4 video.")
    try:
        probe_video(part)
    except ValueError as exc:
        part.unlink(missing_ok=True)
        raise DownloadError(f"The downloaded video is damaged: {exc}.") from None
    return size
