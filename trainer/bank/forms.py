"""Forms of the authoring pages. The item form and its option, pair and reference rows are turned into the
canonical ``ItemIn`` (so the UI, the API and every import validate an item the same way)."""

from __future__ import annotations

from typing import Any

from django import forms
from pydantic import ValidationError as PydanticValidationError

from trainer.bank.formats import FORMATS
from trainer.bank.models import Blueprint, CognitiveLevel, Difficulty, Domain, Item, ItemStatus, ItemType, Track
from trainer.bank.schema import ID_PATTERN, ItemIn
from trainer.bank.services import bank_upload_read

CHOICE_TYPES = {ItemType.SINGLE, ItemType.MULTIPLE, ItemType.TRUEFALSE, ItemType.ORDERING}
OPTION_ROWS = 6
PAIR_ROWS = 8
REFERENCE_ROWS = 3
PAGE_SIZES = (10, 25, 50, 100)


def _blank(label: str = "any") -> list[tuple[str, str]]:
    return [("", label)]


def domain_choices() -> list[tuple[str, list[tuple[str, str]]]]:
    """Domains grouped by track, valued ``TRACK/code``."""
    groups: dict[str, list[tuple[str, str]]] = {}
    for d in Domain.objects.select_related("track").order_by("track__order", "order"):
        groups.setdefault(d.track.code, []).append((f"{d.track.code}/{d.code}", f"{d.track.code} · {d.name}"))
    return list(groups.items())


class ItemFilterForm(forms.Form):
    q = forms.CharField(required=False, label="Search stems", widget=forms.SearchInput)
    track = forms.ChoiceField(required=False)
    domain = forms.ChoiceField(required=False)
    type = forms.ChoiceField(required=False, choices=_blank() + list(ItemType.choices))
    level = forms.ChoiceField(required=False, choices=_blank() + list(CognitiveLevel.choices))
    status = forms.ChoiceField(required=False, choices=_blank() + list(ItemStatus.choices))
    tag = forms.SlugField(required=False)
    origin = forms.ChoiceField(
        required=False, choices=[("", "any"), ("authored", "Authored"), ("generated", "Generated")]
    )
    per_page = forms.TypedChoiceField(
        required=False, coerce=int, empty_value=None, choices=[(n, str(n)) for n in PAGE_SIZES], label="Per page"
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        track = self.fields["track"]
        domain = self.fields["domain"]
        assert isinstance(track, forms.ChoiceField) and isinstance(domain, forms.ChoiceField)
        track.choices = _blank() + [(t.code, t.code) for t in Track.objects.all()]
        domain.choices = [("", "any"), *domain_choices()]

    def filters(self) -> dict[str, str]:
        data = self.cleaned_data if self.is_valid() else {}
        return {k: str(data.get(k) or "") for k in ("q", "track", "domain", "type", "level", "status", "tag", "origin")}


class ItemForm(forms.Form):
    external_id = forms.RegexField(
        regex=ID_PATTERN,
        label="Id",
        help_text="Stable: lowercase letters, digits and dashes (e.g. ciip-im-0042). It cannot change later.",
        error_messages={"invalid": "Use lowercase letters, digits and dashes, starting with a letter or digit."},
    )
    type = forms.ChoiceField(choices=ItemType.choices)
    stem = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 8}), help_text="Markdown. Exhibits go in fenced code blocks (```)."
    )
    rationale = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Why the key is right (numeric items: the worked calculation). Markdown.",
    )
    answer = forms.FloatField(required=False, help_text="Numeric items: the answer.")
    tolerance = forms.FloatField(required=False, min_value=0, help_text="Numeric items: ± this much is right.")
    unit = forms.CharField(required=False, max_length=40, help_text="Numeric items: the unit (may be empty).")
    primary_domain = forms.ChoiceField(label="Home domain", help_text="The domain the item counts toward first.")
    domains = forms.MultipleChoiceField(
        required=False,
        label="Other domains",
        widget=forms.CheckboxSelectMultiple,
        help_text="Every other track domain the item fits.",
    )
    tags = forms.CharField(required=False, help_text="Comma-separated, e.g. association, dimse.")
    difficulty = forms.ChoiceField(choices=Difficulty.choices, initial=Difficulty.MEDIUM)
    level = forms.ChoiceField(choices=CognitiveLevel.choices, initial=CognitiveLevel.RECALL)
    keep_media = forms.MultipleChoiceField(
        required=False, label="Exhibits", widget=forms.CheckboxSelectMultiple, help_text="Untick to remove."
    )
    image = forms.FileField(
        required=False,
        label="Add an image or a DICOM object",
        help_text="PNG, JPEG, GIF or WebP (at most 2 MiB), or a de-identified DICOM file (at most 8 MiB); "
        "shown with the stem.",
    )
    dicom_render = forms.ChoiceField(
        choices=[("image", "as an image"), ("dump", "as a tag dump")],
        initial="image",
        required=False,
        label="Show a DICOM object",
        help_text="Its first frame with its own window, or its data elements listed.",
    )
    image_alt = forms.CharField(required=False, max_length=300, label="Description (alt text)")

    def __init__(self, *args: Any, item: Item | None = None, media: list[dict[str, Any]] | None = None, **kw: Any):
        super().__init__(*args, **kw)
        groups = domain_choices()
        for name in ("primary_domain", "domains"):
            field = self.fields[name]
            assert isinstance(field, forms.ChoiceField)
            field.choices = groups
        keep = self.fields["keep_media"]
        assert isinstance(keep, forms.MultipleChoiceField)
        keep.choices = [
            (m["file"], f"{m['file']} — {m.get('alt') or m.get('render', 'no description')}") for m in media or []
        ]
        if item is not None:
            self.fields["external_id"].disabled = True

    def clean_tags(self) -> list[str]:
        raw: str = self.cleaned_data.get("tags") or ""
        return sorted({t.strip().lower().replace(" ", "-") for t in raw.split(",") if t.strip()})

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        data["dicom_render"] = data.get("dicom_render") or "image"
        upload = data.get("image")
        dump = data["dicom_render"] == "dump" and str(getattr(upload, "name", "")).lower().endswith(".dcm")
        if upload and not dump and not (data.get("image_alt") or "").strip():
            self.add_error("image_alt", "Describe the image for learners who cannot see it.")
        return data


