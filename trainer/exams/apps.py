from django.apps import AppConfig


class ExamsConfig(AppConfig):
    """Timed mock exams: forms assembled from blueprints (or fixed forms), attempts, server-side timing, scoring,
    score reports."""

    name = "trainer.exams"
    label = "exams"
    verbose_name = "Mock exams"
