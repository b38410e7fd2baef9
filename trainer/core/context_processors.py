from typing import Any

from django.conf import settings
from django.http import HttpRequest

PLATFORM_NAME = "PACS Trainer"


def platform(request: HttpRequest) -> dict[str, Any]:
    """Values every template may use."""
    return {"PLATFORM_NAME": PLATFORM_NAME, "PRODUCTION": settings.PRODUCTION}
