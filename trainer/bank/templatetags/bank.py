"""Template filters for the authoring pages."""

from __future__ import annotations

from django import template
from django.utils.html import strip_tags

from trainer.bank.presentation import render_markdown

register = template.Library()


@register.filter
def plain(markdown_text: str | None) -> str:
    """Markdown as plain text (for one-line excerpts in lists)."""
    return " ".join(strip_tags(render_markdown(markdown_text or "")).split())
