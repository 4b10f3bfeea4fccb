"""The emulator's state and task logic, shared by every provider module (no HTTP serving here).

:class:`Engine` owns the SQLite store, the request log, faults, CDN URL signing, input storage and renders.
Its plain attributes (``job_seconds``, ``url_ttl_seconds``, ``gateway_shape``, ``gateway_dialect``,
``valid_keys``, ``goapi_upload_plan_ok``, ``render_on_create``, ``range_support``, ``aihubmix_list_endpoint``) are
read on every request, so tests may change them at run time. ``render_on_create = False`` defers rendering until a
result is first downloaded.
"""

from __future__ import annotations

import mimetypes
import secrets
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlparse

from .declared import Declarations
from .faults import CREATE_HOOK, FaultSet
from .lifecycle import Lifecycle, Snapshot, snapshot
from .media import decode_inline, is_http_url, probe_image
from .records import AssetRecord, FileRecord, RecordedRequest, RenderPlan, TaskInput, TaskRecord
from .renderer import RenderManager
from .signing import UrlSigner
from .state import Store
from .taskview import TaskView

#: Result variants registered on the CDN for every task: variant -> (extension, content type).
RESULT_VARIANTS = {
    "video": ("mp4", "video/mp4"),
    "thumbnail": ("webp", "image/webp"),
    "spritesheet": ("jpg", "image/jpeg"),
}
UPLOAD_TTL_SECONDS = 24 * 3600.0


