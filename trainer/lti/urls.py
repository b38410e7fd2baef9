from django.urls import path

from trainer.lti import views

app_name = "lti"

urlpatterns = [
    path("jwks.json", views.jwks, name="jwks"),
    path("login/<uuid:registration_uuid>/", views.oidc_login, name="login"),
    path("launch/", views.launch, name="launch"),
    path("deep-link/", views.deep_link, name="deep-link"),
    path("assignments/<int:pk>/", views.assignment_landing, name="assignment"),
    path("courses/<slug:code>/roster-sync/", views.roster_sync, name="roster-sync"),
]
