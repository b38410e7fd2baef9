"""The bank's JSON API for instructors: one view per operation, each with its own input and output serializers,
calling the same services and selectors as the authoring pages. Learners get 403 on every endpoint."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from django.http import Http404, HttpResponse
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from pydantic import ValidationError as PydanticValidationError
from rest_framework import serializers, status
from rest_framework.exceptions import PermissionDenied
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.parsers import BaseParser, FormParser, JSONParser, MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from trainer.accounts.models import User
from trainer.bank.formats import FORMATS, get_format
from trainer.bank.models import Blueprint, CognitiveLevel, Difficulty, Item, ItemStatus, ItemType
from trainer.bank.responses import export_download
from trainer.bank.schema import ImportFailed, ItemIn, Problem
from trainer.bank.scoring import InvalidResponse
from trainer.bank.selectors import (
    BLIND_FIRST,
    DICOM_SUFFIX,
    bank_lint,
    bank_stats,
    item_for_authoring,
    item_history,
    item_key_hidden,
    item_to_schema,
    item_versions,
    items_for_export,
    items_search,
)
from trainer.bank.services import (
    REVIEW_DECISIONS,
    AuthoringError,
    bank_import_data,
    bank_import_text,
    bank_upload_read,
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
from trainer.core.permissions import IsInstructor

TAG = ["bank"]


class BankApi(APIView):
    """The shared door of every bank endpoint: instructors only; input checked by a serializer (``valid``); the
    item loaded by external id (``item``; 404); what a service refuses — ``AuthoringError``, ``InvalidResponse``,
    ``ImportFailed``, an item that does not validate — answered with a 400 naming the problem
    (``handle_exception``), so an endpoint is the call to its service and nothing else."""

    permission_classes = [IsAuthenticated, IsInstructor]

    def user(self, request: Request) -> User:
        assert isinstance(request.user, User)
        return request.user

    def item(self, external_id: str) -> Item:
        try:
            return item_for_authoring(external_id=external_id)
        except Item.DoesNotExist:
            raise Http404("No such item.") from None

    def item_with_key(self, request: Request, external_id: str) -> Item:
        """The item, for a response that shows its key: refused (403) to a reviewer who has not answered it
        blind yet."""
        item = self.item(external_id)
        if item_key_hidden(item=item, user=self.user(request)):
            raise PermissionDenied(BLIND_FIRST)
        return item

    def valid(self, serializer: type[serializers.Serializer[Any]], data: Any) -> dict[str, Any]:
        """The validated input (DRF answers 400 with the field errors otherwise)."""
        given = serializer(data=data)
        given.is_valid(raise_exception=True)
        return dict(given.validated_data)

    def item_changed(
        self, request: Request, external_id: str, change: Callable[[Item, User], object], *, reveal: bool = False
    ) -> Response:
        """Load the item, let a service change it, answer with the item as it now is."""
        item = self.item_with_key(request, external_id) if reveal else self.item(external_id)
        change(item, self.user(request))
        return Response(_item_out(self.item(external_id)))

    def handle_exception(self, exc: Exception) -> Response:
        if isinstance(exc, AuthoringError | InvalidResponse):
            return _error(str(exc))
        if isinstance(exc, ImportFailed):
            return Response(
                {"detail": exc.summary, "problems": _problems(exc.problems)}, status=status.HTTP_400_BAD_REQUEST
            )
        return super().handle_exception(exc)


def _problems(problems: list[Problem]) -> list[dict[str, Any]]:
    return [{"where": p.where, "line": p.line, "message": p.message} for p in problems]


def _error(message: str) -> Response:
    return Response({"detail": message}, status=status.HTTP_400_BAD_REQUEST)


# ------------------------------------------------------------------------------------------------ serializers


class OptionSerializer(serializers.Serializer[Any]):
    text = serializers.CharField()
    correct = serializers.BooleanField(default=False)
    rationale = serializers.CharField(allow_blank=True, default="")


class PairSerializer(serializers.Serializer[Any]):
    prompt = serializers.CharField()
    answer = serializers.CharField()
    rationale = serializers.CharField(allow_blank=True, default="")


class ReferenceSerializer(serializers.Serializer[Any]):
    standard = serializers.CharField()
    section = serializers.CharField(allow_blank=True, default="")
    title = serializers.CharField(allow_blank=True, default="")
    url = serializers.CharField(allow_blank=True, default="")


class DomainRefSerializer(serializers.Serializer[Any]):
    track = serializers.CharField()
    domain = serializers.CharField()


class MediaSerializer(serializers.Serializer[Any]):
    file = serializers.CharField()
    alt = serializers.CharField(allow_blank=True, default="")
    render = serializers.ChoiceField(choices=["image", "dump"], default="image")


class EventSerializer(serializers.Serializer[Any]):
    action = serializers.CharField()
    by = serializers.CharField(allow_blank=True)
    date = serializers.DateField()
    blind_answer = serializers.JSONField(allow_null=True)
    verdict = serializers.CharField(allow_blank=True)
    notes = serializers.CharField(allow_blank=True)


class ItemContentSerializer(serializers.Serializer[Any]):
    """An item's content in the canonical form (the native format's fields; see docs/BANK-FORMAT.md)."""

    type = serializers.ChoiceField(choices=ItemType.choices)
    stem = serializers.CharField()
    options = OptionSerializer(many=True, required=False, default=list)
    pairs = PairSerializer(many=True, required=False, default=list)
    answer = serializers.FloatField(required=False, allow_null=True, default=None)
    tolerance = serializers.FloatField(required=False, allow_null=True, default=None)
    unit = serializers.CharField(required=False, allow_blank=True, allow_null=True, default=None)
    rationale = serializers.CharField(required=False, allow_blank=True, default="")
    references = ReferenceSerializer(many=True, required=False, default=list)
    media = MediaSerializer(many=True, required=False, default=list)
    domains = DomainRefSerializer(many=True)
    tags = serializers.ListField(child=serializers.SlugField(), required=False, default=list)
    difficulty = serializers.ChoiceField(choices=Difficulty.choices, default=Difficulty.MEDIUM)
    level = serializers.ChoiceField(choices=CognitiveLevel.choices, default=CognitiveLevel.RECALL)


class ItemCreateInputSerializer(ItemContentSerializer):
    id = serializers.RegexField(r"^[a-z0-9][a-z0-9-]{0,79}$")


class ItemOutputSerializer(ItemCreateInputSerializer):
    status = serializers.ChoiceField(choices=ItemStatus.choices)
    generated = serializers.BooleanField()
    history = EventSerializer(many=True)
    version = serializers.IntegerField(help_text="The current version's number.")
    locked = serializers.BooleanField(help_text="Learners have seen the current version: an edit makes a new one.")
    author = serializers.CharField(allow_blank=True)
    updated = serializers.DateTimeField()


class ItemSummarySerializer(serializers.Serializer[Any]):
    id = serializers.CharField(source="external_id")
    type = serializers.CharField()
    status = serializers.CharField()
    level = serializers.CharField()
    difficulty = serializers.CharField()
    generated = serializers.BooleanField()
    version = serializers.IntegerField(source="current_version.number", allow_null=True)
    stem = serializers.CharField(source="current_version.stem", allow_null=True)
    domains = serializers.SerializerMethodField()
    tags = serializers.SerializerMethodField()
    updated = serializers.DateTimeField()

    def get_domains(self, item: Item) -> list[str]:
        return [f"{d.domain.track.code}/{d.domain.code}" for d in item.item_domains.all()]

    def get_tags(self, item: Item) -> list[str]:
        return [t.name for t in item.tags.all()]


class ItemListFilterSerializer(serializers.Serializer[Any]):
    q = serializers.CharField(required=False, allow_blank=True, default="")
    track = serializers.CharField(required=False, allow_blank=True, default="")
    domain = serializers.CharField(required=False, allow_blank=True, default="", help_text="TRACK/domain-code")
    type = serializers.ChoiceField(choices=ItemType.choices, required=False)
    level = serializers.ChoiceField(choices=CognitiveLevel.choices, required=False)
    status = serializers.ChoiceField(choices=ItemStatus.choices, required=False)
    tag = serializers.CharField(required=False, allow_blank=True, default="")
    origin = serializers.ChoiceField(choices=["authored", "generated"], required=False)


def _item_out(item: Item) -> Any:
    """The item as ``ItemOutputSerializer`` describes it: the canonical schema plus status and version facts."""
    data = item_to_schema(item).model_dump(mode="json")
    version = item.current_version
    assert version is not None
    return ItemOutputSerializer(
        {
            **data,
            "version": version.number,
            "locked": version.locked,
            "author": item.author.username if item.author else item.author_handle,
            "updated": item.updated,
        }
    ).data


def _item_in(data: dict[str, Any], *, external_id: str) -> ItemIn:
    """The canonical item; a model rule it breaks is a located problem (400)."""
    try:
        return ItemIn.model_validate({**data, "id": external_id})
    except PydanticValidationError as exc:
        problems = [Problem(".".join(str(p) for p in e["loc"]), e["msg"]) for e in exc.errors()]
        raise ImportFailed(problems, summary=f"{len(problems)} problem(s) in the item") from None


PROBLEMS_RESPONSE = inline_serializer(
    "BankProblems",
    {
        "detail": serializers.CharField(required=False),
        "problems": inline_serializer(
            "BankProblem",
            {
                "where": serializers.CharField(),
                "line": serializers.IntegerField(allow_null=True),
                "message": serializers.CharField(),
            },
            many=True,
            required=False,
        ),
    },
)


# ------------------------------------------------------------------------------------------------------ items


_View = TypeVar("_View", bound=Callable[..., Any])


def changes_item(summary: str, request: Any = None) -> Callable[[_View], _View]:
    """The schema of an endpoint that changes an item and answers with it (or with the problems)."""
    return extend_schema(
        tags=TAG, summary=summary, request=request, responses={200: ItemOutputSerializer, 400: PROBLEMS_RESPONSE}
    )


class ItemListApi(BankApi):
    @extend_schema(
        tags=TAG,
        summary="List and search items",
        parameters=[ItemListFilterSerializer],
        responses=ItemSummarySerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        filters = self.valid(ItemListFilterSerializer, request.query_params)
        qs = items_search(**{k: str(v or "") for k, v in filters.items()})
        paginator = LimitOffsetPagination()
        page = paginator.paginate_queryset(qs, request, view=self)
        return paginator.get_paginated_response(ItemSummarySerializer(page, many=True).data)


class ItemCreateApi(BankApi):
    @extend_schema(
        tags=TAG,
        summary="Create an item (a draft)",
        request=ItemCreateInputSerializer,
        responses={201: ItemOutputSerializer, 400: PROBLEMS_RESPONSE},
    )
    def post(self, request: Request) -> Response:
        given = self.valid(ItemCreateInputSerializer, request.data)
        item = item_create(data=_item_in(given, external_id=given["id"]), by=self.user(request))
        return Response(_item_out(self.item(item.external_id)), status=status.HTTP_201_CREATED)


class ItemDetailApi(BankApi):
    @extend_schema(
        tags=TAG, summary="An item: current content, metadata and review history", responses=ItemOutputSerializer
    )
    def get(self, request: Request, external_id: str) -> Response:
        return Response(_item_out(self.item_with_key(request, external_id)))


class ItemUpdateApi(BankApi):
    @changes_item("Edit an item (a new version once learners have seen the current one)", ItemContentSerializer)
    def post(self, request: Request, external_id: str) -> Response:
        data = self.valid(ItemContentSerializer, request.data)
        return self.item_changed(
            request,
            external_id,
            lambda item, user: item_update(item=item, data=_item_in(data, external_id=item.external_id), by=user),
            reveal=True,
        )


class NotesSerializer(serializers.Serializer[Any]):
    notes = serializers.CharField(required=False, allow_blank=True, default="")


class ItemSubmitApi(BankApi):
    @changes_item("Submit a draft for review (the linter's errors must be fixed first)")
    def post(self, request: Request, external_id: str) -> Response:
        return self.item_changed(request, external_id, lambda item, user: item_submit(item=item, by=user))


class ItemReturnToDraftApi(BankApi):
    @changes_item("Take an item back to draft (from review, published or retired)", NotesSerializer)
    def post(self, request: Request, external_id: str) -> Response:
        notes = self.valid(NotesSerializer, request.data)["notes"]
        return self.item_changed(
            request, external_id, lambda item, user: item_to_draft(item=item, by=user, notes=notes)
        )


class ItemRetireApi(BankApi):
    @changes_item("Retire an item (it stays, with its versions and history)", NotesSerializer)
    def post(self, request: Request, external_id: str) -> Response:
        notes = self.valid(NotesSerializer, request.data)["notes"]
        return self.item_changed(request, external_id, lambda item, user: item_retire(item=item, by=user, notes=notes))


class ReviewAnswerInputSerializer(serializers.Serializer[Any]):
    response = serializers.JSONField(
        help_text='The reviewer\'s blind answer, as a learner\'s: {"choice": "b"}, {"choices": ["a", "c"]}, '
        '{"order": [...]}, {"pairs": {...}} or {"value": 12.5}.'
    )


class ReviewAnswerOutputSerializer(serializers.Serializer[Any]):
    version = serializers.IntegerField()
    blind_answer = serializers.JSONField()


class ItemReviewAnswerApi(BankApi):
    @extend_schema(
        tags=TAG,
        summary="Review step 1: answer the item blind (not allowed on your own item)",
        request=ReviewAnswerInputSerializer,
        responses={201: ReviewAnswerOutputSerializer, 400: PROBLEMS_RESPONSE},
    )
    def post(self, request: Request, external_id: str) -> Response:
        raw = self.valid(ReviewAnswerInputSerializer, request.data)["response"]
        if not isinstance(raw, dict):
            return _error('the response is a JSON object, e.g. {"choice": "b"}')
        event = item_review_answer(item=self.item(external_id), reviewer=self.user(request), raw=raw)
        assert event.version is not None
        return Response(
            {"version": event.version.number, "blind_answer": event.blind_answer}, status=status.HTTP_201_CREATED
        )


class ReviewDecideInputSerializer(serializers.Serializer[Any]):
    decision = serializers.ChoiceField(choices=list(REVIEW_DECISIONS))
    notes = serializers.CharField(required=False, allow_blank=True, default="")


class ItemReviewDecideApi(BankApi):
    @changes_item(
        "Review step 2: accept (publish), return to the author, or retire — after the blind answer",
        ReviewDecideInputSerializer,
    )
    def post(self, request: Request, external_id: str) -> Response:
        given = self.valid(ReviewDecideInputSerializer, request.data)
        return self.item_changed(
            request, external_id, lambda item, user: item_review_decide(item=item, reviewer=user, **given)
        )


class VersionSerializer(serializers.Serializer[Any]):
    number = serializers.IntegerField()
    locked = serializers.BooleanField()
    created = serializers.DateTimeField()
    created_by = serializers.CharField(source="created_by.username", allow_null=True, default=None)
    stem = serializers.CharField()
    options = OptionSerializer(many=True)
    pairs = PairSerializer(many=True)
    answer = serializers.FloatField(allow_null=True)
    tolerance = serializers.FloatField(allow_null=True)
    unit = serializers.CharField(allow_blank=True)
    rationale = serializers.CharField(allow_blank=True)
    references = ReferenceSerializer(many=True)
    media = MediaSerializer(many=True)


class ItemVersionListApi(BankApi):
    @extend_schema(tags=TAG, summary="Every version of an item, newest first", responses=VersionSerializer(many=True))
    def get(self, request: Request, external_id: str) -> Response:
        return Response(VersionSerializer(item_versions(self.item_with_key(request, external_id)), many=True).data)


class HistoryEventSerializer(serializers.Serializer[Any]):
    action = serializers.CharField()
    by = serializers.CharField(source="by_handle", allow_blank=True)
    date = serializers.DateField()
    version = serializers.IntegerField(source="version.number", allow_null=True, default=None)
    blind_answer = serializers.JSONField(allow_null=True)
    verdict = serializers.CharField(allow_blank=True)
    notes = serializers.CharField(allow_blank=True)


class ItemHistoryApi(BankApi):
    @extend_schema(tags=TAG, summary="An item's review and edit history", responses=HistoryEventSerializer(many=True))
    def get(self, request: Request, external_id: str) -> Response:
        return Response(HistoryEventSerializer(item_history(self.item_with_key(request, external_id)), many=True).data)


# ------------------------------------------------------------------------------------------------------ media


class MediaUploadInputSerializer(serializers.Serializer[Any]):
    file = serializers.FileField(
        help_text="An image (PNG, JPEG, GIF, WebP; at most 2 MiB) or a de-identified DICOM Part 10 file (8 MiB)."
    )


class MediaUploadOutputSerializer(serializers.Serializer[Any]):
    file = serializers.CharField(help_text="The stored name, made from the content: put it in an item's `media`.")
    dicom = serializers.BooleanField(help_text='A DICOM object: show it with `render: "image"` or `"dump"`.')
    url = serializers.CharField()


class MediaUploadApi(BankApi):
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(
        tags=TAG,
        summary="Upload an exhibit (image or DICOM object); then list it in an item's media",
        request={"multipart/form-data": MediaUploadInputSerializer},
        responses={201: MediaUploadOutputSerializer, 400: PROBLEMS_RESPONSE},
    )
    def post(self, request: Request) -> Response:
        name = media_store(upload=self.valid(MediaUploadInputSerializer, request.data)["file"])
        return Response(
            {"file": name, "dicom": name.endswith(DICOM_SUFFIX), "url": reverse("bank-media", args=[name])},
            status=status.HTTP_201_CREATED,
        )


# -------------------------------------------------------------------------------------------- lint and stats


class FindingSerializer(serializers.Serializer[Any]):
    rule = serializers.CharField()
    severity = serializers.ChoiceField(choices=["error", "warning"])
    message = serializers.CharField()
    item = serializers.CharField(allow_blank=True)


# "errors" would shadow Serializer.errors on a class: the report's schema is declared inline.
LINT_REPORT = inline_serializer(
    "BankLintReport",
    {
        "items": serializers.IntegerField(),
        "errors": serializers.IntegerField(),
        "warnings": serializers.IntegerField(),
        "key_positions": serializers.DictField(child=serializers.FloatField()),
        "key_longest_share": serializers.FloatField(),
        "by_rule": serializers.DictField(child=serializers.IntegerField()),
        "findings": FindingSerializer(many=True),
    },
)


class LintApi(BankApi):
    @extend_schema(tags=TAG, summary="Run the item-writing linter over the bank", responses=LINT_REPORT)
    def get(self, request: Request) -> Response:
        return Response(bank_lint(request.user).as_dict())  # type: ignore[arg-type]


class StatsSerializer(serializers.Serializer[Any]):
    items = serializers.IntegerField()
    authored = serializers.IntegerField()
    generated = serializers.IntegerField()
    by_track = serializers.DictField(child=serializers.IntegerField())
    published_by_track = serializers.DictField(child=serializers.IntegerField())
    by_domain = serializers.DictField(child=serializers.IntegerField())
    by_type = serializers.DictField(child=serializers.IntegerField())
    by_level = serializers.DictField(child=serializers.IntegerField())
    by_status = serializers.DictField(child=serializers.IntegerField())
    by_difficulty = serializers.DictField(child=serializers.IntegerField())


class StatsApi(BankApi):
    @extend_schema(tags=TAG, summary="Counts per track, domain, type, level and status", responses=StatsSerializer)
    def get(self, request: Request) -> Response:
        return Response(bank_stats())


# ------------------------------------------------------------------------------------------ import / export


class FormatField(serializers.ChoiceField):
    """A registered import/export format; formats added to the registry are accepted without a change here."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(choices=sorted(FORMATS), **kwargs)

    def to_internal_value(self, data: Any) -> str:
        self.choices = sorted(FORMATS)
        return str(super().to_internal_value(data))


