"""The command line: a contract scripts depend on (README.md, "Command line"). Exit 0 all good, 1 a job failed or
was canceled, 2 bad input — a clear message on stderr and no request sent. With ``--json`` stdout holds only JSON."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from core import __version__, ledger
from core.errors import ConfigError, InputError, ReeldeckError, StoreError
from core.jobs import Job, JobState, iso
from core.paths import DataDir
from core.prompts import record_quietly
from core.providers import PROVIDER_IDS, all_specs, provider_spec
from core.providers.catalog import problems as catalog_problems
from core.redact import RedactingWriter
from core.runtime import Runtime
from core.secrets import KeyStore, env_var, mask
from core.submission import JobRequest

EXIT_OK, EXIT_JOB_FAILED, EXIT_BAD_INPUT = 0, 1, 2


class UsageError(Exception):
    """argparse found bad arguments."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> Any:  # argparse would exit; we keep control of the exit code
        raise UsageError(f"{self.prog}: {message}")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="reeldeck", description="Reeldeck — cloud AI video generation studio.")
    parser.add_argument("--sandbox", action="store_true", help="run the built-in provider emulator; no keys needed")
    parser.add_argument("--version", action="version", version=f"Reeldeck {__version__}")
    commands = parser.add_subparsers(dest="command", parser_class=_Parser)

    providers = commands.add_parser("providers", help="providers, models and their parameters")
    providers.add_argument("--json", action="store_true")

    submit = commands.add_parser("submit", help="submit a job")
    submit.add_argument("--provider", required=True, help=", ".join(PROVIDER_IDS))
    submit.add_argument("--model", required=True)
    submit.add_argument("--prompt")
    submit.add_argument("--image", help="first frame / reference image: a file or an http(s) URL")
    submit.add_argument("--last-image", help="last frame image (gateway)")
    submit.add_argument("--ref-image", action="append", default=[], help="reference image, repeatable (gateway)")
    submit.add_argument("--motion-video", help="motion video file, URL or preset name (novita)")
    submit.add_argument("--param", action="append", default=[], metavar="NAME=VALUE")
    submit.add_argument("--wait", action="store_true", help="wait until the video is downloaded")
    submit.add_argument("--json", action="store_true")

    wait = commands.add_parser("wait", help="resume unfinished jobs until they end")
    wait.add_argument("job_ids", nargs="*", metavar="JOB_ID")
    wait.add_argument("--timeout", type=float, default=None, metavar="S")
    wait.add_argument("--json", action="store_true")

    jobs = commands.add_parser("jobs", help="list jobs")
    jobs.add_argument("--json", action="store_true")

    show = commands.add_parser("show", help="show one job")
    show.add_argument("job_id", metavar="JOB_ID")
    show.add_argument("--json", action="store_true")

    cancel = commands.add_parser("cancel", help="cancel a job")
    cancel.add_argument("job_id", metavar="JOB_ID")

    decide = commands.add_parser("decide", help="settle a job whose create has an unknown outcome")
    decide.add_argument("job_id", metavar="JOB_ID")
    choice = decide.add_mutually_exclusive_group(required=True)
    choice.add_argument("--task-id", metavar="REMOTE_ID", help="the task you found at the provider: track it")
    choice.add_argument("--send-again", action="store_true", help="send the create again (may be charged twice)")
    choice.add_argument("--give-up", action="store_true", help="end the job as canceled; nothing more is sent")

    track = commands.add_parser("track", help="follow a task created elsewhere and download its video")
    track.add_argument("--provider", required=True, help=", ".join(PROVIDER_IDS))
    track.add_argument("--model", required=True)
    track.add_argument("--task-id", required=True, metavar="REMOTE_ID")
    track.add_argument("--wait", action="store_true", help="wait until the video is downloaded")
    track.add_argument("--json", action="store_true")

    keys = commands.add_parser("keys", help="API keys in the OS keyring")
    key_commands = keys.add_subparsers(dest="keys_command", parser_class=_Parser, required=True)
    key_set = key_commands.add_parser("set", help="store a key read from standard input")
    key_set.add_argument("provider_id", metavar="ID")
    key_delete = key_commands.add_parser("delete", help="remove a stored key")
    key_delete.add_argument("provider_id", metavar="ID")
    key_commands.add_parser("list", help="which providers have keys")

    ledger = commands.add_parser("ledger", help="what each job was estimated, what the provider reported, and how "
                                 "it ended, for one month")
    ledger.add_argument("--month", metavar="YYYY-MM", help="the month (local time) of the jobs; default this month")
    ledger.add_argument("--csv", metavar="FILE", help="write the month as CSV to FILE (`-` for standard output)")

    sandbox = commands.add_parser("sandbox", help="run the provider emulator on loopback")
    sandbox.add_argument("--port", type=int, default=8790, metavar="N", help="first of eight consecutive ports")
    return parser


