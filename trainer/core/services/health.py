"""What the health endpoint reports: the database, the Celery broker and the node host."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from django.apps import apps
from django.db import connection
from django.utils.module_loading import import_string
from kombu import Connection

from trainer.celery import app as celery_app


@dataclass(frozen=True)
class ComponentHealth:
    ok: bool
    detail: str
    latency_ms: float | None = None


def _timed(fn: Any) -> ComponentHealth:
    started = time.perf_counter()
    try:
        detail = fn()
    except Exception as exc:  # a health check reports failures, it never raises them
        return ComponentHealth(ok=False, detail=f"{type(exc).__name__}: {exc}")
    return ComponentHealth(ok=True, detail=detail, latency_ms=round((time.perf_counter() - started) * 1000, 1))


def check_database() -> ComponentHealth:
    def probe() -> str:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        return f"{connection.vendor} reachable"

    return _timed(probe)


def check_broker() -> ComponentHealth:
    def probe() -> str:
        url = celery_app.conf.broker_url
        with Connection(url, transport_options=celery_app.conf.broker_transport_options) as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
        return f"{url.split('://', 1)[0]} broker reachable"

    return _timed(probe)


def check_nodehost() -> ComponentHealth:
    """The node host reports heartbeats in the database; a stale or missing heartbeat is unhealthy."""
    if not apps.is_installed("labs.nodes"):
        return ComponentHealth(ok=True, detail="no node host configured")
    # The labs app owns what "healthy" means for its host.
    nodehost_health: Callable[[], tuple[bool, str]] = import_string("labs.nodes.selectors.nodehost_health")
    ok, detail = nodehost_health()
    return ComponentHealth(ok=ok, detail=detail)


def platform_health() -> dict[str, Any]:
    components = {"database": check_database(), "broker": check_broker(), "nodehost": check_nodehost()}
    return {
        "status": "ok" if all(c.ok for c in components.values()) else "degraded",
        "components": {name: asdict(c) for name, c in components.items()},
    }
