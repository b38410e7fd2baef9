"""Writes for mock exams: start (or resume) an attempt, save answers on every click, enforce the server's
deadline, submit and score."""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from trainer.accounts.models import User
from trainer.bank.models import Blueprint, Item
from trainer.bank.scoring import normalise_response, score_response
from trainer.bank.services import item_versions_lock
from trainer.exams.assembly import assemble_form
from trainer.exams.models import AttemptItem, AttemptStatus, ExamAttempt, ExamForm, ExamFormItem
from trainer.practice.models import Response

if TYPE_CHECKING:
    from trainer.courses.models import Assignment


class ExamClosed(Exception):
    """The attempt is over (submitted, or its deadline passed): the answer was not saved."""


def _seen_items(learner: User) -> set[int]:
    seen = set(AttemptItem.objects.filter(attempt__learner=learner).values_list("item_id", flat=True))
    return seen | set(Response.objects.filter(learner=learner).values_list("item_id", flat=True))


def exam_start(
    *, learner: User, blueprint: Blueprint | None = None, form: ExamForm | None = None, time_multiplier: float = 1.0,
    seed: int | None = None, assignment: Assignment | None = None, minutes: int | None = None,
) -> ExamAttempt:  # fmt: skip
    """Start an attempt, or return the learner's active one for the same exam (one active attempt per exam).
    ``time_multiplier`` is the learner's accommodation; ``minutes`` overrides the blueprint's time limit."""
    assert (blueprint is None) != (form is None), "an attempt is either from a blueprint or from a fixed form"
    same_exam = ExamAttempt.objects.filter(learner=learner, status=AttemptStatus.ACTIVE, assignment=assignment)
    active = (same_exam if assignment else same_exam.filter(blueprint=blueprint, form=form)).first()
    if active is not None:
        exam_enforce_deadline(active)
        if active.is_active:
            return active
    now = timezone.now()
    if blueprint is not None:
        rng = random.Random(seed if seed is not None else f"{learner.pk}:{now.isoformat()}")  # noqa: S311
        slots = [
            (s.item_id, s.domain_id, s.pilot)
            for s in assemble_form(blueprint=blueprint, seen=_seen_items(learner), rng=rng)
        ]
        track, name, minutes, pass_mark = (
            blueprint.track,
            blueprint.name,
            blueprint.time_limit_minutes,
            blueprint.pass_mark_percent,
        )
    else:
        assert form is not None
        slots = [(fi.item_id, fi.domain_id, fi.pilot) for fi in form.form_items.all()]
        track, name = form.track, form.name
        minutes = minutes or form.time_limit_minutes
        pass_mark = form.blueprint.pass_mark_percent if form.blueprint else None
    versions = dict(Item.objects.filter(pk__in=[s[0] for s in slots]).values_list("pk", "current_version_id"))
    try:
        with transaction.atomic():
            attempt = ExamAttempt.objects.create(
                learner=learner, track=track, blueprint=blueprint, form=form, name=name, started_at=now,
                assignment=assignment,
                deadline=now + timedelta(minutes=minutes * time_multiplier), time_multiplier=time_multiplier,
                pass_mark_percent=pass_mark,
            )  # fmt: skip
            AttemptItem.objects.bulk_create(
                AttemptItem(attempt=attempt, position=n, item_id=item_id, version_id=versions[item_id],
                            domain_id=domain_id, pilot=pilot)
                for n, (item_id, domain_id, pilot) in enumerate(slots, start=1)
            )  # fmt: skip
            item_versions_lock(version_ids=versions.values())
    except IntegrityError:  # a second tab started the same exam at the same moment: resume that one
        return ExamAttempt.objects.get(
            learner=learner, status=AttemptStatus.ACTIVE, blueprint=blueprint, form=form, assignment=assignment
        )
    return attempt


def exam_enforce_deadline(attempt: ExamAttempt) -> ExamAttempt:
    """Checked on every request and by the periodic sweep: an attempt past its deadline is submitted as is."""
    if attempt.is_active and timezone.now() >= attempt.deadline:
        exam_submit(attempt=attempt, expired=True)
        attempt.refresh_from_db()
    return attempt


