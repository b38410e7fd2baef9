"""Authoring pages of the question bank (instructors and admins only): list and search, create and edit, preview
as a learner sees it, review queue with blind answers, version history with diffs, lint and stats, import and
export, blueprints. Thin: the work is in services.py and selectors.py."""

from __future__ import annotations

import mimetypes
import secrets
from typing import Any, Literal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from labs.dicom.imaging import NotAnImage
from trainer.accounts.models import User
from trainer.bank.formats import get_format
from trainer.bank.forms import (
    OPTION_ROWS,
    PAIR_ROWS,
    REFERENCE_ROWS,
    BlueprintForm,
    ExportForm,
    ImportForm,
    ItemFilterForm,
    ItemForm,
    OptionFormSet,
    PairFormSet,
    ReferenceFormSet,
    ReviewDecisionForm,
    initial_from_item,
    item_from_forms,
    padded,
)
from trainer.bank.models import Blueprint, Item, ItemStatus, ItemType, ItemVersion
from trainer.bank.presentation import feedback_view, learner_view
from trainer.bank.responses import export_download
from trainer.bank.schema import ImportFailed, ItemIn, MediaIn
from trainer.bank.scoring import InvalidResponse, normalise_response, response_from_form, score_response
from trainer.bank.selectors import (
    BLIND_FIRST,
    DICOM_SUFFIX,
    bank_lint,
    bank_stats,
    blind_answer_correct,
    blind_answer_text,
    dicom_exhibit_png,
    item_for_authoring,
    item_history,
    item_is_author,
    item_key_hidden,
    item_lint,
    item_review_pending,
    item_review_refusal,
    item_versions,
    item_versions_diff,
    items_for_export,
    items_search,
    media_read,
    review_queue,
)
from trainer.bank.services import (
    AuthoringError,
    bank_import_data,
    blueprint_update,
    item_create,
    item_retire,
    item_review_answer,
    item_review_decide,
    item_submit,
    item_to_draft,
    item_update,
    media_store,
)
from trainer.core.permissions import instructor_required

IMPORT_CACHE_SECONDS = 3600
DEFAULT_PAGE_SIZE = 25


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


def _item(external_id: str) -> Item:
    try:
        return item_for_authoring(external_id=external_id)
    except Item.DoesNotExist:
        raise Http404("No such item.") from None


def _blind_first(request: HttpRequest, item: Item) -> HttpResponse | None:
    """Send a reviewer who has not answered the item blind yet to its review page (None: they may see the key)."""
    if not item_key_hidden(item=item, user=_user(request)):
        return None
    messages.info(request, f"{item.external_id}: {BLIND_FIRST}.")
    return redirect("bank:review", external_id=item.external_id)


# ----------------------------------------------------------------------------------------------------- list


@instructor_required
@require_safe
def item_list(request: HttpRequest) -> HttpResponse:
    data = request.GET.copy()
    data.setdefault("per_page", str(DEFAULT_PAGE_SIZE))
    form = ItemFilterForm(data)
    filters = form.filters()
    per_page = (form.cleaned_data.get("per_page") if form.is_valid() else None) or DEFAULT_PAGE_SIZE
    page = Paginator(items_search(**filters), per_page).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "bank/list.html",
        {"form": form, "page": page, "query": query.urlencode(), "filtered": any(filters.values())},
    )


# ------------------------------------------------------------------------------------------ create and edit


def _item_forms(
    request: HttpRequest, *, item: Item | None, initial: dict[str, Any], rows: tuple[list[Any], list[Any], list[Any]]
) -> tuple[ItemForm, Any, Any, Any]:
    data = request.POST if request.method == "POST" else None
    files = request.FILES if request.method == "POST" else None
    media = list(item.current_version.media) if item and item.current_version else []
    form = ItemForm(data, files, item=item, media=media, initial=initial)
    options = OptionFormSet(data, prefix="opt", initial=padded(rows[0], OPTION_ROWS))
    pairs = PairFormSet(data, prefix="pair", initial=padded(rows[1], PAIR_ROWS))
    references = ReferenceFormSet(data, prefix="ref", initial=padded(rows[2], REFERENCE_ROWS))
    return form, options, pairs, references


