from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.forms import UserCreationForm

from trainer.accounts.models import ExamTrack, User


class SignUpForm(UserCreationForm[User]):
    email = forms.EmailField(required=True, help_text="Used for password resets only.")
    exam_track = forms.ChoiceField(
        choices=ExamTrack.choices, initial=ExamTrack.CIIP, label="Exam you are preparing for"
    )

    class Meta:
        model = User
        fields = ("username", "email", "exam_track")

    def clean_email(self) -> str:
        email: str = self.cleaned_data["email"]
        if User.objects.filter(email__iexact=email).exists():
            raise forms.ValidationError("An account with this e-mail address already exists.")
        return email


class ProfileForm(forms.ModelForm[User]):
    class Meta:
        model = User
        fields = ("display_name", "email", "exam_track")
        labels = {"exam_track": "Exam track"}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["email"].required = True
