"""Mock PACS nodes: the desired state a learner edits (node, known AEs, worklist) and what the node host
reports back (status, stored-instance index, association log, host heartbeats)."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from labs.dicom.runtime import DUPLICATE_KEEP_FIRST, DUPLICATE_OVERWRITE, DUPLICATE_REJECT


class NodeKind(models.TextChoices):
    LAB = "lab", "Lab node"
    PERSONAL = "personal", "My node"
    PEER = "peer", "Simulated peer"  # a lab's modality, archive, workstation…: not the learner's, not counted


class DesiredState(models.TextChoices):
    RUNNING = "running", "Running"
    STOPPED = "stopped", "Stopped"


class NodeStatus(models.TextChoices):
    STOPPED = "stopped", "Stopped"
    STARTING = "starting", "Starting"
    RUNNING = "running", "Running"
    FAILED = "failed", "Failed"


class DuplicatePolicy(models.TextChoices):
    OVERWRITE = DUPLICATE_OVERWRITE, "Overwrite: the new copy replaces the stored one"
    KEEP_FIRST = DUPLICATE_KEEP_FIRST, "Keep first: answer Success but discard the new copy"
    REJECT = DUPLICATE_REJECT, "Reject: answer failure 0xC111 (duplicate refused)"


class Node(models.Model):
    """A learner's DICOM node. Desired state (``desired``, configuration) is written by the web app; the node
    host reconciles to it and writes ``status``. ``revision`` grows on every change the host must apply."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="nodes")
    kind = models.CharField(max_length=16, choices=NodeKind.choices, default=NodeKind.PERSONAL)
    name = models.CharField(max_length=80, blank=True)
    lab_ref = models.CharField(max_length=64, blank=True, help_text="The lab attempt this node belongs to, if any.")
    ae_title = models.CharField(max_length=16)
    port = models.PositiveIntegerField(unique=True)

    desired = models.CharField(max_length=16, choices=DesiredState.choices, default=DesiredState.RUNNING)
    status = models.CharField(max_length=16, choices=NodeStatus.choices, default=NodeStatus.STOPPED)
    status_detail = models.CharField(max_length=300, blank=True)
    revision = models.PositiveIntegerField(default=1)
    applied_revision = models.PositiveIntegerField(default=0)
    reset_epoch = models.PositiveIntegerField(default=0)
    applied_reset_epoch = models.PositiveIntegerField(default=0)
    host = models.CharField(max_length=120, blank=True, help_text="Node host that runs the node.")

    reject_unknown_calling = models.BooleanField(default=False)
    check_calling_host = models.BooleanField(default=False)
    check_called_ae = models.BooleanField(default=True)
    max_associations = models.PositiveSmallIntegerField(default=4)
    max_associations_per_minute = models.PositiveIntegerField(default=600)
    duplicate_policy = models.CharField(
        max_length=16, choices=DuplicatePolicy.choices, default=DuplicatePolicy.OVERWRITE
    )
    quota_bytes = models.PositiveBigIntegerField(default=512 * 1024 * 1024)
    quota_instances = models.PositiveIntegerField(default=5000)
    accept_all_storage = models.BooleanField(default=True)
    sop_classes = models.JSONField(default=list, blank=True)
    transfer_syntaxes = models.JSONField(default=list, blank=True)
    faults = models.JSONField(
        default=dict,
        blank=True,
        help_text="Faults the wire code applies (simulated peers), see labs.dicom.runtime.Faults.",
    )

    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)
    started_at = models.DateTimeField(null=True, blank=True)
    last_activity = models.DateTimeField(null=True, blank=True)
    reaped_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["desired", "host"]), models.Index(fields=["owner", "kind"])]

    def __str__(self) -> str:
        return f"{self.ae_title} (port {self.port})"


class KnownAE(models.Model):
    """A remote AE the node knows: who may call it and where it may send (PS3.7 Annex D addressing)."""

    node = models.ForeignKey(Node, on_delete=models.CASCADE, related_name="known_aes")
    ae_title = models.CharField(max_length=16)
    host = models.CharField(max_length=253)
    port = models.PositiveIntegerField()
    description = models.CharField(max_length=120, blank=True)
    may_store = models.BooleanField(default=True)
    may_find = models.BooleanField(default=True)
    may_retrieve = models.BooleanField(default=True)
    move_destination = models.BooleanField(default=True)
    may_commit = models.BooleanField(default=True)

    class Meta:
        ordering = ["ae_title"]
        constraints = [models.UniqueConstraint(fields=["node", "ae_title"], name="known_ae_unique_title_per_node")]

    def __str__(self) -> str:
        return f"{self.ae_title}@{self.host}:{self.port}"