class ImportInputSerializer(serializers.Serializer[Any]):
    format = FormatField()
    file = serializers.FileField(required=False, help_text="The bank file (multipart); or send `text`.")
    text = serializers.CharField(required=False, trim_whitespace=False, help_text="The file's content as text.")
    dry_run = serializers.BooleanField(default=False, help_text="Validate and report; change nothing.")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if bool(attrs.get("file")) == bool(attrs.get("text")):
            raise serializers.ValidationError("send either `file` or `text`")
        return attrs


class ImportReportSerializer(serializers.Serializer[Any]):
    created = serializers.ListField(child=serializers.CharField())
    updated = serializers.ListField(child=serializers.CharField())
    new_versions = serializers.ListField(child=serializers.CharField())
    unchanged = serializers.ListField(child=serializers.CharField())
    dry_run = serializers.BooleanField()
    summary = serializers.CharField()


class ImportApi(BankApi):
    parser_classes = [MultiPartParser, FormParser, JSONParser]

    @extend_schema(
        tags=TAG,
        summary="Import a bank file (all or nothing); with dry_run, only report",
        request=ImportInputSerializer,
        responses={200: ImportReportSerializer, 400: PROBLEMS_RESPONSE},
    )
    def post(self, request: Request) -> Response:
        given = self.valid(ImportInputSerializer, request.data)
        text = given.get("text")
        fmt, by, dry_run = given["format"], self.user(request), given["dry_run"]
        try:
            if text is None:
                data = bank_upload_read(upload=given["file"])
                report = bank_import_data(data=data, fmt=fmt, by=by, dry_run=dry_run)
            else:
                report = bank_import_text(text=text, fmt=fmt, by=by, dry_run=dry_run)
        except ValueError as exc:  # too large, empty (ImportFailed goes to handle_exception with every problem)
            return _error(str(exc))
        return Response(
            {
                "created": report.created,
                "updated": report.updated,
                "new_versions": report.new_versions,
                "unchanged": report.unchanged,
                "dry_run": report.dry_run,
                "summary": report.summary(),
            }
        )