def _item_from_post(form: ItemForm, options: Any, pairs: Any, references: Any, *, item: Item | None) -> ItemIn | None:
    """Validate the forms, store a new image, and build the canonical item (None: errors are on the forms)."""
    valid = [f.is_valid() for f in (form, options, pairs, references)]  # every form, so every error shows
    if not all(valid):
        return None
    kept = set(form.cleaned_data.get("keep_media") or [])
    media = [m for m in (item.current_version.media if item and item.current_version else []) if m["file"] in kept]
    external_id = item.external_id if item else form.cleaned_data["external_id"]
    data = item_from_forms(form, options, pairs, references, external_id=external_id, media=media)
    if data is None:
        return None
    upload = form.cleaned_data.get("image")
    if upload:
        try:
            name = media_store(upload=upload)
        except AuthoringError as exc:
            form.add_error("image", str(exc))
            return None
        render: Literal["image", "dump"] = (
            "dump" if name.endswith(DICOM_SUFFIX) and form.cleaned_data["dicom_render"] == "dump" else "image"
        )
        exhibit = MediaIn(file=name, alt=form.cleaned_data["image_alt"], render=render)
        data = data.model_copy(update={"media": [*data.media, exhibit]})
    return data


@instructor_required
@require_http_methods(["GET", "POST"])
def item_new(request: HttpRequest) -> HttpResponse:
    item_type = request.GET.get("type", ItemType.SINGLE)
    item_type = item_type if item_type in ItemType.values else ItemType.SINGLE
    options: list[dict[str, Any]] = [{"text": "True"}, {"text": "False"}] if item_type == ItemType.TRUEFALSE else []
    form, option_set, pair_set, ref_set = _item_forms(
        request, item=None, initial={"type": item_type}, rows=(options, [], [])
    )
    if request.method == "POST":
        data = _item_from_post(form, option_set, pair_set, ref_set, item=None)
        if data is not None:
            try:
                item = item_create(data=data, by=_user(request))
            except AuthoringError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, f"Created {item.external_id} as a draft.")
                return redirect("bank:item-edit", external_id=item.external_id)
    return render(
        request,
        "bank/edit.html",
        {"form": form, "options": option_set, "pairs": pair_set, "references": ref_set, "item": None},
    )


@instructor_required
@require_http_methods(["GET", "POST"])
def item_edit(request: HttpRequest, external_id: str) -> HttpResponse:
    item = _item(external_id)
    if blind := _blind_first(request, item):
        return blind
    initial, options, pairs, references = initial_from_item(item)
    form, option_set, pair_set, ref_set = _item_forms(
        request, item=item, initial=initial, rows=(options, pairs, references)
    )
    if request.method == "POST":
        data = _item_from_post(form, option_set, pair_set, ref_set, item=item)
        if data is not None:
            before = item.current_version_id
            try:
                item = item_update(item=item, data=data, by=_user(request))
            except AuthoringError as exc:
                form.add_error(None, str(exc))
            else:
                item.refresh_from_db()
                if item.current_version_id != before and item.current_version is not None:
                    messages.success(
                        request,
                        f"Saved as version {item.current_version.number}: learners saw the previous version, "
                        "which is kept unchanged.",
                    )
                else:
                    messages.success(request, "Saved.")
                return redirect("bank:item-edit", external_id=item.external_id)
    return render(
        request,
        "bank/edit.html",
        {
            "form": form,
            "options": option_set,
            "pairs": pair_set,
            "references": ref_set,
            "item": item,
            "findings": item_lint(item),
            "is_author": item_is_author(item=item, user=_user(request)),
        },
    )


