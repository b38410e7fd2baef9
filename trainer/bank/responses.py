"""HTTP responses shared by the bank's pages and its API."""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import HttpResponse

from trainer.bank.formats import Format
from trainer.bank.models import Item
from trainer.bank.selectors import items_as_schema


def export_download(fmt: Format, items: QuerySet[Item]) -> HttpResponse:
    """The export as a download, text and binary formats (QTI's zip) alike; the number of items the format
    could not hold is in the ``X-Items-Skipped`` header."""
    written = fmt.write(items_as_schema(items))
    content_type = "application/octet-stream" if fmt.binary else "application/octet-stream; charset=utf-8"
    response = HttpResponse(written.data, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="pacs-trainer-bank.{fmt.extension}"'
    response["X-Items-Skipped"] = str(len(written.skipped))
    return response
