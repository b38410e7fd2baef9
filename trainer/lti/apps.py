from django.apps import AppConfig


class LtiConfig(AppConfig):
    name = "trainer.lti"
    label = "lti"
    verbose_name = "LTI 1.3 tool"

    def ready(self) -> None:
        from trainer.lti import signals  # noqa: F401 - connects score passback to exam submission and overrides