class ExportFilterSerializer(serializers.Serializer[Any]):
    format = FormatField(default="native")
    status = serializers.MultipleChoiceField(choices=ItemStatus.choices, required=False)


class FileNegotiation(BaseContentNegotiation):
    """``?format=`` names the bank format here, not a DRF renderer: errors are JSON, success is the file."""

    def select_renderer(
        self, request: Request, renderers: Iterable[BaseRenderer], format_suffix: str | None = None
    ) -> tuple[BaseRenderer, str]:
        renderer = next(iter(renderers))
        return renderer, renderer.media_type

    def select_parser(self, request: Request, parsers: Iterable[BaseParser]) -> BaseParser | None:
        return next(iter(parsers), None)


class ExportApi(BankApi):
    content_negotiation_class = FileNegotiation

    @extend_schema(
        tags=TAG,
        summary="Export the bank (current versions) in any registered format",
        parameters=[
            OpenApiParameter("format", str, enum=sorted(FORMATS), default="native"),
            OpenApiParameter("status", str, many=True, enum=ItemStatus.values, required=False),
        ],
        responses={(200, "application/octet-stream"): OpenApiTypes.BINARY},
    )
    def get(self, request: Request) -> HttpResponse:
        given = self.valid(
            ExportFilterSerializer,
            {"format": request.query_params.get("format", "native"), "status": request.query_params.getlist("status")},
        )
        fmt = get_format(given["format"])
        qs = items_for_export(user=self.user(request))  # not the items this user is to review blind
        if given.get("status"):
            qs = qs.filter(status__in=list(given["status"]))
        return export_download(fmt, qs)


