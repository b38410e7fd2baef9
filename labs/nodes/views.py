"""The node console: thin views over services and selectors. Every view looks the node up through the signed-in
user (another learner's node is a 404)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from labs.dicom import catalog, statuses
from labs.dicom.imaging import NotAnImage, render_png, tag_dump
from labs.nodes import selectors, services
from labs.nodes.forms import (
    EchoForm,
    FindForm,
    KnownAEForm,
    MoveForm,
    NodeSettingsForm,
    SendForm,
    SyntaxesForm,
    WorklistForm,
    parse_keys,
)
from labs.nodes.models import KnownAE, Node, NodeKind, WorklistItem

NodeView = Callable[..., HttpResponse]


def node_view(view: NodeView) -> NodeView:
    """Sign-in required; resolves ``node_id`` to the user's own node (404 otherwise)."""

    @wraps(view)
    def wrapped(request: HttpRequest, node_id: int, *args: Any, **kwargs: Any) -> HttpResponse:
        node = selectors.node_of(request.user, node_id)
        return view(request, node, *args, **kwargs)

    return login_required(wrapped)


def _context(request: HttpRequest, node: Node, tab: str, **extra: Any) -> dict[str, Any]:
    health = selectors.nodehost_health()
    return {
        "node": node,
        "tab": tab,
        "state": selectors.node_state(node, health),
        "idle_minutes_left": selectors.node_idle_minutes_left(node),
        "public_host": selectors.node_public_host(node),
        **extra,
    }


@login_required
@require_http_methods(["GET", "POST"])
def node_list(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        try:
            node = services.node_create(owner=request.user, kind=NodeKind.PERSONAL)  # type: ignore[arg-type]
        except services.NodeError as exc:
            messages.error(request, str(exc))
            return redirect("nodes:list")
        messages.success(request, f"Your node {node.ae_title} is starting on port {node.port}.")
        return redirect("nodes:detail", node_id=node.pk)
    health = selectors.nodehost_health()
    nodes = [(n, selectors.node_state(n, health)) for n in selectors.nodes_of(request.user)]
    has_personal = any(n.kind == NodeKind.PERSONAL for n, _ in nodes)
    return render(request, "nodes/list.html", {"nodes": nodes, "has_personal": has_personal})


@node_view
@require_safe
def node_detail(request: HttpRequest, node: Node) -> HttpResponse:
    used, count = selectors.node_usage(node)
    context = _context(request, node, "overview", used=used, count=count)
    context["commands"] = selectors.node_commands(node, context["public_host"])
    context["quota_percent"] = min(100, round(100 * used / node.quota_bytes)) if node.quota_bytes else 100
    return render(request, "nodes/detail.html", context)


@node_view
@require_safe
def node_state_fragment(request: HttpRequest, node: Node) -> HttpResponse:
    return render(request, "nodes/_state.html", _context(request, node, "overview"))


def _action(request: HttpRequest, node: Node, fn: Callable[..., Any], done: str) -> HttpResponse:
    try:
        fn(node=node)
    except services.NodeError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, done)
    return redirect("nodes:detail", node_id=node.pk)


@node_view
@require_POST
def node_start(request: HttpRequest, node: Node) -> HttpResponse:
    return _action(request, node, services.node_start, "Starting the node.")


@node_view
@require_POST
def node_stop(request: HttpRequest, node: Node) -> HttpResponse:
    return _action(request, node, services.node_stop, "Stopping the node.")


@node_view
@require_POST
def node_reset(request: HttpRequest, node: Node) -> HttpResponse:
    return _action(request, node, services.node_reset, "Erasing stored objects and the log; settings are kept.")


@node_view
@require_POST
def node_keep_alive(request: HttpRequest, node: Node) -> HttpResponse:
    return _action(request, node, services.node_keep_alive, "The node stays up.")


@node_view
@require_POST
def node_delete(request: HttpRequest, node: Node) -> HttpResponse:
    services.node_delete(node=node)
    messages.success(request, "Node deleted.")
    return redirect("nodes:list")


@node_view
@require_http_methods(["GET", "POST"])
def node_settings(request: HttpRequest, node: Node) -> HttpResponse:
    form = NodeSettingsForm.for_node(node, request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            services.node_configure(node=node, **form.changes())
        except services.NodeError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, "Settings saved; new associations use them at once.")
            return redirect("nodes:settings", node_id=node.pk)
    return render(request, "nodes/settings.html", _context(request, node, "settings", form=form))


