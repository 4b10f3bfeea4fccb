"""Bad input and a hostile environment, through the command line in a subprocess (the contract: exit 2 and a plain
message on stderr for bad input, never a traceback, nothing half-made left behind): a prompt that is not UTF-8,
pipes, devices and sockets given as files, a settings file with wrongly typed values, a data dir that cannot be
written, and a database another process keeps busy."""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from clikit import jobs_stored, requests_received
from PIL import Image

from core.cli import EXIT_BAD_INPUT, EXIT_OK

ROOT = Path(__file__).resolve().parents[2]
URL = "https://images.example/face.jpg"
AIMLAPI = ("--provider", "aimlapi", "--model", "video-01-live2d")
NOVITA = ("--provider", "novita", "--model", "img2video-motion")


def cli(home: Path, *args: str | bytes, timeout: float = 60) -> tuple[int, str, str]:
    """Run ``main.py --sandbox ARGS`` in a subprocess on the data dir ``home``; exit status, stdout, stderr."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("REELDECK_")}
    env |= {"REELDECK_HOME": str(home), "REELDECK_SANDBOX_JOB_SECONDS": "0"}
    done = subprocess.run([sys.executable, "main.py", "--sandbox", *args], cwd=ROOT, env=env, capture_output=True,
                          timeout=timeout, check=False)
    return done.returncode, done.stdout.decode("utf-8", "replace"), done.stderr.decode("utf-8", "replace")


def left_in(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*")) if folder.exists() else []


@pytest.fixture
def photo(tmp_path: Path) -> str:
    path = tmp_path / "face.png"
    Image.new("RGB", (480, 640), "teal").save(path)
    return str(path)


# --- a prompt that is not UTF-8 ----------------------------------------------------------------------------------


@pytest.mark.parametrize("flag", ["--prompt", "--param"])
def test_a_prompt_or_value_that_is_not_utf8_is_bad_input(isolated_env: Path, flag: str) -> None:
    value = b"caf\xe9 \xff\xfe" if flag == "--prompt" else b"prompt_optimizer=tru\xffe"
    args = (*AIMLAPI, "--image", URL, *(("--prompt", "wave") if flag == "--param" else ()))
    code, out, err = cli(isolated_env, "submit", *args, flag.encode(), value, "--json")
    assert code == EXIT_BAD_INPUT, err
    assert "UTF-8" in err and "Traceback" not in err and out == ""
    assert jobs_stored(isolated_env) == 0 and requests_received(isolated_env) == 0
    assert left_in(isolated_env / "inputs") == []


# --- pipes, devices and sockets as input files -------------------------------------------------------------------


def make_fifo(tmp: Path) -> str:
    path = tmp / "motion.mp4"
    os.mkfifo(path)
    return str(path)


def make_socket(tmp: Path) -> Iterator[str]:
    path = tmp / "s.mp4"
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(path))
    try:
        yield str(path)
    finally:
        server.close()


@pytest.mark.parametrize("kind", ["fifo", "device", "socket"])
@pytest.mark.parametrize("slot", ["--motion-video", "--image"])
def test_pipes_devices_and_sockets_are_refused_at_once(isolated_env: Path, tmp_path: Path, photo: str, kind: str,
                                                       slot: str) -> None:
    sockets = make_socket(tmp_path)
    special = {"fifo": lambda: make_fifo(tmp_path), "device": lambda: "/dev/zero", "socket": lambda: next(sockets)}
    path = special[kind]()
    inputs = {"--image": photo, "--motion-video": "demo1"} | {slot: path}
    started = time.monotonic()
    code, _out, err = cli(isolated_env, "submit", *NOVITA, *(a for pair in inputs.items() for a in pair), timeout=30)
    assert code == EXIT_BAD_INPUT, err
    assert time.monotonic() - started < 30
    assert "not a file" in err and Path(path).name in err and "Traceback" not in err
    assert jobs_stored(isolated_env) == 0 and requests_received(isolated_env) == 0
    sockets.close()


# --- settings of the wrong type ----------------------------------------------------------------------------------


def test_wrongly_typed_settings_are_named_and_the_defaults_used(isolated_env: Path) -> None:
    isolated_env.mkdir(parents=True)
    (isolated_env / "settings.json").write_text(json.dumps(
        {"download_dir": 5, "concurrency": {"aimlapi": "four"}, "budget_daily_usd": "lots", "base_urls": []}))
    code, out, err = cli(isolated_env, "submit", *AIMLAPI, "--image", URL, "--prompt", "wave", "--wait", "--json")
    assert code == EXIT_OK, err
    assert "Traceback" not in err
    for name in ("'download_dir'", "'concurrency.aimlapi'", "'budget_daily_usd'", "'base_urls'"):
        assert name in err
    job = json.loads(out)
    assert job["state"] == "completed" and Path(job["video_path"]).parent == isolated_env / "library"
    code, out, err = cli(isolated_env, "jobs", "--json")
    assert code == EXIT_OK and len(json.loads(out)) == 1 and "'download_dir'" in err


# --- a data dir that cannot be written ---------------------------------------------------------------------------


def test_a_data_dir_that_cannot_be_made_gets_a_plain_message(tmp_path: Path) -> None:
    blocker = tmp_path / "a file"
    blocker.write_text("not a folder")
    code, out, err = cli(blocker / "home", "jobs", "--json")
    assert code == EXIT_BAD_INPUT and out == ""
    assert "Traceback" not in err and "data folder" in err and str(blocker / "home") in err


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write into a read-only folder")
def test_a_read_only_data_dir_gets_a_plain_message(isolated_env: Path) -> None:
    isolated_env.mkdir(parents=True)
    isolated_env.chmod(0o500)
    try:
        code, out, err = cli(isolated_env, "submit", *AIMLAPI, "--image", URL, "--prompt", "wave")
    finally:
        isolated_env.chmod(0o700)
    assert code == EXIT_BAD_INPUT and out == ""
    assert "Traceback" not in err and "data folder" in err


# --- a database another process keeps busy -----------------------------------------------------------------------


def test_a_busy_database_at_submit_waits_a_while_then_says_so_and_leaves_nothing(isolated_env: Path,
                                                                                  photo: str) -> None:
    assert cli(isolated_env, "jobs")[0] == EXIT_OK  # the database exists
    holder = sqlite3.connect(isolated_env / "reeldeck.sqlite", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another process is writing and does not let go
    try:
        started = time.monotonic()
        code, out, err = cli(isolated_env, "submit", "--provider", "goapi", "--model", "Qubico/hug-video",
                             "--image", photo, "--json")
        waited = time.monotonic() - started
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert code == EXIT_BAD_INPUT and out == ""
    assert "Traceback" not in err and "busy" in err
    assert 5 <= waited < 60  # a bounded wait, not at once and not forever
    assert left_in(isolated_env / "inputs") == []  # the prepared image did not stay behind
    assert jobs_stored(isolated_env) == 0 and requests_received(isolated_env) == 0