@instructor_required
@require_POST
def item_status(request: HttpRequest, external_id: str) -> HttpResponse:
    """Submit for review, take back to draft, retire, or reopen a retired item."""
    item = _item(external_id)
    action = request.POST.get("action", "")
    notes = request.POST.get("notes", "")
    user = _user(request)
    try:
        if action == "submit":
            item_submit(item=item, by=user)
            messages.success(request, f"{item.external_id} is in the review queue.")
        elif action == "retire":
            item_retire(item=item, by=user, notes=notes)
            messages.success(request, f"{item.external_id} is retired.")
        elif action == "draft":
            item_to_draft(item=item, by=user, notes=notes)
            messages.success(request, f"{item.external_id} is a draft again.")
        else:
            messages.error(request, "Unknown action.")
    except (AuthoringError, ValueError) as exc:
        messages.error(request, str(exc))
    return redirect("bank:item-edit", external_id=item.external_id)


# ------------------------------------------------------------------------------------------------- preview


def _version(item: Item, number: str | None) -> ItemVersion:
    if number:
        return get_object_or_404(ItemVersion, item=item, number=int(number) if number.isdigit() else 0)
    if item.current_version is None:
        raise Http404("This item has no content yet.")
    return item.current_version


@instructor_required
@require_http_methods(["GET", "POST"])
def item_preview(request: HttpRequest, external_id: str) -> HttpResponse:
    """The item exactly as a learner gets it (the learner view and the practice answer fields); answering shows
    the feedback a learner would see. Previewing never locks the version: an instructor is not a learner."""
    item = _item(external_id)
    if request.method == "POST" and (blind := _blind_first(request, item)):  # the feedback shows the key
        return blind
    version = _version(item, request.GET.get("version"))
    context: dict[str, Any] = {
        "item": item,
        "version": version,
        "view": learner_view(version, item_type=item.type, seed="preview"),
    }
    if request.method == "POST":
        try:
            response = normalise_response(version, item.type, response_from_form(item.type, request.POST))
        except InvalidResponse as exc:
            context["error"] = str(exc)
        else:
            score = score_response(version, item.type, response)
            context["feedback"] = feedback_view(
                version, item_type=item.type, response=response, correct=score.correct, score=score.score
            )
    return render(request, "bank/preview.html", context)


# -------------------------------------------------------------------------------------------------- review


