"""The node API: everything the console does, for the signed-in learner's own nodes (others are 404).
One view per operation with its own input/output serializers; the views call the same services."""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from labs.dicom import catalog
from labs.nodes import selectors, services
from labs.nodes.models import AssociationLog, DimseLog, KnownAE, Node, NodeKind, StoredInstance, WorklistItem


class ErrorSerializer(serializers.Serializer[Any]):
    detail = serializers.CharField()


def error(message: str, code: int = status.HTTP_400_BAD_REQUEST) -> Response:
    return Response({"detail": message}, status=code)


# --- nodes ---------------------------------------------------------------------------------------------------
class NodeSerializer(serializers.ModelSerializer[Node]):
    host = serializers.SerializerMethodField()
    state = serializers.SerializerMethodField()
    state_detail = serializers.SerializerMethodField()
    bytes_used = serializers.SerializerMethodField()
    instances = serializers.SerializerMethodField()
    idle_minutes_left = serializers.SerializerMethodField()

    class Meta:
        model = Node
        fields: tuple[str, ...] = (
            "id",
            "kind",
            "name",
            "ae_title",
            "host",
            "port",
            "desired",
            "state",
            "state_detail",
            "bytes_used",
            "instances",
            "idle_minutes_left",
            "reject_unknown_calling",
            "check_calling_host",
            "check_called_ae",
            "max_associations",
            "max_associations_per_minute",
            "duplicate_policy",
            "quota_bytes",
            "quota_instances",
            "accept_all_storage",
            "sop_classes",
            "transfer_syntaxes",
            "created",
            "last_activity",
        )
        read_only_fields: tuple[str, ...] = fields

    def get_host(self, node: Node) -> str:
        return selectors.node_public_host(node)

    def get_state(self, node: Node) -> str:
        return selectors.node_state(node, self.context.get("health")).code

    def get_state_detail(self, node: Node) -> str:
        return selectors.node_state(node, self.context.get("health")).detail

    def get_bytes_used(self, node: Node) -> int:
        return selectors.node_usage(node)[0]

    def get_instances(self, node: Node) -> int:
        return selectors.node_usage(node)[1]

    def get_idle_minutes_left(self, node: Node) -> int | None:
        return selectors.node_idle_minutes_left(node)


def node_data(node: Node) -> dict[str, Any]:
    node.refresh_from_db()
    return dict(NodeSerializer(node, context={"health": selectors.nodehost_health()}).data)


class NodeCreateSerializer(serializers.Serializer[Any]):
    name = serializers.CharField(required=False, default="", max_length=80)


class NodeApi(APIView):
    """Base of the node API: a ``NodeError`` from the services (a request that cannot be carried out) is a 400
    with its message for the learner."""

    def handle_exception(self, exc: Exception) -> Response:
        if isinstance(exc, services.NodeError):
            return error(str(exc))
        return super().handle_exception(exc)


class NodeListView(NodeApi):
    @extend_schema(responses=NodeSerializer(many=True), summary="Your nodes")
    def get(self, request: Request) -> Response:
        health = selectors.nodehost_health()
        nodes = selectors.nodes_of(request.user)
        return Response(NodeSerializer(nodes, many=True, context={"health": health}).data)

    @extend_schema(
        request=NodeCreateSerializer,
        responses={201: NodeSerializer, 400: ErrorSerializer},
        summary="Create your personal node",
    )
    def post(self, request: Request) -> Response:
        data = NodeCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        node = services.node_create(owner=request.user, kind=NodeKind.PERSONAL, name=data.validated_data["name"])  # type: ignore[arg-type]
        return Response(node_data(node), status=status.HTTP_201_CREATED)


class CommandSerializer(serializers.Serializer[Any]):
    purpose = serializers.CharField()
    command = serializers.CharField()


class NodeDetailSerializer(NodeSerializer):
    commands = serializers.SerializerMethodField()

    class Meta(NodeSerializer.Meta):
        fields = (*NodeSerializer.Meta.fields, "commands")
        read_only_fields = fields

    @extend_schema_field(CommandSerializer(many=True))
    def get_commands(self, node: Node) -> list[dict[str, str]]:
        return [{"purpose": p, "command": c} for p, c in selectors.node_commands(node)]


