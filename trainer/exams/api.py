"""Learner-scope API for mock exams: start/resume, questions, save answers, submit, report (after submission)."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from trainer.accounts.models import User
from trainer.bank.api_serializers import FeedbackSerializer, LearnerItemSerializer
from trainer.bank.models import Blueprint
from trainer.bank.scoring import InvalidResponse
from trainer.core.serializers import CodeRelatedField
from trainer.exams.assembly import AssemblyError
from trainer.exams.models import AttemptItem, AttemptStatus, ExamAttempt
from trainer.exams.selectors import exam_question, exam_review_items, navigator
from trainer.exams.services import ExamClosed, exam_enforce_deadline, exam_save_answer, exam_start, exam_submit


def _attempt(request: Request, pk: int) -> ExamAttempt:
    assert isinstance(request.user, User)
    return exam_enforce_deadline(get_object_or_404(ExamAttempt, pk=pk, learner=request.user))


class NavCellOut(serializers.Serializer[object]):
    position = serializers.IntegerField()
    answered = serializers.BooleanField()
    flagged = serializers.BooleanField()


class AttemptOut(serializers.ModelSerializer[ExamAttempt]):
    navigator = NavCellOut(many=True, read_only=True, source="navigator_cells")

    class Meta:
        model = ExamAttempt
        fields = ("id", "name", "status", "started_at", "deadline", "submitted_at", "percent", "navigator")

    def to_representation(self, instance: ExamAttempt) -> dict[str, object]:
        instance.navigator_cells = navigator(instance)  # type: ignore[attr-defined]
        return super().to_representation(instance)


class StartIn(serializers.Serializer[object]):
    blueprint = CodeRelatedField(slug_field="code", queryset=Blueprint.objects.all())


class QuestionOut(serializers.Serializer[object]):
    position = serializers.IntegerField(source="slot.position")
    total = serializers.IntegerField()
    item = LearnerItemSerializer(source="view")
    response = serializers.DictField(source="slot.response", allow_null=True)
    flagged = serializers.BooleanField(source="slot.flagged")


class SaveIn(serializers.Serializer[object]):
    response = serializers.DictField(required=False, allow_null=True)
    flagged = serializers.BooleanField(required=False, allow_null=True)
    time_spent_ms = serializers.IntegerField(min_value=0, required=False, default=0)


class ReviewedItemOut(serializers.Serializer[object]):
    position = serializers.IntegerField(source="slot.position")
    pilot = serializers.BooleanField(source="slot.pilot")
    domain = serializers.CharField(source="slot.domain.code", allow_null=True, default=None)
    response = serializers.DictField(source="slot.response", allow_null=True)
    item = LearnerItemSerializer(source="view")
    feedback = FeedbackSerializer()


class ReportOut(serializers.Serializer[object]):
    attempt = AttemptOut()
    domain_results = serializers.ListField(child=serializers.DictField())
    items = ReviewedItemOut(many=True)


class AttemptCreate(APIView):
    @extend_schema(request=StartIn, responses={201: AttemptOut}, summary="Start (or resume) a mock exam")
    def post(self, request: Request) -> Response:
        assert isinstance(request.user, User)
        data = StartIn(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            attempt = exam_start(learner=request.user, blueprint=data.validated_data["blueprint"])
        except AssemblyError as exc:
            raise ValidationError({"detail": str(exc)}) from exc
        return Response(AttemptOut(attempt).data, status=status.HTTP_201_CREATED)


class AttemptDetail(APIView):
    @extend_schema(responses=AttemptOut, summary="Attempt status, server deadline and navigator")
    def get(self, request: Request, pk: int) -> Response:
        return Response(AttemptOut(_attempt(request, pk)).data)


class AttemptQuestion(APIView):
    @extend_schema(responses=QuestionOut, summary="A question as shown during the exam (no key)")
    def get(self, request: Request, pk: int, n: int) -> Response:
        attempt = _attempt(request, pk)
        if not attempt.is_active:
            raise PermissionDenied("This exam is over; read the report.")
        get_object_or_404(AttemptItem, attempt=attempt, position=n)
        return Response(QuestionOut(exam_question(attempt, n)).data)

    @extend_schema(request=SaveIn, responses=QuestionOut, summary="Save an answer and/or flag (every click)")
    def put(self, request: Request, pk: int, n: int) -> Response:
        attempt = _attempt(request, pk)
        get_object_or_404(AttemptItem, attempt=attempt, position=n)
        data = SaveIn(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            exam_save_answer(
                attempt=attempt, position=n, raw=data.validated_data.get("response"),
                flagged=data.validated_data.get("flagged"), time_spent_ms=data.validated_data["time_spent_ms"],
            )  # fmt: skip
        except ExamClosed as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_409_CONFLICT)
        except InvalidResponse as exc:
            raise ValidationError({"detail": str(exc)}) from exc
        return Response(QuestionOut(exam_question(attempt, n)).data)


class AttemptSubmit(APIView):
    @extend_schema(request=None, responses=AttemptOut, summary="Submit the attempt")
    def post(self, request: Request, pk: int) -> Response:
        return Response(AttemptOut(exam_submit(attempt=_attempt(request, pk))).data)


class AttemptReport(APIView):
    @extend_schema(responses=ReportOut, summary="Score report with every key (only after submission)")
    def get(self, request: Request, pk: int) -> Response:
        attempt = _attempt(request, pk)
        if attempt.status == AttemptStatus.ACTIVE:
            raise PermissionDenied("The report and the keys are available after you submit.")
        payload = {"attempt": attempt, "domain_results": attempt.domain_results, "items": exam_review_items(attempt)}
        return Response(ReportOut(payload).data)
