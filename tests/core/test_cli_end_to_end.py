"""The command line end to end, as a script would use it: real subprocesses, real SQLite, the sandbox emulator."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import av
from harness import VEO_31

ROOT = Path(__file__).resolve().parents[2]


def _env(home: Path, job_seconds: str = "3") -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("REELDECK_")}
    env.update(REELDECK_HOME=str(home), REELDECK_SANDBOX_JOB_SECONDS=job_seconds)
    return env


def _run(home: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "main.py", *args], cwd=ROOT, env=_env(home), capture_output=True,
                          text=True, timeout=timeout, check=False)


def _decode_first_frame(path: str) -> tuple[int, int]:
    with av.open(path) as container:
        frame = next(container.decode(video=0))
        return frame.width, frame.height


def _create_requests(home: Path) -> int:
    db = sqlite3.connect(home / "sandbox" / "sandbox.sqlite")
    try:
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        table = next(t for t in tables if "request" in t)
        return int(db.execute(f"SELECT COUNT(*) FROM {table} WHERE kind = 'create'").fetchone()[0])
    finally:
        db.close()


def _wait_for(condition, timeout: float = 60.0) -> None:  # type: ignore[no-untyped-def]
    """Wait on a condition observed in another process's files (like qtbot.waitUntil)."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)


def test_submit_wait_json_gives_a_playable_mp4(isolated_env: Path) -> None:
    result = _run(isolated_env, "--sandbox", "submit", "--provider", "aihubmix", "--model", VEO_31,
                  "--prompt", "a red fox", "--param", "seconds=4", "--param", "size=720x1280", "--wait", "--json")
    assert result.returncode == 0, result.stderr
    job = json.loads(result.stdout)
    assert job["state"] == "completed"
    assert job["remote_id"] and job["provider"] == "aihubmix" and job["model"] == "veo-3.1-generate-preview"
    assert Path(job["video_path"]).is_file()
    assert _decode_first_frame(job["video_path"]) == (720, 1280)
    assert "job " in result.stderr  # progress went to stderr, stdout is pure JSON

    listed = _run(isolated_env, "--sandbox", "jobs", "--json")
    assert [j["id"] for j in json.loads(listed.stdout)] == [job["id"]]
    shown = _run(isolated_env, "--sandbox", "show", job["id"], "--json")
    assert json.loads(shown.stdout)["state"] == "completed" and json.loads(shown.stdout)["world"] == "sandbox"
    # The real world does not see the sandbox's jobs (and says where the job is).
    assert json.loads(_run(isolated_env, "jobs", "--json").stdout) == []
    elsewhere = _run(isolated_env, "show", job["id"])
    assert elsewhere.returncode == 2 and "sandbox" in elsewhere.stderr


def test_sigkill_while_polling_then_wait_completes_with_one_create(isolated_env: Path) -> None:
    env = _env(isolated_env, job_seconds="8")
    process = subprocess.Popen(
        [sys.executable, "main.py", "--sandbox", "submit", "--provider", "aihubmix", "--model", VEO_31,
         "--prompt", "a fox in the rain", "--wait", "--json"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    database = isolated_env / "reeldeck.sqlite"

    def polling() -> bool:
        if not database.exists():
            return False
        db = sqlite3.connect(database)
        try:
            row = db.execute("SELECT state, polls FROM jobs").fetchone()
        except sqlite3.OperationalError:
            return False
        finally:
            db.close()
        return row is not None and row[0] == "running" and row[1] >= 1

    try:
        _wait_for(polling)
    finally:
        process.send_signal(signal.SIGKILL)
        process.communicate(timeout=30)
    assert process.returncode == -signal.SIGKILL

    result = _run(isolated_env, "--sandbox", "wait", "--json")
    assert result.returncode == 0, result.stderr
    jobs = json.loads(result.stdout)
    assert [j["state"] for j in jobs] == ["completed"]
    assert _decode_first_frame(jobs[0]["video_path"])
    assert _create_requests(isolated_env) == 1


def test_bad_input_exits_2_and_sends_nothing(isolated_env: Path) -> None:
    result = _run(isolated_env, "--sandbox", "submit", "--provider", "aihubmix", "--model", VEO_31,
                  "--prompt", "fox", "--param", "seconds=5")
    assert result.returncode == 2
    assert "seconds must be one of 4, 6, 8" in result.stderr
    assert result.stdout == ""
    unknown = _run(isolated_env, "--sandbox", "submit", "--provider", "nope", "--model", "x", "--prompt", "fox")
    assert unknown.returncode == 2 and "Unknown provider 'nope'" in unknown.stderr
    missing = _run(isolated_env, "--sandbox", "submit", "--provider", "aihubmix", "--model", VEO_31,
                   "--prompt", "fox", "--image", str(isolated_env / "missing.png"))
    assert missing.returncode == 2 and "no such file" in missing.stderr
    sandbox_db = isolated_env / "sandbox" / "sandbox.sqlite"
    assert not sandbox_db.exists() or _create_requests(isolated_env) == 0


def test_standalone_sandbox_with_env_configuration(isolated_env: Path, tmp_path: Path) -> None:
    """`main.py sandbox` in one process; a normal (non --sandbox) client configured only by environment variables."""
    server_env = _env(tmp_path / "server-home")
    server = subprocess.Popen([sys.executable, "main.py", "sandbox", "--port", "0"], cwd=ROOT, env=server_env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None
        exports: dict[str, str] = {}
        for line in server.stdout:
            if line.startswith("export "):
                name, _, value = line.removeprefix("export ").strip().partition("=")
                exports[name] = value
            if line.startswith("#"):
                break
        assert set(exports) >= {"REELDECK_AIHUBMIX_BASE_URL", "REELDECK_GOAPI_UPLOAD_URL"}
        client_env = _env(isolated_env) | exports | {"REELDECK_AIHUBMIX_API_KEY": "sk-test-standalone"}
        result = subprocess.run(
            [sys.executable, "main.py", "submit", "--provider", "aihubmix", "--model", VEO_31, "--prompt",
             "an owl", "--wait", "--json"], cwd=ROOT, env=client_env, capture_output=True, text=True, timeout=120,
            check=False)
        assert result.returncode == 0, result.stderr
        assert json.loads(result.stdout)["state"] == "completed"
        no_key = subprocess.run(
            [sys.executable, "main.py", "submit", "--provider", "goapi", "--model", "Qubico/hug-video", "--image",
             "https://example.com/a.png"], cwd=ROOT, env=_env(isolated_env) | exports, capture_output=True,
            text=True, timeout=60, check=False)
        assert no_key.returncode == 2
        assert "No API key for GoAPI" in no_key.stderr and "keys set goapi" in no_key.stderr
    finally:
        server.terminate()
        server.communicate(timeout=30)
