"""Serializers for what learners see of an item, shared by the practice and exams APIs. The learner serializer
has no field that could carry a key or rationale; the feedback serializer is used only once that is allowed."""

from __future__ import annotations

from rest_framework import serializers


class ChoiceSerializer(serializers.Serializer[object]):
    key = serializers.CharField()
    html = serializers.CharField()


class LearnerItemSerializer(serializers.Serializer[object]):
    version_id = serializers.IntegerField()
    type = serializers.CharField()
    type_label = serializers.CharField()
    stem_html = serializers.CharField()
    choices = ChoiceSerializer(many=True)
    prompts = ChoiceSerializer(many=True)
    unit = serializers.CharField(allow_blank=True)
    select_count = serializers.IntegerField()


class OptionFeedbackSerializer(serializers.Serializer[object]):
    key = serializers.CharField()
    html = serializers.CharField()
    correct = serializers.BooleanField()
    chosen = serializers.BooleanField()
    rationale_html = serializers.CharField()


class FeedbackSerializer(serializers.Serializer[object]):
    correct = serializers.BooleanField()
    score = serializers.FloatField()
    key_text = serializers.CharField()
    rationale_html = serializers.CharField()
    options = OptionFeedbackSerializer(many=True)
    references = serializers.ListField(child=serializers.DictField(child=serializers.CharField()))
