from __future__ import annotations

from typing import Any

from django import forms

from trainer.bank.models import Blueprint
from trainer.courses.models import Assignment, AssignmentKind, Course

MAX_ROSTER_BYTES = 1024 * 1024


class CourseForm(forms.ModelForm[Course]):
    class Meta:
        model = Course
        fields = ("title", "code", "track", "description", "pass_mark_percent")


class AssignmentForm(forms.ModelForm[Assignment]):
    class Meta:
        model = Assignment
        fields = (
            "title", "kind", "blueprint", "lab_slug", "practice_count", "opens_at", "due_at", "attempts_allowed",
            "time_limit_minutes", "points", "published",
        )  # fmt: skip
        widgets = {
            "opens_at": forms.DateTimeInput(attrs={"type": "datetime-local"}),
            "due_at": forms.DateTimeInput(attrs={"type": "datetime-local"}),
        }

    def __init__(self, *args: Any, course: Course, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        blueprint = self.fields["blueprint"]
        assert isinstance(blueprint, forms.ModelChoiceField)
        blueprint.queryset = Blueprint.objects.filter(track=course.track)
        from labs.scenarios.loader import labs_all  # the labs app builds on trainer, not the other way

        labs = sorted(labs_all().values(), key=lambda lab: lab.title)  # bundled and uploaded labs
        self.fields["lab_slug"] = forms.ChoiceField(
            label="Lab", required=False, choices=[("", "---------"), *((lab.slug, lab.title) for lab in labs)],
            help_text="For a lab assignment: the lab the learners do.",
        )  # fmt: skip

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("kind") == AssignmentKind.EXAM and not data.get("blueprint"):
            self.add_error("blueprint", "A mock-exam assignment needs a blueprint.")
        if data.get("kind") == AssignmentKind.LAB and not data.get("lab_slug"):
            self.add_error("lab_slug", "A lab assignment needs a lab.")
        if data.get("opens_at") and data.get("due_at") and data["due_at"] <= data["opens_at"]:
            self.add_error("due_at", "The due date must be after the opening date.")
        return data


class RosterForm(forms.Form):
    file = forms.FileField(help_text="CSV with a header: username,email[,role][,section]. Up to 1 MB.")
    dry_run = forms.BooleanField(required=False, initial=True, label="Check only (import nothing)")

    def clean_file(self) -> str:
        f = self.cleaned_data["file"]
        if f.size > MAX_ROSTER_BYTES:
            raise forms.ValidationError("The file is larger than 1 MB.")
        if not f.name.lower().endswith((".csv", ".txt")):
            raise forms.ValidationError("Upload a .csv file.")
        try:
            return str(f.read().decode("utf-8"))
        except UnicodeDecodeError as exc:
            raise forms.ValidationError("The file is not UTF-8 text.") from exc


class AccommodationForm(forms.Form):
    username = forms.CharField()
    time_multiplier = forms.FloatField(min_value=1.0, max_value=4.0, initial=1.5, label="Extra time (x)")
    extended_due_at = forms.DateTimeField(required=False, widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    note = forms.CharField(required=False, max_length=300)


class OverrideForm(forms.Form):
    username = forms.CharField()
    assignment = forms.IntegerField(widget=forms.HiddenInput)
    percent = forms.FloatField(required=False, min_value=0, max_value=100)
    reason = forms.CharField(max_length=500)


class JoinForm(forms.Form):
    code = forms.CharField(max_length=32, label="Invite code")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # Shown beside the course form, whose field is also "code": distinct ids keep each label on its input.
        kwargs.setdefault("auto_id", "join_%s")
        super().__init__(*args, **kwargs)
