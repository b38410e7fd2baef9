"""Forms of the lab pages: the simulated modality's DICOM settings screen."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms

if TYPE_CHECKING:
    from labs.scenarios.schema import PeerSpec

CHARSETS = [
    ("", "(none: default repertoire, ASCII)"),
    ("ISO_IR 100", "ISO_IR 100 (Latin alphabet No. 1)"),
    ("ISO_IR 101", "ISO_IR 101 (Latin alphabet No. 2)"),
    ("ISO_IR 144", "ISO_IR 144 (Cyrillic)"),
    ("ISO_IR 192", "ISO_IR 192 (Unicode in UTF-8)"),
    ("GB18030", "GB18030 (Chinese)"),
]


class PeerSettingsForm(forms.Form):
    """What a modality's "DICOM settings" screen offers: where it sends, how, and what it declares."""

    dest_ae = forms.CharField(label="Destination AE title", max_length=16)
    dest_host = forms.CharField(label="Destination host", max_length=253)
    dest_port = forms.IntegerField(label="Destination port", min_value=1, max_value=65535)
    one_association_per_image = forms.BooleanField(
        label="Open one association per image (parallel senders)", required=False
    )
    declared_charset = forms.ChoiceField(
        label="Specific Character Set it declares (0008,0005)", choices=CHARSETS, required=False
    )
    new_uids = forms.BooleanField(label="Assign new UIDs to reprocessed images", required=False)

    def __init__(self, *args: Any, spec: PeerSpec | None = None, **kwargs: Any) -> None:
        """Only the settings the lab's device has: a character set choice where the device writes non-ASCII
        text, new UIDs where it reprocesses images."""
        super().__init__(*args, **kwargs)
        if spec is None or spec.charset is None:
            del self.fields["declared_charset"]
        if spec is None or not spec.duplicate_with_changed_content:
            del self.fields["new_uids"]

    @classmethod
    def showing(cls, settings: dict[str, Any], spec: PeerSpec | None) -> PeerSettingsForm:
        """The form filled with the device's current settings (its stored ``LabPeer.settings``)."""
        defaults: dict[str, Any] = {"one_association_per_image": False, "new_uids": False}
        initial = {name: settings.get(name) or defaults.get(name, "") for name in cls.base_fields}
        return cls(initial=initial, spec=spec)
