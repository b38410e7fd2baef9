from django.contrib import admin
from django.urls import URLPattern, URLResolver, include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from trainer.bank.views import media_dicom_image, media_file
from trainer.core.api import MeView
from trainer.courses import api as courses_api
from trainer.exams import api as exams_api
from trainer.practice import api as practice_api

handler500 = "trainer.core.views.server_error"

admin.site.site_header = "PACS Trainer administration"
admin.site.site_title = "PACS Trainer admin"

api_patterns: list[URLPattern | URLResolver] = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api:schema"), name="docs"),
    path("me/", MeView.as_view(), name="me"),
    path("practice/sessions/", practice_api.SessionListCreate.as_view(), name="practice-sessions"),
    path("practice/sessions/<int:pk>/current/", practice_api.SessionCurrent.as_view(), name="practice-current"),
    path("practice/sessions/<int:pk>/answer/", practice_api.SessionAnswer.as_view(), name="practice-answer"),
    path("practice/sessions/<int:pk>/next/", practice_api.SessionNext.as_view(), name="practice-next"),
    path("practice/reviews/due/", practice_api.ReviewsDue.as_view(), name="practice-due"),
    path("practice/readiness/", practice_api.Readiness.as_view(), name="practice-readiness"),
    path("exams/attempts/", exams_api.AttemptCreate.as_view(), name="exam-attempts"),
    path("exams/attempts/<int:pk>/", exams_api.AttemptDetail.as_view(), name="exam-attempt"),
    path("exams/attempts/<int:pk>/questions/<int:n>/", exams_api.AttemptQuestion.as_view(), name="exam-question"),
    path("exams/attempts/<int:pk>/submit/", exams_api.AttemptSubmit.as_view(), name="exam-submit"),
    path("exams/attempts/<int:pk>/report/", exams_api.AttemptReport.as_view(), name="exam-report"),
    path("bank/", include("trainer.bank.api_urls")),
    path("nodes/", include("labs.nodes.api_urls")),
    path("labs/", include("labs.grading.api_urls")),
    path("courses/", courses_api.CourseListCreate.as_view(), name="courses"),
    path("courses/<slug:code>/", courses_api.CourseDetail.as_view(), name="course"),
    path("courses/<slug:code>/enrollments/", courses_api.EnrollmentListCreate.as_view(), name="course-enrollments"),
    path("courses/<slug:code>/enrollments/import/", courses_api.RosterImport.as_view(), name="course-roster"),
    path("courses/<slug:code>/assignments/", courses_api.AssignmentListCreate.as_view(), name="course-assignments"),
    path("courses/<slug:code>/assignments/<int:pk>/", courses_api.AssignmentDetail.as_view(), name="course-assignment"),
    path(
        "courses/<slug:code>/assignments/<int:pk>/item-analysis/",
        courses_api.ItemAnalysisView.as_view(),
        name="course-item-analysis",
    ),
    path(
        "courses/<slug:code>/accommodations/", courses_api.AccommodationListSet.as_view(), name="course-accommodations"
    ),
    path("courses/<slug:code>/gradebook/", courses_api.GradebookView.as_view(), name="course-gradebook"),
    path("courses/<slug:code>/gradebook.csv", courses_api.GradebookCsvView.as_view(), name="course-gradebook-csv"),
    path("courses/<slug:code>/overrides/", courses_api.GradeOverrideCreate.as_view(), name="course-overrides"),
    path("courses/<slug:code>/readiness/", courses_api.CohortReadinessView.as_view(), name="course-readiness"),
]

urlpatterns = [
    path("", include("trainer.core.urls")),
    path("accounts/", include("trainer.accounts.urls")),
    path("practice/", include("trainer.practice.urls")),
    path("exams/", include("trainer.exams.urls")),
    path("courses/", include("trainer.courses.urls")),
    path("bank/", include("trainer.bank.urls")),
    path("media/bank/<str:name>", media_file, name="bank-media"),
    path("media/bank/<str:name>/image.png", media_dicom_image, name="bank-media-dicom"),
    path("lti/", include("trainer.lti.urls")),
    path("admin/", admin.site.urls),
    path("nodes/", include("labs.nodes.urls")),
    path("labs/", include("labs.grading.urls")),
    path("api/", include((api_patterns, "api"))),
]
