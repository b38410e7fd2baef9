from django.urls import path

from labs.nodes import views

app_name = "nodes"

urlpatterns = [
    path("", views.node_list, name="list"),
    path("<int:node_id>/", views.node_detail, name="detail"),
    path("<int:node_id>/state/", views.node_state_fragment, name="state"),
    path("<int:node_id>/start/", views.node_start, name="start"),
    path("<int:node_id>/stop/", views.node_stop, name="stop"),
    path("<int:node_id>/reset/", views.node_reset, name="reset"),
    path("<int:node_id>/keep-alive/", views.node_keep_alive, name="keep-alive"),
    path("<int:node_id>/delete/", views.node_delete, name="delete"),
    path("<int:node_id>/settings/", views.node_settings, name="settings"),
    path("<int:node_id>/syntaxes/", views.node_syntaxes, name="syntaxes"),
    path("<int:node_id>/known-aes/", views.known_aes, name="known-aes"),
    path("<int:node_id>/known-aes/<int:known_id>/", views.known_ae_edit, name="known-ae-edit"),
    path("<int:node_id>/known-aes/<int:known_id>/delete/", views.known_ae_delete, name="known-ae-delete"),
    path("<int:node_id>/worklist/", views.worklist, name="worklist"),
    path("<int:node_id>/worklist/<int:item_id>/delete/", views.worklist_delete, name="worklist-delete"),
    path("<int:node_id>/studies/", views.studies, name="studies"),
    path("<int:node_id>/studies/<str:study_uid>/", views.study_detail, name="study"),
    path("<int:node_id>/studies/<str:study_uid>/delete/", views.study_delete, name="study-delete"),
    path("<int:node_id>/patients/merge/", views.patient_merge, name="patient-merge"),
    path("<int:node_id>/instances/<int:instance_id>/", views.instance_detail, name="instance"),
    path("<int:node_id>/instances/<int:instance_id>/image.png", views.instance_thumbnail, name="thumbnail"),
    path("<int:node_id>/log/", views.association_log, name="log"),
    path("<int:node_id>/log/<int:association_id>/", views.association_detail, name="association"),
    path("<int:node_id>/tools/", views.tools, name="tools"),
    path("<int:node_id>/tools/<str:tool>/", views.tools, name="tool"),
]
