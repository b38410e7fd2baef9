from __future__ import annotations

from typing import Any

from django import forms

from trainer.bank.models import Domain, Track
from trainer.practice.models import PracticeMode


class PracticeStartForm(forms.Form):
    track = forms.ModelChoiceField(queryset=Track.objects.all(), to_field_name="code", empty_label=None)
    mode = forms.ChoiceField(choices=PracticeMode.choices, initial=PracticeMode.SMART, widget=forms.RadioSelect)
    domains = forms.MultipleChoiceField(
        required=False, widget=forms.CheckboxSelectMultiple, help_text="None ticked: all domains."
    )
    tags = forms.CharField(required=False, help_text="Optional, comma-separated (e.g. association, hl7).")
    count = forms.IntegerField(min_value=1, max_value=100, initial=10, label="Questions")

    def __init__(self, *args: Any, track_code: str | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        code = self.data.get("track") or track_code
        domains = self.fields["domains"]
        assert isinstance(domains, forms.MultipleChoiceField)
        domains.choices = [(d.code, d.name) for d in Domain.objects.filter(track__code=code).order_by("order")]
        if track_code:
            self.fields["track"].initial = track_code

    def clean_tags(self) -> list[str]:
        raw: str = self.cleaned_data["tags"]
        return [t.strip().lower() for t in raw.split(",") if t.strip()]
