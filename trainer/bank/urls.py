from django.urls import path

from trainer.bank import views

app_name = "bank"

urlpatterns = [
    path("", views.item_list, name="items"),
    path("items/new/", views.item_new, name="item-new"),
    path("items/<slug:external_id>/", views.item_edit, name="item-edit"),
    path("items/<slug:external_id>/preview/", views.item_preview, name="item-preview"),
    path("items/<slug:external_id>/history/", views.item_history_page, name="item-history"),
    path("items/<slug:external_id>/status/", views.item_status, name="item-status"),
    path("review/", views.review_list, name="review-queue"),
    path("review/<slug:external_id>/", views.review_item, name="review"),
    path("lint/", views.lint_page, name="lint"),
    path("import/", views.import_page, name="import"),
    path("export/", views.export_page, name="export"),
    path("blueprints/", views.blueprint_list, name="blueprints"),
    path("blueprints/<slug:code>/", views.blueprint_edit, name="blueprint-edit"),
]