# ----------------------------------------------------------------------------------------------- blueprints


class BlueprintOutputSerializer(serializers.Serializer[Any]):
    code = serializers.CharField()
    track = serializers.CharField(source="track.code")
    name = serializers.CharField()
    scored_items = serializers.IntegerField()
    pilot_items = serializers.IntegerField()
    time_limit_minutes = serializers.IntegerField()
    pass_mark_percent = serializers.FloatField(allow_null=True)
    source_note = serializers.CharField(allow_blank=True)
    is_default = serializers.BooleanField()
    domains = serializers.SerializerMethodField()

    def get_domains(self, bp: Blueprint) -> dict[str, int]:
        return {dc.domain.code: dc.items for dc in bp.domain_counts.all()}


class BlueprintUpdateInputSerializer(serializers.Serializer[Any]):
    name = serializers.CharField(max_length=200)
    time_limit_minutes = serializers.IntegerField(min_value=1)
    pilot_items = serializers.IntegerField(min_value=0)
    pass_mark_percent = serializers.FloatField(allow_null=True, min_value=0, max_value=100)
    source_note = serializers.CharField(allow_blank=True)
    domains = serializers.DictField(child=serializers.IntegerField(min_value=0), help_text="domain code → items")


def _blueprints() -> Any:
    return Blueprint.objects.select_related("track").prefetch_related("domain_counts__domain")


