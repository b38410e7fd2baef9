from django.urls import path

from trainer.exams import views

app_name = "exams"

urlpatterns = [
    path("", views.exams_home, name="home"),
    path("blueprints/<slug:code>/start/", views.exam_begin, name="start"),
    path("blueprints/<slug:code>/publish-form/", views.form_publish, name="form-publish"),
    path("forms/<int:pk>/start/", views.form_begin, name="form-start"),
    path("attempts/<int:pk>/q/<int:n>/", views.attempt_question, name="question"),
    path("attempts/<int:pk>/q/<int:n>/save/", views.attempt_save, name="save"),
    path("attempts/<int:pk>/review/", views.attempt_review, name="review"),
    path("attempts/<int:pk>/submit/", views.attempt_submit, name="submit"),
    path("attempts/<int:pk>/report/", views.attempt_report, name="report"),
]
