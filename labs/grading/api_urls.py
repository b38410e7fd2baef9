from django.urls import path

from labs.grading import api

app_name = "labs"

urlpatterns = [
    path("", api.LabListView.as_view(), name="list"),
    path("attempts/", api.AttemptListView.as_view(), name="attempts"),
    path("attempts/<int:attempt_id>/", api.AttemptDetailView.as_view(), name="attempt"),
    path("attempts/<int:attempt_id>/check/", api.AttemptCheckView.as_view(), name="check"),
    path("attempts/<int:attempt_id>/reset/", api.AttemptResetView.as_view(), name="reset"),
    path("attempts/<int:attempt_id>/finish/", api.AttemptFinishView.as_view(), name="finish"),
    path("runs/<int:run_id>/", api.RunDetailView.as_view(), name="run"),
    path("<slug:slug>/start/", api.LabStartView.as_view(), name="start"),
]