class StoredInstance(models.Model):
    """The index row of one object in a node's store (written by the node host)."""

    node = models.ForeignKey(Node, on_delete=models.CASCADE, related_name="instances")
    sop_instance_uid = models.CharField(max_length=64)
    sop_class_uid = models.CharField(max_length=64)
    transfer_syntax_uid = models.CharField(max_length=64)
    patient_id = models.CharField(max_length=64, blank=True)
    patient_name = models.CharField(max_length=324, blank=True)
    study_instance_uid = models.CharField(max_length=64)
    study_date = models.CharField(max_length=8, blank=True)
    study_description = models.CharField(max_length=64, blank=True)
    accession_number = models.CharField(max_length=16, blank=True)
    series_instance_uid = models.CharField(max_length=64)
    series_number = models.CharField(max_length=12, blank=True)
    modality = models.CharField(max_length=16, blank=True)
    instance_number = models.CharField(max_length=12, blank=True)
    relpath = models.CharField(max_length=120)
    size = models.PositiveBigIntegerField()
    pixel_hash = models.CharField(max_length=64, blank=True)
    calling_ae = models.CharField(max_length=16, blank=True)
    attrs = models.JSONField(default=dict)
    received_at = models.DateTimeField()

    class Meta:
        ordering = ["study_instance_uid", "series_instance_uid", "id"]
        constraints = [
            models.UniqueConstraint(fields=["node", "sop_instance_uid"], name="stored_instance_unique_per_node")
        ]
        indexes = [
            models.Index(fields=["node", "study_instance_uid"]),
            models.Index(fields=["node", "patient_id"]),
        ]

    def __str__(self) -> str:
        return self.sop_instance_uid


class WorklistItem(models.Model):
    """A Modality Worklist entry the node answers MWL C-FIND with (PS3.4 Annex K), as DICOM JSON."""

    node = models.ForeignKey(Node, on_delete=models.CASCADE, related_name="worklist_items")
    dataset = models.JSONField()
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"worklist item {self.pk} of node {self.node_id}"


class AssociationLog(models.Model):
    """One association to or from a node, as recorded by the node host (PS3.8 §7, §9)."""

    class Direction(models.TextChoices):
        IN = "in", "Inbound (a peer called the node)"
        OUT = "out", "Outbound (the node called a peer)"

    node = models.ForeignKey(Node, on_delete=models.CASCADE, related_name="associations")
    direction = models.CharField(max_length=3, choices=Direction.choices)
    started_at = models.DateTimeField()
    duration_ms = models.FloatField(null=True)
    negotiated_ms = models.FloatField(null=True)
    peer_host = models.CharField(max_length=64, blank=True)
    peer_port = models.PositiveIntegerField(default=0)
    calling_ae = models.CharField(max_length=64, blank=True)
    called_ae = models.CharField(max_length=64, blank=True)
    outcome = models.CharField(max_length=16)  # accepted, rejected, aborted, refused, failed
    reject_result = models.PositiveSmallIntegerField(null=True)
    reject_source = models.PositiveSmallIntegerField(null=True)
    reject_reason = models.PositiveSmallIntegerField(null=True)
    ended_by = models.CharField(max_length=16, blank=True)
    detail = models.CharField(max_length=400, blank=True)
    explanation = models.TextField(blank=True)
    reference = models.CharField(max_length=120, blank=True)
    proposed_contexts = models.JSONField(default=list)
    accepted_contexts = models.JSONField(default=list)
    bytes_in = models.PositiveBigIntegerField(default=0)
    bytes_out = models.PositiveBigIntegerField(default=0)
    max_pdu_peer = models.PositiveIntegerField(default=0)
    dropped_messages = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [models.Index(fields=["node", "-started_at"])]

    def __str__(self) -> str:
        return f"{self.calling_ae} → {self.called_ae} ({self.outcome})"


class DimseLog(models.Model):
    """One DIMSE request on an association and its final response status (PS3.7 §9.1)."""

    association = models.ForeignKey(AssociationLog, on_delete=models.CASCADE, related_name="messages")
    seq = models.PositiveIntegerField()
    command = models.CharField(max_length=24)
    direction = models.CharField(max_length=3)
    message_id = models.PositiveIntegerField()
    sop_class_uid = models.CharField(max_length=64, blank=True)
    affected_uid = models.CharField(max_length=64, blank=True)
    status = models.PositiveIntegerField(null=True)
    pending = models.PositiveIntegerField(default=0)
    completed = models.PositiveIntegerField(null=True)
    failed = models.PositiveIntegerField(null=True)
    warning = models.PositiveIntegerField(null=True)
    detail = models.CharField(max_length=300, blank=True)
    elapsed_ms = models.FloatField(null=True)

    class Meta:
        ordering = ["association", "seq"]

    def __str__(self) -> str:
        return f"{self.command} #{self.message_id}"


class NodeHost(models.Model):
    """A node host process's heartbeat."""

    host_id = models.CharField(max_length=120, unique=True)
    pid = models.PositiveIntegerField()
    hostname = models.CharField(max_length=255)
    public_host = models.CharField(max_length=255)
    started_at = models.DateTimeField()
    last_seen = models.DateTimeField()
    node_count = models.PositiveIntegerField(default=0)
    detail = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-last_seen"]

    def __str__(self) -> str:
        return f"{self.host_id} (pid {self.pid})"