class OptionForm(forms.Form):
    text = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}), label="Option text")
    correct = forms.BooleanField(required=False, label="Correct (key)")
    rationale = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 2}), label="Why it is right or wrong"
    )


class PairForm(forms.Form):
    prompt = forms.CharField(required=False, label="Prompt")
    answer = forms.CharField(required=False, label="Matches")
    rationale = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}), label="Why")


class ReferenceForm(forms.Form):
    standard = forms.CharField(required=False, max_length=120, help_text="e.g. DICOM PS3.4, IHE RAD TF-2")
    section = forms.CharField(required=False, max_length=120, help_text="Section, table or annex")
    title = forms.CharField(required=False, max_length=300)
    url = forms.URLField(required=False, assume_scheme="https")


class RowFormSet(forms.BaseFormSet[Any]):
    """Fixed rows, every one read: a row that matches its initial value is still data (Django would otherwise
    skip "extra" rows that did not change), and blank rows are simply ignored later."""

    def _construct_form(self, i: int, **kwargs: Any) -> forms.Form:
        construct = super()._construct_form  # type: ignore[misc]  # not in django-stubs
        return construct(i, empty_permitted=False, use_required_attribute=False, **kwargs)  # type: ignore[no-any-return]


def _rows_formset(form: type[forms.Form], rows: int) -> type[forms.BaseFormSet[Any]]:
    return forms.formset_factory(form, formset=RowFormSet, extra=0, max_num=rows, absolute_max=rows)


OptionFormSet = _rows_formset(OptionForm, OPTION_ROWS)
PairFormSet = _rows_formset(PairForm, PAIR_ROWS)
ReferenceFormSet = _rows_formset(ReferenceForm, REFERENCE_ROWS)


def padded(rows: list[dict[str, Any]], size: int) -> list[dict[str, Any]]:
    return [*rows, *({} for _ in range(size - len(rows)))]


def _rows(formset: forms.BaseFormSet[Any], key: str) -> list[dict[str, Any]]:
    return [f.cleaned_data for f in formset.forms if (f.cleaned_data.get(key) or "").strip()]


def item_from_forms(
    form: ItemForm,
    options: forms.BaseFormSet[Any],
    pairs: forms.BaseFormSet[Any],
    references: forms.BaseFormSet[Any],
    *,
    external_id: str,
    media: list[dict[str, Any]],
) -> ItemIn | None:
    """The canonical item from valid forms; problems are added to ``form`` (None is returned). Only the rows the
    chosen type uses are read, so switching type leaves no stale answer behind."""
    d = form.cleaned_data
    item_type = ItemType(d["type"])
    domains = [d["primary_domain"], *(x for x in d.get("domains") or [] if x != d["primary_domain"])]
    for formset, key, what in ((options, "text", "option"), (pairs, "prompt", "pair")):
        for i, row in enumerate(formset.forms, start=1):
            filled = any(v is True or (isinstance(v, str) and v.strip()) for v in row.cleaned_data.values())
            if filled and not (row.cleaned_data.get(key) or "").strip():
                form.add_error(None, f"{what} {i}: the {key} is empty but other fields are filled")
    raw = {
        "id": external_id,
        "type": item_type,
        "stem": d["stem"],
        "rationale": d.get("rationale") or "",
        "options": (
            [{"text": r["text"], "correct": r["correct"], "rationale": r["rationale"]} for r in _rows(options, "text")]
            if item_type in CHOICE_TYPES
            else []
        ),
        "pairs": (
            [
                {"prompt": r["prompt"], "answer": r["answer"], "rationale": r["rationale"]}
                for r in _rows(pairs, "prompt")
            ]
            if item_type == ItemType.MATCHING
            else []
        ),
        "answer": d.get("answer") if item_type == ItemType.NUMERIC else None,
        "tolerance": d.get("tolerance") if item_type == ItemType.NUMERIC else None,
        "unit": (d.get("unit") or "") if item_type == ItemType.NUMERIC else None,
        "references": [
            {k: r[k] or "" for k in ("standard", "section", "title", "url")} for r in _rows(references, "standard")
        ],
        "domains": [{"track": x.partition("/")[0], "domain": x.partition("/")[2]} for x in domains],
        "tags": d.get("tags") or [],
        "difficulty": d["difficulty"],
        "level": d["level"],
        "media": media,
    }
    if form.errors:
        return None
    try:
        return ItemIn.model_validate(raw)
    except PydanticValidationError as exc:
        for err in exc.errors():
            where = ".".join(str(p) for p in err["loc"])
            message = err["msg"].removeprefix("Value error, ")
            form.add_error(None, f"{where}: {message}" if where else message)
        return None


