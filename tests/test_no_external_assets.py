"""Nothing the admin or the API docs load comes from outside the server: every script and
style of every admin page and of the API docs is a local static file."""

import re
from pathlib import Path

import pytest
from django.contrib import admin
from django.urls import reverse

pytestmark = pytest.mark.django_db

OUTSIDE = re.compile(r"""(?:src|href)=["'](?:https?:)?//""")


def test_every_admins_media_is_local():
    for model_admin in admin.site._registry.values():
        media = model_admin.media
        for path in [*media._js, *(p for paths in media._css.values() for p in paths)]:
            assert not re.match(r"(https?:)?//", str(path)), (model_admin, path)


@pytest.mark.parametrize("url", [
    "admin:loyalty_category_add", "admin:notifications_messagetemplate_add",
    "admin:notifications_bulksend_add", "admin:loyalty_segment_add", "admin:index",
    "admin:pricing_price_cart",
])
def test_translated_and_tool_pages_load_nothing_from_outside(admin_client, url):
    html = admin_client.get(reverse(url)).content.decode()
    assert not OUTSIDE.search(html), OUTSIDE.search(html)


def test_jquery_ui_is_vendored_with_its_licence(admin_client):
    html = admin_client.get(reverse("admin:loyalty_category_add")).content.decode()
    assert "vendor/jquery-ui/jquery-ui.min.js" in html
    from django.contrib.staticfiles import finders
    assert finders.find("vendor/jquery-ui/jquery-ui.min.js")
    licence = Path(finders.find("vendor/jquery-ui/LICENSE.txt")).read_text()
    assert "Permission is hereby granted" in licence


def test_api_docs_load_nothing_from_outside(admin_client):
    html = admin_client.get("/api/v1/docs").content.decode()
    assert "swagger-ui-bundle.js" in html
    assert not OUTSIDE.search(html)