@node_view
@require_http_methods(["GET", "POST"])
def node_syntaxes(request: HttpRequest, node: Node) -> HttpResponse:
    initial = {
        "accept_all_storage": node.accept_all_storage,
        "sop_classes": node.sop_classes,
        "transfer_syntaxes": node.transfer_syntaxes,
    }
    form = SyntaxesForm(request.POST if request.method == "POST" else None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.node_configure(node=node, **form.cleaned_data)
        except services.NodeError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, "Accepted SOP classes and transfer syntaxes saved.")
            return redirect("nodes:syntaxes", node_id=node.pk)
    return render(request, "nodes/syntaxes.html", _context(request, node, "syntaxes", form=form))


@node_view
@require_http_methods(["GET", "POST"])
def known_aes(request: HttpRequest, node: Node) -> HttpResponse:
    form = KnownAEForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            services.known_ae_add(node=node, **form.cleaned_data)
        except services.NodeError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, f"{form.cleaned_data['ae_title']} added.")
            return redirect("nodes:known-aes", node_id=node.pk)
    rows = [(k, KnownAEForm(instance=k, prefix=f"k{k.pk}")) for k in node.known_aes.all()]
    return render(request, "nodes/known_aes.html", _context(request, node, "known-aes", form=form, rows=rows))


def _known(node: Node, known_id: int) -> KnownAE:
    from django.http import Http404

    known = node.known_aes.filter(pk=known_id).first()
    if known is None:
        raise Http404("No such known AE.")
    return known


@node_view
@require_POST
def known_ae_edit(request: HttpRequest, node: Node, known_id: int) -> HttpResponse:
    known = _known(node, known_id)
    form = KnownAEForm(request.POST, instance=KnownAE(node=node), prefix=f"k{known.pk}")
    if form.is_valid():
        try:
            services.known_ae_update(known=known, **form.cleaned_data)
        except services.NodeError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, f"{known.ae_title} saved.")
    else:
        messages.error(request, "; ".join(f"{k}: {', '.join(str(e) for e in v)}" for k, v in form.errors.items()))
    return redirect("nodes:known-aes", node_id=node.pk)


@node_view
@require_POST
def known_ae_delete(request: HttpRequest, node: Node, known_id: int) -> HttpResponse:
    known = _known(node, known_id)
    services.known_ae_delete(known=known)
    messages.success(request, f"{known.ae_title} removed.")
    return redirect("nodes:known-aes", node_id=node.pk)


@node_view
@require_http_methods(["GET", "POST"])
def worklist(request: HttpRequest, node: Node) -> HttpResponse:
    form = WorklistForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            services.worklist_item_add(node=node, **form.cleaned_data)
        except services.NodeError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, "Worklist entry added.")
            return redirect("nodes:worklist", node_id=node.pk)
    items = [(item, selectors.worklist_summary(item)) for item in node.worklist_items.all()]
    return render(request, "nodes/worklist.html", _context(request, node, "worklist", form=form, items=items))


@node_view
@require_POST
def worklist_delete(request: HttpRequest, node: Node, item_id: int) -> HttpResponse:
    item = WorklistItem.objects.filter(node=node, pk=item_id).first()
    if item is not None:
        services.worklist_item_delete(item=item)
    return redirect("nodes:worklist", node_id=node.pk)


@node_view
@require_safe
def studies(request: HttpRequest, node: Node) -> HttpResponse:
    return render(
        request, "nodes/studies.html", _context(request, node, "studies", studies=selectors.node_studies(node))
    )


@node_view
@require_POST
def study_delete(request: HttpRequest, node: Node, study_uid: str) -> HttpResponse:
    try:
        count = services.study_delete(node=node, study_instance_uid=study_uid)
    except services.NodeError as exc:
        messages.error(request, str(exc))
        return redirect("nodes:studies", node_id=node.pk)
    messages.success(request, f"Study deleted ({count} instances); the space no longer counts against the quota.")
    return redirect("nodes:studies", node_id=node.pk)


@node_view
@require_POST
def patient_merge(request: HttpRequest, node: Node) -> HttpResponse:
    try:
        count = services.patient_merge(
            node=node,
            from_patient_id=request.POST.get("from_patient_id", ""),
            to_patient_id=request.POST.get("to_patient_id", ""),
            to_patient_name=request.POST.get("to_patient_name", ""),
        )
    except services.NodeError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"{count} stored objects now belong to the surviving patient.")
    return redirect("nodes:studies", node_id=node.pk)


