from django.urls import path

from labs.grading import views

app_name = "labs"

urlpatterns = [
    path("", views.lab_list, name="list"),
    path("runs/<int:run_id>/", views.run_detail, name="run"),
    path("attempts/<int:attempt_id>/check/", views.attempt_check, name="check"),
    path("attempts/<int:attempt_id>/answers/<slug:task_key>/", views.attempt_answer, name="answer"),
    path("<slug:slug>/", views.lab_detail, name="detail"),
    path("<slug:slug>/start/", views.lab_start, name="start"),
    path("<slug:slug>/studies/<slug:key>.zip", views.lab_study, name="study"),
]
