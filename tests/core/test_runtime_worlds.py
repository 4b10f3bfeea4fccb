"""Switching between sandbox mode and the real providers while running (the window's View → Sandbox mode).

Each world sees and works only its own jobs; a sandbox job left running when the person switches to the real
providers waits, untouched, and finishes once sandbox mode is on again. ``Runtime.setup_need`` says what a provider
lacks (a key, a base URL) before anything is submitted.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import keyring.backend
import keyring.errors
from harness import VEO_31

from core.jobs import JobState
from core.paths import DataDir
from core.runtime import Runtime
from core.secrets import KeyStore
from core.store import JobStore
from core.submission import JobRequest


class EmptyKeyring(keyring.backend.KeyringBackend):
    """A keyring that holds nothing (never the machine's own)."""

    priority = 1  # type: ignore[assignment]

    def get_password(self, service: str, username: str) -> str | None:
        return None

    def set_password(self, service: str, username: str, password: str) -> None:
        raise keyring.errors.PasswordSetError("read-only in this test")

    def delete_password(self, service: str, username: str) -> None:
        raise keyring.errors.PasswordDeleteError("nothing here")


def runtime(root: Path, *, sandbox: bool, environ: dict[str, str] | None = None) -> Runtime:
    return Runtime(DataDir(root), sandbox_mode=sandbox, keys=KeyStore(environ=environ or {}, backend=EmptyKeyring()),
                   sandbox_options={"job_seconds": 1.0})


async def test_switching_worlds_keeps_each_worlds_jobs_apart_and_safe(tmp_path: Path) -> None:
    rt = runtime(tmp_path / "data", sandbox=True)
    engine = await rt.start()
    try:
        job = await engine.submit(JobRequest("aihubmix", VEO_31, {"prompt": "a fox", "seconds": "4"}, {}))
        real_engine = await rt.switch_world(False)
        assert rt.world == "real" and rt.sandbox is None  # the emulator is stopped
        assert real_engine is not engine and real_engine.config.poll_interval is None  # no sandbox pacing
        assert rt.store is not None and rt.store.all() == [] and rt.store.unfinished() == []
        assert real_engine.resume_all() == []
        sandbox_view = JobStore(rt.data.database, world="sandbox")
        [left] = sandbox_view.unfinished()
        sandbox_view.close()
        assert left.id == job.id and not left.terminal  # stopped, not failed: it waits for its world

        sandbox_engine = await rt.switch_world(True)
        assert rt.world == "sandbox" and [j.id for j in rt.store.unfinished()] == [job.id]
        assert sandbox_engine.resume_all() == [job.id]
        [finished] = await asyncio.wait_for(sandbox_engine.wait([job.id]), 60)
        assert finished.state == JobState.COMPLETED and finished.world == "sandbox"
    finally:
        await rt.close()


async def test_switching_to_the_same_world_changes_nothing(tmp_path: Path) -> None:
    rt = runtime(tmp_path / "data", sandbox=False)
    engine = await rt.start()
    try:
        assert await rt.switch_world(False) is engine
    finally:
        await rt.close()


async def test_setup_need_names_a_missing_key_then_a_missing_base_url(tmp_path: Path) -> None:
    rt = runtime(tmp_path / "data", sandbox=False, environ={"REELDECK_GATEWAY_API_KEY": "sk-gateway-0123456789"})
    await rt.start()
    try:
        need = rt.setup_need("aihubmix")
        assert need is not None and need.what == "key" and "AIHubMix" in need.message
        assert "python main.py" not in need.message  # plain words; each front end says where to set it
        gateway = rt.setup_need("gateway")  # has a key, but no default host
        assert gateway is not None and gateway.what == "base_url"
        await rt.switch_world(True)
        assert rt.setup_need("aihubmix") is None and rt.setup_need("gateway") is None  # the sandbox needs nothing
    finally:
        await rt.close()
