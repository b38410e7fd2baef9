from django.apps import AppConfig


class PracticeConfig(AppConfig):
    """Tutor-mode practice, FSRS spaced review, weak-domain targeting and readiness."""

    name = "trainer.practice"
    label = "practice"
    verbose_name = "Practice"
