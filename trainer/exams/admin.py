from django.contrib import admin

from trainer.exams.models import ExamAttempt, ExamForm, ExamFormItem


class ExamFormItemInline(admin.TabularInline):  # type: ignore[type-arg]
    model = ExamFormItem
    extra = 0
    raw_id_fields = ("item",)


@admin.register(ExamForm)
class ExamFormAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("name", "track", "blueprint", "time_limit_minutes", "published", "created")
    list_filter = ("track", "published")
    inlines = (ExamFormItemInline,)


@admin.register(ExamAttempt)
class ExamAttemptAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("name", "learner", "status", "started_at", "deadline", "percent")
    list_filter = ("status", "track")
    raw_id_fields = ("learner",)
