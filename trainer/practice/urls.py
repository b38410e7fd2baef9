from django.urls import path

from trainer.practice import views

app_name = "practice"

urlpatterns = [
    path("", views.practice_home, name="home"),
    path("review/", views.review_start, name="review"),
    path("readiness/", views.readiness, name="readiness"),
    path("sessions/<int:pk>/", views.session_page, name="session"),
    path("sessions/<int:pk>/answer/", views.session_answer, name="answer"),
    path("sessions/<int:pk>/next/", views.session_next, name="next"),
    path("items/<int:pk>/flag/", views.item_flag, name="flag"),
]
