from django.contrib import admin
from django.urls import path

from config import dashboard
from config.api import api
from loyalty import views_statistics
from shops import admin_import, admin_language, labels

# Before admin.site.urls builds the URLs: the home page, and autocompletes that tell
# shops apart.
dashboard.install(admin.site)
labels.install(admin.site)

urlpatterns = [
    # Before the admin's catch-all, which would otherwise take this URL.
    path("admin/shops/import/", admin_import.import_view, name="shops_import"),
    path("admin/loyalty/statistics/", admin.site.admin_view(views_statistics.statistics_view),
         name="loyalty_statistics"),
    path("admin/language/", admin.site.admin_view(admin_language.language_view),
         name="admin_language"),
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
]
