from django.urls import path

from labs.grading import views

app_name = "labs"

urlpatterns = [
    path("", views.lab_list, name="list"),
    path("teach/", views.teach, name="teach"),
    path("teach/labs/<slug:slug>/delete/", views.teach_lab_delete, name="teach-lab-delete"),
    path("teach/courses/<slug:code>/", views.teach_course, name="teach-course"),
    path("teach/attempts/<int:attempt_id>/", views.teach_attempt, name="teach-attempt"),
    path("runs/<int:run_id>/", views.run_detail, name="run"),
    path("attempts/<int:attempt_id>/check/", views.attempt_check, name="check"),
    path("attempts/<int:attempt_id>/peers/<slug:key>/", views.peer_console, name="peer"),
    path("attempts/<int:attempt_id>/peers/<slug:key>/settings/", views.peer_settings, name="peer-settings"),
    path("attempts/<int:attempt_id>/peers/<slug:key>/send/", views.peer_send, name="peer-send"),
    path("attempts/<int:attempt_id>/peers/<slug:key>/commit/", views.peer_commit, name="peer-commit"),
    path("attempts/<int:attempt_id>/reset/", views.attempt_reset, name="reset"),
    path("attempts/<int:attempt_id>/finish/", views.attempt_finish, name="finish"),
    path("attempts/<int:attempt_id>/answers/<slug:task_key>/", views.attempt_answer, name="answer"),
    path("<slug:slug>/", views.lab_detail, name="detail"),
    path("<slug:slug>/start/", views.lab_start, name="start"),
    path("<slug:slug>/studies/<slug:key>.zip", views.lab_study, name="study"),
]
