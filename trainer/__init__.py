"""PACS Trainer: the Django project and the exam-prep domain."""

from trainer.celery import app as celery_app

__all__ = ["celery_app"]