def exam_save_answer(
    *, attempt: ExamAttempt, position: int, raw: dict[str, Any] | None = None, flagged: bool | None = None,
    time_spent_ms: int = 0,
) -> AttemptItem:  # fmt: skip
    """Save one click: an answer and/or the flag. Refused once the attempt is over."""
    exam_enforce_deadline(attempt)
    if not attempt.is_active:
        raise ExamClosed("This exam is over: answers can no longer be changed.")
    slot = AttemptItem.objects.select_related("version", "item").get(attempt=attempt, position=position)
    fields = []
    if raw is not None:
        slot.response = normalise_response(slot.version, slot.item.type, raw)
        slot.answered_at = timezone.now()
        fields += ["response", "answered_at"]
    if flagged is not None:
        slot.flagged = flagged
        fields.append("flagged")
    if time_spent_ms:
        slot.time_spent_ms += min(time_spent_ms, 3_600_000)
        fields.append("time_spent_ms")
    if fields:
        # Only while still active: a save racing the deadline sweep never lands after submission.
        updated = AttemptItem.objects.filter(pk=slot.pk, attempt__status=AttemptStatus.ACTIVE).update(
            **{f: getattr(slot, f) for f in fields}
        )
        if not updated:
            raise ExamClosed("This exam is over: answers can no longer be changed.")
    return slot


@transaction.atomic
def exam_submit(*, attempt: ExamAttempt, expired: bool = False) -> ExamAttempt:
    """Score every scored (non-pilot) item; results per domain. Idempotent: a second submit changes nothing."""
    locked = ExamAttempt.objects.select_for_update().get(pk=attempt.pk)
    if not locked.is_active:
        return locked
    slots = list(locked.attempt_items.select_related("version", "item", "domain"))
    per_domain: dict[int, dict[str, Any]] = defaultdict(lambda: {"right": 0.0, "total": 0})
    right = 0.0
    total = 0
    for slot in slots:
        if slot.response is None:
            slot.correct, slot.score = False, 0.0
        else:
            result = score_response(slot.version, slot.item.type, slot.response)
            slot.correct, slot.score = result.correct, float(result.correct)
        if slot.pilot:
            continue
        total += 1
        right += slot.score or 0.0
        assert slot.domain is not None
        entry = per_domain[slot.domain_id or 0]
        entry.update(code=slot.domain.code, name=slot.domain.name, order=slot.domain.order)
        entry["right"] += slot.score or 0.0
        entry["total"] += 1
    AttemptItem.objects.bulk_update(slots, ["correct", "score"])
    locked.status = AttemptStatus.EXPIRED if expired else AttemptStatus.SUBMITTED
    locked.submitted_at = min(timezone.now(), locked.deadline) if expired else timezone.now()
    locked.scored_total = total
    locked.scored_right = right
    locked.percent = round(100 * right / total, 1) if total else 0.0
    locked.domain_results = sorted(
        ({**v, "percent": round(100 * v["right"] / v["total"], 1)} for v in per_domain.values()),
        key=lambda d: d["order"],
    )
    locked.save()
    return locked


def exam_sweep_overdue() -> int:
    """Submit every active attempt whose deadline has passed (run periodically by Celery beat)."""
    n = 0
    for attempt in ExamAttempt.objects.filter(status=AttemptStatus.ACTIVE, deadline__lte=timezone.now()):
        exam_submit(attempt=attempt, expired=True)
        n += 1
    return n


@transaction.atomic
def exam_form_publish(*, blueprint: Blueprint, by: User, name: str = "", seed: int | None = None) -> ExamForm:
    """Freeze one assembly of a blueprint as a fixed form that every learner sits identically (the same items in
    the same order). Items already on this blueprint's other published forms are avoided while others remain, so
    successive forms are parallel forms."""
    used = set(
        ExamFormItem.objects.filter(form__blueprint=blueprint, form__published=True).values_list("item_id", flat=True)
    )
    rng = random.Random(seed if seed is not None else timezone.now().isoformat())  # noqa: S311
    slots = assemble_form(blueprint=blueprint, seen=used, rng=rng)
    number = ExamForm.objects.filter(blueprint=blueprint).count() + 1
    form = ExamForm.objects.create(
        name=name or f"{blueprint.name}, form {number}", track=blueprint.track, blueprint=blueprint,
        time_limit_minutes=blueprint.time_limit_minutes, published=True, created_by=by,
    )  # fmt: skip
    ExamFormItem.objects.bulk_create(
        ExamFormItem(form=form, position=n, item_id=s.item_id, domain_id=s.domain_id, pilot=s.pilot)
        for n, s in enumerate(slots, start=1)
    )
    return form
