"""What can still be done with a job: remix its video, retry it, generate it again.

One rule for each, read from the catalog (a model's ``remix`` and ``lifecycle``): the engine refuses an operation
with these words (``InputError``, before anything is stored or sent) and the window greys the action with the same
words as its reason. Each function answers ``None`` when the operation may go ahead.
"""

from __future__ import annotations

from core.errors import InputError
from core.jobs import Job, JobState
from core.params import ModelSpec, ProviderSpec
from core.providers import provider_class
from core.submission import check_usable


def remix_problem(job: Job) -> str | None:
    """Why ``job``'s video cannot be remixed: its provider or its model does not remix, it is not a finished video
    at the provider, or its model takes no new job (a remix is a new job of the same model)."""
    try:
        cls = provider_class(job.provider)
        spec = cls.declared()
        model = spec.model(job.model)
    except InputError as exc:
        return exc.message
    remixable = [m for m in spec.models if m.can_remix]
    if not cls.can_remix or not remixable:
        return f"{spec.name} cannot remix videos."
    if not model.can_remix:
        return f"{model.label} videos cannot be remixed: on {spec.name} only {_names(remixable)} videos can."
    if job.state != JobState.COMPLETED or not job.remote_id:
        return "Only a finished video can be remixed."
    return _retired_problem(spec, model)


def retry_problem(job: Job) -> str | None:
    """Why retrying ``job`` is refused: it would send a new create (no task was made) of a model the provider no
    longer serves. A job that has its task at the provider is always resumed, whatever its model's lifecycle."""
    return new_job_problem(job) if retry_sends_a_create(job) else None


def retry_sends_a_create(job: Job) -> bool:
    """A retry makes a new create when no task was made: a failed or canceled job, or a waiting one not yet sent."""
    if job.remote_id:
        return False
    return job.state in (JobState.FAILED, JobState.CANCELED) or (job.state == JobState.PENDING and bool(job.waiting))


def new_job_problem(job: Job) -> str | None:
    """Why a new job like ``job`` (generate again) is refused: its model is retired (the words a new submit gets)."""
    try:
        spec = provider_class(job.provider).declared()
        model = spec.model(job.model)
    except InputError as exc:
        return exc.message
    return _retired_problem(spec, model)


def _retired_problem(spec: ProviderSpec, model: ModelSpec) -> str | None:
    try:
        check_usable(spec, model)
    except InputError as exc:
        return exc.message
    return None


def _names(models: list[ModelSpec]) -> str:
    labels = [m.label for m in models]
    return labels[0] if len(labels) == 1 else f"{', '.join(labels[:-1])} and {labels[-1]}"
