from django.urls import path

from classifiers.views import uploads

urlpatterns = [
    path("projects/<slug:slug>/upload/", uploads.upload, name="upload"),
    path("projects/<slug:slug>/uploads/<int:batch_id>/", uploads.upload_batch, name="upload_batch"),
    path("projects/<slug:slug>/uploads/<int:batch_id>/columns/", uploads.upload_columns, name="upload_columns"),
    path("projects/<slug:slug>/uploads/<int:batch_id>/retry/", uploads.upload_retry, name="upload_retry"),
    path("projects/<slug:slug>/exports/", uploads.export_list, name="export_list"),
    path("projects/<slug:slug>/exports/<int:export_id>/download/", uploads.export_download, name="export_download"),
]
