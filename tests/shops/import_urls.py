"""URLs for the import tests: the lead mounts the same path in config/urls.py."""

from django.contrib import admin
from django.urls import path

import shops.admin_import

urlpatterns = [
    path("admin/shops/import/", shops.admin_import.import_view, name="shops_import"),
    path("admin/", admin.site.urls),
]