def main(argv: Sequence[str] | None = None, *, stdout: TextIO | None = None, stderr: TextIO | None = None) -> int:
    """Run one command; returns the exit status. Nothing it prints holds a key (see ``core.redact``)."""
    out, err = RedactingWriter(stdout or sys.stdout), RedactingWriter(stderr or sys.stderr)
    try:
        return _main(argv, out, err)
    finally:
        out.flush()
        err.flush()


def _main(argv: Sequence[str] | None, out: Any, err: Any) -> int:
    try:
        args = build_parser().parse_args(list(argv) if argv is not None else None)
    except UsageError as exc:
        print(str(exc), file=err)
        return EXIT_BAD_INPUT
    try:
        return _dispatch(args, out, err)
    except (InputError, ConfigError, StoreError) as exc:
        print(f"error: {exc.message}", file=err)
        return EXIT_BAD_INPUT
    except ReeldeckError as exc:
        print(f"error: {exc.message}", file=err)
        return EXIT_JOB_FAILED
    except KeyboardInterrupt:
        print("interrupted; unfinished jobs resume with `python main.py wait`", file=err)
        return 130


def _dispatch(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    command = args.command
    if command == "providers":
        return _providers(args, out, err)
    if command == "keys":
        return _keys(args, out, err)
    if command == "sandbox":
        return _sandbox(args, out)
    data = DataDir.from_env()
    handlers = {"submit": _submit, "wait": _wait, "jobs": _jobs, "show": _show, "cancel": _cancel,
                "decide": _decide, "track": _track, "ledger": _ledger}
    return asyncio.run(_with_runtime(handlers[command], args, data, out, err))


#: Commands that talk to providers (in sandbox mode: to the emulator, which they start).
_WORKING_COMMANDS = ("submit", "wait", "cancel", "decide", "track")


async def _with_runtime(handler: Any, args: argparse.Namespace, data: DataDir, out: TextIO, err: TextIO) -> int:
    runtime = Runtime(data, sandbox_mode=args.sandbox, emulator=args.command in _WORKING_COMMANDS)
    await runtime.start()
    for notice in runtime.notices:
        print(f"warning: {notice}", file=err)
    try:
        return int(await handler(runtime, args, out, err))
    finally:
        await runtime.close()


# --- providers ---------------------------------------------------------------------------------------------------


def _providers(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    specs = all_specs()
    for problem in catalog_problems():  # a broken catalog file is said, the rest is listed
        print(f"Catalog file skipped: {problem}", file=err)
    if args.json:
        json.dump([s.describe() for s in specs], out, indent=2)
        out.write("\n")
        return EXIT_OK
    for spec in specs:
        where = spec.default_base_url or f"base URL: set REELDECK_{spec.id.upper()}_BASE_URL"
        print(f"{spec.id}  {spec.name}  ({where})", file=out)
        for model in spec.models:
            print(f"  {model.id}  {model.label}{_model_note(model)}", file=out)
            for param in model.params:
                print(f"    {_describe_param(param)}", file=out)
            for slot in model.slots:
                flag = "--" + slot.name.replace("_", "-")
                print(f"    {flag}  {slot.label}" + (f" (up to {slot.max_count})" if slot.max_count > 1 else ""),
                      file=out)
    return EXIT_OK


def _model_note(model: Any) -> str:
    """What the plain listing adds to a model's line: its lifecycle when not available, a user file it came from."""
    notes = []
    if not model.lifecycle.usable:
        notes.append(f"{model.lifecycle.status}{' ' + model.lifecycle.date if model.lifecycle.date else ''}")
    if model.origin and model.origin != "shipped":
        notes.append(f"from {model.origin}")
    return f"  [{'; '.join(notes)}]" if notes else ""


def _describe_param(param: Any) -> str:
    bits = [param.type.value]
    if param.choices:
        bits.append("|".join(str(c) for c in param.choices))
    if param.minimum is not None or param.maximum is not None:
        low = "" if param.minimum is None else f"{param.minimum:g}"
        high = "" if param.maximum is None else f"{param.maximum:g}"
        bits.append(f"{low}..{high}")
    if param.max_length:
        bits.append(f"<= {param.max_length} chars")
    if param.default is not None:
        bits.append(f"default {param.default}")
    if param.required:
        bits.append("required")
    name = "--prompt" if param.name == "prompt" else f"--param {param.name}"
    return f"{name}  ({', '.join(bits)}) {param.help}"


# --- submit / wait / jobs / show / cancel ------------------------------------------------------------------------


def _request_from(args: argparse.Namespace) -> JobRequest:
    spec = provider_spec(args.provider)
    spec.model(args.model)
    params: dict[str, Any] = {}
    for item in args.param:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise InputError(f"--param takes NAME=VALUE (got {item!r}).")
        if name.strip() == "prompt":
            raise InputError("Give the prompt with --prompt, not --param.")
        params[name.strip()] = value
    if args.prompt is not None:
        params["prompt"] = args.prompt
    inputs = {
        "image": [args.image] if args.image else [],
        "last_image": [args.last_image] if args.last_image else [],
        "ref_image": list(args.ref_image),
        "motion_video": [args.motion_video] if args.motion_video else [],
    }
    return JobRequest(args.provider, args.model, params, {k: v for k, v in inputs.items() if v})


async def _submit(runtime: Runtime, args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    request = _request_from(args)
    engine = runtime.engine
    assert engine is not None
    reporter = ProgressReporter(err)
    engine.subscribe(reporter)
    job = await engine.submit(request)
    record_quietly(runtime.data.root, str(request.params.get("prompt") or ""), request.provider, request.model)
    for slot, notes in job.input_notes.items():
        for note in notes:
            print(f"{slot}: {note}", file=err)
    if args.wait:
        job = (await engine.wait([job.id]))[0]
    else:
        job = await _until_submitted(runtime, job.id)
    reporter.finish()
    _print_job(job, args.json, out)
    if args.wait:
        return EXIT_OK if job.state == JobState.COMPLETED else EXIT_JOB_FAILED
    return EXIT_JOB_FAILED if job.state in (JobState.FAILED, JobState.CANCELED) else EXIT_OK


async def _until_submitted(runtime: Runtime, job_id: str) -> Job:
    """Until the provider has the job (or it ended, needs a decision, or waits on something: `wait` goes on)."""
    assert runtime.engine is not None and runtime.store is not None
    done = asyncio.Event()

    def check(job: Job) -> None:
        if job.id == job_id and (job.remote_id or job.terminal or job.needs_decision or job.waiting):
            done.set()

    runtime.engine.subscribe(check)
    check(runtime.store.get(job_id))
    await done.wait()
    return runtime.store.get(job_id)


async def _wait(runtime: Runtime, args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    engine = runtime.engine
    assert engine is not None
    reporter = ProgressReporter(err)
    engine.subscribe(reporter)
    jobs = await engine.wait(args.job_ids or None, timeout=args.timeout)
    reporter.finish()
    _print_jobs(jobs, args.json, out)
    for job in (j for j in jobs if not j.terminal):
        print(f"job {job.id}: {_why_unfinished(job)}", file=err)
    return EXIT_OK if all(j.state == JobState.COMPLETED for j in jobs) else EXIT_JOB_FAILED


def _why_unfinished(job: Job) -> str:
    if job.needs_decision:
        return f"{job.error} Settle it with `python main.py decide {job.id} --task-id ID | --send-again | --give-up`."
    if job.waiting:
        return f"{job.waiting} (it resumes with `python main.py wait` once that is fixed)"
    return "still running (timed out); run `wait` again later"


async def _jobs(runtime: Runtime, args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    assert runtime.store is not None
    jobs = runtime.store.all()
    _print_jobs(jobs, args.json, out)
    if not jobs and not args.json:
        print("no jobs yet", file=err)
    return EXIT_OK


def _print_jobs(jobs: list[Job], as_json: bool, out: TextIO) -> None:
    """The jobs as a JSON array, or a line each."""
    if as_json:
        json.dump([j.to_json() for j in jobs], out, indent=2)
        out.write("\n")
        return
    for job in jobs:
        print(_job_line(job), file=out)


async def _show(runtime: Runtime, args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    assert runtime.store is not None
    _print_job(runtime.store.get(args.job_id), args.json, out)
    return EXIT_OK


async def _ledger(runtime: Runtime, args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    assert runtime.store is not None
    month = args.month or ledger.this_month(time.time())
    try:
        ledger.month_bounds(month)
    except ValueError as exc:
        raise InputError(str(exc)) from None
    store = runtime.store
    rows = [e for e in ledger.entries(store.all(), store.charges()) if ledger.in_month(e, month)]
    if args.csv:
        text = ledger.to_csv(rows)
        if args.csv == "-":
            out.write(text)
        else:
            ledger.write_csv(Path(args.csv), text)
            print(f"{len(rows)} jobs of {month} written to {args.csv}", file=err)
        return EXIT_OK
    for entry in rows:
        print(_ledger_line(entry), file=out)
    summary = ledger.totals(rows)
    reported = ", ".join(ledger.ReportedCharge(amount, unit, "").describe()
                         for unit, amount in summary.reported.items()) or "nothing"
    print(f"{month}: {summary.jobs} jobs, estimated ${summary.estimated_usd:.2f}, providers reported {reported}; "
          f"{summary.flagged} failed after the provider accepted them", file=err)
    return EXIT_OK


def _ledger_line(entry: ledger.LedgerEntry) -> str:
    job = entry.job
    estimate = "no estimate" if job.cost_usd is None else f"est. ${job.cost_usd:.2f}"
    reported = entry.reported.describe() if entry.reported else "not reported"
    line = (f"{job.id}  {iso(job.submitted_at or job.created_at)}  {job.provider}/{job.model}  "
            f"{job.remote_id or '-'}  {entry.outcome}  {estimate}  {reported}")
    return line + (f"  [{entry.flag}] {job.error or ''}".rstrip() if entry.flag else "")


async def _cancel(runtime: Runtime, args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    assert runtime.engine is not None and runtime.store is not None
    job = runtime.store.get(args.job_id)
    if job.terminal:
        print(f"job {job.id} already ended ({job.state}); nothing to cancel", file=err)
        return EXIT_OK
    job = await runtime.engine.cancel(args.job_id)
    print(f"job {job.id}: {job.state}", file=out)
    return EXIT_OK


async def _decide(runtime: Runtime, args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    assert runtime.engine is not None
    job = runtime.engine.decide(args.job_id, task_id_found=args.task_id, send_again=args.send_again,
                                give_up=args.give_up)
    if not job.terminal:
        job = await _until_submitted(runtime, job.id)
    print(f"job {job.id}: {job.state}" + (f" (task {job.remote_id})" if job.remote_id else ""), file=out)
    if not job.terminal:
        print("run `python main.py wait` to follow it to the end", file=err)
    return EXIT_OK


async def _track(runtime: Runtime, args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    engine = runtime.engine
    assert engine is not None
    reporter = ProgressReporter(err)
    engine.subscribe(reporter)
    job = await engine.track(args.provider, args.model, args.task_id)
    if args.wait:
        job = (await engine.wait([job.id]))[0]
    reporter.finish()
    _print_job(job, args.json, out)
    if args.wait:
        return EXIT_OK if job.state == JobState.COMPLETED else EXIT_JOB_FAILED
    return EXIT_JOB_FAILED if job.state in (JobState.FAILED, JobState.CANCELED) else EXIT_OK


def _print_job(job: Job, as_json: bool, out: TextIO) -> None:
    if as_json:
        json.dump(job.to_json(), out, indent=2)
        out.write("\n")
        return
    print(_job_line(job), file=out)
    for key in ("remote_id", "remote_status", "video_path", "waiting", "error"):
        value = getattr(job, key)
        if value:
            print(f"  {key}: {value}", file=out)


def _job_line(job: Job) -> str:
    progress = f" {job.progress:.0f}%" if job.progress is not None and not job.terminal else ""
    where = f"  {job.video_path}" if job.video_path else ""
    prompt = (job.prompt[:40] + "…") if len(job.prompt) > 40 else job.prompt
    return f"{job.id}  {job.state:<11}{progress}  {job.provider}/{job.model}  {prompt!r}{where}"


class ProgressReporter:
    """Prints job progress to stderr: one rewritten line on a terminal, plain lines otherwise."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.tty = bool(getattr(stream, "isatty", lambda: False)())
        self._last: dict[str, str] = {}

    def __call__(self, job: Job) -> None:
        text = f"job {job.id}: {job.state}"
        if job.remote_status and not job.terminal:
            text += f" ({job.remote_status})"
        if job.progress is not None and not job.terminal:
            text += f" {job.progress:.0f}%"
        if job.eta:
            text += f", about {job.eta:.0f}s left"
        if self._last.get(job.id) == text:
            return
        self._last[job.id] = text
        if self.tty:
            self.stream.write("\r\033[K" + text)
        else:
            self.stream.write(text + "\n")
        self.stream.flush()

    def finish(self) -> None:
        if self.tty and self._last:
            self.stream.write("\n")
            self.stream.flush()


# --- keys --------------------------------------------------------------------------------------------------------


def _keys(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    store = KeyStore()
    command = args.keys_command
    if command == "list":
        print(f"keyring backend: {store.backend_name}" + ("" if store.available else " (none usable)"), file=out)
        for provider_id in PROVIDER_IDS:
            key = store.get(provider_id)
            where = store.source(provider_id) or "not set"
            print(f"{provider_id:<9} {where:<12} {mask(key) if key else ''}", file=out)
        return EXIT_OK
    provider_id = args.provider_id
    if provider_id not in PROVIDER_IDS:
        raise InputError(f"Unknown provider {provider_id!r}. Known providers: {', '.join(PROVIDER_IDS)}.")
    if command == "delete":
        removed = store.delete(provider_id)
        print(f"{provider_id}: key removed" if removed else f"{provider_id}: no key was stored", file=out)
        return EXIT_OK
    key = _read_key(provider_id)
    store.set(provider_id, key)
    print(f"{provider_id}: key stored in {store.backend_name} ({mask(key)})", file=out)
    if store.source(provider_id) == "environment":
        print(f"note: {env_var(provider_id)} is set and takes precedence over the stored key", file=err)
    return EXIT_OK


def _read_key(provider_id: str) -> str:
    if sys.stdin is None:
        raise InputError("No key given on standard input.")
    if sys.stdin.isatty():
        return getpass.getpass(f"API key for {provider_id}: ")
    key = sys.stdin.readline().strip()
    if not key:
        raise InputError("No key given on standard input.")
    return key


# --- sandbox -----------------------------------------------------------------------------------------------------


def _sandbox(args: argparse.Namespace, out: TextIO) -> int:
    from core.sandbox import serve_forever

    if not 0 <= args.port <= 65535 - 8:
        raise InputError("--port must be between 0 and 65527 (eight consecutive ports are used).")
    data = DataDir.from_env().ensure()
    try:
        asyncio.run(serve_forever(data.sandbox, args.port))
    except KeyboardInterrupt:
        pass
    except OSError as exc:
        raise ConfigError(f"The sandbox could not listen on port {args.port}: {exc.strerror or exc}.") from None
    return EXIT_OK
