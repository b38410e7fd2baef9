"""Load and validate lab files; errors name the file and the place inside it."""

from __future__ import annotations

from functools import cache, lru_cache
from pathlib import Path

import yaml
from django.conf import settings
from django.http import Http404
from pydantic import ValidationError

from labs.scenarios.schema import LabSpec


class LabFileError(Exception):
    """A lab file that cannot be used; the message names the file and the place (e.g. ``tasks.0.checks.1``)."""


def labs_dir() -> Path:
    return Path(getattr(settings, "LABS_DIR", Path(settings.BASE_DIR) / "fixtures" / "labs"))


def parse_lab(text: str, *, source: str = "<text>") -> LabSpec:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise LabFileError(f"{source}: not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise LabFileError(f"{source}: a lab file must be a mapping (slug:, title:, …)")
    try:
        return LabSpec.model_validate(data)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            place = ".".join(str(p) for p in err["loc"])
            msg = str(err["msg"]).removeprefix("Value error, ")
            lines.append(f"{source}: {place}: {msg}" if place else f"{source}: {msg}")
        raise LabFileError("\n".join(lines)) from exc


def load_lab_file(path: Path) -> LabSpec:
    lab = parse_lab(path.read_text(encoding="utf-8"), source=path.name)
    if lab.slug != path.stem:
        raise LabFileError(f"{path.name}: slug: '{lab.slug}' must match the file name '{path.stem}'")
    return lab


def load_labs(directory: Path | None = None) -> dict[str, LabSpec]:
    """All labs of ``directory``; raises LabFileError listing every bad file."""
    labs: dict[str, LabSpec] = {}
    errors: list[str] = []
    for path in sorted((directory or labs_dir()).glob("*.yaml")):
        try:
            lab = load_lab_file(path)
        except LabFileError as exc:
            errors.append(str(exc))
            continue
        labs[lab.slug] = lab
    if errors:
        raise LabFileError("\n".join(errors))
    return labs


@cache
def _catalogue(directory: str) -> dict[str, LabSpec]:
    return load_labs(Path(directory))


def lab_catalogue() -> dict[str, LabSpec]:
    """The bundled labs (files, no database: safe at import time, e.g. to parametrise tests)."""
    return _catalogue(str(labs_dir()))


@lru_cache(maxsize=256)
def _uploaded(pk: int, updated: str) -> LabSpec:
    from labs.grading.models import UploadedLab

    row = UploadedLab.objects.get(pk=pk)
    return parse_lab(row.source, source=f"uploaded lab {row.slug}")


def uploaded_labs() -> dict[str, LabSpec]:
    """Instructors' labs stored in the database (``labs.grading.models.UploadedLab``), parsed once per version."""
    from labs.grading.models import UploadedLab

    labs: dict[str, LabSpec] = {}
    for pk, slug, updated in UploadedLab.objects.values_list("pk", "slug", "updated"):
        try:
            labs[slug] = _uploaded(pk, updated.isoformat())
        except LabFileError:  # validated on upload; a schema change since then hides it rather than break pages
            continue
    return labs


def labs_all() -> dict[str, LabSpec]:
    """The catalogue learners see: bundled labs, then uploaded ones (a bundled slug always wins)."""
    return {**uploaded_labs(), **lab_catalogue()}


def lab_get(slug: str) -> LabSpec:
    bundled = lab_catalogue().get(slug)
    if bundled is not None:
        return bundled
    from labs.grading.models import UploadedLab

    row = UploadedLab.objects.filter(slug=slug).values_list("pk", "updated").first()
    if row is None:
        raise Http404("No such lab")
    try:
        return _uploaded(row[0], row[1].isoformat())
    except LabFileError as exc:
        raise Http404("This lab no longer validates") from exc
