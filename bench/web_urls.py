"""The platform's URLs plus ``/bench/bare/``: a Django view doing nothing, the baseline of the web benchmark
(same gunicorn, middleware, sessions and database connection as the real pages)."""

from django.http import HttpRequest, HttpResponse
from django.urls import path

from trainer.urls import urlpatterns as platform_urlpatterns


def bare(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok", content_type="text/plain")


urlpatterns = [path("bench/bare/", bare), *platform_urlpatterns]
