"""The log file, set up as the app sets it up: keys and inline images never reach it, and it rotates."""

from __future__ import annotations

import base64
import io
import logging
import uuid
from collections.abc import Iterator
from pathlib import Path

import keyring.backends.null
import pytest
from PIL import Image

from core.imaging import data_uri
from core.logs import REDACTOR, setup_logging
from core.paths import DataDir
from core.runtime import Runtime
from core.secrets import KeyStore

log = logging.getLogger("core.test_security_logs")


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    try:
        yield
    finally:
        for handler in list(root.handlers):
            if handler not in handlers:
                root.removeHandler(handler)
                handler.close()
        root.setLevel(level)


def photo_uri() -> str:
    buffer = io.BytesIO()
    Image.effect_noise((64, 64), 50).convert("RGB").save(buffer, "PNG")
    return data_uri(buffer.getvalue())


async def test_keys_and_inline_images_never_reach_the_log(tmp_path: Path, restore_logging: None) -> None:
    key = f"sk-novita-{uuid.uuid4().hex}"
    goapi_key = f"goapi-{uuid.uuid4().hex}"
    data = DataDir(tmp_path / "home")
    keys = KeyStore(environ={"REELDECK_NOVITA_API_KEY": key, "REELDECK_GOAPI_API_KEY": goapi_key},
                    backend=keyring.backends.null.Keyring())
    runtime = Runtime(data, keys=keys)
    await runtime.start()  # sets up the log file and registers every key it can see for redaction
    try:
        image = photo_uri()
        bare = base64.b64encode(b"\x89PNG" + bytes(range(256)) * 4).decode()
        log.warning("create failed: headers=%s body=%s", {"Authorization": f"Bearer {key}"}, {"image": image})
        log.info("upload with X-API-Key: %s and file_data %s", goapi_key, bare)
        try:
            raise RuntimeError(f"server echoed the key {key} back")
        except RuntimeError:
            log.exception("request crashed")
    finally:
        await runtime.close()
    text = (data.logs / "reeldeck.log").read_text(encoding="utf-8")
    assert "create failed" in text and "request crashed" in text and "RuntimeError" in text
    for secret in (key, goapi_key, image[40:120], bare[40:120]):
        assert secret not in text
    assert text.count("[redacted]") >= 3 and text.count("[base64 data]") == 2


def test_the_log_rotates_and_stays_bounded(tmp_path: Path, restore_logging: None) -> None:
    setup_logging(tmp_path / "logs")
    line = "poll answered: " + " ".join(f"word{i}" for i in range(1200))  # ~10 KB, no base64 run
    for index in range(1_400):  # ~14 MB: more than the six files can hold
        log.info("%05d %s", index, line)
    files = sorted(p.name for p in (tmp_path / "logs").iterdir())
    assert files == ["reeldeck.log", *(f"reeldeck.log.{n}" for n in range(1, 6))]
    sizes = [(tmp_path / "logs" / name).stat().st_size for name in files]
    assert all(size <= 2_000_000 + 20_000 for size in sizes)
    assert "01399" in (tmp_path / "logs" / "reeldeck.log").read_text(encoding="utf-8")  # newest kept


def test_the_redactor_is_the_filter_on_the_file_handler(tmp_path: Path, restore_logging: None) -> None:
    setup_logging(tmp_path / "logs")
    (handler,) = [h for h in logging.getLogger().handlers if getattr(h, "_reeldeck", False)]
    assert REDACTOR in handler.filters
    assert logging.getLogger("httpx").level >= logging.WARNING  # request lines (URLs, headers) are not logged
