from django.apps import AppConfig


class AccountsConfig(AppConfig):
    """Users, roles (learner, instructor, admin) and the learner's exam track."""

    name = "trainer.accounts"
    label = "accounts"
    verbose_name = "Accounts"
