from django.urls import path

from trainer.core import views

app_name = "core"

urlpatterns = [
    path("", views.home, name="home"),
    path("dashboard/", views.dashboard, name="dashboard"),
    path("teach/", views.teach, name="teach"),
    path("health/", views.health, name="health"),
]
