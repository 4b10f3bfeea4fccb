"""Sandbox emulator: origins, ports, endpoints, unknown paths, real-clock use and ``serve_forever``."""

from __future__ import annotations

import asyncio
import io
import os
import random
import signal
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlparse

import httpx
import pytest

from core.sandbox import ORIGIN_NAMES, Sandbox, serve_forever

ENV_NAMES = {
    "REELDECK_GOAPI_BASE_URL",
    "REELDECK_AIMLAPI_BASE_URL",
    "REELDECK_AIHUBMIX_BASE_URL",
    "REELDECK_GATEWAY_BASE_URL",
    "REELDECK_NOVITA_BASE_URL",
    "REELDECK_GOAPI_UPLOAD_URL",
    "REELDECK_NOVITA_ASSETS_URL",
}


async def test_endpoints_and_origins(sandbox: Sandbox) -> None:
    env = sandbox.endpoints()
    assert set(env) == ENV_NAMES
    assert (
        set(sandbox.origins)
        == set(ORIGIN_NAMES)
        == {"goapi", "aimlapi", "aihubmix", "gateway", "novita", "goapi_upload", "novita_assets", "cdn"}
    )
    ports = {urlparse(url).port for url in sandbox.origins.values()}
    assert len(ports) == 8
    for name, url in env.items():
        parsed = urlparse(url)
        assert parsed.scheme == "http" and parsed.hostname == "127.0.0.1"
        expected_path = "/api/ephemeral_resource" if name == "REELDECK_GOAPI_UPLOAD_URL" else ""
        assert parsed.path == expected_path
    assert env["REELDECK_NOVITA_ASSETS_URL"] == sandbox.origins["novita_assets"]


async def test_base_port_gives_consecutive_ports(tmp_path: Path) -> None:
    for _ in range(10):
        base = random.randrange(20000, 60000)
        sandbox = Sandbox(tmp_path / "s", base_port=base)
        try:
            await sandbox.start()
        except OSError:
            continue
        try:
            ports = [urlparse(sandbox.origins[name]).port for name in ORIGIN_NAMES]
            assert ports == list(range(base, base + 8))
        finally:
            await sandbox.stop()
        return
    pytest.skip("no free run of 8 ports found")


def test_endpoints_need_start_and_shape_is_checked(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError):
        Sandbox(tmp_path / "a").endpoints()
    with pytest.raises(ValueError):
        Sandbox(tmp_path / "b", gateway_shape="z")


async def test_unknown_path_answers_in_provider_shape(sandbox: Sandbox, http: httpx.AsyncClient) -> None:
    response = await http.get(sandbox.origins["aihubmix"] + "/v1/nothing", headers={"Authorization": "Bearer k"})
    assert response.status_code == 404 and "error" in response.json()
    assert sandbox.requests[-1].kind == "unknown"


async def test_real_clock_default(tmp_path: Path, http: httpx.AsyncClient) -> None:
    async with Sandbox(tmp_path / "real", job_seconds=0.0) as sandbox:
        sandbox.render_on_create = False
        created = await http.post(
            sandbox.origins["gateway"] + "/v1/video/generations",
            headers={"Authorization": "Bearer k"},
            json={"model": "viduq3p-540p", "prompt": "now", "duration": 1},
        )
        polled = await http.get(
            f"{sandbox.origins['gateway']}/v1/video/generations/{created.json()['id']}",
            headers={"Authorization": "Bearer k"},
        )
        assert polled.json()["data"]["status"] == "SUCCESS"


async def test_results_render_as_soon_as_a_task_is_created(tmp_path: Path, http: httpx.AsyncClient) -> None:
    async with Sandbox(tmp_path / "eager") as sandbox:
        assert sandbox.render_on_create is True
        created = await http.post(
            sandbox.origins["gateway"] + "/v1/video/generations",
            headers={"Authorization": "Bearer k"},
            json={"model": "viduq3p-540p", "prompt": "early", "duration": 1},
        )
        task_id = created.json()["id"]
        for _ in range(400):
            if sandbox.renders.is_done(task_id):
                break
            await asyncio.sleep(0.025)
        assert sandbox.tasks.video_path(task_id).stat().st_size > 0
        assert sandbox.tasks.status(task_id) == "NOT_START" and sandbox.count(kind="download") == 0


async def test_serve_forever_prints_exports_and_stops_on_cancel(tmp_path: Path, http: httpx.AsyncClient) -> None:
    out = io.StringIO()
    task = asyncio.create_task(serve_forever(tmp_path / "serve", 0, out=out))
    for _ in range(1000):
        if "Ctrl+C" in out.getvalue():
            break
        await asyncio.sleep(0.01)
    lines = out.getvalue().splitlines()
    exports = dict(line.removeprefix("export ").split("=", 1) for line in lines if line.startswith("export "))
    assert set(exports) == ENV_NAMES and any("Ctrl+C" in line for line in lines)
    url = exports["REELDECK_NOVITA_BASE_URL"] + "/v3/async/task-result"
    assert (await http.get(url, headers={"Authorization": "Bearer k"})).status_code == 400
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    with pytest.raises(httpx.ConnectError):
        await http.get(url)


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_module_entry_point_stops_on_sigint(tmp_path: Path) -> None:
    command = [sys.executable, "-m", "core.sandbox", "--port", "0", "--state-dir", str(tmp_path / "cli")]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    root = Path(__file__).resolve().parents[2]
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True, cwd=root, env=env) as proc:
        try:
            assert proc.stdout is not None
            lines = [proc.stdout.readline() for _ in range(len(ENV_NAMES) + 1)]
            assert all(line.startswith("export REELDECK_") for line in lines[:-1]) and "Ctrl+C" in lines[-1]
            proc.send_signal(signal.SIGINT)
            assert proc.wait(timeout=20) == 0
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
