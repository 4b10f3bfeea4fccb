"""Bad input on the command line, for every provider: exit status 2, a clear message on stderr, no job stored
and not one request received by the (running) sandbox emulator."""

from __future__ import annotations

from pathlib import Path

import pytest
from clikit import jobs_stored, requests_received, run_cli
from PIL import Image

from core.cli import EXIT_BAD_INPUT

#: The hand-written Sora emulation and Sora's own rules and prices, with a user catalog that still serves Sora
#: (it is retired; tests/core/test_catalog.py proves a new Sora job is refused).
pytestmark = pytest.mark.usefixtures("sora_served")


URL = "https://images.example/a.png"


@pytest.fixture
def files(tmp_path: Path) -> dict[str, str]:
    image = tmp_path / "photo.png"
    Image.new("RGB", (640, 480), "teal").save(image)
    not_video = tmp_path / "clip.mp4"
    not_video.write_bytes(b"this is not a video at all" * 10)
    not_image = tmp_path / "notes.png"
    not_image.write_text("hello")
    return {"image": str(image), "not_video": str(not_video), "not_image": str(not_image),
            "missing": str(tmp_path / "nowhere.png")}


GOAPI = ("--provider", "goapi", "--model", "Qubico/hug-video")
AIMLAPI = ("--provider", "aimlapi", "--model", "video-01-live2d")
SORA = ("--provider", "aihubmix", "--model", "sora-2")
VIDU = ("--provider", "gateway", "--model", "viduq3p-720p")
MIX = ("--provider", "gateway", "--model", "viduq3p-mix-720p")
NOVITA = ("--provider", "novita", "--model", "img2video-motion")

