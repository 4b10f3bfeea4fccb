"""The engine: one asyncio object that submits, polls, downloads and resumes jobs, for the CLI and the GUI alike.

It owns no UI. Listeners subscribe to job changes (plain callbacks). Every state change is written to the store
first, so a crash at any point loses nothing: on start, ``resume_all`` picks every unfinished job up again.
A create is sent once: when its outcome is unknown it is reconciled through the provider's list endpoint (read over
a window) where one exists, otherwise the job waits for the person's decision; only a decision sends it again. A job
that has a remote task is never given up on a local or passing problem: it waits, says why, and goes on. Every
write a worker makes is fenced with its lease, so a worker that lost its job to another process writes nothing.
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
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from core import plans
from core.abilities import new_job_problem, remix_problem, retry_problem
from core.costs import PriceTable, budget_problem, day_of, spend
from core.download import download_video
from core.errors import (
    AuthError,
    ConfigError,
    DiskFullError,
    DownloadError,
    ExpiredURLError,
    InputError,
    NoCreditsError,
    NotFoundError,
    ProviderError,
    ReeldeckError,
    StoreError,
)
from core.http import HttpRequest, surely_not_processed
from core.hub import ProviderHub
from core.jobs import Annotation, Job, JobState
from core.ledger import reported_charge
from core.polling import DurationHistory, PollPlanner, PollPolicy
from core.provenance import write_sidecar
from core.providers.base import JobInput, Phase, Provider, RemoteStatus, task_id
from core.queue_gate import QueueGate
from core.store import JobStore, LeaseLostError, StoreBusyError, make_owner, new_job_id
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
    #: How long an unrecognised status is polled before the job says so (it is never given up for it); None =
    #: the provider's declared window (hours for off-peak Vidu models at the gateway).
    unknown_status_limit: float | None = None
    #: After a create with an unknown outcome: seconds after it was sent at which the provider's list is read
    #: (lists lag behind creates; several reads, spaced out).
    reconcile_reads: tuple[float, ...] = (5.0, 20.0, 60.0, 150.0, 300.0)
    #: First and longest pause while a job waits on a passing problem (doubling in between).
    wait_first: float = 5.0
    wait_longest: float = 300.0
    #: A task the provider keeps answering "not found" for this long after its create is taken as gone.
    task_retention: float = 7 * 24 * 3600.0


class Engine:
    """Runs jobs to the end. Create one per process; share it between windows and commands.

    The engine works only the jobs of its world: the sandbox's when its hub talks to the emulator, the real
    providers' otherwise.
    """

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
        self.world = store.world or ("sandbox" if hub.sandbox else "real")
        self._listeners: list[Listener] = []
        self._tasks: dict[str, asyncio.Task[None]] = {}
        #: Each provider's slots, handed out in queue order; paused, it holds back jobs not sent yet.
        self.queue = QueueGate(lambda provider_id: self.hub.settings.concurrency(provider_id))
        self._last_status: dict[str, RemoteStatus] = {}
        #: Lease generation of every job this engine works now: its writes are fenced with it.
        self._leases: dict[str, int] = {}
        #: Jobs whose create request is in flight in this engine (never cancelled mid-request).
        self._creating: set[str] = set()
        self._waiting: set[str] = set()
        #: What ``look_for_others`` saw last: the store's data version, when it looked, and unfinished jobs of
        #: other processes it may take up once nobody works them.
        self._others_version: int | None = None
        self._others_since = self._clock()
        self._others_unfinished: set[str] = set()
        self._wake = asyncio.Event()
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

    def budget_problem(self, cost: float | None, *, what: str = "This", unpriced: int | None = None) -> str | None:
        """Why ``cost`` more today would break the daily budget (None when it fits). ``unpriced``: how many of the
        jobs have no known price (by default: one when ``cost`` is None) — with a budget set they cannot be counted,
        so they are refused. Real jobs only: sandbox renders cost nothing. Reads only today's jobs, and nothing at
        all when no cap is set."""
        cap = self.budget_cap
        if cap is None or self.world != "real":
            return None
        unpriced = (1 if cost is None else 0) if unpriced is None else unpriced
        if unpriced:
            return budget_problem(0.0, cost, cap, what, unpriced)
        now = self._clock()
        midnight = datetime.datetime.fromtimestamp(now).replace(hour=0, minute=0, second=0, microsecond=0)
        spent = spend(self.store.since(midnight.timestamp()), by="day").get(day_of(now), 0.0)
        return budget_problem(spent, cost, cap, what)

    def _check_budget(self, cost: float | None) -> None:
        """Refuse a real job past the daily cap (InputError: nothing stored, nothing sent)."""
        problem = self.budget_problem(cost)
        if problem:
            raise InputError(problem)

    # --- events --------------------------------------------------------------------------------------------

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call ``listener(job)`` on every change; returns a function that unsubscribes."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    def emit(self, job: Job) -> None:
        """Tell every listener about ``job`` (the engine's own changes; in the window, the engine process's)."""
        for listener in list(self._listeners):
            try:
                listener(job)
            except Exception:  # a broken listener must not break the engine
                log.exception("job listener failed")

    def _update(self, job_id: str, **changes: object) -> Job:
        """A worker's write: fenced with this engine's lease on the job (LeaseLostError once it is gone)."""
        if job_id in self._waiting and "waiting" not in changes:
            changes |= {"waiting": None, "waiting_on_you": False}  # it progresses again
        generation = self._leases.get(job_id)
        lease = (self.owner, generation) if generation is not None else None
        job = self.store.update(job_id, lease=lease, **changes)
        if job.waiting is None:
            self._waiting.discard(job_id)
        self.emit(job)
        return job

    def _set(self, job_id: str, **changes: Any) -> Job:
        """A person's action (cancel, decide, retry): written whoever works the job."""
        job = self.store.update(job_id, **changes)
        self.emit(job)
        return job

    # --- public API ----------------------------------------------------------------------------------------

    async def submit(self, request: JobRequest, *, start: bool = True) -> Job:
        """Validate, prepare and store a job, then start it. Raises InputError/ConfigError; sends nothing then."""
        provider = self.hub.get(request.provider)  # the key and base URL must exist before anything is written
        job = await asyncio.to_thread(build_job, request, self.inputs_dir,
                                      send_originals=self.hub.settings.send_original_images())
        job.cost_usd = self.prices.estimate(job.provider, job.model, job.params).usd
        job.world, job.origin = self.world, self._origin_of(provider)
        try:
            self._check_budget(job.cost_usd)
            self.store.add(job)
        except ReeldeckError:
            await asyncio.to_thread(shutil.rmtree, self.inputs_dir / job.id, True)  # change nothing
            raise
        self.emit(job)
        if start:
            self.start(job.id)
        return job

    async def track(self, provider_id: str, model: str, remote_id: str) -> Job:
        """A job for a task made elsewhere (another machine, the provider's dashboard): polled and downloaded."""
        provider = self.hub.get(provider_id)
        provider.spec.model(model)  # InputError for a model the provider does not declare
        remote_id = task_id(remote_id, "--task-id", provider.spec)
        for other in self.store.all():
            if other.provider == provider_id and other.remote_id == remote_id:
                raise InputError(f"Task {remote_id} is already followed as job {other.id}.")
        now = self._clock()
        job = Job(id=new_job_id(), provider=provider_id, model=model, params={}, inputs={}, state=JobState.RUNNING,
                  remote_id=remote_id, remote_status=ATTACHED, submitted_at=now, world=self.world,
                  origin=self._origin_of(provider))
        self.store.add(job)
        self.emit(job)
        self.start(job.id)
        return job

    def _origin_of(self, provider: Provider) -> str | None:
        return provider.api.base_url if self.world == "real" else None

    def start(self, job_id: str) -> asyncio.Task[None] | None:
        """Work a job in the background unless this engine already does (or it belongs to the other world)."""
        task = self._tasks.get(job_id)
        if task is not None and not task.done():
            return task
        job = self.store.find(job_id)
        if job is None or job.terminal or job.needs_decision or job.world != self.world:
            return None
        task = asyncio.get_running_loop().create_task(self._run(job_id), name=f"job-{job_id}")
        self._tasks[job_id] = task
        return task

    def resume_all(self) -> list[str]:
        """Start every unfinished job of this world no other live process is working; returns their ids."""
        started = []
        for job in self.store.unfinished():
            if job.needs_decision or job.world != self.world:
                continue
            owner = self.store.lease_owner(job.id)
            if owner is not None and owner != self.owner:
                continue
            if self.start(job.id) is not None:
                started.append(job.id)
        return started

    def look_for_others(self) -> list[Job]:
        """Jobs other processes wrote since the last look — a `submit` from the command line, a `wait` elsewhere —
        told to the listeners (an open window lists them), and the unfinished ones nobody works any more taken up
        here, as ``resume_all`` does at start (the lease decides: one process per job). Returns the jobs told.
        Cheap when nothing changed: one ``PRAGMA data_version``; the first look reads back to this engine's start."""
        version, now = self.store.data_version(), self._clock()
        told: list[Job] = []
        if version != self._others_version:
            self._others_version = version
            since, self._others_since = self._others_since - LOOK_OVERLAP_SECONDS, now
            told = [job for job in self.store.changed_since(since) if not self._works(job.id)]
            for job in told:
                self.emit(job)
                if not job.terminal and not job.needs_decision:
                    self._others_unfinished.add(job.id)
        self._take_up_abandoned(now)
        return told

    def _works(self, job_id: str) -> bool:
        task = self._tasks.get(job_id)
        return task is not None and not task.done()

    def _take_up_abandoned(self, now: float) -> None:
        for job_id in list(self._others_unfinished):
            job = self.store.find(job_id)
            if job is None or job.terminal or job.needs_decision or job.world != self.world or self._works(job_id):
                self._others_unfinished.discard(job_id)
            elif now - job.updated_at >= TAKE_UP_AFTER_SECONDS and self.store.lease_owner(job_id) is None:
                self._others_unfinished.discard(job_id)
                self.start(job_id)

    async def wait(self, job_ids: Iterable[str] | None = None, timeout: float | None = None) -> list[Job]:
        """Resume and wait for jobs (all unfinished when ``job_ids`` is None) to end, need a decision, or wait on
        something only the person can fix (a key, a base URL, disk space)."""
        ids = list(job_ids) if job_ids is not None else [j.id for j in self.store.unfinished()]
        for job_id in ids:
            self.store.get(job_id)  # unknown ids raise StoreError before we start anything
        self.resume_all()
        waiter = asyncio.gather(*(self._wait_one(job_id) for job_id in ids))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(waiter, timeout)
        return [self.store.get(job_id) for job_id in ids]

    async def _wait_one(self, job_id: str) -> None:
        # A job stored as waiting on the person (a key, a base URL) is tried again first: the person may have fixed
        # it since ("it resumes with `wait` once that is fixed"); only a verdict made after this wait began ends it.
        started = self._clock()
        tried = False
        while True:
            job = self.store.get(job_id)
            if job.terminal or job.needs_decision:
                return
            if job.waiting_on_you and (tried or job.updated_at > started):
                return
            task = self._tasks.get(job_id)
            if task is not None and not task.done():
                tried = True
                settled = asyncio.ensure_future(self._settled(job_id))
                try:
                    await asyncio.wait({task, settled}, return_when=asyncio.FIRST_COMPLETED)
                finally:
                    settled.cancel()
                continue
            if self.store.lease_owner(job_id) in (None, self.owner) and self.start(job_id) is not None:
                await asyncio.sleep(0)
                continue
            await self._sleep(1.0)  # another process works it: watch the store for its verdict

    async def _settled(self, job_id: str) -> None:
        """Returns once the job waits on the person (its worker keeps it, and resumes when the cause is gone)."""
        settled = asyncio.Event()

        def check(job: Job) -> None:
            if job.id == job_id and job.waiting_on_you:
                settled.set()

        unsubscribe = self.subscribe(check)
        try:
            await settled.wait()
        finally:
            unsubscribe()

    async def cancel(self, job_id: str) -> Job:
        """Cancel a job: locally at once, and at the provider where the API allows it.

        A create in flight (here or in another process) is not cut off: the job ends ``canceled`` now, and
        whoever receives the task id records it and cancels the task at the provider.
        """
        job = self.store.get(job_id)
        if job.terminal:
            return job
        if job.state == JobState.SUBMITTING and not job.remote_id:
            return self._finish(job_id, JobState.CANCELED, error=None, fenced=False, needs_decision=False)
        task = self._tasks.get(job_id)
        if task is not None and not task.done() and job_id not in self._creating:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        job = self.store.get(job_id)
        if job.terminal:
            return job
        job = self._finish(job_id, JobState.CANCELED, error=None, fenced=False, needs_decision=False)
        if job.remote_id:
            await self._cancel_remote(job)
        return job

    async def _cancel_remote(self, job: Job) -> None:
        try:
            provider = self._provider_for(job)
            request = provider.build_cancel(job.remote_id or "")
            if request is None:
                log.info("job %s: %s cannot cancel task %s; it may still run", job.id, provider.spec.name,
                         job.remote_id)
                return
            await provider.api.send(request)
        except ReeldeckError as exc:
            log.info("remote cancel of %s failed: %s", job.id, exc.message)

    def decide(self, job_id: str, *, task_id_found: str | None = None, send_again: bool = False,
               give_up: bool = False) -> Job:
        """Settle a job whose create has an unknown outcome: attach the task found at the provider, send the
        create again (it may be charged twice), or give up (``canceled``). Raises InputError otherwise."""
        job = self.store.get(job_id)
        if sum((task_id_found is not None, send_again, give_up)) != 1:
            raise InputError("Decide one thing: --task-id REMOTE_ID, --send-again or --give-up.")
        if not job.needs_decision:
            raise InputError(f"Job {job_id} is not waiting for a decision (it is {job.state}).")
        if give_up:
            return self._finish(job_id, JobState.CANCELED, error="Canceled by you after an unanswered submission.",
                                needs_decision=False, fenced=False)
        if send_again:
            job = self._set(job_id, state=JobState.PENDING, needs_decision=False, error=None)
        else:
            spec = self.hub.get(job.provider).spec
            found = task_id(task_id_found, "--task-id", spec)
            if found in self.store.remote_ids(job.provider):
                raise InputError(f"Task {found} already belongs to another job.")
            job = self._set(job_id, state=JobState.RUNNING, remote_id=found, remote_status=ATTACHED,
                            needs_decision=False, error=None)
        self.start(job_id)
        return job

    def resolve(self, job_id: str, *, resend: bool) -> Job:
        """The window's two-button decision: send again, or give up."""
        return self.decide(job_id, send_again=resend, give_up=not resend)

    def retry(self, job_id: str) -> Job:
        """Resume a waiting job now, resume a failed job that has a remote task (no new charge), or run a job
        that never made one again.

        A canceled job whose task was made is not re-run here: that is ``generate_again`` (a new, paid task). A job
        that made no task, of a model the provider no longer serves, is refused (InputError): nothing is sent.
        """
        job = self.store.get(job_id)
        if (problem := retry_problem(job)) is not None:
            raise InputError(problem)
        if job.waiting and not job.terminal:
            job = self._set(job_id, waiting=None, waiting_on_you=False)  # the person says the cause is gone
            self.wake()
            self.start(job_id)
            return job
        if job.state not in (JobState.FAILED, JobState.CANCELED):
            return job
        if job.remote_id and job.state == JobState.FAILED:
            job = self._set(job_id, state=JobState.RUNNING, error=None, finished_at=None, waiting=None,
                            waiting_on_you=False)
            self.start(job_id)
            return job
        if job.remote_id:
            raise InputError("This job's task was canceled at the provider; use Generate again for a new one "
                             "(it is charged again).")
        (self.library_dir / (video_file_name(job) + ".part")).unlink(missing_ok=True)
        kept = {k: v for k, v in job.prepared.items() if k == "remix_of"}  # what the job is, not an upload
        job = self._set(job_id, state=JobState.PENDING, remote_id=None, remote_status=None, progress=None, eta=None,
                        error=None, finished_at=None, video_path=None, prepared=kept, attempts=0, waiting=None,
                        waiting_on_you=False)
        self.start(job_id)
        return job

    async def generate_again(self, job_id: str) -> Job:
        """A new job with the same request: a new task at the provider, charged again. Raises InputError."""
        source = self.store.get(job_id)
        if (problem := new_job_problem(source)) is not None:
            raise InputError(problem)
        inputs = {slot: list(paths) for slot, paths in source.inputs.items()}
        request = JobRequest(source.provider, source.model, dict(source.params), inputs, group_id=source.group_id)
        job = await self.submit(request, start=False)
        if source.prepared.get("remix_of"):
            job = self._set(job.id, prepared={"remix_of": source.prepared["remix_of"]})
        self.start(job.id)
        return job

    async def remix(self, job_id: str, prompt: str) -> Job:
        """A new job that remixes a finished video with a new prompt (where the API can). Raises InputError."""
        source = self.store.get(job_id)
        self.hub.get(source.provider)  # the key and base URL must exist before anything is written
        if (problem := remix_problem(source)) is not None:
            raise InputError(problem)
        params = {k: v for k, v in source.params.items() if k != "image_fit"} | {"prompt": prompt}
        job = await asyncio.to_thread(build_job, JobRequest(source.provider, source.model, params), self.inputs_dir)
        job.prepared = {"remix_of": source.remote_id}
        job.cost_usd = self.prices.estimate(job.provider, job.model, job.params).usd
        job.world, job.origin = self.world, source.origin
        self._check_budget(job.cost_usd)
        self.store.add(job)
        self.emit(job)
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

    def forget(self, job_id: str) -> ForgottenJob:
        """Drop a finished job's record, keeping what brings it back (``remember``); its files are the caller's
        (the library moves them to the trash). A job still working is refused: cancel it first."""
        job = self.store.get(job_id)
        if not job.terminal:
            raise InputError("This job is still working; cancel it before removing it.")
        forgotten = ForgottenJob(job, self.store.annotation(job_id))
        self.store.delete(job_id)
        self.download_progress.pop(job_id, None)
        return forgotten

    def remember(self, forgotten: ForgottenJob) -> Job:
        """Undo ``forget``: the job and its favourite, rating and note are written back as they were."""
        if self.store.find(forgotten.job.id) is None:
            self.store.add(forgotten.job)
        if forgotten.annotation != Annotation():
            self.store.annotate(forgotten.job.id, forgotten.annotation)
        job = self.store.get(forgotten.job.id)
        self.emit(job)
        return job

    def apply_settings(self, changes: Mapping[str, Any] | None = None, provider_id: str | None = None) -> None:
        """Use changed settings from now on: ``changes`` (settings keys; None removes one) go into the running
        settings, the providers (one, or all) are built again with them (keys, base URLs, hosts, options), and
        waiting jobs try again at once."""
        for key, value in (changes or {}).items():
            if value is None:
                self.hub.settings.data.pop(key, None)
            else:
                self.hub.settings.data[key] = value
        self.hub.forget(provider_id)
        self.queue.capacity_changed()
        self.wake()

    # --- the queue -----------------------------------------------------------------------------------------

    @property
    def paused(self) -> bool:
        return self.queue.paused

    def pause(self) -> None:
        """Start no new job (no create is sent); jobs at the provider keep being polled and downloaded."""
        self.queue.pause()

    def unpause(self) -> None:
        """Start waiting jobs again, in queue order."""
        self.queue.resume()

    def reorder(self, job_ids: Iterable[str]) -> list[Job]:
        """Waiting jobs start in this order (the first first), here, after a restart and in the CLI alike.

        Jobs already sent cannot move and are left out; returns the jobs that moved, as stored."""
        positions = self.store.set_queue_order(list(job_ids))
        self.queue.reorder(positions)
        moved = self.store.some(list(positions))
        for job in moved:
            self.emit(job)
        return moved

    def wake(self) -> None:
        """Jobs waiting on a problem try again now (a key was added, the network came back)."""
        self._wake.set()
        self._wake = asyncio.Event()

    async def close(self) -> None:
        """Stop working (jobs stay as stored and resume next time) and release leases."""
        tasks = [t for t in self._tasks.values() if not t.done()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    # --- the job's life ------------------------------------------------------------------------------------

    async def _run(self, job_id: str) -> None:
        claimed = await self._claim(job_id)
        if claimed is None:
            return
        generation, job = claimed
        self._leases[job_id] = generation
        if job.waiting:  # recorded by an earlier worker: cleared by this one's first step forward
            self._waiting.add(job_id)
        keeper = asyncio.get_running_loop().create_task(self._keep_lease(job_id, generation))
        try:
            while True:
                sent = job.state != JobState.PENDING
                await self.queue.acquire(job_id, job.provider, job.queue_pos or job.created_at, sent=sent)
                try:
                    await self._work(job_id)
                    return
                except _Requeued:  # the queue was paused before its create: wait for a slot again
                    job = self.store.get(job_id)
                finally:
                    self.queue.release(job.provider)
        finally:
            keeper.cancel()
            self._leases.pop(job_id, None)
            self._waiting.discard(job_id)
            with contextlib.suppress(StoreError):
                self.store.release(job_id, self.owner, generation)

    async def _claim(self, job_id: str) -> tuple[int, Job] | None:
        """Take the job's lease (its generation, and the job as stored), waiting out a busy database."""
        pause = 0.5
        while True:
            try:
                generation = self.store.claim(job_id, self.owner, self.config.lease_ttl)
                return None if generation is None else (generation, self.store.get(job_id))
            except StoreBusyError:
                await self._sleep(pause)
                pause = min(pause * 2, 10.0)

    async def _keep_lease(self, job_id: str, generation: int) -> None:
        """Renew the lease; once another process holds it, stop the worker (never in the middle of a create: its
        answer is recorded first, and its fenced writes fail anyway)."""
        while True:
            await asyncio.sleep(self.config.lease_ttl / 3)
            try:
                if self.store.renew(job_id, self.owner, generation, self.config.lease_ttl):
                    continue
            except StoreError as exc:  # busy (or briefly unusable): the fenced writes keep the job safe meanwhile
                log.info("job %s: could not renew its lease (%s); trying again", job_id, exc.message)
                continue
            log.warning("job %s: another process took it over; this one stops working it", job_id)
            self._leases[job_id] = -1  # every further write of this worker fails its fence
            task = self._tasks.get(job_id)
            if task is not None and job_id not in self._creating:
                task.cancel()
            return

    async def _work(self, job_id: str) -> None:
        """Drive the job to its end; a job that has (or may have) a remote task waits out every local or passing
        problem instead of failing, saying why, and goes on once the cause is gone."""
        pause = self.config.wait_first
        while True:
            try:
                await self._drive(job_id)
                return
            except (_JobEnded, LeaseLostError):
                return
            except _Requeued:
                raise
            except Exception as exc:  # every problem is either waited out or ends the job plainly
                problem = exc if isinstance(exc, ReeldeckError) else _unexpected(exc)
                if not self._outlasts(job_id, problem):
                    return
            await self._pause(pause)
            pause = min(pause * 2, self.config.wait_longest)

    def _outlasts(self, job_id: str, problem: ReeldeckError) -> bool:
        """Record why the job waits (True), or end it when the problem is final for it (False)."""
        try:
            job = self.store.find(job_id)
        except StoreError:
            log.warning("job %s waits: the job database is busy", job_id)
            return True
        if job is None or job.terminal:
            return False
        if not _has_task(job) and not _passing_before_create(problem):
            self._fail(job_id, problem)
            return False
        if isinstance(problem, TaskGoneError):
            self._fail(job_id, problem)
            return False
        log.warning("job %s waits: %s %s", job_id, problem.message, problem.detail)
        try:
            self._update(job_id, waiting=f"waiting: {problem.message}", waiting_on_you=_needs_person(problem))
            self._waiting.add(job_id)
        except LeaseLostError:
            return False
        except StoreError:
            pass  # the database is busy: the reason is only logged this time
        return True

    async def _pause(self, delay: float) -> None:
        """Sleep ``delay`` seconds, or less when ``wake`` is called."""
        sleeper = asyncio.ensure_future(self._sleep(delay))
        woken = asyncio.ensure_future(self._wake.wait())
        try:
            await asyncio.wait({sleeper, woken}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            sleeper.cancel()
            woken.cancel()

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
            await steps[job.state](job, self._provider_for(job))

    def _provider_for(self, job: Job) -> Provider:
        """The provider at the origin the job was created at (a real job keeps it when the setting changes)."""
        return self.hub.get(job.provider, origin=job.origin if self.world == "real" else None)

    def _job_input(self, job: Job) -> JobInput:
        return JobInput(job.id, job.model, job.params, job.inputs, job.prepared, job.created_at, job.submitted_at)

    async def _submit(self, job: Job, provider: Provider) -> None:
        if self.queue.paused:
            raise _Requeued  # no new create while the queue is paused
        retired = new_job_problem(job)  # queued before its model was retired: the provider would surely refuse it
        if retired:
            self._finish(job.id, JobState.FAILED, error=retired)  # nothing uploaded, nothing sent
            return
        if not job.prepared:
            prepared = await plans.prepare_inputs(provider, self._job_input(job))
            job = self._update(job.id, prepared=prepared)
        request = provider.build_create(await plans.with_files(provider, self._job_input(job)))
        job = self._update(job.id, state=JobState.SUBMITTING, submitted_at=self._clock(),
                           attempts=job.attempts + 1, origin=self._origin_of(provider))
        self._creating.add(job.id)
        try:
            remote_id = await self._send_create(job, provider, request)
        finally:
            self._creating.discard(job.id)
        if remote_id is not None:
            await self._record_task(job.id, remote_id, provider)

    async def _send_create(self, job: Job, provider: Provider, request: HttpRequest) -> str | None:
        """Send the create once: its task id, None when its outcome is unknown, or the refusal raised."""
        try:
            answer = await provider.api.send(request)
            return provider.parse_create(answer.body)
        except ProviderError as exc:
            if surely_not_processed(exc) or _refused(exc):
                self._update(job.id, state=JobState.PENDING)  # nothing was made: it may be sent later
                raise
            log.warning("job %s: the create's outcome is unknown (%s %s)", job.id, exc.message, exc.detail)
            self._update(job.id, waiting=f"checking whether {provider.spec.name} made the job: {exc.message}")
            self._waiting.add(job.id)
            return None  # stays SUBMITTING: _reconcile decides, and never by sending again

    async def _record_task(self, job_id: str, remote_id: str, provider: Provider) -> None:
        """Store the task a create made — whatever happens to the database or the lease meanwhile."""
        pause = 0.5
        while True:
            try:
                adopted = self.store.adopt_remote_id(job_id, remote_id)
                found = self.store.find(job_id)
                break
            except StoreError as exc:
                log.warning("job %s: task %s made at %s is not recorded yet (%s)", job_id, remote_id,
                            provider.spec.name, exc.message)
                await self._sleep(pause)
                pause = min(pause * 2, 10.0)
        if found is None:  # deleted while its create was in flight: nothing may keep running for it
            log.error("job %s was deleted; its task %s at %s is canceled where it can be", job_id, remote_id,
                      provider.spec.name)
            await self._cancel_remote(Job(id=job_id, provider=provider.spec.id, model="", params={}, inputs={},
                                          remote_id=remote_id, origin=self._origin_of(provider)))
            raise _JobEnded
        job = found
        self.emit(job)
        if not adopted and job.remote_id != remote_id:
            log.error("job %s already has task %s; task %s is an orphan and is canceled where %s can",
                      job_id, job.remote_id, remote_id, provider.spec.name)
            await self._cancel_remote(replace(job, remote_id=remote_id))
            raise _JobEnded
        if job.state == JobState.CANCELED:  # canceled while the create was in flight: carry it out there too
            await self._cancel_remote(job)
        if job.terminal:  # (or another process finished it meanwhile)
            raise _JobEnded

    async def _reconcile(self, job: Job, provider: Provider) -> None:
        """After a create with an unknown outcome: find its task in the provider's list over a window of reads,
        or ask the person. Never sends the create again by itself."""
        if job.remote_id:
            self._update(job.id, state=JobState.RUNNING)
            return
        name = provider.spec.name
        if not provider.can_reconcile:
            self._update(job.id, needs_decision=True, error=unknown_outcome_message(name))
            return
        sent = job.submitted_at or job.created_at
        for offset in self.config.reconcile_reads:
            delay = sent + offset - self._clock()
            if delay > 0:
                await self._sleep(delay)
            job = self.store.get(job.id)
            if job.terminal or job.remote_id or job.needs_decision:
                return  # settled meanwhile (the create's answer arrived after all, a cancel, a decision)
            try:
                found = await plans.find_created(provider, self._job_input(job), self.store.remote_ids(job.provider))
            except ProviderError as exc:
                if exc.status_code in (404, 405):  # no list endpoint there: nothing can be looked up
                    self._update(job.id, needs_decision=True, error=unknown_outcome_message(name))
                    return
                raise
            if found:
                await self._record_task(job.id, found, provider)
                return
        minutes = max(1, round(self.config.reconcile_reads[-1] / 60))
        self._update(job.id, needs_decision=True, error=not_found_message(name, minutes))

    async def _poll_until_done(self, job: Job, provider: Provider) -> None:
        started = job.submitted_at or job.created_at
        unknown_since: float | None = None
        policy = self.config.poll.scaled(self.config.poll_interval or provider.default_poll_interval)
        planner = PollPlanner(policy, self.durations.get(job.provider, job.model), self._rng)
        first = planner.first_delay(self._clock() - started)
        if first > 0:
            await self._sleep(first)
        while True:
            status = await self._poll_checked(job, provider, started)
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
                limit = self.config.unknown_status_limit or provider.unknown_status_window
                if self._clock() - unknown_since > limit:
                    self._update(job.id, waiting=f"waiting: {provider.spec.name} keeps saying {status.raw!r}, which "
                                 "Reeldeck does not know; still checking", waiting_on_you=False)
                    self._waiting.add(job.id)
            else:
                unknown_since = None
            await self._sleep(planner.next_delay(status, self._clock() - started))

    async def _poll_checked(self, job: Job, provider: Provider, started: float) -> RemoteStatus:
        """One poll; a task the provider does not know is gone only long past its retention time (or when the
        person gave its id and it was never seen)."""
        try:
            return await self._poll_once(job, provider)
        except NotFoundError as exc:
            current = self.store.get(job.id)
            if current.remote_status == ATTACHED:
                raise TaskGoneError(f"{provider.spec.name} does not know task {job.remote_id}: check the id.",
                                    detail=exc.detail) from None
            if self._clock() - started > self.config.task_retention:
                raise TaskGoneError(f"{provider.spec.name} no longer knows this job's task ({job.remote_id}); it "
                                    "is gone.", detail=exc.detail) from None
            raise

    async def _poll_once(self, job: Job, provider: Provider) -> RemoteStatus:
        answer = await provider.api.send(provider.build_poll(job.remote_id or "", job.model))
        status = provider.parse_poll(answer.body, answer.headers)
        self._last_status[job.id] = status
        charge = reported_charge(job.provider, answer.body)
        if charge is not None:
            self.store.record_charge(job.id, charge)
        current = self.store.get(job.id)
        if current.terminal:
            raise _JobEnded  # canceled by another process meanwhile
        self._update(job.id, remote_status=status.raw, progress=status.progress, eta=status.eta,
                     polls=current.polls + 1)
        return status

    async def _download(self, job: Job, provider: Provider) -> None:
        # The last poll's answer is used once: a later attempt asks again (a URL may have come since, or expired).
        status = self._last_status.pop(job.id, None) or await self._poll_once(job, provider)
        dest = self.library_dir / video_file_name(job)
        for refreshed in (False, True):
            source = provider.download_source(job.remote_id or "", status)
            headers = provider.api.auth_for(source.url) if source.with_auth else {}
            try:
                result = await download_video(self.hub.transport, source.url, dest, headers=headers,
                                              progress=self._download_progress(job.id))
                break
            except ExpiredURLError as exc:
                if refreshed:
                    if exc.status_code == 410 and source.with_auth:  # the provider's own API says: deleted
                        raise TaskGoneError(f"{provider.spec.name} no longer keeps this video (HTTP 410: gone); it "
                                            "can no longer be downloaded.") from None
                    raise DownloadError("The result link expired and a fresh one did not work either.") from None
                log.info("job %s: result link expired; asking for a fresh one", job.id)
                status = await self._poll_once(job, provider)
        self._last_status.pop(job.id, None)  # (set again by the refresh poll)
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
            auth = provider.api.auth_for(source.url) if source.with_auth else {}
            status, data = await self.hub.transport.fetch(source.url, name=provider.spec.name, limit=THUMBNAIL_BYTES,
                                                          auth=auth, auth_origin=source.url)
            if status == 200 and data:
                target = Path(job.video_path).with_suffix(".thumbnail.webp")
                await asyncio.to_thread(target.write_bytes, data)
        except (OSError, ReeldeckError) as exc:
            log.info("job %s: no provider thumbnail (%s)", job.id, exc)

    def _download_progress(self, job_id: str) -> Callable[[int, int | None], None]:
        def report(done: int, total: int | None) -> None:
            if self._leases.get(job_id) == -1:
                raise LeaseLostError(f"Job {job_id} is worked by another process now.")
            self.download_progress[job_id] = (done, total)
            job = self.store.find(job_id)
            if job is not None:
                self.emit(job)
        return report

    def _finish(self, job_id: str, state: JobState, *, error: str | None, fenced: bool = True,
                **changes: object) -> Job:
        self.download_progress.pop(job_id, None)
        write = self._update if fenced else self._set
        return write(job_id, state=state, error=error, finished_at=self._clock(), waiting=None,
                     waiting_on_you=False, **changes)

    def _fail(self, job_id: str, exc: ReeldeckError) -> None:
        try:
            job = self.store.find(job_id)
            if job is None or job.terminal:
                return
            log.warning("job %s failed: %s %s", job_id, exc.message, exc.detail)
            self._finish(job_id, JobState.FAILED, error=exc.message)
        except StoreError as err:
            log.warning("job %s: could not record its failure (%s)", job_id, err.message)


#: A write made just before a look may commit just after it: each look reads back this far.
LOOK_OVERLAP_SECONDS = 2.0
#: A job another process wrote a moment ago is left to it this long (it claims a job right after writing it).
TAKE_UP_AFTER_SECONDS = 2.0
#: ``remote_status`` of a task the person gave (track, decide --task-id) before its first poll answer.
ATTACHED = "attached"
#: The largest provider thumbnail kept beside a video.
THUMBNAIL_BYTES = 10 * 1024 * 1024


@dataclass(frozen=True)
class ForgottenJob:
    """A finished job removed from the store by ``Engine.forget``, with its annotation, for an undo."""

    job: Job
    annotation: Annotation


class TaskGoneError(ProviderError):
    """The provider provably no longer has the job's task (or never had the id the person gave)."""


def _has_task(job: Job) -> bool:
    """True when the job has a remote task, or may have one (a create whose outcome is unknown)."""
    return bool(job.remote_id) or job.state == JobState.SUBMITTING


def _refused(exc: ProviderError) -> bool:
    """True when the provider's answer proves the create was refused (nothing was made): a 4xx that is not
    408 (timeout), 409 (conflict) or 429 (rate limit, see ``surely_not_processed``)."""
    code = exc.status_code
    return code is not None and 400 <= code < 500 and code not in (408, 409, 429)


def _passing_before_create(problem: ReeldeckError) -> bool:
    """Problems a job that has made nothing yet waits out instead of failing: the database is busy, the
    network is down, a rate limit, a missing key or base URL."""
    if isinstance(problem, StoreBusyError | ConfigError):
        return True
    return isinstance(problem, ProviderError) and surely_not_processed(problem)


def _needs_person(problem: ReeldeckError) -> bool:
    """Only the person can remove these causes (a key, a base URL, account credit, disk space)."""
    return isinstance(problem, ConfigError | AuthError | NoCreditsError | DiskFullError)


def _unexpected(exc: Exception) -> ReeldeckError:
    log.error("unexpected error", exc_info=exc)
    return ReeldeckError(f"Unexpected error: {type(exc).__name__}: {exc}")


class _JobEnded(Exception):
    """The job reached a terminal state elsewhere; stop working it."""


class _Requeued(Exception):
    """The queue was paused before the job's create: it gives its slot back and waits in the queue again."""


def failure_message(provider_name: str, status: RemoteStatus) -> str:
    reason = status.error or f"status {status.raw!r}"
    return f"{provider_name} could not make this video: {reason}"


def not_found_message(provider_name: str, minutes: int) -> str:
    return (f"The submission's answer was lost, and {provider_name} showed no task for this job in {minutes} minutes "
            "of looking, so it was probably not created. If you find it on the provider's dashboard, give its task "
            "id; otherwise send it again (you may be charged twice if it was created), or give up.")


def unknown_outcome_message(provider_name: str) -> str:
    return (f"The submission reached {provider_name} but its answer was lost, and {provider_name} offers no way to "
            "check whether the job was created. If you find it on the provider's dashboard, give its task id; "
            "otherwise send it again (you may be charged twice if it was created), or give up (nothing more is sent).")


_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def video_file_name(job: Job) -> str:
    """Reeldeck names result files itself: date, provider, model, prompt words and job id. Never from a server."""
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(job.created_at or time.time()))
    words = "-".join(_UNSAFE.sub("", w) for w in job.prompt.split()[:5])[:40].strip("-.") or "video"
    model = _UNSAFE.sub("-", job.model).strip("-.")
    return f"{stamp}_{job.provider}_{model}_{words}_{job.id}.mp4"
