"""Capturing what a provider really puts on the wire: the httpx request its ``HttpRequest`` becomes, decoded.

A hub on an ``httpx.MockTransport`` records every request and answers a canned JSON body, so a test can assert the
method, path, content type and the decoded fields (multipart parts, form fields or JSON) with no network.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any
from urllib.parse import parse_qsl

import httpx

from core.http import RetryPolicy
from core.hub import ProviderHub
from core.providers.base import Provider
from core.secrets import KeyStore
from core.settings import Settings

BASE = "https://api.wire.test"


@dataclass
class Part:
    """One multipart part: its value (text) or bytes, and its filename and content type when it is a file."""

    name: str
    data: bytes
    filename: str | None
    content_type: str | None

    @property
    def text(self) -> str:
        return self.data.decode("utf-8")


@dataclass
class Wire:
    """A provider on a mock transport, and every request it sent."""

    provider: Provider
    hub: ProviderHub
    sent: list[httpx.Request] = field(default_factory=list)

    @property
    def last(self) -> httpx.Request:
        return self.sent[-1]


def wire(provider_id: str, answer: Any = None, status: int = 200, settings: dict[str, Any] | None = None,
         headers: dict[str, str] | None = None) -> Wire:
    """A provider whose every request is recorded and answered with ``answer`` (JSON) and ``status``."""
    holder: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        request.read()
        holder.append(request)
        return httpx.Response(status, json=answer if answer is not None else {}, headers=headers)

    endpoints = {f"REELDECK_{pid.upper()}_BASE_URL": BASE for pid in ("goapi", "aimlapi", "aihubmix", "gateway",
                                                                        "novita")}
    endpoints |= {"REELDECK_GOAPI_UPLOAD_URL": "https://upload.wire.test/api/ephemeral_resource",
                  "REELDECK_NOVITA_ASSETS_URL": "https://assets.wire.test"}
    hub = ProviderHub(Settings(environ={}, data=dict(settings or {})), KeyStore(environ={}),
                      sandbox_endpoints=endpoints, client=httpx.AsyncClient(transport=httpx.MockTransport(handle)),
                      retry=RetryPolicy(max_attempts=1))
    result = Wire(hub.get(provider_id), hub)
    result.sent = holder
    return result


def content_type(request: httpx.Request) -> str:
    """The media type of a request body, without parameters."""
    return request.headers.get("content-type", "").split(";", 1)[0].strip().lower()


def multipart(request: httpx.Request) -> list[Part]:
    """The parts of a multipart/form-data body, in order."""
    assert content_type(request) == "multipart/form-data", request.headers.get("content-type")
    head = f"Content-Type: {request.headers['content-type']}\r\n\r\n".encode()
    message = BytesParser(policy=HTTP).parsebytes(head + request.content)
    parts = []
    for part in message.iter_parts():
        disposition = part.get("content-disposition", "")
        params = dict(part.get_params(header="content-disposition") or [])
        assert disposition.startswith("form-data"), disposition
        payload = part.get_payload(decode=True) or b""
        parts.append(Part(params["name"], payload, params.get("filename"), part.get("content-type")
                          if params.get("filename") else None))
    return parts


def json_body(request: httpx.Request) -> Any:
    assert content_type(request) == "application/json", request.headers.get("content-type")
    return json.loads(request.content)


def form_fields(request: httpx.Request) -> dict[str, str]:
    return dict(parse_qsl(request.content.decode()))
