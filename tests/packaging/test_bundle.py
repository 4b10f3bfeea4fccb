"""The frozen app, tested as built: PyInstaller bundle, its self-test, and the window under Xvfb.

Slow (builds the bundle, a few minutes): `./dev test -m "not slow"` leaves it out for a quick run.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BUNDLE = ROOT / "dist" / "Reeldeck"
EXE = BUNDLE / "Reeldeck"

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1800)]


def _clean_env(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("REELDECK_", "QT_", "PYTHON"))}
    env.update(REELDECK_HOME=str(home), **extra)
    return env


@pytest.fixture(scope="module")
def bundle() -> Path:
    result = subprocess.run(["bash", "packaging/build.sh"], cwd=ROOT, capture_output=True, text=True,
                            timeout=1500, check=False)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert EXE.is_file()
    archives = list((ROOT / "dist").glob("Reeldeck-*-linux-*.tar.gz"))
    assert archives, "no archive was produced"
    return BUNDLE


def test_frozen_self_test_passes(bundle: Path, tmp_path: Path) -> None:
    result = subprocess.run([str(EXE), "--self-test"], cwd=tmp_path, env=_clean_env(tmp_path / "home"),
                            capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "(frozen)" in result.stdout and "self-test passed" in result.stdout
    assert "decode a frame with Qt Multimedia: 1280×720" in result.stdout


def test_frozen_version(bundle: Path, tmp_path: Path) -> None:
    from core import __version__

    result = subprocess.run([str(EXE), "--version"], env=_clean_env(tmp_path), capture_output=True, text=True,
                            timeout=120, check=False)
    assert result.returncode == 0 and result.stdout.strip() == f"Reeldeck {__version__}"


def test_frozen_keyring_finds_the_platform_backend(bundle: Path, tmp_path: Path) -> None:
    """keyring discovers backends by entry points: the bundle must carry them (SecretService on Linux)."""
    result = subprocess.run([str(EXE), "keys", "list"], env=_clean_env(tmp_path), capture_output=True, text=True,
                            timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    backends = subprocess.run([str(EXE), "--self-test"], env=_clean_env(tmp_path / "h"), capture_output=True,
                              text=True, timeout=300, check=False).stdout
    if shutil.which("gnome-keyring-daemon") and os.environ.get("DBUS_SESSION_BUS_ADDRESS"):
        assert "SecretService" in result.stdout, result.stdout
        assert "ok   keyring write/read/delete: keyring.backends.SecretService" in backends
    else:
        assert "keyring backend:" in result.stdout


@pytest.fixture
def xvfb() -> Iterator[str]:
    if not shutil.which("Xvfb") or not shutil.which("xdotool"):
        pytest.skip("Xvfb and xdotool are needed (./dev setup installs them)")
    display = f":{os.getpid() % 400 + 100}"
    server = subprocess.Popen(["Xvfb", display, "-screen", "0", "1400x900x24", "-nolisten", "tcp"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 20
        while subprocess.run(["xdpyinfo", "-display", display], capture_output=True, check=False).returncode:
            assert time.monotonic() < deadline, "Xvfb did not start"
            time.sleep(0.1)
        yield display
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_frozen_window_opens_and_quits_cleanly(bundle: Path, tmp_path: Path, xvfb: str) -> None:
    env = _clean_env(tmp_path / "home", DISPLAY=xvfb)
    started = time.monotonic()
    app = subprocess.Popen([str(EXE), "--sandbox"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True)
    try:
        found = subprocess.run(["xdotool", "search", "--sync", "--onlyvisible", "--name", "Reeldeck"],
                               env=env, capture_output=True, text=True, timeout=120, check=False)
        assert found.returncode == 0 and found.stdout.strip(), app.stderr.read() if app.poll() is not None else ""
        window = found.stdout.split()[0]
        print(f"frozen window visible after {time.monotonic() - started:.2f}s")
        engine = _engine_process(app.pid, tmp_path / "home" / "logs" / "reeldeck.log")
        print(f"frozen engine process {engine} working after {time.monotonic() - started:.2f}s")
        # The window closes on key-down, so xdotool's key-up may hit a destroyed window: its exit status is moot.
        subprocess.run(["xdotool", "key", "--window", window, "ctrl+q"], env=env, capture_output=True, timeout=30,
                       check=False)
        assert app.wait(timeout=60) == 0
        assert not Path(f"/proc/{engine}").exists() or "Z" in _state(engine)  # the engine's process ended too
    finally:
        if app.poll() is None:
            app.kill()
        app.communicate(timeout=30)


def _engine_process(app_pid: int, log: Path, timeout: float = 120.0) -> int:
    """The pid of the app's engine process, once its log says it works (the frozen app spawns it from its own
    executable: ``multiprocessing.freeze_support``)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        children = Path(f"/proc/{app_pid}/task/{app_pid}/children")
        pids = [int(p) for p in children.read_text().split()] if children.exists() else []
        text = log.read_text(encoding="utf-8", errors="replace") if log.exists() else ""
        working = [pid for pid in pids if f"the engine's process {pid} works" in text]
        if working:
            return working[0]
        time.sleep(0.2)  # polling another process's files: there is no event to wait on
    raise AssertionError(f"no engine process started within {timeout:.0f} s; log: {log.read_text()[-2000:]}"
                         if log.exists() else f"no engine process and no log within {timeout:.0f} s")


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][:1]
    except OSError:
        return "gone"
