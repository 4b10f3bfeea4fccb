"""Downloads of finished videos: stream to a ``.part`` file, resume with ``Range``, verify, then rename.

The provider key is sent only when the result lives on the provider's own API origin; CDN and S3 URLs get no
auth header at all. Disk writes are batched and done in a thread so the event loop never waits on the disk.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from core.errors import DiskFullError, DownloadError, ExpiredURLError, NetworkError, ProtocolError
from core.http import PaceRule, PaceWatch, Transport, paced
from core.media import has_mp4_signature, verify_complete

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
    transport: Transport,
    url: str,
    dest: Path,
    *,
    headers: dict[str, str] | None = None,
    progress: Progress | None = None,
    max_attempts: int = 4,
    limits: PaceRule | None = None,
) -> DownloadResult:
    """Download ``url`` to ``dest`` through ``dest.part``, resuming on interruptions; verify; rename.

    ``headers`` are the provider's auth headers, given only when the result lives on its own API origin (they go to
    no other host, even after a redirect). Interrupted, stalled or cut-short downloads are resumed (``Range``) or
    restarted after the transport's backoff, at most ``max_attempts`` times in all. Only a whole video is renamed
    into place: its size must match the announced length, and its stream must decode to the end its index states.
    """
    check_result_url(url)
    part = dest.with_name(dest.name + ".part")
    dest.parent.mkdir(parents=True, exist_ok=True)
    last_error: Exception | None = None
    for attempt in range(max_attempts):
        if attempt:
            await transport.sleep(transport.retry.backoff(attempt, transport.rng))
        try:
            total = await _fetch_into(transport, url, part, headers or {}, progress, limits or DEFAULT_LIMITS)
            size = await asyncio.to_thread(_verify, part, total)
            break
        except DiskFullError:
            part.unlink(missing_ok=True)  # free the space; nothing half-written stays behind
            raise
        except (NetworkError, CutShortError) as exc:
            if not exc.retryable:
                raise
            last_error = exc
            log.info("download interrupted (%s); resuming", exc.detail or exc.message)
    else:
        part.unlink(missing_ok=True)  # a new attempt (a new remote task) must not resume from these bytes
        raise DownloadError(f"The download kept failing: {last_error}")
    await asyncio.to_thread(os.replace, part, dest)
    return DownloadResult(dest, size)


#: How slow a download may be before it is abandoned (and resumed): the transport's one pace rule.
DownloadLimits = PaceRule
DEFAULT_LIMITS = PaceRule()


class CutShortError(DownloadError):
    """The download ended (with no length announced) but the video is not whole: resume or fetch it again."""

    retryable = True


async def _fetch_into(
    transport: Transport, url: str, part: Path, auth: dict[str, str], progress: Progress | None,
    limits: PaceRule,
) -> int | None:
    have = part.stat().st_size if part.exists() else 0
    headers = {"Range": f"bytes={have}-"} if have else {}
    try:
        async with transport.stream(url, name="The result host", headers=headers, auth=auth, auth_origin=url) \
                as response:
            return await _receive(response, part, have, progress, limits)
    except ProtocolError as exc:  # a redirect to a file:// address, too many redirects
        raise DownloadError(f"The result link could not be followed: {exc.message}") from None


async def _receive(response: httpx.Response, part: Path, have: int, progress: Progress | None,
                   limits: PaceRule) -> int | None:
    """Write one answer's body into ``part``; the total size when announced."""
    total = _expected_total(response, have)
    if response.status_code in (401, 403, 404, 410):
        raise ExpiredURLError(f"The result link answered HTTP {response.status_code} (expired or gone).",
                              status_code=response.status_code)
    if response.status_code == 416 and have:
        return have  # we already have everything
    if response.status_code not in (200, 206):
        raise NetworkError(f"The result host answered HTTP {response.status_code}.")
    resume = response.status_code == 206 and have > 0
    watch = PaceWatch(limits, None if total is None else total - (have if resume else 0))
    await _write_stream(response, part, append=resume, progress=progress, total=total, watch=watch)
    return total


def _expected_total(response: httpx.Response, have: int) -> int | None:
    content_range = response.headers.get("content-range", "")
    if response.status_code == 206 and "/" in content_range:
        tail = content_range.rsplit("/", 1)[1]
        return int(tail) if tail.isdigit() else None
    length = response.headers.get("content-length")
    return int(length) if length and length.isdigit() else None


async def _write_stream(response: httpx.Response, part: Path, *, append: bool, progress: Progress | None,
                        total: int | None, watch: PaceWatch) -> None:
    handle = await asyncio.to_thread(open, part, "ab" if append else "wb")
    try:
        writer = _PipelinedWriter(handle, handle.tell() if append else 0)
        try:
            async for chunk in paced(response.aiter_raw(), watch):
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
    """The size of a whole video at ``part``; otherwise CutShortError (no length was announced: the ``.part``
    is kept to resume from) or DownloadError (the ``.part`` is removed)."""
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
        verify_complete(part)
    except ValueError as exc:
        if total is None:  # nothing said how long it is: it may just have been cut short
            raise CutShortError("The download ended before the whole video arrived.", detail=str(exc)) from None
        part.unlink(missing_ok=True)
        raise DownloadError(f"The downloaded video is damaged: {exc}.") from None
    return size