def initial_from_item(item: Item) -> tuple[dict[str, Any], list[dict[str, Any]], list[dict[str, Any]], list[Any]]:
    """Initial data for the item form and its option, pair and reference rows."""
    v = item.current_version
    assert v is not None
    links = [f"{d.domain.track.code}/{d.domain.code}" for d in item.item_domains.all()]
    initial = {
        "external_id": item.external_id,
        "type": item.type,
        "stem": v.stem,
        "rationale": v.rationale,
        "answer": v.answer,
        "tolerance": v.tolerance,
        "unit": v.unit,
        "primary_domain": links[0] if links else "",
        "domains": links[1:],
        "tags": ", ".join(t.name for t in item.tags.all()),
        "difficulty": item.difficulty,
        "level": item.level,
        "keep_media": [m["file"] for m in v.media],
    }
    return initial, list(v.options), list(v.pairs), list(v.references)


class ReviewDecisionForm(forms.Form):
    decision = forms.ChoiceField(
        choices=[
            ("accept", "Accept: publish the item"),
            ("return", "Return to the author with comments"),
            ("retire", "Retire: the item cannot be fixed"),
        ],
        widget=forms.RadioSelect,
    )
    notes = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        label="Comments",
        help_text="Required when you return or retire the item.",
    )


def format_choices() -> list[tuple[str, str]]:
    """Every registered import/export format: a new one appears here without a change to the UI."""
    return [(f.name, f"{f.label} (.{f.extension})") for f in FORMATS.values()]


class ImportForm(forms.Form):
    file = forms.FileField(help_text="A bank file in the chosen format, at most 10 MiB.")
    format = forms.ChoiceField()
    dry_run = forms.BooleanField(
        required=False, initial=True, label="Dry run first", help_text="Check everything and report; change nothing."
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        fmt = self.fields["format"]
        assert isinstance(fmt, forms.ChoiceField)
        fmt.choices = format_choices()

    def clean_file(self) -> bytes:
        try:
            return bank_upload_read(upload=self.cleaned_data["file"])
        except ValueError as exc:
            raise forms.ValidationError(str(exc)) from exc


class ExportForm(forms.Form):
    format = forms.ChoiceField()
    status = forms.MultipleChoiceField(
        required=False, choices=ItemStatus.choices, widget=forms.CheckboxSelectMultiple, help_text="None ticked: all."
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        fmt = self.fields["format"]
        assert isinstance(fmt, forms.ChoiceField)
        fmt.choices = format_choices()


class BlueprintForm(forms.Form):
    name = forms.CharField(max_length=200)
    time_limit_minutes = forms.IntegerField(min_value=1, label="Time limit (minutes)")
    pilot_items = forms.IntegerField(min_value=0, help_text="Unscored items added to each form.")
    pass_mark_percent = forms.FloatField(
        required=False, min_value=0.1, max_value=100, label="Pass mark (%)", help_text="Empty: no official cut score."
    )
    source_note = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 4}), help_text="Where the numbers come from."
    )

    def __init__(self, *args: Any, blueprint: Blueprint, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        counts = {dc.domain_id: dc.items for dc in blueprint.domain_counts.all()}
        self.domain_fields: list[str] = []
        for d in blueprint.track.domains.all():
            name = f"count_{d.code}"
            self.fields[name] = forms.IntegerField(min_value=0, label=d.name, initial=counts.get(d.pk, 0))
            self.domain_fields.append(name)

    def counts(self) -> dict[str, int]:
        return {name.removeprefix("count_"): int(self.cleaned_data[name]) for name in self.domain_fields}

    def domain_bound_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.domain_fields]
