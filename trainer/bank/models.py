"""The question bank: tracks, domains, blueprints, items and their versions.

An ``Item`` is the stable identity (external id, status, domains, tags); an ``ItemVersion`` is what a learner
sees (stem, options, rationales, references). Once a version has been shown to a learner it is locked: an edit
makes a new version, and attempts keep pointing at the version they showed.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models


class Track(models.Model):
    code = models.CharField(max_length=16, unique=True)
    name = models.CharField(max_length=200)
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ("order", "code")

    def __str__(self) -> str:
        return self.code


class Domain(models.Model):
    track = models.ForeignKey(Track, on_delete=models.CASCADE, related_name="domains")
    code = models.CharField(max_length=64)
    name = models.CharField(max_length=200)
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ("track__order", "order")
        constraints = [models.UniqueConstraint(fields=("track", "code"), name="domain_unique_code_per_track")]

    def __str__(self) -> str:
        return f"{self.track.code}/{self.code}"


class Tag(models.Model):
    name = models.SlugField(max_length=64, unique=True)

    class Meta:
        ordering = ("name",)

    def __str__(self) -> str:
        return self.name


class ItemType(models.TextChoices):
    SINGLE = "single", "Single best answer"
    MULTIPLE = "multiple", "Multiple response"
    TRUEFALSE = "truefalse", "True/false"
    ORDERING = "ordering", "Ordering"
    MATCHING = "matching", "Matching"
    NUMERIC = "numeric", "Numeric"


class ItemStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    IN_REVIEW = "in_review", "In review"
    PUBLISHED = "published", "Published"
    RETIRED = "retired", "Retired"


class Difficulty(models.TextChoices):
    EASY = "easy", "Easy"
    MEDIUM = "medium", "Medium"
    HARD = "hard", "Hard"


class CognitiveLevel(models.TextChoices):
    RECALL = "recall", "Recall"
    APPLICATION = "application", "Application"
    ANALYSIS = "analysis", "Analysis"


class Item(models.Model):
    external_id = models.SlugField(max_length=80, unique=True)
    type = models.CharField(max_length=16, choices=ItemType.choices)
    status = models.CharField(max_length=16, choices=ItemStatus.choices, default=ItemStatus.DRAFT, db_index=True)
    difficulty = models.CharField(max_length=8, choices=Difficulty.choices, default=Difficulty.MEDIUM)
    level = models.CharField(max_length=16, choices=CognitiveLevel.choices, default=CognitiveLevel.RECALL)
    generated = models.BooleanField(default=False, help_text="Produced by an item generator, not authored.")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="authored_items"
    )
    author_handle = models.CharField(max_length=80, blank=True)
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="reviewed_items"
    )
    domains = models.ManyToManyField(Domain, through="ItemDomain", related_name="items")
    tags = models.ManyToManyField(Tag, blank=True, related_name="items")
    current_version = models.ForeignKey(
        "ItemVersion", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("external_id",)
        indexes = [models.Index(fields=("status", "type"))]

    def __str__(self) -> str:
        return self.external_id


class ItemDomain(models.Model):
    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="item_domains")
    domain = models.ForeignKey(Domain, on_delete=models.CASCADE, related_name="item_domains")
    primary = models.BooleanField(default=False)
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ("order",)
        constraints = [models.UniqueConstraint(fields=("item", "domain"), name="itemdomain_unique")]

    def __str__(self) -> str:
        return f"{self.item_id} in {self.domain_id}"


class ItemVersion(models.Model):
    """What a learner sees. ``options``: list of ``{"key", "text", "correct", "rationale"}`` (ordering: in the
    correct order); ``pairs``: list of ``{"key", "prompt", "answer", "rationale"}``; numeric items use
    ``answer``/``tolerance``/``unit``. ``references``: list of ``{"standard", "section", "title", "url"}``."""

    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    stem = models.TextField()
    options: models.JSONField[list[dict[str, Any]]] = models.JSONField(default=list, blank=True)
    pairs: models.JSONField[list[dict[str, Any]]] = models.JSONField(default=list, blank=True)
    answer = models.FloatField(null=True, blank=True)
    tolerance = models.FloatField(null=True, blank=True)
    unit = models.CharField(max_length=40, blank=True)
    rationale = models.TextField(blank=True)
    references: models.JSONField[list[dict[str, Any]]] = models.JSONField(default=list, blank=True)
    media: models.JSONField[list[dict[str, Any]]] = models.JSONField(default=list, blank=True)
    content_hash = models.CharField(max_length=64)
    locked = models.BooleanField(default=False, help_text="Shown to a learner: edits make a new version.")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("item", "number")
        constraints = [models.UniqueConstraint(fields=("item", "number"), name="itemversion_unique_number")]

    def __str__(self) -> str:
        return f"{self.item.external_id} v{self.number}"


class ItemEvent(models.Model):
    """The item's history: drafted, edited, submitted, reviewed (with the reviewer's blind answer), published,
    retired, commented."""

    class Action(models.TextChoices):
        DRAFTED = "drafted", "Drafted"
        EDITED = "edited", "Edited"
        IMPORTED = "imported", "Imported"
        SUBMITTED = "submitted", "Submitted for review"
        REVIEWED = "reviewed", "Reviewed"
        PUBLISHED = "published", "Published"
        RETIRED = "retired", "Retired"
        COMMENTED = "commented", "Commented"
        RETURNED = "returned", "Returned to draft"

    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="events")
    version = models.ForeignKey(ItemVersion, null=True, blank=True, on_delete=models.SET_NULL)
    action = models.CharField(max_length=16, choices=Action.choices)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    by_handle = models.CharField(max_length=80, blank=True)
    date = models.DateField()
    blind_answer: models.JSONField[Any] = models.JSONField(null=True, blank=True)
    verdict = models.CharField(max_length=16, blank=True)
    notes = models.TextField(blank=True)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("item", "date", "id")

    def __str__(self) -> str:
        return f"{self.action} {self.date}"


class Blueprint(models.Model):
    """An exam layout as data: items per domain (or weights), unscored pilot items, time, optional pass mark."""

    code = models.SlugField(max_length=64, unique=True)
    track = models.ForeignKey(Track, on_delete=models.CASCADE, related_name="blueprints")
    name = models.CharField(max_length=200)
    scored_items = models.PositiveIntegerField()
    pilot_items = models.PositiveIntegerField(default=0)
    time_limit_minutes = models.PositiveIntegerField()
    pass_mark_percent = models.FloatField(null=True, blank=True, help_text="Leave empty: no official cut score.")
    source_note = models.TextField(blank=True)
    is_default = models.BooleanField(default=False)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("track__order", "code")

    def __str__(self) -> str:
        return self.name


class BlueprintDomain(models.Model):
    blueprint = models.ForeignKey(Blueprint, on_delete=models.CASCADE, related_name="domain_counts")
    domain = models.ForeignKey(Domain, on_delete=models.CASCADE)
    items = models.PositiveIntegerField()

    class Meta:
        ordering = ("domain__order",)
        constraints = [models.UniqueConstraint(fields=("blueprint", "domain"), name="blueprintdomain_unique")]

    def __str__(self) -> str:
        return f"{self.domain_id}: {self.items}"
