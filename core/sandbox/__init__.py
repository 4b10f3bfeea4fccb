"""Reeldeck's sandbox: a loopback emulator of the five provider APIs, their upload/asset hosts and a CDN.

Usage::

    sb = Sandbox(state_dir, job_seconds=6.0, clock=time.time)   # or clock=ManualClock() in tests
    await sb.start()                    # binds 8 origins on the running asyncio loop (plain or qasync)
    env = sb.endpoints()                # REELDECK_*_BASE_URL, REELDECK_GOAPI_UPLOAD_URL, REELDECK_NOVITA_ASSETS_URL
    sb.faults.add(Fault("status", provider="goapi", request_kind="create", status=503, retry_after=2))
    sb.count("goapi", "create"); sb.requests[-1].auth_present; sb.tasks.input_paths(task_id)
    await sb.stop()

Origins (``sb.origins``): goapi, aimlapi, aihubmix, gateway, novita, goapi_upload, novita_assets, cdn, each its
own port (``base_port`` .. ``base_port + 7`` in that order, or ephemeral ports when ``base_port`` is 0).

Run-time switches (plain attributes, read per request): ``job_seconds`` (stored per task at creation),
``url_ttl_seconds``, ``gateway_shape`` ("a" | "b" | "c" | "vidu"), ``gateway_dialect`` ("page" | "new-api"),
``aihubmix_list_endpoint`` (False -> AIHubMix's ``GET /v1/videos`` answers 404), ``valid_keys`` (None = any
non-empty key),
``goapi_upload_plan_ok`` (False -> 403 "Insufficient plan level"), ``render_on_create``, ``range_support``
(False -> file origins ignore ``Range`` and always send the whole file).

Time: a task's status is computed at poll time from ``(clock() - created_at) / job_seconds``; with a
:class:`ManualClock` tests move time with ``clock.advance(seconds)`` and never sleep.

Faults (:class:`Fault`, kinds in :data:`FAULT_KINDS`): ``status``, ``reset``, ``reset_after``, ``slow``,
``truncate``, ``fail_job``, ``expire_url``, ``body`` (a misbehaving answer: replaced or patched body, odd headers
or status); matched by ``provider`` / ``request_kind`` / ``origin``; fire
``times`` times (None = always). ``sb.faults.random(rate, seed=..., kinds=[...])`` for soak tests.

Qt-free: standard asyncio only.
"""

from .clock import ManualClock
from .faults import FAULT_KINDS, Fault, FaultSet
from .records import REQUEST_KINDS, RecordedRequest, TaskInput, TaskRecord
from .server import ORIGIN_NAMES, Sandbox, export_lines, serve_forever

__all__ = [
    "FAULT_KINDS",
    "ORIGIN_NAMES",
    "REQUEST_KINDS",
    "Fault",
    "FaultSet",
    "ManualClock",
    "RecordedRequest",
    "Sandbox",
    "TaskInput",
    "TaskRecord",
    "export_lines",
    "serve_forever",
]
