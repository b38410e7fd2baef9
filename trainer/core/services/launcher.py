"""The quick-start launcher: which processes make up the platform, and whether their ports are free."""

from __future__ import annotations

import errno
import socket
import sys
from dataclasses import dataclass

import psutil
from django.apps import apps
from django.conf import settings


@dataclass(frozen=True)
class PlannedProcess:
    name: str
    command: str


class PortTakenError(Exception):
    """A port the platform needs is already in use; the message says by whom and what to do."""


def port_owner(port: int) -> str | None:
    """Best effort: name the process listening on ``port`` (needs permission to see other users' sockets)."""
    try:
        for conn in psutil.net_connections(kind="inet"):
            if conn.laddr and conn.laddr.port == port and conn.status == psutil.CONN_LISTEN and conn.pid:
                proc = psutil.Process(conn.pid)
                return f"{proc.name()} (pid {conn.pid})"
    except (psutil.Error, PermissionError):
        return None
    return None


def ensure_port_free(host: str, port: int, *, what: str, env_var: str) -> None:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((host, port))
        except OSError as exc:
            if exc.errno != errno.EADDRINUSE:
                raise
            owner = port_owner(port)
            by = f" by {owner}" if owner else ""
            raise PortTakenError(
                f"{what} cannot start: {host}:{port} is already in use{by}. "
                f"Stop that process, or choose another port with {env_var}=<port>."
            ) from exc


def plan_processes(*, host: str, port: int, web_workers: int = 2, beat: bool = True) -> list[PlannedProcess]:
    python = sys.executable
    plan = [
        PlannedProcess(
            "web",
            f"{python} -m gunicorn trainer.wsgi --bind {host}:{port} --workers {web_workers} --threads 4 "
            "--access-logfile - --graceful-timeout 5",
        ),
        PlannedProcess(
            "worker",
            f"{python} -m celery -A trainer worker --loglevel INFO --concurrency 2 --hostname worker@%h"
            + (" --beat" if beat else ""),
        ),
    ]
    if apps.is_installed("labs.nodes"):
        plan.append(PlannedProcess("nodehost", f"{python} manage.py nodehost"))
    return plan


def check_ports(*, host: str, port: int) -> None:
    ensure_port_free(host, port, what="The web server", env_var="PORT")
    if apps.is_installed("labs.nodes"):
        ensure_port_free(
            settings.NODE_HOST_BIND, settings.NODE_PORT_RANGE[0], what="The node host", env_var="NODE_PORT_RANGE"
        )