class BlueprintListApi(BankApi):
    @extend_schema(tags=TAG, summary="Exam blueprints", responses=BlueprintOutputSerializer(many=True))
    def get(self, request: Request) -> Response:
        return Response(BlueprintOutputSerializer(_blueprints(), many=True).data)


class BlueprintUpdateApi(BankApi):
    @extend_schema(
        tags=TAG,
        summary="Edit a blueprint: items per domain, pilot items, time, pass mark, source note",
        request=BlueprintUpdateInputSerializer,
        responses={200: BlueprintOutputSerializer, 400: PROBLEMS_RESPONSE},
    )
    def post(self, request: Request, code: str) -> Response:
        try:
            blueprint = _blueprints().get(code=code)
        except Blueprint.DoesNotExist:
            raise Http404("No such blueprint.") from None
        d = self.valid(BlueprintUpdateInputSerializer, request.data)
        blueprint_update(
            blueprint=blueprint,
            name=d["name"],
            time_limit_minutes=d["time_limit_minutes"],
            pilot_items=d["pilot_items"],
            pass_mark_percent=d["pass_mark_percent"],
            source_note=d["source_note"],
            counts=dict(d["domains"]),
        )
        return Response(BlueprintOutputSerializer(_blueprints().get(pk=blueprint.pk)).data)
