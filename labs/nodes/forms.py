"""Console forms. They only shape input; the services validate and explain what is wrong."""

from __future__ import annotations

from typing import Any

from django import forms

from labs.dicom import catalog
from labs.nodes.models import DuplicatePolicy, KnownAE, Node


class NodeSettingsForm(forms.Form):
    name = forms.CharField(required=False, max_length=80)
    ae_title = forms.CharField(max_length=16, label="AE title", help_text="Up to 16 characters; case matters.")
    check_called_ae = forms.BooleanField(
        required=False, label="Reject associations whose called AE title is not this node's (1/1/7)"
    )
    reject_unknown_calling = forms.BooleanField(
        required=False, label="Reject calling AE titles that are not in the known-AE list (1/1/3)"
    )
    check_calling_host = forms.BooleanField(
        required=False, label="…and require the caller's address to match the known AE's host"
    )
    max_associations = forms.IntegerField(min_value=1, max_value=64, label="Simultaneous associations (2/3/2 above)")
    max_associations_per_minute = forms.IntegerField(
        min_value=0, max_value=100_000, label="Associations per minute (0 = no limit; 2/3/1 above)"
    )
    duplicate_policy = forms.ChoiceField(choices=DuplicatePolicy.choices, label="When an instance arrives twice")
    quota_mb = forms.IntegerField(min_value=0, max_value=4096, label="Storage quota (MB; 0xA700 above)")
    quota_instances = forms.IntegerField(min_value=0, max_value=200_000, label="Instance quota")

    @classmethod
    def for_node(cls, node: Node, data: Any = None) -> NodeSettingsForm:
        initial = {f: getattr(node, f) for f in cls.base_fields if f != "quota_mb"}
        initial["quota_mb"] = node.quota_bytes // (1024 * 1024)
        return cls(data=data, initial=initial)

    def changes(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data["quota_bytes"] = data.pop("quota_mb") * 1024 * 1024
        return data


class KnownAEForm(forms.ModelForm[KnownAE]):
    class Meta:
        model = KnownAE
        fields = (
            "ae_title",
            "host",
            "port",
            "description",
            "may_store",
            "may_find",
            "may_retrieve",
            "move_destination",
            "may_commit",
        )
        labels = {
            "ae_title": "AE title",
            "may_store": "May store (C-STORE)",
            "may_find": "May query (C-FIND)",
            "may_retrieve": "May retrieve (C-MOVE / C-GET)",
            "move_destination": "Move destination",
            "may_commit": "Storage commitment",
        }

    def validate_unique(self) -> None:
        """Uniqueness is the service's job (it explains the clash)."""


def _storage_choices() -> list[tuple[str, str]]:
    common = [(uid, catalog.sop_class_name(uid)) for uid in catalog.COMMON_STORAGE]
    rest = sorted(
        (
            (uid, catalog.sop_class_name(uid))
            for uid in catalog.STORAGE_SOP_CLASSES
            if uid not in catalog.COMMON_STORAGE
        ),
        key=lambda c: c[1],
    )
    return common + rest


class SyntaxesForm(forms.Form):
    accept_all_storage = forms.BooleanField(required=False, label="Accept every storage SOP class")
    sop_classes = forms.MultipleChoiceField(
        choices=_storage_choices, required=False, widget=forms.CheckboxSelectMultiple, label="Storage SOP classes"
    )
    transfer_syntaxes = forms.MultipleChoiceField(
        choices=[(ts.uid, f"{ts.name} ({ts.uid})") for ts in catalog.TRANSFER_SYNTAXES],
        widget=forms.CheckboxSelectMultiple,
        label="Transfer syntaxes",
    )


class WorklistForm(forms.Form):
    patient_name = forms.CharField(max_length=64, help_text="Family^Given, e.g. DOE^JANE")
    patient_id = forms.CharField(max_length=64)
    accession_number = forms.CharField(max_length=16, required=False)
    modality = forms.CharField(max_length=16, initial="CT")
    station_ae_title = forms.CharField(max_length=16, required=False, label="Scheduled station AE title")
    start_date = forms.CharField(max_length=8, required=False, help_text="YYYYMMDD (today if empty)")
    start_time = forms.CharField(max_length=6, required=False, help_text="HHMMSS")
    procedure_description = forms.CharField(max_length=64, required=False)


class _ToolForm(forms.Form):
    known = forms.ModelChoiceField(queryset=KnownAE.objects.none(), label="Remote AE", empty_label=None)

    def __init__(self, *args: Any, node: Node, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["known"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = node.known_aes.all()


LEVELS = [(v, v) for v in ("STUDY", "PATIENT", "SERIES", "IMAGE")]


def parse_keys(text: str) -> dict[str, str]:
    """'PatientName=DOE*' lines (or separated by commas) → {keyword: value}; bare keywords ask for a value."""
    keys: dict[str, str] = {}
    for part in text.replace(",", "\n").splitlines():
        part = part.strip()
        if not part:
            continue
        keyword, _, value = part.partition("=")
        keys[keyword.strip()] = value.strip()
    return keys


class EchoForm(_ToolForm):
    pass


class FindForm(_ToolForm):
    model = forms.ChoiceField(choices=[("study", "Study root"), ("patient", "Patient root"), ("worklist", "Worklist")])
    level = forms.ChoiceField(choices=LEVELS)
    keys = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}),
        initial="PatientName=*\nPatientID\nStudyInstanceUID\nStudyDate\nModalitiesInStudy",
        help_text="One key per line: Keyword=value to match, Keyword alone to ask for it.",
    )


class MoveForm(_ToolForm):
    level = forms.ChoiceField(choices=LEVELS)
    keys = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), initial="StudyInstanceUID=")
    destination = forms.CharField(max_length=16, required=False, help_text="Empty: this node")


class SendForm(_ToolForm):
    study_instance_uid = forms.CharField(max_length=64, label="Study Instance UID")
