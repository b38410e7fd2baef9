from django.urls import path

from trainer.bank import api

app_name = "bank"

urlpatterns = [
    path("items/", api.ItemListApi.as_view(), name="items"),
    path("items/create/", api.ItemCreateApi.as_view(), name="item-create"),
    path("items/<slug:external_id>/", api.ItemDetailApi.as_view(), name="item"),
    path("items/<slug:external_id>/update/", api.ItemUpdateApi.as_view(), name="item-update"),
    path("items/<slug:external_id>/submit/", api.ItemSubmitApi.as_view(), name="item-submit"),
    path("items/<slug:external_id>/draft/", api.ItemReturnToDraftApi.as_view(), name="item-draft"),
    path("items/<slug:external_id>/retire/", api.ItemRetireApi.as_view(), name="item-retire"),
    path("items/<slug:external_id>/review/answer/", api.ItemReviewAnswerApi.as_view(), name="item-review-answer"),
    path("items/<slug:external_id>/review/decide/", api.ItemReviewDecideApi.as_view(), name="item-review-decide"),
    path("items/<slug:external_id>/versions/", api.ItemVersionListApi.as_view(), name="item-versions"),
    path("items/<slug:external_id>/history/", api.ItemHistoryApi.as_view(), name="item-history"),
    path("media/", api.MediaUploadApi.as_view(), name="media-upload"),
    path("lint/", api.LintApi.as_view(), name="lint"),
    path("stats/", api.StatsApi.as_view(), name="stats"),
    path("import/", api.ImportApi.as_view(), name="import"),
    path("export/", api.ExportApi.as_view(), name="export"),
    path("blueprints/", api.BlueprintListApi.as_view(), name="blueprints"),
    path("blueprints/<slug:code>/update/", api.BlueprintUpdateApi.as_view(), name="blueprint-update"),
]
