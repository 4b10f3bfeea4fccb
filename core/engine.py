"""The engine: one asyncio object that submits, polls, downloads and resumes jobs, for the CLI and the GUI alike.

It owns no UI. Listeners subscribe to job changes (plain callbacks). Every state change is written to the store
first, so a crash at any point loses nothing: on start, ``resume_all`` picks every unfinished job up again.
A create whose outcome is unknown is never silently re-sent: it is reconciled through the provider's list
endpoint where one exists, otherwise the job waits for the user's decision.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import logging
import random
import re
import shutil
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from core.costs import PriceTable, check_budget, day_of
from core.download import download_video
from core.errors import (
    DownloadError,
    ExpiredURLError,
    InputError,
    NetworkError,
    NotFoundError,
    ProtocolError,
    ProviderError,
    ReeldeckError,
)
from core.http import read_capped
from core.hub import ProviderHub
from core.jobs import Job, JobState
from core.polling import DurationHistory, PollPlanner, PollPolicy
from core.provenance import write_sidecar
from core.providers.base import JobInput, Phase, Provider, RemoteStatus
from core.store import JobStore, make_owner
from core.submission import JobRequest, build_job

log = logging.getLogger(__name__)

Listener = Callable[[Job], None]
Sleep = Callable[[float], Awaitable[None]]


@dataclass
class EngineConfig:
    """Tunables. Sandbox mode shortens the poll interval; tests inject clock and sleep."""

    poll: PollPolicy = field(default_factory=PollPolicy)
    #: When set, replaces every provider's default poll interval (sandbox mode).
    poll_interval: float | None = None
    lease_ttl: float = 30.0
    #: How long an unrecognised status is treated as pending before the job fails.
    unknown_status_limit: float = 1800.0
    #: How long polling may keep failing (network, outage) before the job fails.
    poll_failure_limit: float = 1800.0
    max_submit_attempts: int = 3


class Engine:
    """Runs jobs to the end. Create one per process; share it between windows and commands."""

    def __init__(
        self,
        store: JobStore,
        hub: ProviderHub,
        *,
        library_dir: Path,
        inputs_dir: Path,
        config: EngineConfig | None = None,
        clock: Callable[[], float] = time.time,
        sleep: Sleep = asyncio.sleep,
        owner: str | None = None,
    ) -> None:
        self.store = store
        self.hub = hub
        self.library_dir = library_dir
        self.inputs_dir = inputs_dir
        self.config = config or EngineConfig()
        self._clock = clock
        self._sleep = sleep
        self.owner = owner or make_owner()
        self._listeners: list[Listener] = []
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._slots: dict[str, asyncio.Semaphore] = {}
        self._last_status: dict[str, RemoteStatus] = {}
        self._rng = random.Random()
        #: Bytes downloaded so far (and the total when known) of jobs in ``downloading``; not stored.
        self.download_progress: dict[str, tuple[int, int | None]] = {}
        #: How long past jobs took, per provider and model: the poll planner's prior.
        self.durations = DurationHistory(store.durations)

    @property
    def prices(self) -> PriceTable:
        return PriceTable.from_settings(self.hub.settings.data)

    @property
    def budget_cap(self) -> float | None:
        value = self.hub.settings.data.get("budget_daily_usd")
        return float(value) if isinstance(value, int | float) and value > 0 else None

    def _check_budget(self, cost: float | None) -> None:
        """Refuse a job past the daily cap; reads only today's jobs, and nothing at all when no cap is set."""
        cap = self.budget_cap
        if cap is None or cost is None:
            return
        now = self._clock()
        midnight = datetime.datetime.fromtimestamp(now).replace(hour=0, minute=0, second=0, microsecond=0)
        check_budget(self.store.since(midnight.timestamp()), cost, cap, today=day_of(now))

    # --- events --------------------------------------------------------------------------------------------

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call ``listener(job)`` on every change; returns a function that unsubscribes."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    def _emit(self, job: Job) -> None:
        for listener in list(self._listeners):
            try:
                listener(job)
            except Exception:  # a broken listener must not break the engine
                log.exception("job listener failed")

    def _update(self, job_id: str, **changes: object) -> Job:
        job = self.store.update(job_id, **changes)
        self._emit(job)
        return job

    # --- public API ----------------------------------------------------------------------------------------

    async def submit(self, request: JobRequest, *, start: bool = True) -> Job:
        """Validate, prepare and store a job, then start it. Raises InputError/ConfigError; sends nothing then."""
        self.hub.get(request.provider)  # the key and base URL must exist before anything is written
        job = await asyncio.to_thread(build_job, request, self.inputs_dir)
        job.cost_usd = self.prices.estimate(job.provider, job.model, job.params).usd
        try:
            self._check_budget(job.cost_usd)
            self.store.add(job)
        except ReeldeckError:
            await asyncio.to_thread(shutil.rmtree, self.inputs_dir / job.id, True)  # change nothing
            raise
        self._emit(job)
        if start:
            self.start(job.id)
        return job

    def start(self, job_id: str) -> asyncio.Task[None] | None:
        """Work a job in the background unless this engine already does."""
        task = self._tasks.get(job_id)
        if task is not None and not task.done():
            return task
        job = self.store.get(job_id)
        if job.terminal or job.needs_decision:
            return None
        task = asyncio.get_running_loop().create_task(self._run(job_id), name=f"job-{job_id}")
        self._tasks[job_id] = task
        return task

    def resume_all(self) -> list[str]:
        """Start every unfinished job no other live process is working; returns their ids."""
        started = []
        for job in self.store.unfinished():
            if job.needs_decision:
                continue
            owner = self.store.lease_owner(job.id)
            if owner is not None and owner != self.owner:
                continue
            if self.start(job.id) is not None:
                started.append(job.id)
        return started

    async def wait(self, job_ids: Iterable[str] | None = None, timeout: float | None = None) -> list[Job]:
        """Resume and wait for jobs (all unfinished when ``job_ids`` is None) to end or need a decision."""
        ids = list(job_ids) if job_ids is not None else [j.id for j in self.store.unfinished()]
        for job_id in ids:
            self.store.get(job_id)  # unknown ids raise StoreError before we start anything
        self.resume_all()
        waiter = asyncio.gather(*(self._wait_one(job_id) for job_id in ids))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(waiter, timeout)
        return [self.store.get(job_id) for job_id in ids]

    async def _wait_one(self, job_id: str) -> None:
        while True:
            task = self._tasks.get(job_id)
            if task is not None and not task.done():
                await asyncio.shield(task)
                continue
            job = self.store.get(job_id)
            if job.terminal or job.needs_decision:
                return
            if self.store.lease_owner(job_id) in (None, self.owner) and self.start(job_id) is not None:
                await asyncio.sleep(0)
                continue
            await self._sleep(1.0)  # another process works it: watch the store

    async def cancel(self, job_id: str) -> Job:
        """Cancel a job: locally at once, and at the provider where the API allows it."""
        job = self.store.get(job_id)
        if job.terminal:
            return job
        task = self._tasks.get(job_id)
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        job = self.store.get(job_id)
        if job.remote_id:
            await self._cancel_remote(job)
        return self._finish(job_id, JobState.CANCELED, error=None)

    async def _cancel_remote(self, job: Job) -> None:
        try:
            provider = self.hub.get(job.provider)
            request = provider.build_cancel(job.remote_id or "")
            if request is not None:
                await provider.api.send(request)
        except ReeldeckError as exc:
            log.info("remote cancel of %s failed: %s", job.id, exc.message)

    def resolve(self, job_id: str, *, resend: bool) -> Job:
        """The user's decision on a job whose create had an unknown outcome: send again, or give up."""
        job = self.store.get(job_id)
        if not job.needs_decision:
            return job
        if resend:
            job = self._update(job_id, state=JobState.PENDING, needs_decision=False, error=None)
            self.start(job_id)
            return job
        return self._finish(job_id, JobState.CANCELED, error="Canceled by you after an unanswered submission.",
                            needs_decision=False)

    def retry(self, job_id: str) -> Job:
        """Run a failed or canceled job again as a new attempt (a new remote task)."""
        job = self.store.get(job_id)
        if job.state not in (JobState.FAILED, JobState.CANCELED):
            return job
        # A half-downloaded video of the old remote task must not be resumed into the new one's file.
        (self.library_dir / (video_file_name(job) + ".part")).unlink(missing_ok=True)
        # Uploaded assets and their URLs expire (GoAPI's after 24 h): upload again for the new attempt.
        kept = {k: v for k, v in job.prepared.items() if k == "remix_of"}  # what the job is, not an upload
        job = self._update(job_id, state=JobState.PENDING, remote_id=None, remote_status=None, progress=None,
                           eta=None, error=None, finished_at=None, video_path=None, prepared=kept, attempts=0)
        self.start(job_id)
        return job

    async def remix(self, job_id: str, prompt: str) -> Job:
        """A new job that remixes a finished video with a new prompt (where the API can). Raises InputError."""
        source = self.store.get(job_id)
        provider = self.hub.get(source.provider)
        if not provider.can_remix:
            raise InputError(f"{provider.spec.name} cannot remix videos.")
        if source.state != JobState.COMPLETED or not source.remote_id:
            raise InputError("Only a finished video can be remixed.")
        params = {k: v for k, v in source.params.items() if k != "image_fit"} | {"prompt": prompt}
        job = await asyncio.to_thread(build_job, JobRequest(source.provider, source.model, params), self.inputs_dir)
        job.prepared = {"remix_of": source.remote_id}
        job.cost_usd = self.prices.estimate(job.provider, job.model, job.params).usd
        self._check_budget(job.cost_usd)
        self.store.add(job)
        self._emit(job)
        self.start(job.id)
        return job

    async def delete(self, job_id: str) -> None:
        """Forget a job: cancel it if it is still working, drop it from the store and remove its prepared inputs.

        The video file (if any) is left to the caller, which may move it to the trash.
        """
        job = self.store.find(job_id)
        if job is None:
            return
        if not job.terminal:
            await self.cancel(job_id)
        self.store.delete(job_id)
        self.download_progress.pop(job_id, None)
        await asyncio.to_thread(shutil.rmtree, self.inputs_dir / job_id, True)

    def apply_settings(self) -> None:
        """Use changed settings (keys, base URLs, concurrency) from now on; running jobs keep what they have."""
        self.hub.forget()
        self._slots.clear()

    async def close(self) -> None:
        """Stop working (jobs stay as stored and resume next time) and release leases."""
        tasks = [t for t in self._tasks.values() if not t.done()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    # --- the job's life ------------------------------------------------------------------------------------

    async def _run(self, job_id: str) -> None:
        if not self.store.claim(job_id, self.owner, self.config.lease_ttl):
            return
        renew = asyncio.get_running_loop().create_task(self._renew_lease(job_id))
        try:
            job = self.store.get(job_id)
            async with self._slot(job.provider):
                await self._drive(job_id)
        except asyncio.CancelledError:
            raise
        except _JobEnded:
            pass
        except ReeldeckError as exc:
            self._fail(job_id, exc)
        except Exception as exc:
            log.exception("job %s crashed", job_id)
            self._fail(job_id, ReeldeckError(f"Unexpected error: {type(exc).__name__}: {exc}"))
        finally:
            renew.cancel()
            self.store.release(job_id, self.owner)

    def _slot(self, provider_id: str) -> asyncio.Semaphore:
        if provider_id not in self._slots:
            self._slots[provider_id] = asyncio.Semaphore(self.hub.settings.concurrency(provider_id))
        return self._slots[provider_id]

    async def _renew_lease(self, job_id: str) -> None:
        while True:
            await asyncio.sleep(self.config.lease_ttl / 3)
            self.store.claim(job_id, self.owner, self.config.lease_ttl)

    async def _drive(self, job_id: str) -> None:
        steps = {
            JobState.PENDING: self._submit,
            JobState.SUBMITTING: self._reconcile,
            JobState.RUNNING: self._poll_until_done,
            JobState.DOWNLOADING: self._download,
        }
        while True:
            job = self.store.get(job_id)
            if job.terminal or job.needs_decision:
                return
            await steps[job.state](job, self.hub.get(job.provider))

    def _job_input(self, job: Job) -> JobInput:
        return JobInput(job.id, job.model, job.params, job.inputs, job.prepared, job.created_at, job.submitted_at)

    async def _submit(self, job: Job, provider: Provider) -> None:
        if job.attempts >= self.config.max_submit_attempts:
            raise ReeldeckError("The job could not be submitted after several attempts; retry it later.")
        if not job.prepared:
            prepared = await provider.prepare_inputs(self._job_input(job))
            job = self._update(job.id, prepared=prepared)
        request = await asyncio.to_thread(provider.build_create, self._job_input(job))
        job = self._update(job.id, state=JobState.SUBMITTING, submitted_at=self._clock(),
                           attempts=job.attempts + 1)
        try:
            answer = await provider.api.send(request)
        except NetworkError as exc:
            if exc.maybe_sent:
                log.warning("job %s: create outcome unknown (%s)", job.id, exc.detail)
                return  # stays SUBMITTING: _reconcile decides
            self._update(job.id, state=JobState.PENDING)
            raise
        remote_id = provider.parse_create(answer.body)
        self._update(job.id, state=JobState.RUNNING, remote_id=remote_id, remote_status="submitted", error=None)

    async def _reconcile(self, job: Job, provider: Provider) -> None:
        if job.remote_id:
            self._update(job.id, state=JobState.RUNNING)
            return
        if not provider.can_reconcile:
            self._update(job.id, needs_decision=True, error=unknown_outcome_message(provider.spec.name))
            return
        found = await provider.find_created(self._job_input(job), self.store.remote_ids(job.provider))
        if found:
            self._update(job.id, state=JobState.RUNNING, remote_id=found, remote_status="found")
        else:
            log.info("job %s: %s has no task for it; sending again", job.id, provider.spec.name)
            self._update(job.id, state=JobState.PENDING)

    async def _poll_until_done(self, job: Job, provider: Provider) -> None:
        started = job.submitted_at or job.created_at
        unknown_since: float | None = None
        failing_since: float | None = None
        policy = self.config.poll.scaled(self.config.poll_interval or provider.default_poll_interval)
        planner = PollPlanner(policy, self.durations.get(job.provider, job.model), self._rng)
        first = planner.first_delay(self._clock() - started)
        if first > 0:
            await self._sleep(first)
        while True:
            try:
                status = await self._poll_once(job, provider)
                failing_since = None
            except (NetworkError, ProviderError) as exc:
                # Outages and garbled answers (an HTML page from a proxy) pass; a bad key or a gone task do not.
                if isinstance(exc, NotFoundError) or not (exc.retryable or isinstance(exc, ProtocolError)):
                    raise
                failing_since = failing_since or self._clock()
                if self._clock() - failing_since > self.config.poll_failure_limit:
                    raise
                await self._sleep(policy.max_interval)
                continue
            if status.phase == Phase.SUCCEEDED:
                self.durations.add(job.provider, job.model, self._clock() - started)
                self._update(job.id, state=JobState.DOWNLOADING)
                return
            if status.phase == Phase.FAILED:
                self._finish(job.id, JobState.FAILED, error=failure_message(provider.spec.name, status))
                return
            if status.phase == Phase.CANCELED:
                self._finish(job.id, JobState.CANCELED, error=f"{provider.spec.name} canceled the job.")
                return
            if status.phase == Phase.UNKNOWN:
                unknown_since = unknown_since or self._clock()
                if self._clock() - unknown_since > self.config.unknown_status_limit:
                    raise ReeldeckError(f"{provider.spec.name} kept reporting an unknown status "
                                        f"{status.raw!r}; the job was given up.")
            else:
                unknown_since = None
            await self._sleep(planner.next_delay(status, self._clock() - started))

    async def _poll_once(self, job: Job, provider: Provider) -> RemoteStatus:
        answer = await provider.api.send(provider.build_poll(job.remote_id or ""))
        status = provider.parse_poll(answer.body, answer.headers)
        self._last_status[job.id] = status
        current = self.store.get(job.id)
        if current.terminal:
            raise _JobEnded  # canceled by another process meanwhile
        self._update(job.id, remote_status=status.raw, progress=status.progress, eta=status.eta,
                     polls=current.polls + 1)
        return status

    async def _download(self, job: Job, provider: Provider) -> None:
        status = self._last_status.get(job.id) or await self._poll_once(job, provider)
        dest = self.library_dir / video_file_name(job)
        for refreshed in (False, True):
            source = provider.download_source(job.remote_id or "", status)
            headers = provider.api.auth_for(source.url) if source.with_auth else {}
            try:
                result = await download_video(self.hub.client, source.url, dest, headers=headers,
                                              progress=self._download_progress(job.id), sleep=self._sleep)
                break
            except ExpiredURLError:
                if refreshed:
                    raise DownloadError("The result link expired and a fresh one did not work either.") from None
                log.info("job %s: result link expired; asking for a fresh one", job.id)
                status = await self._poll_once(job, provider)
        self._last_status.pop(job.id, None)
        done = self._finish(job.id, JobState.COMPLETED, error=None, video_path=str(result.path), progress=100.0)
        try:
            await asyncio.to_thread(write_sidecar, done)
        except OSError as exc:  # the video is fine; a missing sidecar is only logged
            log.warning("job %s: could not write its provenance sidecar: %s", job.id, exc)
        await self._fetch_thumbnail(done, provider)

    async def _fetch_thumbnail(self, job: Job, provider: Provider) -> None:
        """Keep the provider's own still beside the video (``<video>.thumbnail.webp``) for the library; optional."""
        source = provider.thumbnail_source(job.remote_id or "")
        if source is None or not job.video_path:
            return
        try:
            headers = provider.api.auth_for(source.url) if source.with_auth else {}
            async with self.hub.client.stream("GET", source.url, headers=headers) as response:
                data = await read_capped(response, 10 * 1024 * 1024) if response.status_code == 200 else b""
            if data:
                target = Path(job.video_path).with_suffix(".thumbnail.webp")
                await asyncio.to_thread(target.write_bytes, data)
        except (OSError, httpx.HTTPError, ReeldeckError) as exc:
            log.info("job %s: no provider thumbnail (%s)", job.id, exc)

    def _download_progress(self, job_id: str) -> Callable[[int, int | None], None]:
        def report(done: int, total: int | None) -> None:
            self.download_progress[job_id] = (done, total)
            job = self.store.find(job_id)
            if job is not None:
                self._emit(job)
        return report

    def _finish(self, job_id: str, state: JobState, *, error: str | None, **changes: object) -> Job:
        self.download_progress.pop(job_id, None)
        return self._update(job_id, state=state, error=error, finished_at=self._clock(), **changes)

    def _fail(self, job_id: str, exc: ReeldeckError) -> None:
        job = self.store.find(job_id)
        if job is None or job.terminal:
            return
        log.warning("job %s failed: %s %s", job_id, exc.message, exc.detail)
        self._finish(job_id, JobState.FAILED, error=exc.message)


class _JobEnded(Exception):
    """The job reached a terminal state elsewhere; stop working it."""


def failure_message(provider_name: str, status: RemoteStatus) -> str:
    reason = status.error or f"status {status.raw!r}"
    return f"{provider_name} could not make this video: {reason}"


def unknown_outcome_message(provider_name: str) -> str:
    return (f"The submission reached {provider_name} but its answer was lost, and {provider_name} offers no way to "
            "check whether the job was created. Send it again (you may be charged twice if it was created), "
            "or cancel it (nothing more is sent).")


_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def video_file_name(job: Job) -> str:
    """Reeldeck names result files itself: date, provider, model, prompt words and job id. Never from a server."""
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(job.created_at or time.time()))
    words = "-".join(_UNSAFE.sub("", w) for w in job.prompt.split()[:5])[:40].strip("-.") or "video"
    model = _UNSAFE.sub("-", job.model).strip("-.")
    return f"{stamp}_{job.provider}_{model}_{words}_{job.id}.mp4"