class Engine:
    """State and behaviour behind all emulated origins."""

    def __init__(
        self,
        state_dir: Path,
        *,
        job_seconds: float = 6.0,
        url_ttl_seconds: float = 600.0,
        clock: Callable[[], float] = time.time,
        valid_keys: dict[str, str] | None = None,
        gateway_shape: str = "a",
        gateway_dialect: str = "page",
    ) -> None:
        self.state_dir = Path(state_dir)
        self.job_seconds = job_seconds
        self.url_ttl_seconds = url_ttl_seconds
        self.clock = clock
        self.valid_keys = valid_keys
        self.gateway_shape = gateway_shape
        #: The create fields the gateway origin reads: "page" or "new-api" (see :mod:`.gateway`).
        self.gateway_dialect = gateway_dialect
        self.goapi_upload_plan_ok = True
        self.render_on_create = True
        self.range_support = True
        #: False: AIHubMix's origin has no ``GET /v1/videos`` (404), as AIHubMix documents none (FIELD-NOTES).
        self.aihubmix_list_endpoint = True
        #: Seconds a new task stays out of list answers (lists lag behind creates at real providers).
        self.list_lag_seconds = 0.0
        #: Seconds the provider's clock is off from ours: timestamps in answers are shifted by it.
        self.provider_clock_offset = 0.0
        self.faults = FaultSet()
        #: The model catalog the origins check creates against: the shipped files and the data dir's
        #: ``catalog/`` (the state dir's sibling, as the app lays it out); tests may point it elsewhere.
        self.declarations = Declarations([self.state_dir.parent / "catalog"])
        self.origins: dict[str, str] = {}
        self.lifecycles: dict[str, Callable[[], Lifecycle]] = {}
        self.store = Store(self.state_dir)
        self.signer = UrlSigner(self.store.signing_secret())
        self.renders = RenderManager(self.state_dir)
        self.tasks = TaskView(self)
        self._requests: list[RecordedRequest] = list(self.store.iter_requests())
        self._next_seq = (self._requests[-1].seq + 1) if self._requests else 1

    # -- request log --------------------------------------------------------------------------------------
    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request received on this state dir (earlier runs included), in arrival order."""
        return list(self._requests)

    def count(self, provider: str | None = None, kind: str | None = None) -> int:
        """How many recorded requests match ``provider`` and ``kind`` (None = any)."""
        return sum(1 for r in self._requests if provider in (None, r.provider) and kind in (None, r.kind))

    def next_seq(self) -> int:
        """Reserve the next request sequence number."""
        seq, self._next_seq = self._next_seq, self._next_seq + 1
        return seq

    def log_request(self, record: RecordedRequest) -> None:
        """Append a new record to the in-memory log (call :meth:`save_request` when it is final)."""
        self._requests.append(record)

    def save_request(self, record: RecordedRequest) -> None:
        """Persist a record."""
        self.store.save_request(record)

    # -- tasks --------------------------------------------------------------------------------------------
    def get_task(self, task_id: str, provider: str) -> TaskRecord | None:
        """A live (not deleted) task of ``provider``."""
        task = self.store.get_task(task_id)
        if task is None or task.provider != provider or task.deleted_at is not None:
            return None
        return task

    def decide_fate(self, provider: str, default_message: str) -> tuple[str, str | None]:
        """``("fail", message)`` when a ``fail_job`` fault fires for this new task, else ``("succeed", None)``."""
        fault = self.faults.take(CREATE_HOOK, provider, "create", provider)
        if fault is None:
            return "succeed", None
        return "fail", fault.message or default_message

    def create_task(
        self,
        *,
        task_id: str,
        provider: str,
        model: str,
        plan: RenderPlan,
        params: dict[str, object],
        inputs: list[TaskInput],
        fail_message: str,
        remixed_from: str | None = None,
    ) -> TaskRecord:
        """Store a new task, register its CDN result files and start rendering it."""
        fate, message = self.decide_fate(provider, fail_message)
        task = TaskRecord(
            id=task_id,
            provider=provider,
            model=model,
            created_at=self.clock(),
            job_seconds=float(self.job_seconds),
            fate=fate,
            plan=plan,
            params=params,
            inputs=inputs,
            fail_message=message,
            remixed_from=remixed_from,
        )
        self.store.save_task(task)
        self._register_results(task)
        if fate == "succeed" and self.render_on_create:
            self.renders.start(task)
        return task

    def save_task(self, task: TaskRecord) -> None:
        """Persist changes to a task (cancel, delete)."""
        self.store.save_task(task)

    def status(self, task: TaskRecord) -> Snapshot:
        """Where ``task`` stands now, by its provider's lifecycle."""
        return snapshot(task, self.lifecycles[task.provider](), self.clock())

    def _register_results(self, task: TaskRecord) -> None:
        out = self.renders.outputs(task.id)
        paths = {"video": out.video, "thumbnail": out.thumbnail, "spritesheet": out.spritesheet}
        for variant, (ext, content_type) in RESULT_VARIANTS.items():
            rel = paths[variant].relative_to(self.state_dir).as_posix()
            record = FileRecord(
                secrets.token_hex(12), ext, rel, content_type, task.provider, task.id, variant, task.created_at
            )
            self.store.save_file(record)

    # -- CDN URLs -----------------------------------------------------------------------------------------
    def signed_url(self, record: FileRecord, ttl: float | None = None) -> str:
        """A freshly signed CDN URL for a file, valid for ``ttl`` (default ``url_ttl_seconds``)."""
        expires = int(self.clock() + (self.url_ttl_seconds if ttl is None else ttl))
        return f"{self.origins.get('cdn', '')}/files/{record.name}?{self.signer.query(record.name, expires)}"

    def result_url(self, task: TaskRecord, variant: str = "video") -> str:
        """A freshly signed CDN URL of a task's result file."""
        record = self.store.task_file(task.id, variant)
        if record is None:  # tasks stored by an older emulator without this variant
            self._register_results(task)
            record = self.store.task_file(task.id, variant)
        assert record is not None
        return self.signed_url(record)

    def store_upload(self, data: bytes, file_name: str, provider: str) -> FileRecord:
        """Keep uploaded bytes and register them on the CDN."""
        ext = Path(file_name).suffix.lstrip(".").lower() or "bin"
        token = secrets.token_hex(12)
        rel = f"files/uploads/{token}.{ext}"
        target = self.state_dir / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        content_type = mimetypes.guess_type(file_name)[0] or "application/octet-stream"
        record = FileRecord(token, ext, rel, content_type, provider, None, "upload", self.clock())
        self.store.save_file(record)
        return record

    # -- Novita assets ------------------------------------------------------------------------------------
    def store_asset(self, asset_id: str, kind: str, data: bytes, content_type: str) -> AssetRecord:
        """Keep an uploaded asset's bytes under ``files/assets``."""
        ext = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp", "video/mp4": "mp4"}.get(
            content_type, "bin"
        )
        rel = f"files/assets/{secrets.token_hex(12)}.{ext}"
        target = self.state_dir / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        asset = AssetRecord(asset_id, kind, rel, len(data), content_type, self.clock())
        self.store.save_asset(asset)
        return asset

    # -- task inputs --------------------------------------------------------------------------------------
    def input_dir(self, task_id: str) -> Path:
        """Where a task's input files are stored."""
        return self.state_dir / "tasks" / task_id

    def store_input_bytes(self, task_id: str, role: str, data: bytes, content_type: str | None) -> TaskInput:
        """Keep an inline input (multipart file, decoded data URI) for a task."""
        info = probe_image(data)
        ext = info.format.lower().replace("jpeg", "jpg") if info else "bin"
        folder = self.input_dir(task_id)
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / f"{role}_{len(list(folder.iterdir()))}.{ext}"
        target.write_bytes(data)
        kind = info.mime if info else content_type
        return TaskInput(role, "inline", target.relative_to(self.state_dir).as_posix(), None, kind)

    def store_input(self, task_id: str, role: str, value: str) -> TaskInput:
        """Keep an input given as a URL or inline data; external URLs are remembered, never fetched."""
        if not is_http_url(value):
            inline = decode_inline(value)
            return self.store_input_bytes(task_id, role, inline.data, inline.mime)
        local = self.local_file_for_url(value)
        if local is None:
            return TaskInput(role, "external", None, value, None)
        copied = self._copy_input(task_id, role, local)
        return TaskInput(role, "cdn", copied, value, mimetypes.guess_type(local.name)[0])

    def store_asset_input(self, task_id: str, role: str, asset: AssetRecord) -> TaskInput:
        """Copy a Novita asset into a task's inputs."""
        copied = self._copy_input(task_id, role, asset.path(self.state_dir))
        return TaskInput(role, "asset", copied, None, asset.content_type)

    def _copy_input(self, task_id: str, role: str, source: Path) -> str:
        folder = self.input_dir(task_id)
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / f"{role}_{len(list(folder.iterdir()))}{source.suffix}"
        shutil.copyfile(source, target)
        return target.relative_to(self.state_dir).as_posix()

    def local_file_for_url(self, url: str) -> Path | None:
        """The stored file behind a URL on this emulator's CDN (any earlier port too), or None."""
        parsed = urlparse(url)
        ours = parsed.hostname in ("127.0.0.1", "localhost", "::1")
        ours = ours or parsed.netloc == urlparse(self.origins.get("cdn", "")).netloc
        if not ours or not parsed.path.startswith("/files/"):
            return None
        token = parsed.path.rsplit("/", 1)[-1].split(".", 1)[0]
        record = self.store.get_file(token)
        if record is None:
            return None
        path = self.state_dir / record.rel_path
        return path if path.exists() else None
