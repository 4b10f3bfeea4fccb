"""A provider that quotes the key back (``401 Invalid API key: <key>``): the key, or any 8 consecutive characters
of it, reaches neither the database, nor the command line's output (``--json`` and stderr), nor the log, nor a
sidecar. The command line runs in a subprocess against the emulator with a real-looking key from the environment."""

from __future__ import annotations

import json
import os
import secrets
import string
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from clikit import cli_in_subprocess as cli

from core.errors import AuthError
from core.redact import MIN_FRAGMENT, KeyRedactor, redact_error
from core.sandbox import Fault, Sandbox


@pytest.fixture
async def keyed(tmp_path: Path, quick_renders: None) -> AsyncIterator[tuple[Sandbox, str]]:
    """The emulator (the provider's side, outside the data dir) accepting one real-looking AI/ML API key."""
    key = "sk-" + "".join(secrets.choice(string.ascii_uppercase) + secrets.choice(string.ascii_lowercase)
                          + secrets.choice(string.digits) for _ in range(14))  # like real keys: mixed throughout
    sandbox = Sandbox(tmp_path / "provider", job_seconds=0, valid_keys={"aimlapi": key})
    await sandbox.start()
    try:
        yield sandbox, key
    finally:
        await sandbox.stop()


def leaks(key: str, text: bytes) -> list[str]:
    """The key and every 8-character run of it that occurs in ``text``."""
    runs = {key[i:i + MIN_FRAGMENT] for i in range(len(key) - MIN_FRAGMENT + 1)}
    return sorted(run for run in runs if run.encode() in text)


@pytest.mark.parametrize(("request_kind", "template"), [
    ("create", "Invalid API key: {key}"),
    ("poll", "The key ...{key_part}... was revoked"),
])
async def test_a_provider_quoting_the_key_leaks_it_nowhere(keyed: tuple[Sandbox, str], isolated_env: Path,
                                                           tmp_path: Path, request_kind: str, template: str) -> None:
    sandbox, key = keyed
    fault = sandbox.faults.add(Fault("echo_key", provider="aimlapi", request_kind=request_kind, message=template))
    env = {k: v for k, v in os.environ.items() if not k.startswith("REELDECK_")}
    env |= {"REELDECK_HOME": str(isolated_env), "REELDECK_AIMLAPI_API_KEY": key} | sandbox.endpoints()
    submit = ["submit", "--provider", "aimlapi", "--model", "video-01-live2d", "--prompt", "wave",
              "--image", "https://images.example/face.jpg", "--json"]
    runs = [await cli(env, *submit, "--wait")]
    assert fault.fired == 1
    code, out, _err = runs[0]
    job = json.loads(out)  # stdout is JSON only
    assert code == 1
    if request_kind == "create":  # refused: nothing was made, the job fails with the provider's words
        assert job["state"] == "failed" and job["remote_id"] is None
        said = job["error"]
    else:  # the provider has the task: the job waits for a key that works instead of failing
        assert job["state"] == "running" and job["remote_id"] and job["waiting_on_you"]
        said = job["waiting"]
    assert "did not accept the API key" in said and "[redacted]" in said
    runs.append(await cli(env, *submit, "--wait"))  # a job that completes: a video and its sidecar
    assert runs[-1][0] == 0, runs[-1][2]
    if request_kind == "poll":  # the waiting job resumes too, now that the provider takes the key
        runs.append(await cli(env, "wait", job["id"]))
        assert runs[-1][0] == 0, runs[-1][2]
    runs += [await cli(env, "jobs", "--json"), await cli(env, "show", job["id"])]
    if request_kind == "create":
        assert "[redacted]" in runs[-1][1]  # the error as `show` prints it
    else:  # the waiting job was resumed by the next command and finished once the provider took the key
        assert " completed " in runs[-1][1]
    printed = "".join(out + err for _code, out, err in runs).encode()
    files = [p for p in isolated_env.rglob("*") if p.is_file()]
    assert {p.suffix for p in files} >= {".sqlite", ".log", ".mp4", ".json"}
    found = {str(p.relative_to(isolated_env)): leaks(key, p.read_bytes()) for p in files}
    assert {name: runs for name, runs in found.items() if runs} == {}
    assert leaks(key, printed) == []


def test_redaction_takes_whole_keys_fragments_and_auth_header_values() -> None:
    keys = KeyRedactor(["Bearer sk-proj-0123456789abcdef", "short", "sk-LEAK-aihubmix-9f3a77c2e1"])
    assert keys.scrub("Invalid API key: sk-proj-0123456789abcdef.") == "Invalid API key: [redacted]."
    assert keys.scrub("key ...456789abcd... revoked") == "key ...[redacted]... revoked"
    assert keys.scrub('{"key":"proj-0123"}') == '{"key":"[redacted]"}'
    assert keys.scrub("Bearer sk-pro is 7 of it") == "Bearer sk-pro is 7 of it"  # fewer than 8: not a leak
    # a key's plain word or number is ordinary text on its own; a short string is never taken for a key
    assert keys.scrub('{"provider": "aihubmix", "size": 12345678, "a short word"}') == \
        '{"provider": "aihubmix", "size": 12345678, "a short word"}'
    assert keys.scrub("got sk-LEAK-aihubmix-9f3a77c2e1!") == "got [redacted]!"
    assert keys.scrub("got LEAK-aihubmix-9f3a") == "got [redacted]"


def test_an_error_is_scrubbed_in_place() -> None:
    from core.redact import KEYS

    KEYS.add("sk-Test-Error-0123456789")
    error = redact_error(AuthError("said: sk-Test-Error-0123456789", detail="body sk-Test-Error-01"))
    assert error.message == "said: [redacted]" and str(error) == "said: [redacted]"
    assert error.detail == "body [redacted]"
