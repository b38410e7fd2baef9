from django.contrib import admin

from trainer.bank.models import Blueprint, BlueprintDomain, Domain, Item, ItemDomain, ItemEvent, ItemVersion, Tag, Track


class DomainInline(admin.TabularInline):  # type: ignore[type-arg]
    model = Domain
    extra = 0


@admin.register(Track)
class TrackAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("code", "name", "order")
    inlines = (DomainInline,)


class BlueprintDomainInline(admin.TabularInline):  # type: ignore[type-arg]
    model = BlueprintDomain
    extra = 0


@admin.register(Blueprint)
class BlueprintAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("code", "name", "track", "scored_items", "pilot_items", "time_limit_minutes", "pass_mark_percent")
    list_filter = ("track",)
    inlines = (BlueprintDomainInline,)


class ItemDomainInline(admin.TabularInline):  # type: ignore[type-arg]
    model = ItemDomain
    extra = 0


class ItemVersionInline(admin.StackedInline):  # type: ignore[type-arg]
    model = ItemVersion
    extra = 0
    readonly_fields = ("number", "locked", "content_hash", "created")


class ItemEventInline(admin.TabularInline):  # type: ignore[type-arg]
    model = ItemEvent
    extra = 0


@admin.register(Item)
class ItemAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("external_id", "type", "status", "level", "difficulty", "generated", "updated")
    list_filter = ("status", "type", "level", "difficulty", "generated", "domains__track")
    search_fields = ("external_id", "current_version__stem")
    inlines = (ItemDomainInline, ItemVersionInline, ItemEventInline)
    raw_id_fields = ("current_version", "author", "reviewer")


admin.site.register(Tag)
