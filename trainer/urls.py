from django.contrib import admin
from django.urls import URLPattern, URLResolver, include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from trainer.core.api import MeView

admin.site.site_header = "PACS Trainer administration"
admin.site.site_title = "PACS Trainer admin"

api_patterns: list[URLPattern | URLResolver] = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api:schema"), name="docs"),
    path("me/", MeView.as_view(), name="me"),
    path("nodes/", include("labs.nodes.api_urls")),
]

urlpatterns = [
    path("", include("trainer.core.urls")),
    path("accounts/", include("trainer.accounts.urls")),
    path("admin/", admin.site.urls),
    path("nodes/", include("labs.nodes.urls")),
    path("api/", include((api_patterns, "api"))),
]
