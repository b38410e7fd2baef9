from django.apps import AppConfig


class CoreConfig(AppConfig):
    """Cross-cutting pieces: layout, dashboards, health, the launcher and task plumbing."""

    name = "trainer.core"
    label = "core"
    verbose_name = "Platform core"