@node_view
@require_safe
def study_detail(request: HttpRequest, node: Node, study_uid: str) -> HttpResponse:
    instances = selectors.node_study_instances(node, study_uid)
    series: dict[str, list[Any]] = {}
    for instance in instances:
        series.setdefault(instance.series_instance_uid, []).append(instance)
    context = _context(request, node, "studies", study_uid=study_uid, series=series, first=instances[0])
    context["known"] = node.known_aes.all()
    return render(request, "nodes/study.html", context)


@node_view
@require_safe
def instance_detail(request: HttpRequest, node: Node, instance_id: int) -> HttpResponse:
    instance = selectors.node_instance(node, instance_id)
    path = selectors.instance_path(instance)
    try:
        rows = tag_dump(path)
        error = ""
    except Exception as exc:  # a file that disappeared or cannot be parsed is shown as such
        rows, error = [], f"Cannot read this object: {type(exc).__name__}"
    context = _context(request, node, "studies", instance=instance, rows=rows, error=error)
    context["sop_class"] = catalog.sop_class_name(instance.sop_class_uid)
    context["transfer_syntax"] = catalog.transfer_syntax_name(instance.transfer_syntax_uid)
    return render(request, "nodes/instance.html", context)


@node_view
@require_safe
def instance_thumbnail(request: HttpRequest, node: Node, instance_id: int) -> HttpResponse:
    instance = selectors.node_instance(node, instance_id)
    size = 512 if request.GET.get("size") == "large" else 160
    try:
        png = render_png(selectors.instance_path(instance), size=size)
    except NotAnImage as exc:
        return HttpResponse(str(exc), status=404, content_type="text/plain")
    response = HttpResponse(png, content_type="image/png")
    response["Cache-Control"] = "private, max-age=3600"
    return response


@node_view
@require_safe
def association_log(request: HttpRequest, node: Node) -> HttpResponse:
    logs = selectors.node_associations(node)
    return render(request, "nodes/log.html", _context(request, node, "log", logs=logs, keep=settings.NODE_LOG_KEEP))


@node_view
@require_safe
def association_detail(request: HttpRequest, node: Node, association_id: int) -> HttpResponse:
    log, dimse = selectors.node_association(node, association_id)
    context = _context(request, node, "log", log=log, dimse=dimse, ladder=selectors.association_ladder(log, dimse))
    context["contexts"] = selectors.association_contexts(log)
    context["reject_line"] = (
        statuses.reject_text(log.reject_result, log.reject_source or 0, log.reject_reason or 0)
        if log.reject_result
        else ""
    )
    return render(request, "nodes/association.html", context)


TOOL_FORMS = {"echo": EchoForm, "find": FindForm, "move": MoveForm, "send": SendForm}


@node_view
@require_http_methods(["GET", "POST"])
def tools(request: HttpRequest, node: Node, tool: str = "") -> HttpResponse:
    forms = {name: cls(node=node, prefix=name) for name, cls in TOOL_FORMS.items()}
    result = None
    if request.method == "POST":
        if tool not in TOOL_FORMS:
            return redirect("nodes:tools", node_id=node.pk)
        form = TOOL_FORMS[tool](request.POST, node=node, prefix=tool)
        forms[tool] = form
        if form.is_valid():
            result = _run_tool(node, tool, form.cleaned_data)
            if isinstance(result, str):
                form.add_error(None, result)
                result = None
    context = _context(request, node, "tools", forms=forms, result=result, tool=tool)
    context["studies"] = selectors.node_studies(node)[:50]
    if request.htmx:  # type: ignore[attr-defined]
        return render(request, "nodes/_tool_result.html", context)
    return render(request, "nodes/tools.html", context)


def _run_tool(node: Node, tool: str, data: dict[str, Any]) -> Any:
    known = data["known"]
    try:
        if tool == "echo":
            return services.node_echo(node=node, known=known)
        if tool == "find":
            return services.node_find(
                node=node, known=known, level=data["level"], keys=parse_keys(data["keys"]), model=data["model"]
            )
        if tool == "move":
            return services.node_move(
                node=node,
                known=known,
                level=data["level"],
                keys=parse_keys(data["keys"]),
                destination=data["destination"],
            )
        return services.node_send_study(node=node, known=known, study_instance_uid=data["study_instance_uid"])
    except services.NodeError as exc:
        return str(exc)
