from django.urls import path

from trainer.courses import views

app_name = "courses"

urlpatterns = [
    path("", views.course_list, name="list"),
    path("join/", views.course_join, name="join"),
    path("join/<str:invite>/", views.course_join, name="join-link"),
    path("<slug:code>/", views.course_detail, name="detail"),
    path("<slug:code>/roster/", views.roster_upload, name="roster"),
    path("<slug:code>/accommodations/", views.accommodation_save, name="accommodation"),
    path("<slug:code>/assignments/<int:pk>/start/", views.assignment_begin, name="start"),
    path("<slug:code>/assignments/<int:pk>/analysis/", views.analysis_page, name="analysis"),
    path("<slug:code>/gradebook/", views.gradebook_page, name="gradebook"),
    path("<slug:code>/gradebook.csv", views.gradebook_export, name="gradebook-csv"),
    path("<slug:code>/readiness/", views.readiness_page, name="readiness"),
]
