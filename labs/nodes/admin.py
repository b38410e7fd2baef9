from django.contrib import admin

from labs.nodes.models import AssociationLog, KnownAE, Node, NodeHost, StoredInstance, WorklistItem


class KnownAEInline(admin.TabularInline[KnownAE, Node]):
    model = KnownAE
    extra = 0


@admin.register(Node)
class NodeAdmin(admin.ModelAdmin[Node]):
    list_display = ("ae_title", "port", "owner", "kind", "desired", "status", "host", "last_activity")
    list_filter = ("kind", "desired", "status", "host")
    search_fields = ("ae_title", "owner__username", "lab_ref")
    inlines = [KnownAEInline]
    readonly_fields = ("status", "status_detail", "applied_revision", "applied_reset_epoch", "host", "started_at")


@admin.register(StoredInstance)
class StoredInstanceAdmin(admin.ModelAdmin[StoredInstance]):
    list_display = ("sop_instance_uid", "node", "patient_name", "modality", "transfer_syntax_uid", "size")
    search_fields = ("sop_instance_uid", "study_instance_uid", "patient_id")
    list_select_related = ("node",)


@admin.register(AssociationLog)
class AssociationLogAdmin(admin.ModelAdmin[AssociationLog]):
    list_display = ("started_at", "node", "direction", "calling_ae", "called_ae", "outcome")
    list_filter = ("outcome", "direction")
    list_select_related = ("node",)


@admin.register(NodeHost)
class NodeHostAdmin(admin.ModelAdmin[NodeHost]):
    list_display = ("host_id", "pid", "public_host", "node_count", "last_seen", "detail")


admin.site.register(WorklistItem)