#: (case id, submit arguments with {image}/{missing}/... placeholders, words the message must contain)
CASES: list[tuple[str, tuple[str, ...], tuple[str, ...]]] = [
    # GoAPI
    ("goapi-missing-image", GOAPI, ("--image",)),
    ("goapi-enum", (*GOAPI, "--image", URL, "--param", "service_mode=shared"), ("service_mode", "public, private")),
    ("goapi-unknown-param", (*GOAPI, "--image", URL, "--param", "duration=5"), ("no parameter 'duration'",)),
    ("goapi-prompt", (*GOAPI, "--image", URL, "--prompt", "hug"), ("no parameter 'prompt'",)),
    ("goapi-missing-file", (*GOAPI, "--image", "{missing}"), ("no such file", "nowhere.png")),
    ("goapi-not-an-image", (*GOAPI, "--image", "{not_image}"), ("notes.png", "not an image")),
    ("goapi-last-image", (*GOAPI, "--image", URL, "--last-image", URL), ("takes no --last-image",)),
    # AI/ML API
    ("aimlapi-missing-prompt", (*AIMLAPI, "--image", URL), ("prompt is required",)),
    ("aimlapi-missing-image", (*AIMLAPI, "--prompt", "hi"), ("--image",)),
    ("aimlapi-long-prompt", (*AIMLAPI, "--image", URL, "--prompt", "x" * 2001), ("2001 characters", "limit is 2000")),
    ("aimlapi-bool", (*AIMLAPI, "--image", URL, "--prompt", "hi", "--param", "prompt_optimizer=perhaps"),
     ("prompt_optimizer", "true or false")),
    ("aimlapi-fit", (*AIMLAPI, "--image", URL, "--prompt", "hi", "--param", "image_fit=zoom"),
     ("image_fit", "pad, crop, scale")),
    ("aimlapi-unknown-param", (*AIMLAPI, "--image", URL, "--prompt", "hi", "--param", "seed=1"),
     ("no parameter 'seed'",)),
    ("aimlapi-missing-file", (*AIMLAPI, "--image", "{missing}", "--prompt", "hi"), ("no such file",)),
    ("aimlapi-refs", (*AIMLAPI, "--image", URL, "--prompt", "hi", "--ref-image", URL), ("takes no --ref-image",)),
    # AIHubMix (Sora)
    ("sora-missing-prompt", SORA, ("prompt is required",)),
    ("sora-seconds", (*SORA, "--prompt", "fox", "--param", "seconds=5"), ("seconds must be one of 4, 8, 12",)),
    ("sora-unknown-param", (*SORA, "--prompt", "fox", "--param", "fps=30"), ("no parameter 'fps'",)),
    ("sora-missing-file", (*SORA, "--prompt", "fox", "--image", "{missing}"), ("no such file",)),
    # gateway (Vidu)
    ("vidu-nothing", VIDU, ("Text to video: --prompt",)),
    ("vidu-duration-high", (*VIDU, "--prompt", "fox", "--param", "duration=17"), ("duration must be at most 16",)),
    ("vidu-duration-low", (*VIDU, "--prompt", "fox", "--param", "duration=0"), ("duration must be at least 1",)),
    ("vidu-aspect", (*VIDU, "--prompt", "fox", "--param", "aspect_ratio=21:9"), ("aspect_ratio must be one of",)),
    ("vidu-seed-type", (*VIDU, "--prompt", "fox", "--param", "seed=lucky"), ("seed must be a whole number",)),
    ("vidu-unknown-param", (*VIDU, "--prompt", "fox", "--param", "extra_body.seed=1"),
     ("no parameter 'extra_body.seed'",)),
    ("vidu-last-without-first", (*VIDU, "--prompt", "fox", "--last-image", URL),
     ("First and last frame: --image + --last-image",)),
    ("vidu-refs-on-non-mix", (*VIDU, "--prompt", "fox", "--ref-image", URL), ("viduq3p-720p takes no --ref-image",)),
    ("vidu-five-refs", (*MIX, "--prompt", "fox", *(a for _ in range(5) for a in ("--ref-image", URL))),
     ("at most 4", "got 5")),
    ("vidu-image-on-mix", (*MIX, "--prompt", "fox", "--image", URL), ("viduq3p-mix-720p takes no --image",)),
    ("vidu-mix-without-refs", (*MIX, "--prompt", "fox"), ("--ref-image",)),
    ("vidu-mix-without-prompt", (*MIX, "--ref-image", URL), ("--ref-image + --prompt",)),
    ("vidu-missing-file", (*VIDU, "--prompt", "fox", "--image", "{missing}"), ("no such file",)),
    # issue 12: sizes per Sora model, and the gateway's prompt in every mode
    ("sora-2-pro-only-size", (*SORA, "--prompt", "fox", "--param", "size=1792x1024"),
     ("size must be one of 720x1280, 1280x720", "1792x1024")),
    ("sora-2-pro-only-size-tall", (*SORA, "--prompt", "fox", "--param", "size=1024x1792"),
     ("size must be one of 720x1280, 1280x720",)),
    ("vidu-image-without-prompt", (*VIDU, "--image", URL), ("prompt is required",)),
    ("vidu-first-last-without-prompt", (*VIDU, "--image", URL, "--last-image", URL), ("prompt is required",)),
    ("vidu-blank-prompt", (*VIDU, "--prompt", "   ", "--image", URL), ("prompt is required",)),
    ("vidu-unknown-model", ("--provider", "gateway", "--model", "viduq9"), ("no model 'viduq9'", "viduq3p-720p")),
    # Novita
    ("novita-missing-motion", (*NOVITA, "--image", URL), ("--motion-video",)),
    ("novita-missing-image", (*NOVITA, "--motion-video", "demo1"), ("--image",)),
    ("novita-seed", (*NOVITA, "--image", URL, "--motion-video", "demo1", "--param", "seed=-5"),
     ("seed must be at least -1",)),
    ("novita-unknown-param", (*NOVITA, "--image", URL, "--motion-video", "demo1", "--param", "steps=20"),
     ("no parameter 'steps'",)),
    ("novita-missing-file", (*NOVITA, "--image", "{missing}", "--motion-video", "demo1"), ("no such file",)),
    ("novita-unknown-preset", (*NOVITA, "--image", URL, "--motion-video", "demo9"), ("or a preset (demo1",)),
    ("novita-not-a-video", (*NOVITA, "--image", URL, "--motion-video", "{not_video}"), ("not an MP4",)),
    # any provider
    ("unknown-provider", ("--provider", "nope", "--model", "x"), ("Unknown provider 'nope'",)),
    ("bad-param-syntax", (*SORA, "--prompt", "fox", "--param", "seconds"), ("NAME=VALUE",)),
]


@pytest.mark.parametrize(("args", "needles"), [pytest.param(a, n, id=i) for i, a, n in CASES])
def test_bad_input_exits_2_and_sends_nothing(isolated_env: Path, files: dict[str, str], args: tuple[str, ...],
                                             needles: tuple[str, ...]) -> None:
    argv = [arg.format(**files) if arg.startswith("{") else arg for arg in args]
    code, out, err = run_cli("--sandbox", "submit", *argv, "--json")
    assert code == EXIT_BAD_INPUT, err
    assert out == ""
    assert err.startswith("error: ") and err.count("\n") == 1 and "Traceback" not in err
    for needle in needles:
        assert needle in err, err
    assert requests_received(isolated_env) == 0
    assert jobs_stored(isolated_env) == 0


def test_the_sandbox_really_records_requests(isolated_env: Path) -> None:
    """The check above is meaningful: a valid submission does reach the emulator's request log."""
    code, _out, err = run_cli("--sandbox", "submit", *GOAPI, "--image", URL, "--json")
    assert code == 0, err
    assert requests_received(isolated_env) >= 1 and jobs_stored(isolated_env) == 1


def test_gateway_without_a_base_url_is_refused_plainly(isolated_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REELDECK_GATEWAY_API_KEY", "sk-test")
    code, out, err = run_cli("submit", *VIDU, "--prompt", "fox")
    assert code == EXIT_BAD_INPUT and out == ""
    assert "REELDECK_GATEWAY_BASE_URL" in err and "base URL" in err and "Settings" in err
    assert jobs_stored(isolated_env) == 0
