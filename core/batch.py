"""Batches: one prompt and inputs × several providers/models × several seeds, in one action."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from core.providers import provider_spec
from core.submission import JobRequest


@dataclass(frozen=True)
class Target:
    """A provider and model to run the batch on."""

    provider: str
    model: str


def new_group_id() -> str:
    return "g" + uuid.uuid4().hex[:11]


def expand_batch(base: JobRequest, targets: Sequence[Target], seeds: Sequence[int] = (),
                 prompts: Sequence[str] = ()) -> list[JobRequest]:
    """Every job of a batch, sharing a group id: per target, one job per prompt × seed. Seeds apply to models that
    have a ``seed`` parameter, ``prompts`` (a template's fills, ``core.templates.expand``) to models that have a
    ``prompt``; a model without one gets a single job for it. Parameters a model does not declare are dropped for
    it (e.g. Sora's ``size`` when the batch also targets the gateway)."""
    group = new_group_id()
    jobs: list[JobRequest] = []
    for target in targets:
        model = provider_spec(target.provider).model(target.model)
        known = {p.name for p in model.params}
        params = {k: v for k, v in base.params.items() if k in known}
        inputs = {k: v for k, v in base.inputs.items() if model.slot(k) is not None}
        seed_values: Sequence[int | None] = seeds if ("seed" in known and seeds) else (None,)
        prompt_values: Sequence[str | None] = prompts if ("prompt" in known and prompts) else (None,)
        for prompt, seed in itertools.product(prompt_values, seed_values):
            job_params = (dict(params) | ({"prompt": prompt} if prompt is not None else {})
                          | ({"seed": seed} if seed is not None else {}))
            jobs.append(JobRequest(target.provider, target.model, job_params, inputs, group_id=group))
    return jobs
