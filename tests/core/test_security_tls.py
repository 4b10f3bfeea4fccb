"""TLS verification is always on: a self-signed server is refused with a plain message unless its CA is trusted
through REELDECK_CA_BUNDLE; plain http:// is accepted only for loopback."""

from __future__ import annotations

import ast
import ssl
from collections.abc import AsyncIterator
from functools import partial
from pathlib import Path

import pytest
import trustme
from aiohttp import web

from core.errors import CertificateError, ConfigError
from core.http import ApiClient, HttpRequest
from core.hub import ProviderHub, make_http_client, ssl_context
from core.providers.aimlapi import SPEC as AIML
from core.providers.errors import classify_error
from core.secrets import KeyStore
from core.settings import Settings, check_url

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
async def https_server(ca: trustme.CA) -> AsyncIterator[str]:
    """An HTTPS server on 127.0.0.1 whose certificate only the test's own CA signed."""

    async def status(request: web.Request) -> web.Response:
        return web.json_response({"id": request.query.get("generation_id"), "status": "queued", "video": None})

    app = web.Application()
    app.router.add_get("/v2/generate/video/minimax/generation", status)
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(server_context)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=server_context)
    await site.start()
    try:
        yield f"https://127.0.0.1:{runner.addresses[0][1]}"
    finally:
        await runner.cleanup()


def _api(base_url: str, ca_bundle: Path | None = None) -> ApiClient:
    return ApiClient(name="AI/ML API", base_url=base_url, auth_headers={"Authorization": "Bearer k"},
                     classify=partial(classify_error, AIML),
                     client=make_http_client(ca_bundle=ca_bundle))


POLL = HttpRequest("GET", "/v2/generate/video/minimax/generation", params={"generation_id": "g1"})


async def test_a_self_signed_server_is_refused_with_a_plain_message(https_server: str) -> None:
    api = _api(https_server)
    try:
        with pytest.raises(CertificateError) as caught:
            await api.send(POLL)
    finally:
        await api.transport.aclose()
    message = caught.value.message
    assert "certificate of 127.0.0.1 is not trusted" in message and "REELDECK_CA_BUNDLE" in message
    assert not caught.value.retryable
    assert api.requests_sent == 1  # refused at once, not retried


async def test_the_server_is_accepted_once_its_ca_is_trusted(https_server: str, ca: trustme.CA,
                                                             tmp_path: Path) -> None:
    bundle = tmp_path / "company-ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    api = _api(https_server, ca_bundle=bundle)
    try:
        answer = await api.send(POLL)
    finally:
        await api.transport.aclose()
    assert answer.body == {"id": "g1", "status": "queued", "video": None}


async def test_reeldeck_ca_bundle_reaches_the_providers(https_server: str, ca: trustme.CA, tmp_path: Path) -> None:
    bundle = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    environ = {"REELDECK_AIMLAPI_BASE_URL": https_server}
    keys = KeyStore(environ={"REELDECK_AIMLAPI_API_KEY": "sk-test"})
    for settings, works in ((Settings(environ=environ), False),
                            (Settings(environ=environ | {"REELDECK_CA_BUNDLE": str(bundle)}), True)):
        hub = ProviderHub(settings, keys)
        provider = hub.get("aimlapi")
        try:
            if works:
                answer = await provider.api.send(provider.build_poll("g2"))
                assert provider.parse_poll(answer.body, answer.headers).raw == "queued"
            else:
                with pytest.raises(CertificateError, match="not trusted"):
                    await provider.api.send(provider.build_poll("g2"))
        finally:
            await hub.close()


def test_a_bad_ca_bundle_setting_is_a_clear_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"REELDECK_CA_BUNDLE names .* which is not a file"):
        Settings(environ={"REELDECK_CA_BUNDLE": str(tmp_path / "missing.pem")}).ca_bundle()
    junk = tmp_path / "junk.pem"
    junk.write_text("not a certificate")
    with pytest.raises(ConfigError, match="cannot be used"):
        make_http_client(ca_bundle=junk)


def test_verification_is_required_and_never_switched_off() -> None:
    context = ssl_context()
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
    offenders = []
    for path in (ROOT / "core").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.keyword) and node.arg == "verify" and isinstance(node.value, ast.Constant):
                offenders.append(f"{path}:{node.lineno} verify={node.value.value!r}")
            if isinstance(node, ast.Attribute) and node.attr in ("CERT_NONE", "_create_unverified_context"):
                offenders.append(f"{path}:{node.lineno} {node.attr}")
            if (isinstance(node, ast.Assign) and any(isinstance(t, ast.Attribute) and t.attr == "check_hostname"
                                                     for t in node.targets)):
                offenders.append(f"{path}:{node.lineno} check_hostname assignment")
    assert offenders == []


@pytest.mark.parametrize("url", ["http://127.0.0.1:8790", "http://localhost:1/prefix", "http://[::1]:9",
                                 "https://api.example.com", "https://gw.example:8443/v"])
def test_accepted_base_urls(url: str) -> None:
    assert check_url(url + "/", "URL") == url


@pytest.mark.parametrize(("url", "why"), [
    ("http://api.example.com", "only https is allowed"),
    ("http://10.0.0.5:8080", "only https is allowed"),
    ("http://127.0.0.1.example.com", "only https is allowed"),
    ("ftp://127.0.0.1", "must be a URL like"),
    ("file:///etc/passwd", "must be a URL like"),
    ("api.example.com", "must be a URL like"),
    ("https://api.example.com/?x=1", "query or fragment"),
])
def test_refused_base_urls(url: str, why: str) -> None:
    with pytest.raises(ConfigError, match=why):
        check_url(url, "URL")
