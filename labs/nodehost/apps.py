from django.apps import AppConfig


class NodehostConfig(AppConfig):
    name = "labs.nodehost"
    label = "nodehost"
    verbose_name = "Node host"
