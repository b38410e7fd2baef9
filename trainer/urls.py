from django.contrib import admin
from django.urls import URLPattern, URLResolver, include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from trainer.bank.views import media_file
from trainer.core.api import MeView

admin.site.site_header = "PACS Trainer administration"
admin.site.site_title = "PACS Trainer admin"

api_patterns: list[URLPattern | URLResolver] = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api:schema"), name="docs"),
    path("me/", MeView.as_view(), name="me"),
    path("bank/", include("trainer.bank.api_urls")),
]

urlpatterns = [
    path("", include("trainer.core.urls")),
    path("accounts/", include("trainer.accounts.urls")),
    path("practice/", include("trainer.practice.urls")),
    path("exams/", include("trainer.exams.urls")),
    path("bank/", include("trainer.bank.urls")),
    path("media/bank/<str:name>", media_file, name="bank-media"),
    path("admin/", admin.site.urls),
    path("api/", include((api_patterns, "api"))),
]
