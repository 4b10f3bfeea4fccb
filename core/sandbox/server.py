"""The sandbox emulator's HTTP side: one aiohttp server per origin on loopback, on the caller's loop.

Origins, in port order when ``base_port`` is set: goapi, aimlapi, aihubmix, gateway, novita, goapi_upload,
novita_assets, cdn. Only standard asyncio APIs are used, so it runs under plain asyncio and under qasync.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
from pathlib import Path
from typing import Any, TextIO

from aiohttp import web

from . import aimlapi, cdn, gateway, goapi, goapi_upload, novita, novita_assets, openai_videos
from .engine import Engine
from .pipeline import OriginSpec, build_app

ORIGIN_SPECS: tuple[OriginSpec, ...] = (
    goapi.SPEC,
    aimlapi.SPEC,
    openai_videos.SPEC,
    gateway.SPEC,
    novita.SPEC,
    goapi_upload.SPEC,
    novita_assets.SPEC,
    cdn.SPEC,
)
ORIGIN_NAMES = tuple(spec.name for spec in ORIGIN_SPECS)
BASE_URL_ENV = {
    "REELDECK_GOAPI_BASE_URL": "goapi",
    "REELDECK_AIMLAPI_BASE_URL": "aimlapi",
    "REELDECK_AIHUBMIX_BASE_URL": "aihubmix",
    "REELDECK_GATEWAY_BASE_URL": "gateway",
    "REELDECK_NOVITA_BASE_URL": "novita",
}
SHUTDOWN_TIMEOUT = 0.5


class Sandbox(Engine):
    """The provider emulator: five APIs, GoAPI's upload host, Novita's asset host and a CDN, on loopback.

    ``await start()`` binds every origin; ``endpoints()`` gives the ``REELDECK_*`` environment for clients;
    ``faults``, ``requests``, ``count()`` and ``tasks`` are for tests; ``await stop()`` shuts down.
    """

    def __init__(self, state_dir: Path, *, host: str = "127.0.0.1", base_port: int = 0, **options: Any) -> None:
        """``options`` are :class:`Engine`'s (``job_seconds``, ``clock``, ``gateway_shape``, ...)."""
        for name, allowed in (("gateway_shape", gateway.SHAPES), ("gateway_dialect", gateway.DIALECTS)):
            if name in options and options[name] not in allowed:
                raise ValueError(f"{name} must be one of {allowed}")
        super().__init__(state_dir, **options)
        self.host = host
        self.base_port = base_port
        self.lifecycles = {
            "goapi": lambda: goapi.LIFECYCLE,
            "aimlapi": lambda: aimlapi.LIFECYCLE,
            "aihubmix": lambda: openai_videos.LIFECYCLE,
            "gateway": lambda: gateway.lifecycle(self),
            "novita": lambda: novita.LIFECYCLE,
        }
        self._runners: list[web.AppRunner] = []
        self._start_lock: asyncio.Lock | None = None

    @property
    def started(self) -> bool:
        """True while the origins are bound."""
        return bool(self._runners)

    async def start(self) -> None:
        """Bind every origin (a second call while started does nothing)."""
        if self._start_lock is None:
            self._start_lock = asyncio.Lock()
        async with self._start_lock:
            if self._runners:
                return
            try:
                for index, spec in enumerate(ORIGIN_SPECS):
                    port = self.base_port + index if self.base_port else 0
                    self.origins[spec.name] = await self._serve(spec, port)
            except BaseException:
                await self._cleanup_runners()
                raise

    async def _serve(self, spec: OriginSpec, port: int) -> str:
        runner = web.AppRunner(
            build_app(self, spec), access_log=None, handle_signals=False, shutdown_timeout=SHUTDOWN_TIMEOUT
        )
        await runner.setup()
        self._runners.append(runner)
        await web.TCPSite(runner, self.host, port).start()
        bound = runner.addresses[0][1]
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{bound}"

    def endpoints(self) -> dict[str, str]:
        """Environment variable name -> URL, for pointing every client at this emulator."""
        if not self._runners:
            raise RuntimeError("the sandbox is not started")
        env = {name: self.origins[origin] for name, origin in BASE_URL_ENV.items()}
        env["REELDECK_GOAPI_UPLOAD_URL"] = self.origins["goapi_upload"] + "/api/ephemeral_resource"
        env["REELDECK_NOVITA_ASSETS_URL"] = self.origins["novita_assets"]
        return env

    async def _cleanup_runners(self) -> None:
        runners, self._runners = self._runners, []
        for runner in reversed(runners):
            with contextlib.suppress(Exception):
                await runner.cleanup()

    async def stop(self) -> None:
        """Close every origin, wait for running renders and close the database (reopened on use)."""
        await self._cleanup_runners()
        self._start_lock = None
        self.origins.clear()
        await self.renders.close()
        self.store.close()

    async def __aenter__(self) -> Sandbox:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()


def export_lines(sandbox: Sandbox) -> list[str]:
    """``export NAME=URL`` lines for a shell."""
    return [f"export {name}={url}" for name, url in sandbox.endpoints().items()]


async def serve_forever(state_dir: Path, port: int = 0, *, out: TextIO | None = None, **kw: Any) -> None:
    """Run the emulator until cancelled, SIGINT or SIGTERM (``python main.py sandbox --port N``).

    Prints one ``export NAME=URL`` line per endpoint and a line telling how to stop. ``kw`` goes to
    :class:`Sandbox` (``host``, ``job_seconds``, ``url_ttl_seconds``, ...).
    """
    stream = out if out is not None else sys.stdout
    sandbox = Sandbox(Path(state_dir), base_port=port, **kw)
    await sandbox.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    installed = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError, AttributeError):
            loop.add_signal_handler(sig, stop.set)
            installed.append(sig)
    try:
        for line in export_lines(sandbox):
            print(line, file=stream)
        print(f"# Reeldeck sandbox running (state in {state_dir}); press Ctrl+C to stop.", file=stream, flush=True)
        await stop.wait()
    finally:
        for sig in installed:
            loop.remove_signal_handler(sig)
        await sandbox.stop()
