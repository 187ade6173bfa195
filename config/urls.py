from django.contrib import admin
from django.urls import path

from config.api import api
from shops import admin_import

urlpatterns = [
    # Before the admin's catch-all, which would otherwise take this URL.
    path("admin/shops/import/", admin_import.import_view, name="shops_import"),
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
]
