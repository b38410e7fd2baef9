from django.apps import AppConfig


class NodesConfig(AppConfig):
    name = "labs.nodes"
    label = "nodes"
    verbose_name = "Lab nodes"