@instructor_required
@require_safe
def review_list(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    rows = [(item, item_is_author(item=item, user=user)) for item in review_queue()]
    return render(request, "bank/review_queue.html", {"rows": rows})


@instructor_required
@require_http_methods(["GET", "POST"])
def review_item(request: HttpRequest, external_id: str) -> HttpResponse:
    """Blind first: the reviewer answers as a learner would; only then the key, rationales and the verdict."""
    item = _item(external_id)
    user = _user(request)
    version = item.current_version
    if version is None:
        raise Http404("This item has no content.")
    error = ""
    form = ReviewDecisionForm(request.POST if request.POST.get("step") == "decide" else None)
    if request.method == "POST":
        try:
            if request.POST.get("step") == "answer":
                item_review_answer(item=item, reviewer=user, raw=response_from_form(item.type, request.POST))
                return redirect("bank:review", external_id=item.external_id)
            if form.is_valid():
                item_review_decide(
                    item=item, reviewer=user, decision=form.cleaned_data["decision"], notes=form.cleaned_data["notes"]
                )
                messages.success(request, f"Review of {item.external_id} recorded.")
                return redirect("bank:review-queue")
        except (AuthoringError, InvalidResponse) as exc:
            error = str(exc)
    pending = item_review_pending(item=item, reviewer=user)
    context: dict[str, Any] = {
        "item": item,
        "version": version,
        "pending": pending,
        "form": form,
        "error": error,
        "refusal": item_review_refusal(item=item, user=user),
        "in_review": item.status == ItemStatus.IN_REVIEW,
    }
    context["view"] = learner_view(version, item_type=item.type, seed=f"review-{user.pk}")  # no key in it
    if pending is not None:
        response = _response_from_blind(version, item.type, pending.blind_answer)
        score = score_response(version, item.type, response)
        context["feedback"] = feedback_view(
            version, item_type=item.type, response=response, correct=score.correct, score=score.score
        )
        context["blind_text"] = blind_answer_text(version, item.type, pending.blind_answer)
    return render(request, "bank/review.html", context)


def _response_from_blind(version: ItemVersion, item_type: str, blind: Any) -> dict[str, Any]:
    """The blind answer (indexes) back in the response form scoring and feedback understand."""
    if item_type == ItemType.NUMERIC:
        return {"value": float(blind)}
    if item_type == ItemType.MATCHING:
        keys = [p["key"] for p in version.pairs]
        return {"pairs": {k: keys[i] for k, i in zip(keys, blind, strict=False)}}
    keys = [o["key"] for o in version.options]
    chosen = [keys[i] for i in blind]
    if item_type in {ItemType.SINGLE, ItemType.TRUEFALSE}:
        return {"choice": chosen[0]}
    if item_type == ItemType.MULTIPLE:
        return {"choices": chosen}
    return {"order": chosen}


# ------------------------------------------------------------------------------------------------- history


@instructor_required
@require_safe
def item_history_page(request: HttpRequest, external_id: str) -> HttpResponse:
    item = _item(external_id)
    if blind := _blind_first(request, item):  # older versions, diffs and other reviewers' answers show the key
        return blind
    versions = list(item_versions(item))
    events = [
        (
            e,
            blind_answer_text(e.version, item.type, e.blind_answer),
            blind_answer_correct(e.version, item.type, e.blind_answer),
        )
        for e in item_history(item)
    ]
    by_number = {v.number: v for v in versions}
    diff = None
    old = new = None
    if len(versions) >= 2:
        new = by_number.get(int(request.GET["to"])) if request.GET.get("to", "").isdigit() else versions[0]
        old = by_number.get(int(request.GET["from"])) if request.GET.get("from", "").isdigit() else versions[1]
        if old is None or new is None:
            raise Http404("No such version.")
        diff = item_versions_diff(old=old, new=new, item_type=item.type)
    return render(
        request,
        "bank/history.html",
        {"item": item, "versions": versions, "events": events, "diff": diff, "old": old, "new": new},
    )


# ------------------------------------------------------------------------------------------------ lint, stats


@instructor_required
@require_safe
def lint_page(request: HttpRequest) -> HttpResponse:
    report = bank_lint(_user(request))
    return render(request, "bank/lint.html", {"report": report, "stats": bank_stats()})


# ------------------------------------------------------------------------------------------ import / export


@instructor_required
@require_http_methods(["GET", "POST"])
def import_page(request: HttpRequest) -> HttpResponse:
    """Upload, check (a dry run lists every problem with its line), then import — all or nothing."""
    user = _user(request)
    context: dict[str, Any] = {}
    form = ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and request.POST.get("token"):
        stored = cache.get(f"bank-import:{user.pk}:{request.POST['token']}")
        if stored is None:
            messages.error(request, "That check has expired; upload the file again.")
            return redirect("bank:import")
        fmt, name, data = stored
        context.update(_run_import(data=data, fmt=fmt, name=name, user=user, dry_run=False))
        cache.delete(f"bank-import:{user.pk}:{request.POST['token']}")
        form = ImportForm()
    elif request.method == "POST" and form.is_valid():
        data, name = form.cleaned_data["file"], str(getattr(request.FILES.get("file"), "name", "") or "upload")
        fmt, dry_run = form.cleaned_data["format"], form.cleaned_data["dry_run"]
        context.update(_run_import(data=data, fmt=fmt, name=name, user=user, dry_run=dry_run))
        if dry_run and not context.get("problems") and not context.get("fatal"):
            token = secrets.token_urlsafe(16)
            cache.set(f"bank-import:{user.pk}:{token}", (fmt, name, data), IMPORT_CACHE_SECONDS)
            context["token"] = token
    context["form"] = form
    return render(request, "bank/import.html", context)


def _run_import(*, data: bytes, fmt: str, name: str, user: User, dry_run: bool) -> dict[str, Any]:
    try:
        report = bank_import_data(data=data, fmt=fmt, by=user, dry_run=dry_run)
    except ImportFailed as exc:
        return {"problems": exc.problems, "file_name": name, "fmt": fmt}
    except ValueError as exc:
        return {"problems": [], "fatal": str(exc), "file_name": name, "fmt": fmt}
    return {"report": report, "file_name": name, "fmt": fmt}


@instructor_required
@require_safe
def export_page(request: HttpRequest) -> HttpResponse:
    form = ExportForm(request.GET or None)
    if request.GET and form.is_valid():
        fmt = get_format(form.cleaned_data["format"])
        qs = items_for_export(user=_user(request))  # not the items this user is to review blind
        if form.cleaned_data["status"]:
            qs = qs.filter(status__in=form.cleaned_data["status"])
        return export_download(fmt, qs)
    return render(request, "bank/export.html", {"form": form})


# ----------------------------------------------------------------------------------------------- blueprints


@instructor_required
@require_safe
def blueprint_list(request: HttpRequest) -> HttpResponse:
    blueprints = Blueprint.objects.select_related("track").prefetch_related("domain_counts__domain")
    return render(request, "bank/blueprints.html", {"blueprints": blueprints})


@instructor_required
@require_http_methods(["GET", "POST"])
def blueprint_edit(request: HttpRequest, code: str) -> HttpResponse:
    blueprint = get_object_or_404(Blueprint.objects.select_related("track"), code=code)
    initial = {
        "name": blueprint.name,
        "time_limit_minutes": blueprint.time_limit_minutes,
        "pilot_items": blueprint.pilot_items,
        "pass_mark_percent": blueprint.pass_mark_percent,
        "source_note": blueprint.source_note,
    }
    form = BlueprintForm(request.POST or None, blueprint=blueprint, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            blueprint_update(
                blueprint=blueprint,
                name=form.cleaned_data["name"],
                time_limit_minutes=form.cleaned_data["time_limit_minutes"],
                pilot_items=form.cleaned_data["pilot_items"],
                pass_mark_percent=form.cleaned_data["pass_mark_percent"],
                source_note=form.cleaned_data["source_note"],
                counts=form.counts(),
            )
        except AuthoringError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, f"Saved {blueprint.name}.")
            return redirect("bank:blueprints")
    return render(request, "bank/blueprint_edit.html", {"form": form, "blueprint": blueprint})


# ------------------------------------------------------------------------------------------------------ media


@login_required
@require_safe
def media_file(request: HttpRequest, name: str) -> HttpResponse:
    """An item's exhibit file (image or DICOM object), for anyone signed in (items show them with the stem).
    Uploads are stored under a name made from their content; bundled ones live in fixtures/media."""
    data = media_read(name)
    if data is None:
        raise Http404("No such file.")
    kind = "application/dicom" if name.endswith(DICOM_SUFFIX) else (mimetypes.guess_type(name)[0] or "")
    response = HttpResponse(data, content_type=kind or "application/octet-stream")
    response["Content-Disposition"] = f'inline; filename="{name}"'
    return response


@login_required
@require_safe
def media_dicom_image(request: HttpRequest, name: str) -> HttpResponse:
    """A DICOM exhibit rendered as a PNG (first frame, the object's own window), for the stem's image."""
    try:
        png = dicom_exhibit_png(name)
    except LookupError:
        raise Http404("No such DICOM object.") from None
    except NotAnImage as exc:
        raise Http404(f"This DICOM object has no image to show: {exc}") from None
    return HttpResponse(png, content_type="image/png")
