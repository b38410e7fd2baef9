"""Serializer fields shared by the apps' APIs."""

from __future__ import annotations

from typing import Any

from django.utils.encoding import smart_str
from rest_framework import serializers


class CodeRelatedField(serializers.SlugRelatedField):  # type: ignore[type-arg]
    """An object named by its code. A value holding a NUL byte cannot name anything (PostgreSQL refuses to even
    compare it, which DRF's field would let surface as a server error): it gets the usual "does not exist"."""

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, str) and "\x00" in data:
            self.fail("does_not_exist", slug_name=self.slug_field, value=smart_str(data))
        return super().to_internal_value(data)
