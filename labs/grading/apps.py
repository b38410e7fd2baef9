from django.apps import AppConfig


class GradingConfig(AppConfig):
    name = "labs.grading"
    label = "grading"
    verbose_name = "Labs and grading"