class NodeView(NodeApi):
    """Base for views on one of the user's nodes."""

    def node(self, request: Request, node_id: int) -> Node:
        return selectors.node_of(request.user, node_id)


class NodeDetailView(NodeView):
    @extend_schema(responses=NodeDetailSerializer, summary="One of your nodes, with ready-to-copy DCMTK commands")
    def get(self, request: Request, node_id: int) -> Response:
        node = self.node(request, node_id)
        return Response(NodeDetailSerializer(node, context={"health": selectors.nodehost_health()}).data)

    @extend_schema(responses={204: None}, summary="Delete a node and its data")
    def delete(self, request: Request, node_id: int) -> Response:
        services.node_delete(node=self.node(request, node_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class NodeConfigSerializer(serializers.Serializer[Any]):
    name = serializers.CharField(required=False, allow_blank=True, max_length=80)
    ae_title = serializers.CharField(required=False, max_length=64)
    reject_unknown_calling = serializers.BooleanField(required=False)
    check_calling_host = serializers.BooleanField(required=False)
    check_called_ae = serializers.BooleanField(required=False)
    max_associations = serializers.IntegerField(required=False)
    max_associations_per_minute = serializers.IntegerField(required=False)
    duplicate_policy = serializers.CharField(required=False)
    quota_bytes = serializers.IntegerField(required=False)
    quota_instances = serializers.IntegerField(required=False)
    accept_all_storage = serializers.BooleanField(required=False)
    sop_classes = serializers.ListField(child=serializers.CharField(max_length=64), required=False, max_length=200)
    transfer_syntaxes = serializers.ListField(child=serializers.CharField(max_length=64), required=False, max_length=20)


class NodeConfigView(NodeView):
    @extend_schema(
        request=NodeConfigSerializer,
        responses={200: NodeSerializer, 400: ErrorSerializer},
        summary="Change a node's configuration (only the fields given)",
    )
    def patch(self, request: Request, node_id: int) -> Response:
        node = self.node(request, node_id)
        data = NodeConfigSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.node_configure(node=node, **data.validated_data)
        return Response(node_data(node))


def _action_view(action: Any, summary: str) -> type[NodeView]:
    class ActionView(NodeView):
        @extend_schema(request=None, responses={202: NodeSerializer}, summary=summary)
        def post(self, request: Request, node_id: int) -> Response:
            node = self.node(request, node_id)
            action(node=node)
            return Response(node_data(node), status=status.HTTP_202_ACCEPTED)

    ActionView.__name__ = f"Node{action.__name__.title().replace('_', '')}View"
    return ActionView


NodeStartView = _action_view(services.node_start, "Start a node (the node host picks it up within a second)")
NodeStopView = _action_view(services.node_stop, "Stop a node (data and configuration are kept)")
NodeResetView = _action_view(services.node_reset, "Erase a node's stored objects and log (configuration kept)")
NodeKeepAliveView = _action_view(services.node_keep_alive, "Restart the idle clock of a node")


# --- known AEs -----------------------------------------------------------------------------------------------
class KnownAESerializer(serializers.ModelSerializer[KnownAE]):
    class Meta:
        model = KnownAE
        fields = (
            "id",
            "ae_title",
            "host",
            "port",
            "description",
            "may_store",
            "may_find",
            "may_retrieve",
            "move_destination",
            "may_commit",
        )
        read_only_fields = ("id",)


class KnownAEInputSerializer(serializers.Serializer[Any]):
    ae_title = serializers.CharField(max_length=64)
    host = serializers.CharField(max_length=253)
    port = serializers.IntegerField()
    description = serializers.CharField(required=False, allow_blank=True, max_length=120)
    may_store = serializers.BooleanField(required=False)
    may_find = serializers.BooleanField(required=False)
    may_retrieve = serializers.BooleanField(required=False)
    move_destination = serializers.BooleanField(required=False)
    may_commit = serializers.BooleanField(required=False)


class KnownAEListView(NodeView):
    @extend_schema(responses=KnownAESerializer(many=True), summary="A node's known AEs")
    def get(self, request: Request, node_id: int) -> Response:
        return Response(KnownAESerializer(self.node(request, node_id).known_aes.all(), many=True).data)

    @extend_schema(
        request=KnownAEInputSerializer,
        responses={201: KnownAESerializer, 400: ErrorSerializer},
        summary="Add a known AE",
    )
    def post(self, request: Request, node_id: int) -> Response:
        node = self.node(request, node_id)
        data = KnownAEInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        known = services.known_ae_add(node=node, **data.validated_data)
        return Response(KnownAESerializer(known).data, status=status.HTTP_201_CREATED)


class KnownAEPatchSerializer(KnownAEInputSerializer):
    ae_title = serializers.CharField(max_length=64, required=False)
    host = serializers.CharField(max_length=253, required=False)
    port = serializers.IntegerField(required=False)


class KnownAEDetailView(NodeView):
    def known(self, request: Request, node_id: int, known_id: int) -> KnownAE:
        known = self.node(request, node_id).known_aes.filter(pk=known_id).first()
        if known is None:
            raise Http404("No such known AE.")
        return known

    @extend_schema(
        request=KnownAEPatchSerializer,
        responses={200: KnownAESerializer, 400: ErrorSerializer},
        summary="Change a known AE",
    )
    def patch(self, request: Request, node_id: int, known_id: int) -> Response:
        known = self.known(request, node_id, known_id)
        data = KnownAEPatchSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.known_ae_update(known=known, **data.validated_data)
        return Response(KnownAESerializer(known).data)

    @extend_schema(responses={204: None}, summary="Remove a known AE")
    def delete(self, request: Request, node_id: int, known_id: int) -> Response:
        services.known_ae_delete(known=self.known(request, node_id, known_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- worklist ------------------------------------------------------------------------------------------------
class WorklistItemSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    patient_name = serializers.CharField()
    patient_id = serializers.CharField()
    accession = serializers.CharField()
    modality = serializers.CharField()
    station = serializers.CharField()
    date = serializers.CharField()
    time = serializers.CharField()
    description = serializers.CharField()


class WorklistInputSerializer(serializers.Serializer[Any]):
    patient_name = serializers.CharField(max_length=64)
    patient_id = serializers.CharField(max_length=64)
    accession_number = serializers.CharField(max_length=16, required=False, default="")
    modality = serializers.CharField(max_length=16, required=False, default="CT")
    station_ae_title = serializers.CharField(max_length=16, required=False, default="")
    start_date = serializers.CharField(max_length=8, required=False, default="")
    start_time = serializers.CharField(max_length=6, required=False, default="")
    procedure_description = serializers.CharField(max_length=64, required=False, default="")


def _worklist_row(item: WorklistItem) -> dict[str, Any]:
    return {"id": item.pk, **selectors.worklist_summary(item)}


class WorklistView(NodeView):
    @extend_schema(responses=WorklistItemSerializer(many=True), summary="A node's modality worklist")
    def get(self, request: Request, node_id: int) -> Response:
        node = self.node(request, node_id)
        return Response([_worklist_row(i) for i in node.worklist_items.all()])

    @extend_schema(
        request=WorklistInputSerializer,
        responses={201: WorklistItemSerializer, 400: ErrorSerializer},
        summary="Add a worklist entry",
    )
    def post(self, request: Request, node_id: int) -> Response:
        node = self.node(request, node_id)
        data = WorklistInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        item = services.worklist_item_add(node=node, **data.validated_data)
        return Response(_worklist_row(item), status=status.HTTP_201_CREATED)


class WorklistItemView(NodeView):
    @extend_schema(responses={204: None}, summary="Remove a worklist entry")
    def delete(self, request: Request, node_id: int, item_id: int) -> Response:
        item = WorklistItem.objects.filter(node=self.node(request, node_id), pk=item_id).first()
        if item is None:
            raise Http404("No such worklist entry.")
        services.worklist_item_delete(item=item)
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- studies -------------------------------------------------------------------------------------------------
class StudySerializer(serializers.Serializer[Any]):
    study_instance_uid = serializers.CharField()
    patient_name = serializers.CharField()
    patient_id = serializers.CharField()
    study_date = serializers.CharField()
    study_description = serializers.CharField()
    accession_number = serializers.CharField()
    modalities = serializers.CharField()
    series = serializers.IntegerField()
    instances = serializers.IntegerField()
    size = serializers.IntegerField()


class InstanceSerializer(serializers.ModelSerializer[StoredInstance]):
    sop_class_name = serializers.SerializerMethodField()
    transfer_syntax_name = serializers.SerializerMethodField()

    class Meta:
        model = StoredInstance
        fields = (
            "id",
            "sop_instance_uid",
            "sop_class_uid",
            "sop_class_name",
            "transfer_syntax_uid",
            "transfer_syntax_name",
            "patient_id",
            "patient_name",
            "study_instance_uid",
            "study_date",
            "series_instance_uid",
            "series_number",
            "modality",
            "instance_number",
            "size",
            "pixel_hash",
            "calling_ae",
            "received_at",
        )
        read_only_fields = fields

    def get_sop_class_name(self, instance: StoredInstance) -> str:
        return catalog.sop_class_name(instance.sop_class_uid)

    def get_transfer_syntax_name(self, instance: StoredInstance) -> str:
        return catalog.transfer_syntax_name(instance.transfer_syntax_uid)


class StudyListView(NodeView):
    @extend_schema(responses=StudySerializer(many=True), summary="Studies stored on a node")
    def get(self, request: Request, node_id: int) -> Response:
        studies = selectors.node_studies(self.node(request, node_id))
        return Response(StudySerializer(studies, many=True).data)


class StudyDetailView(NodeView):
    @extend_schema(
        responses=InstanceSerializer(many=True),
        summary="The instances of one stored study",
        operation_id="nodes_study_instances",
    )
    def get(self, request: Request, node_id: int, study_uid: str) -> Response:
        instances = selectors.node_study_instances(self.node(request, node_id), study_uid)
        return Response(InstanceSerializer(instances, many=True).data)


class TagSerializer(serializers.Serializer[Any]):
    depth = serializers.IntegerField()
    tag = serializers.CharField()
    keyword = serializers.CharField()
    vr = serializers.CharField()
    value = serializers.CharField()


class InstanceTagsView(NodeView):
    @extend_schema(responses={200: TagSerializer(many=True), 404: ErrorSerializer}, summary="Tag dump of an instance")
    def get(self, request: Request, node_id: int, instance_id: int) -> Response:
        from labs.dicom.imaging import tag_dump

        instance = selectors.node_instance(self.node(request, node_id), instance_id)
        try:
            rows = tag_dump(selectors.instance_path(instance))
        except Exception as exc:
            return error(f"Cannot read this object: {type(exc).__name__}", status.HTTP_404_NOT_FOUND)
        return Response(TagSerializer(rows, many=True).data)


class InstanceImageView(NodeView):
    @extend_schema(
        responses={(200, "image/png"): OpenApiTypes.BINARY, 404: ErrorSerializer},
        parameters=[OpenApiParameter("size", int, description="Longest side in pixels (32-1024, default 256)")],
        summary="The first frame of an instance as a PNG, windowed as the data set asks",
    )
    def get(self, request: Request, node_id: int, instance_id: int) -> HttpResponse | Response:
        from labs.dicom.imaging import NotAnImage, render_png

        instance = selectors.node_instance(self.node(request, node_id), instance_id)
        try:
            size = min(1024, max(32, int(request.query_params.get("size", 256))))
        except ValueError:
            return error("size must be a whole number of pixels.")
        try:
            png = render_png(selectors.instance_path(instance), size=size)
        except NotAnImage as exc:
            return error(str(exc), status.HTTP_404_NOT_FOUND)
        return HttpResponse(png, content_type="image/png")


# --- association log -----------------------------------------------------------------------------------------
class DimseSerializer(serializers.ModelSerializer[DimseLog]):
    status_name = serializers.SerializerMethodField()

    class Meta:
        model = DimseLog
        fields = (
            "seq",
            "command",
            "direction",
            "message_id",
            "sop_class_uid",
            "affected_uid",
            "status",
            "status_name",
            "pending",
            "completed",
            "failed",
            "warning",
            "detail",
            "elapsed_ms",
        )
        read_only_fields = fields

    def get_status_name(self, m: DimseLog) -> str:
        from labs.dicom.statuses import status_info

        return status_info(m.status).name if m.status is not None else ""


class AssociationSerializer(serializers.ModelSerializer[AssociationLog]):
    class Meta:
        model = AssociationLog
        fields: tuple[str, ...] = (
            "id",
            "direction",
            "started_at",
            "duration_ms",
            "peer_host",
            "peer_port",
            "calling_ae",
            "called_ae",
            "outcome",
            "reject_result",
            "reject_source",
            "reject_reason",
            "ended_by",
            "detail",
            "explanation",
            "reference",
            "bytes_in",
            "bytes_out",
        )
        read_only_fields: tuple[str, ...] = fields


class LadderSerializer(serializers.Serializer[Any]):
    arrow = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]
    detail = serializers.CharField()
    tone = serializers.CharField()


class AssociationDetailSerializer(AssociationSerializer):
    messages = DimseSerializer(many=True, read_only=True)
    ladder = serializers.SerializerMethodField()

    class Meta(AssociationSerializer.Meta):
        fields = (*AssociationSerializer.Meta.fields, "proposed_contexts", "accepted_contexts", "messages", "ladder")
        read_only_fields = fields

    @extend_schema_field(LadderSerializer(many=True))
    def get_ladder(self, log: AssociationLog) -> list[dict[str, str]]:
        steps = selectors.association_ladder(log, list(log.messages.all()))
        return [{"arrow": s.arrow, "label": s.label, "detail": s.detail, "tone": s.tone} for s in steps]


class AssociationListView(NodeView):
    @extend_schema(responses=AssociationSerializer(many=True), summary="A node's association log, newest first")
    def get(self, request: Request, node_id: int) -> Response:
        logs = selectors.node_associations(self.node(request, node_id))
        return Response(AssociationSerializer(logs, many=True).data)


class AssociationDetailView(NodeView):
    @extend_schema(responses=AssociationDetailSerializer, summary="One association with its messages and ladder")
    def get(self, request: Request, node_id: int, association_id: int) -> Response:
        log, _ = selectors.node_association(self.node(request, node_id), association_id)
        return Response(AssociationDetailSerializer(log).data)


# --- the node as a service user ------------------------------------------------------------------------------
class ScuResultSerializer(serializers.Serializer[Any]):
    ok = serializers.BooleanField()
    message = serializers.CharField()
    status = serializers.IntegerField(allow_null=True)
    completed = serializers.IntegerField()
    failed = serializers.IntegerField()
    warning = serializers.IntegerField()
    matches = serializers.ListField(child=serializers.DictField(child=serializers.CharField()))


def scu_response(result: Any) -> Response:
    data = {k: getattr(result, k) for k in ("ok", "message", "status", "completed", "failed", "warning", "matches")}
    return Response(data)


class EchoInputSerializer(serializers.Serializer[Any]):
    known_ae = serializers.IntegerField(help_text="Id of one of the node's known AEs")


class FindInputSerializer(EchoInputSerializer):
    model = serializers.ChoiceField(choices=["study", "patient", "worklist"], default="study")
    level = serializers.ChoiceField(choices=["PATIENT", "STUDY", "SERIES", "IMAGE"], default="STUDY")
    keys = serializers.DictField(child=serializers.CharField(allow_blank=True), help_text="DICOM keyword → value")


class MoveInputSerializer(EchoInputSerializer):
    level = serializers.ChoiceField(choices=["PATIENT", "STUDY", "SERIES", "IMAGE"], default="STUDY")
    keys = serializers.DictField(child=serializers.CharField(allow_blank=True))
    destination = serializers.CharField(required=False, default="", allow_blank=True, help_text="Empty: this node")


class SendInputSerializer(EchoInputSerializer):
    study_instance_uid = serializers.CharField(max_length=64)


class _ScuView(NodeView):
    input_serializer: type[serializers.Serializer[Any]] = EchoInputSerializer

    def run(self, node: Node, known: KnownAE, data: dict[str, Any]) -> Any:
        raise NotImplementedError

    def post(self, request: Request, node_id: int) -> Response:
        node = self.node(request, node_id)
        data = self.input_serializer(data=request.data)
        data.is_valid(raise_exception=True)
        known = node.known_aes.filter(pk=data.validated_data["known_ae"]).first()
        if known is None:
            return error("known_ae is not one of this node's known AEs.")
        return scu_response(self.run(node, known, data.validated_data))


_SCU_RESPONSES = {200: ScuResultSerializer, 400: ErrorSerializer}


class EchoView(_ScuView):
    @extend_schema(request=EchoInputSerializer, responses=_SCU_RESPONSES, summary="C-ECHO a known AE from the node")
    def post(self, request: Request, node_id: int) -> Response:
        return super().post(request, node_id)

    def run(self, node: Node, known: KnownAE, data: dict[str, Any]) -> Any:
        return services.node_echo(node=node, known=known)


class FindView(_ScuView):
    input_serializer = FindInputSerializer

    @extend_schema(request=FindInputSerializer, responses=_SCU_RESPONSES, summary="C-FIND a known AE from the node")
    def post(self, request: Request, node_id: int) -> Response:
        return super().post(request, node_id)

    def run(self, node: Node, known: KnownAE, data: dict[str, Any]) -> Any:
        return services.node_find(node=node, known=known, level=data["level"], keys=data["keys"], model=data["model"])


class MoveView(_ScuView):
    input_serializer = MoveInputSerializer

    @extend_schema(
        request=MoveInputSerializer, responses=_SCU_RESPONSES, summary="C-MOVE from a known AE (to the node by default)"
    )
    def post(self, request: Request, node_id: int) -> Response:
        return super().post(request, node_id)

    def run(self, node: Node, known: KnownAE, data: dict[str, Any]) -> Any:
        return services.node_move(
            node=node, known=known, level=data["level"], keys=data["keys"], destination=data["destination"]
        )


class SendView(_ScuView):
    input_serializer = SendInputSerializer

    @extend_schema(
        request=SendInputSerializer,
        responses=_SCU_RESPONSES,
        summary="C-STORE a stored study from the node to a known AE",
    )
    def post(self, request: Request, node_id: int) -> Response:
        return super().post(request, node_id)

    def run(self, node: Node, known: KnownAE, data: dict[str, Any]) -> Any:
        return services.node_send_study(node=node, known=known, study_instance_uid=data["study_instance_uid"])


# --- catalogues ----------------------------------------------------------------------------------------------
class CatalogEntrySerializer(serializers.Serializer[Any]):
    uid = serializers.CharField()
    name = serializers.CharField()


class CatalogSerializer(serializers.Serializer[Any]):
    transfer_syntaxes = CatalogEntrySerializer(many=True)
    storage_sop_classes = CatalogEntrySerializer(many=True)


class CatalogView(APIView):
    @extend_schema(responses=CatalogSerializer, summary="Transfer syntaxes and storage SOP classes a node can accept")
    def get(self, request: Request) -> Response:
        return Response(
            {
                "transfer_syntaxes": [{"uid": t.uid, "name": t.name} for t in catalog.TRANSFER_SYNTAXES],
                "storage_sop_classes": [
                    {"uid": uid, "name": catalog.sop_class_name(uid)} for uid in catalog.STORAGE_SOP_CLASSES
                ],
            }
        )
