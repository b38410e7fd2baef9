"""Forms of the lab pages: the simulated modality's DICOM settings screen."""

from __future__ import annotations

from django import forms

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
