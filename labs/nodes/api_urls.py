from django.urls import path

from labs.nodes import api

app_name = "nodes"

urlpatterns = [
    path("", api.NodeListView.as_view(), name="list"),
    path("catalog/", api.CatalogView.as_view(), name="catalog"),
    path("<int:node_id>/", api.NodeDetailView.as_view(), name="detail"),
    path("<int:node_id>/config/", api.NodeConfigView.as_view(), name="config"),
    path("<int:node_id>/start/", api.NodeStartView.as_view(), name="start"),
    path("<int:node_id>/stop/", api.NodeStopView.as_view(), name="stop"),
    path("<int:node_id>/reset/", api.NodeResetView.as_view(), name="reset"),
    path("<int:node_id>/keep-alive/", api.NodeKeepAliveView.as_view(), name="keep-alive"),
    path("<int:node_id>/known-aes/", api.KnownAEListView.as_view(), name="known-aes"),
    path("<int:node_id>/known-aes/<int:known_id>/", api.KnownAEDetailView.as_view(), name="known-ae"),
    path("<int:node_id>/worklist/", api.WorklistView.as_view(), name="worklist"),
    path("<int:node_id>/worklist/<int:item_id>/", api.WorklistItemView.as_view(), name="worklist-item"),
    path("<int:node_id>/studies/", api.StudyListView.as_view(), name="studies"),
    path("<int:node_id>/studies/<str:study_uid>/", api.StudyDetailView.as_view(), name="study"),
    path("<int:node_id>/instances/<int:instance_id>/tags/", api.InstanceTagsView.as_view(), name="instance-tags"),
    path("<int:node_id>/instances/<int:instance_id>/image.png", api.InstanceImageView.as_view(), name="instance-image"),
    path("<int:node_id>/associations/", api.AssociationListView.as_view(), name="associations"),
    path("<int:node_id>/associations/<int:association_id>/", api.AssociationDetailView.as_view(), name="association"),
    path("<int:node_id>/scu/echo/", api.EchoView.as_view(), name="scu-echo"),
    path("<int:node_id>/scu/find/", api.FindView.as_view(), name="scu-find"),
    path("<int:node_id>/scu/move/", api.MoveView.as_view(), name="scu-move"),
    path("<int:node_id>/scu/send/", api.SendView.as_view(), name="scu-send"),
]
