"""What-if patches: experiments applied inside a benchmark process only, never product code.

Each one stands for a fix proposed in bench/RESULTS.md for code the benchmark does not own, so its effect is
measured before anyone writes it: ``python -m bench.load --what-if budget,inflight``. A benchmark that applies any
prints ``WHAT-IF`` with their names, and its figures are not the product's.
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import Callable
from typing import Any

PATCHES: dict[str, str] = {
    "budget": "Engine.submit reads no job rows when no daily budget is set (today: every row, every submit)",
    "inflight": "at most 48 HTTP requests in flight per client, below httpx's pool of 64 (no long pool queue)",
    "pipelined": "download_video writes batch N in its thread while reading batch N+1, with no extra copy",
    "no-optimize": "prepare_image saves JPEG without optimize=True (Pillow keeps the GIL for that whole pass)",
    "gcfreeze": "once the window has listed every job, gc.collect() then gc.freeze(): later collections of the "
                "oldest generation no longer walk the ~130,000 long-lived objects (10,000 jobs) each time",
}
# Landed in gui/ since, and so removed here: "thumbrow" (a path -> row map for thumbnails) and "onerow" (dataChanged
# for a finished job's row instead of layoutChanged) — see bench/RESULTS.md.


def apply(names: str) -> list[str]:
    """Apply the comma-separated patches; returns their names (an unknown name raises ValueError)."""
    chosen = [n for n in names.split(",") if n]
    for name in chosen:
        if name not in PATCHES:
            raise ValueError(f"unknown what-if {name!r}; known: {', '.join(PATCHES)}")
        _APPLY[name]()
        print(f"   WHAT-IF {name}: {PATCHES[name]}")
    return chosen


def _budget() -> None:
    from core import engine

    original = engine.Engine.submit

    async def submit(self: Any, request: Any, *, start: bool = True) -> Any:
        if self.budget_cap is None:
            store_all = self.store.all
            self.store.all = lambda: []
            try:
                return await original(self, request, start=start)
            finally:
                self.store.all = store_all
        return await original(self, request, start=start)

    engine.Engine.submit = submit  # type: ignore[method-assign]


def _inflight() -> None:
    from core import hub

    original = hub.make_http_client

    def make_http_client(*args: Any, **kwargs: Any) -> Any:
        client = original(*args, **kwargs)
        limit = asyncio.Semaphore(48)
        send = client.send

        async def limited(request: Any, **kwargs: Any) -> Any:
            async with limit:
                return await send(request, **kwargs)

        client.send = limited  # type: ignore[method-assign]
        return client

    hub.make_http_client = make_http_client


def _pipelined() -> None:
    from core import download

    async def write_stream(response: Any, part: Any, *, append: bool, progress: Any, total: Any) -> None:
        handle = await asyncio.to_thread(open, part, "ab" if append else "wb")
        pending: asyncio.Future[int] | None = None
        try:
            written = handle.tell() if append else 0
            chunks: list[bytes] = []
            size = 0
            try:
                async for chunk in response.aiter_raw():
                    chunks.append(chunk)
                    size += len(chunk)
                    if size >= download.WRITE_BATCH:
                        if pending is not None:
                            written += await pending
                            if progress:
                                progress(written, total)
                        pending = asyncio.ensure_future(asyncio.to_thread(_write_chunks, handle, chunks, size))
                        chunks, size = [], 0
                    if written + size > download.MAX_VIDEO_BYTES:
                        raise download.DownloadError("The result is larger than 8 GB; the download was stopped.")
            finally:
                if pending is not None:
                    written += await pending
                if chunks:
                    written += await asyncio.to_thread(_write_chunks, handle, chunks, size)
            if progress:
                progress(written, total)
        finally:
            await asyncio.to_thread(handle.close)

    download._write_stream = write_stream


def _write_chunks(handle: Any, chunks: list[bytes], size: int) -> int:
    handle.writelines(chunks)
    handle.flush()
    return size


def _no_optimize() -> None:
    from core import imaging

    def save(image: Any, fmt: str, quality: int = 92) -> bytes:
        buffer = io.BytesIO()
        if fmt == "JPEG":
            image.save(buffer, "JPEG", quality=quality)
        else:
            image.save(buffer, fmt)
        return buffer.getvalue()

    imaging._save = save


def _gcfreeze() -> None:
    import gc

    from gui import job_pages

    original = job_pages.JobPages._finish

    def finish(self: Any) -> None:
        original(self)
        gc.collect()
        gc.freeze()

    job_pages.JobPages._finish = finish  # type: ignore[method-assign]


_APPLY: dict[str, Callable[[], None]] = {
    "budget": _budget,
    "inflight": _inflight,
    "pipelined": _pipelined,
    "no-optimize": _no_optimize,
    "gcfreeze": _gcfreeze,
}
