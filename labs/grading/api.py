"""The lab API under ``/api/labs/``: what a script needs to do a lab end to end (list labs, start one, read the
attempt's node and peers, request a check, read the run with its results, reset, finish). The views call the same
services as the pages; a learner sees only their own attempts and runs (404 otherwise)."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from labs.grading import selectors, services
from labs.grading.models import CheckResult, GradingRun, LabAttempt
from labs.nodes.api import ErrorSerializer
from labs.nodes.models import Node
from labs.nodes.selectors import node_public_host, node_state
from labs.scenarios.loader import lab_get, labs_all


class LabSerializer(serializers.Serializer[Any]):
    slug = serializers.CharField()
    title = serializers.CharField()
    tracks = serializers.ListField(child=serializers.CharField())
    domains = serializers.ListField(child=serializers.CharField())
    objectives = serializers.ListField(child=serializers.CharField())
    time_limit_minutes = serializers.IntegerField()
    total_points = serializers.IntegerField()


class NodeAddressSerializer(serializers.Serializer[Any]):
    """Where to reach a node with DCMTK: AE title, host, port; and whether it is running."""

    id = serializers.IntegerField()
    name = serializers.CharField()
    kind = serializers.CharField()
    ae_title = serializers.CharField()
    host = serializers.SerializerMethodField()
    port = serializers.IntegerField()
    state = serializers.SerializerMethodField()

    def get_host(self, node: Node) -> str:
        return node_public_host(node)

    def get_state(self, node: Node) -> str:
        return node_state(node).code


class AttemptSerializer(serializers.ModelSerializer[LabAttempt]):
    lab = serializers.CharField(source="lab_slug")
    is_open = serializers.BooleanField()
    seconds_left = serializers.SerializerMethodField()
    node = serializers.SerializerMethodField()
    peers = serializers.SerializerMethodField()
    runs = serializers.SerializerMethodField()

    class Meta:
        model = LabAttempt
        fields = (
            "id", "lab", "status", "is_open", "started", "deadline", "seconds_left", "reset_at", "ended",
            "best_score", "max_score", "node", "peers", "runs",
        )  # fmt: skip
        read_only_fields = fields

    def get_seconds_left(self, attempt: LabAttempt) -> int | None:
        if not attempt.is_open or attempt.deadline is None:
            return None
        return max(0, int((attempt.deadline - timezone.now()).total_seconds()))

    @extend_schema_field(NodeAddressSerializer(allow_null=True))
    def get_node(self, attempt: LabAttempt) -> dict[str, Any] | None:
        return NodeAddressSerializer(attempt.node).data if attempt.node is not None else None

    @extend_schema_field(NodeAddressSerializer(many=True))
    def get_peers(self, attempt: LabAttempt) -> list[dict[str, Any]]:
        peers = [n for n in selectors.attempt_nodes(attempt) if n.pk != attempt.node_id]
        return list(NodeAddressSerializer(peers, many=True).data)

    @extend_schema_field(serializers.ListField(child=serializers.IntegerField()))
    def get_runs(self, attempt: LabAttempt) -> list[int]:
        return list(attempt.runs.values_list("pk", flat=True)[:50])


class CheckResultSerializer(serializers.ModelSerializer[CheckResult]):
    class Meta:
        model = CheckResult
        fields = ("order", "task_key", "name", "passed", "points", "max_points", "evidence", "hint")
        read_only_fields = fields


class RunSerializer(serializers.ModelSerializer[GradingRun]):
    progress = serializers.SerializerMethodField()
    results = CheckResultSerializer(many=True)

    class Meta:
        model = GradingRun
        fields = (
            "id", "attempt", "status", "created", "started", "finished", "score", "max_score", "total_checks",
            "progress", "error", "results",
        )  # fmt: skip
        read_only_fields = fields

    def get_progress(self, run: GradingRun) -> int:
        return selectors.run_progress(run)


class LabApi(APIView):
    """Base of the lab API: a ``LabError`` from the services (the attempt's state refuses the request: past its
    deadline, closed, a run already queued) is a 409 with its message for the learner."""

    def handle_exception(self, exc: Exception) -> Response:
        if isinstance(exc, services.LabError):
            return Response({"detail": str(exc)}, status=status.HTTP_409_CONFLICT)
        return super().handle_exception(exc)


class LabListView(LabApi):
    @extend_schema(responses=LabSerializer(many=True), summary="Every lab (bundled and uploaded by instructors)")
    def get(self, request: Request) -> Response:
        labs = [lab for _, lab in sorted(labs_all().items())]
        return Response(LabSerializer(labs, many=True).data)


class LabStartView(LabApi):
    @extend_schema(
        request=None,
        responses={200: AttemptSerializer, 409: ErrorSerializer},
        summary="Start the lab, or resume your open attempt of it",
    )
    def post(self, request: Request, slug: str) -> Response:
        lab_get(slug)  # 404 for an unknown lab
        attempt = services.lab_start(learner=request.user, slug=slug)  # type: ignore[arg-type]
        return Response(AttemptSerializer(attempt).data)


class AttemptListView(LabApi):
    @extend_schema(responses=AttemptSerializer(many=True), summary="Your lab attempts, newest first")
    def get(self, request: Request) -> Response:
        attempts = selectors.attempts_of(request.user)[:100]
        for attempt in attempts:
            services.lab_attempt_enforce_deadline(attempt=attempt)
        return Response(AttemptSerializer(attempts, many=True).data)


class AttemptDetailView(LabApi):
    @extend_schema(responses=AttemptSerializer, summary="One of your attempts: its node and peers (AE, host, port)")
    def get(self, request: Request, attempt_id: int) -> Response:
        attempt = selectors.attempt_of(request.user, attempt_id)
        services.lab_attempt_enforce_deadline(attempt=attempt)
        return Response(AttemptSerializer(attempt).data)


class AttemptCheckView(LabApi):
    @extend_schema(
        request=None,
        responses={202: RunSerializer, 409: ErrorSerializer},
        summary="Check my work: queue a grading run (poll the run until it is done or failed)",
    )
    def post(self, request: Request, attempt_id: int) -> Response:
        attempt = selectors.attempt_of(request.user, attempt_id)
        run = services.grading_run_request(attempt=attempt)
        return Response(RunSerializer(run).data, status=status.HTTP_202_ACCEPTED)


class AttemptResetView(LabApi):
    @extend_schema(
        request=None,
        responses={200: AttemptSerializer, 409: ErrorSerializer},
        summary="Reset the lab to its starting state (fresh nodes on the same addresses)",
    )
    def post(self, request: Request, attempt_id: int) -> Response:
        attempt = selectors.attempt_of(request.user, attempt_id)
        services.lab_attempt_reset(attempt=attempt)
        return Response(AttemptSerializer(attempt).data)


class AttemptFinishView(LabApi):
    @extend_schema(request=None, responses=AttemptSerializer, summary="Finish: close the attempt, delete its nodes")
    def post(self, request: Request, attempt_id: int) -> Response:
        attempt = selectors.attempt_of(request.user, attempt_id)
        services.lab_attempt_finish(attempt=attempt)
        return Response(AttemptSerializer(attempt).data)


class RunDetailView(LabApi):
    @extend_schema(responses=RunSerializer, summary="A grading run with its results, evidence and hints so far")
    def get(self, request: Request, run_id: int) -> Response:
        return Response(RunSerializer(selectors.run_of(request.user, run_id)).data)
