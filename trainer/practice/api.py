"""Learner-scope API for practice: sessions, answers with feedback, due reviews, readiness."""

from __future__ import annotations

from typing import Any

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from trainer.accounts.models import User
from trainer.bank.api_serializers import FeedbackSerializer, LearnerItemSerializer
from trainer.bank.models import Track
from trainer.bank.scoring import InvalidResponse
from trainer.core.serializers import CodeRelatedField
from trainer.practice.models import PracticeMode, PracticeSession
from trainer.practice.selectors import due_cards_count, mastery_by_domain
from trainer.practice.services import (
    PracticeError,
    practice_advance,
    practice_answer,
    practice_current,
    practice_session_start,
)


def _user(request: Request) -> User:
    assert isinstance(request.user, User)
    return request.user


class SessionStartIn(serializers.Serializer[object]):
    track = CodeRelatedField(slug_field="code", queryset=Track.objects.all())
    mode = serializers.ChoiceField(choices=PracticeMode.choices, default=PracticeMode.SMART)
    domains = serializers.ListField(child=serializers.CharField(), required=False, default=list)
    tags = serializers.ListField(child=serializers.CharField(), required=False, default=list)
    count = serializers.IntegerField(min_value=1, max_value=100, default=10)


class SessionOut(serializers.Serializer[object]):
    id = serializers.IntegerField()
    track = serializers.CharField(source="track.code")
    mode = serializers.CharField()
    total = serializers.SerializerMethodField()
    position = serializers.IntegerField()
    finished = serializers.BooleanField()

    def get_total(self, obj: PracticeSession) -> int:
        return len(obj.queue)


class CurrentOut(serializers.Serializer[object]):
    item_id = serializers.IntegerField()
    number = serializers.IntegerField()
    total = serializers.IntegerField()
    item = LearnerItemSerializer()
    answered = serializers.BooleanField()
    feedback = FeedbackSerializer(allow_null=True)


class AnswerIn(serializers.Serializer[object]):
    item_id = serializers.IntegerField()
    response = serializers.DictField()
    confidence = serializers.ChoiceField(choices=[1, 2, 3], required=False, allow_null=True)
    time_ms = serializers.IntegerField(min_value=0, required=False, allow_null=True)


class MasteryOut(serializers.Serializer[object]):
    code = serializers.CharField()
    name = serializers.CharField()
    answered = serializers.IntegerField()
    published = serializers.IntegerField()
    mean = serializers.FloatField()
    low = serializers.FloatField()
    high = serializers.FloatField()


def _current_payload(session: PracticeSession) -> dict[str, Any] | None:
    q = practice_current(session)
    if q is None:
        return None
    return {"item_id": q.item.pk, "number": q.number, "total": q.total, "item": q.view,
            "answered": q.answer is not None, "feedback": q.feedback}  # fmt: skip


class SessionListCreate(APIView):
    @extend_schema(request=SessionStartIn, responses={201: SessionOut}, summary="Start a practice session")
    def post(self, request: Request) -> Response:
        data = SessionStartIn(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            session = practice_session_start(
                learner=_user(request), track=data.validated_data["track"], mode=data.validated_data["mode"],
                domain_codes=data.validated_data["domains"], tags=data.validated_data["tags"],
                count=data.validated_data["count"],
            )  # fmt: skip
        except PracticeError as exc:
            raise ValidationError({"detail": str(exc)}) from exc
        return Response(SessionOut(session).data, status=status.HTTP_201_CREATED)


class SessionCurrent(APIView):
    @extend_schema(responses={200: CurrentOut, 204: None}, summary="The current question (no key until answered)")
    def get(self, request: Request, pk: int) -> Response:
        session = get_object_or_404(PracticeSession, pk=pk, learner=_user(request))
        payload = _current_payload(session)
        if payload is None:
            return Response(status=status.HTTP_204_NO_CONTENT)
        return Response(CurrentOut(payload).data)


class SessionAnswer(APIView):
    @extend_schema(request=AnswerIn, responses=CurrentOut, summary="Answer the current question; returns feedback")
    def post(self, request: Request, pk: int) -> Response:
        session = get_object_or_404(PracticeSession, pk=pk, learner=_user(request))
        data = AnswerIn(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            practice_answer(
                session=session, item_id=data.validated_data["item_id"], raw=data.validated_data["response"],
                confidence=data.validated_data.get("confidence"), time_ms=data.validated_data.get("time_ms"),
            )  # fmt: skip
        except (InvalidResponse, PracticeError) as exc:
            raise ValidationError({"detail": str(exc)}) from exc
        return Response(CurrentOut(_current_payload(session)).data)


class SessionNext(APIView):
    @extend_schema(request=None, responses=SessionOut, summary="Move to the next question")
    def post(self, request: Request, pk: int) -> Response:
        session = get_object_or_404(PracticeSession, pk=pk, learner=_user(request))
        try:
            session = practice_advance(session=session)
        except PracticeError as exc:
            raise ValidationError({"detail": str(exc)}) from exc
        return Response(SessionOut(session).data)


class ReviewsDue(APIView):
    @extend_schema(
        responses={200: {"type": "object", "properties": {"due": {"type": "integer"}}}}, summary="Reviews due now"
    )
    def get(self, request: Request) -> Response:
        return Response({"due": due_cards_count(_user(request))})


class Readiness(APIView):
    @extend_schema(responses=MasteryOut(many=True), summary="Mastery per domain of the learner's track")
    def get(self, request: Request) -> Response:
        user = _user(request)
        track = get_object_or_404(Track, code=request.query_params.get("track", user.exam_track))
        return Response(MasteryOut(mastery_by_domain(user, track), many=True).data)
