from django.apps import AppConfig


class BankConfig(AppConfig):
    """Exam tracks and domains, blueprints, items with versions and review history, formats, linter."""

    name = "trainer.bank"
    label = "bank"
    verbose_name = "Question bank"
