"""A staff user of shop A cannot list, open, change, autocomplete, filter, choose or export
anything of shop B, on every shop-owned admin page (walked from the admin registry, so new
admins are covered as they are registered). Superusers see everything."""

import copy
import csv
import io

import pytest
from django.contrib import admin
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import Model
from django.forms import ModelChoiceField
from django.urls import reverse

from shops.models import Customer, ImportJob, Order, Shop
from shops.scoping import ShopScoped, shop_path_for
from tests.conftest import shared_world
from tests.scoping_world import build_shop, staff_of

pytestmark = pytest.mark.django_db

SCOPED = sorted(
    (f"{model._meta.app_label}.{model._meta.model_name}", model_admin)
    for model, model_admin in admin.site._registry.items()
    if isinstance(model_admin, ShopScoped)
)
SCOPED_IDS = [label for label, _ in SCOPED]


# Built once for the module (every test here only reads it or writes in its own savepoint).
_world = shared_world(lambda: (build_shop("aa", "PLN"), build_shop("bb", "UAH")))


@pytest.fixture
def world(_world):
    return copy.deepcopy(_world)


@pytest.fixture
def staff(client, world):
    user = staff_of(world[0]["shop"])
    client.force_login(user)
    return client


def of_shop(model: type[Model], shop: Shop):
    path = shop_path_for(model)
    return model._default_manager.filter(**{path: shop.pk})


def url(model_admin, view, *args):
    opts = model_admin.model._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_{view}", args=args)


def test_every_shop_owned_admin_is_walked():
    assert {"shops.shop", "shops.customer", "shops.order", "shops.apitoken", "loyalty.rule",
            "pricing.promocode", "pricing.orderdiscount"} <= set(SCOPED_IDS)


@pytest.mark.parametrize(("label", "model_admin"), SCOPED, ids=SCOPED_IDS)
def test_the_list_shows_exactly_the_users_shops_objects(staff, world, label, model_admin):
    a, b = world[0]["shop"], world[1]["shop"]
    model = model_admin.model
    assert of_shop(model, b).exists()  # otherwise the test proves nothing

    response = staff.get(url(model_admin, "changelist"))

    assert response.status_code == 200
    shown = {obj.pk for obj in response.context["cl"].result_list}
    assert shown == set(of_shop(model, a).values_list("pk", flat=True))


@pytest.mark.parametrize(("label", "model_admin"), SCOPED, ids=SCOPED_IDS)
def test_list_filters_offer_only_the_users_shops_objects(staff, world, label, model_admin):
    b = world[1]["shop"]
    response = staff.get(url(model_admin, "changelist"))

    for spec in response.context["cl"].filter_specs:
        field = getattr(spec, "field", None)
        if not isinstance(spec, admin.RelatedFieldListFilter):
            continue
        related = field.related_model
        if shop_path_for(related) is None:
            continue
        offered = {str(pk) for pk, _ in spec.lookup_choices}
        foreign = {str(pk) for pk in of_shop(related, b).values_list("pk", flat=True)}
        assert offered and not offered & foreign, (label, spec.title)


@pytest.mark.parametrize(("label", "model_admin"), SCOPED, ids=SCOPED_IDS)
def test_another_shops_object_is_a_404_everywhere(staff, world, label, model_admin):
    a, b = world[0]["shop"], world[1]["shop"]
    mine = of_shop(model_admin.model, a).first()
    theirs = of_shop(model_admin.model, b).first()

    assert staff.get(url(model_admin, "change", mine.pk)).status_code == 200
    assert staff.get(url(model_admin, "change", theirs.pk)).status_code == 404
    assert staff.get(url(model_admin, "history", theirs.pk)).status_code == 404
    assert staff.get(url(model_admin, "delete", theirs.pk)).status_code in (403, 404)
    assert staff.post(url(model_admin, "delete", theirs.pk), {"post": "yes"}).status_code in (
        403, 404)
    assert model_admin.model._default_manager.filter(pk=theirs.pk).exists()


@pytest.mark.parametrize(("label", "model_admin"), SCOPED, ids=SCOPED_IDS)
def test_forms_and_inlines_offer_only_the_users_shops_objects(staff, world, label,
                                                             model_admin):
    a, b = world[0]["shop"], world[1]["shop"]
    mine = of_shop(model_admin.model, a).first()
    response = staff.get(url(model_admin, "change", mine.pk))
    if "adminform" not in response.context:  # a results page (a simulation): no form at all
        assert response.status_code == 200
        return
    forms = [response.context["adminform"].form]
    for inline in response.context["inline_admin_formsets"]:
        forms += [inline.formset.empty_form, *inline.formset.forms]

    checked = 0
    for form in forms:
        for name, field in form.fields.items():
            # An inline row's own hidden id is looked up in the inline's scoped queryset.
            if not isinstance(field, ModelChoiceField) or name == form._meta.model._meta.pk.name:
                continue
            model = field.queryset.model
            if shop_path_for(model) is None:
                continue
            foreign = set(of_shop(model, b).values_list("pk", flat=True))
            offered = set(field.queryset.values_list("pk", flat=True))
            assert not offered & foreign, (label, name)
            checked += 1
    if label in ("shops.order", "shops.product", "loyalty.rule", "pricing.thresholddiscount"):
        assert checked  # these pages do choose shop objects


AUTOCOMPLETES = sorted({
    (owner._meta.app_label, owner._meta.model_name, field)
    for _, model_admin in SCOPED
    for owner, fields in [(model_admin.model, model_admin.autocomplete_fields)]
    + [(inline.model, inline.autocomplete_fields) for inline in model_admin.inlines]
    for field in fields
})


@pytest.mark.parametrize(("app_label", "model_name", "field"), AUTOCOMPLETES)
def test_autocomplete_finds_only_the_users_shops_objects(staff, world, app_label, model_name,
                                                        field):
    from django.apps import apps

    related = apps.get_model(app_label, model_name)._meta.get_field(field).related_model
    response = staff.get("/admin/autocomplete/", {
        "app_label": app_label, "model_name": model_name, "field_name": field, "term": ""})

    if shop_path_for(related) is None:  # e.g. users: needs the auth app's permissions
        return
    assert response.status_code == 200
    found = {int(r["id"]) for r in response.json()["results"]}
    a, b = world[0]["shop"], world[1]["shop"]
    assert found == set(of_shop(related, a).values_list("pk", flat=True))
    assert not found & set(of_shop(related, b).values_list("pk", flat=True))


@pytest.mark.parametrize(("label", "model_admin"), SCOPED, ids=SCOPED_IDS)
def test_the_export_holds_only_the_users_shops_rows(staff, world, label, model_admin):
    a = world[0]["shop"]
    model = model_admin.model
    everything = list(model._default_manager.values_list("pk", flat=True))

    response = staff.post(url(model_admin, "changelist"), {
        "action": "export_csv", "_selected_action": everything})

    assert response.status_code == 200, response.content[:300]
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    exported = {int(row[0]) for row in rows[1:]}  # texts may hold quoted line breaks
    assert rows[0][0] == "id"
    assert exported == set(of_shop(model, a).values_list("pk", flat=True))
    assert "key_hash" not in rows[0]


def test_superusers_see_every_shop(admin_client, world):
    response = admin_client.get(reverse("admin:shops_customer_changelist"))

    assert len(response.context["cl"].result_list) == 2


def test_staff_bound_to_no_shop_see_nothing(client, world):
    client.force_login(staff_of(username="nobody"))

    response = client.get(reverse("admin:shops_order_changelist"))

    assert list(response.context["cl"].result_list) == []


def test_changing_another_shops_object_by_post_is_a_404_and_changes_nothing(staff, world):
    theirs = world[1]["customer"]

    response = staff.post(reverse("admin:shops_customer_change", args=[theirs.pk]), {
        "shop": theirs.shop_id, "external_id": "X", "name": "Hijacked", "client_type": "retail",
        "registered_at_0": "2026-01-01", "registered_at_1": "00:00:00"})

    assert response.status_code == 404
    assert Customer.objects.get(pk=theirs.pk).name == "Customer bb"


def test_an_order_cannot_be_given_another_shops_customer(staff, world):
    mine, theirs = world[0]["order"], world[1]["customer"]
    page = staff.get(reverse("admin:shops_order_change", args=[mine.pk]))
    data = {k: v for k, v in page.context["adminform"].form.initial.items()}
    data.update({"shop": mine.shop_id, "customer": theirs.pk, "number": mine.number,
                 "placed_at_0": "2026-01-01", "placed_at_1": "10:00:00", "status": "completed",
                 "shipping_cost_0": "0", "shipping_cost_1": "PLN",
                 "lines-TOTAL_FORMS": "0", "lines-INITIAL_FORMS": "0",
                 "returns-TOTAL_FORMS": "0", "returns-INITIAL_FORMS": "0"})

    response = staff.post(reverse("admin:shops_order_change", args=[mine.pk]), data)

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["customer"] == [
        "Select a valid choice. That choice is not one of the available choices."]
    assert Order.objects.get(pk=mine.pk).customer == world[0]["customer"]


def test_actions_touch_only_the_users_shops_objects_and_are_in_the_history(staff, world):
    mine, theirs = world[0]["customer"], world[1]["customer"]

    staff.post(reverse("admin:shops_customer_changelist"), {
        "action": "lock_selected", "_selected_action": [mine.pk, theirs.pk]})

    assert Customer.objects.get(pk=mine.pk).category_locked
    assert not Customer.objects.get(pk=theirs.pk).category_locked
    entry = LogEntry.objects.get()
    assert (entry.user.username, entry.object_id, entry.action_flag,
            entry.get_change_message()) == (
        "ala", str(mine.pk), CHANGE, "Locked automatic category movement.")


def test_a_manual_move_is_in_the_admin_history_with_the_user(staff, world):
    mine, member = world[0]["customer"], world[0]["member"]
    assert Customer.objects.get(pk=mine.pk).category == world[0]["silver"]  # by the rules

    staff.post(reverse("admin:shops_customer_changelist"), {
        "action": "move_selected", "_selected_action": [mine.pk], "apply": "1",
        "category": member.pk, "note": ""})

    assert Customer.objects.get(pk=mine.pk).category == member
    entry = LogEntry.objects.get()
    assert (entry.user.username, entry.get_change_message()) == (
        "ala", "Moved to category Member aa.")


def test_moving_into_another_shops_category_is_refused(staff, world):
    mine, their_silver = world[0]["customer"], world[1]["silver"]

    page = staff.post(reverse("admin:shops_customer_changelist"), {
        "action": "move_selected", "_selected_action": [mine.pk], "apply": "1",
        "category": their_silver.pk, "note": ""})

    assert "Select a valid choice" in page.content.decode()
    assert Customer.objects.get(pk=mine.pk).category == world[0]["silver"]


def test_lock_and_move_need_their_own_permissions(client, world):
    user = staff_of(world[0]["shop"], perms=["view_customer", "change_customer"])
    client.force_login(user)
    mine = world[0]["customer"]
    changelist = reverse("admin:shops_customer_changelist")

    actions = dict(client.get(changelist).context["action_form"].fields["action"].choices)

    assert "lock_selected" not in actions and "move_selected" not in actions
    for action in ("lock_selected", "move_selected"):
        client.post(changelist, {"action": action, "_selected_action": [mine.pk], "apply": "1",
                                 "category": world[0]["member"].pk})
    customer = Customer.objects.get(pk=mine.pk)
    assert (customer.category_locked, customer.category) == (False, world[0]["silver"])


def test_only_superusers_create_shops_or_see_who_works_where(staff, admin_client, world):
    assert staff.get(reverse("admin:shops_shop_add")).status_code == 403
    mine = world[0]["shop"]
    page = staff.get(reverse("admin:shops_shop_change", args=[mine.pk]))
    assert not page.context["inline_admin_formsets"]
    page = admin_client.get(reverse("admin:shops_shop_change", args=[mine.pk]))
    assert [f.opts.model._meta.model_name for f in page.context["inline_admin_formsets"]] == [
        "shopstaff"]


def test_the_shop_recalculation_request_is_in_the_history(staff, world,
                                                          django_capture_on_commit_callbacks):
    mine = world[0]["shop"]
    with django_capture_on_commit_callbacks(execute=True):
        staff.post(reverse("admin:shops_shop_changelist"), {
            "action": "recalculate_now", "_selected_action": [mine.pk, world[1]["shop"].pk]})

    entry = LogEntry.objects.get()
    assert (entry.object_id, entry.get_change_message()) == (
        str(mine.pk), "Requested a recalculation of categories.")


def test_the_import_offers_only_the_users_shops_and_refuses_a_forged_one(
    staff, world, settings, tmp_path
):
    settings.MEDIA_ROOT = str(tmp_path)
    page = staff.get("/admin/shops/import/")
    assert list(page.context["form"].fields["shop"].queryset) == [world[0]["shop"]]

    # A finished preview of another shop's file: neither shown nor importable.
    other = ImportJob.objects.create(
        shop=world[1]["shop"], kind="customers", file="x.csv", status="finished",
        report={"has_changes": True})
    assert staff.get(f"/admin/shops/import/?job={other.pk}").status_code == 403
    response = staff.post("/admin/shops/import/", {"job": other.pk, "confirm": "1"})

    assert response.status_code == 403
    assert ImportJob.objects.count() == 1


def test_the_import_is_in_the_shops_history(
    staff, world, settings, tmp_path, django_capture_on_commit_callbacks
):
    settings.MEDIA_ROOT = str(tmp_path)
    shop = world[0]["shop"]
    file = SimpleUploadedFile("c.csv", b"external_id,name\nX1,Eve\n", content_type="text/csv")
    with django_capture_on_commit_callbacks(execute=True):
        staff.post("/admin/shops/import/", {"shop": shop.pk, "kind": "customers", "file": file})
    preview = ImportJob.objects.get()

    with django_capture_on_commit_callbacks(execute=True):
        staff.post("/admin/shops/import/", {"job": preview.pk, "confirm": "1"})

    assert Customer.objects.get(external_id="X1").shop == shop
    entry = LogEntry.objects.get()
    assert (entry.user.username, entry.object_id) == ("ala", str(shop.pk))
    assert entry.get_change_message() == (
        "Customers: customers: 1 to create, 0 to update, 0 unchanged")


def test_price_a_cart_offers_only_the_users_shops_objects(staff, world):
    url_ = reverse("admin:pricing_price_cart")
    page = staff.get(url_)
    assert list(page.context["form"].fields["shop"].queryset) == [world[0]["shop"]]
    their = world[1]
    response = staff.post(url_, {
        "shop": their["shop"].pk, "customer": their["customer"].pk, "client_type": "",
        "promo_code": "", "today": "", "lines-TOTAL_FORMS": "1", "lines-INITIAL_FORMS": "0",
        "lines-MIN_NUM_FORMS": "1", "lines-MAX_NUM_FORMS": "1000",
        "lines-0-product": their["product"].pk, "lines-0-quantity": "1"})

    errors = response.context["form"].errors
    assert set(errors) == {"shop", "customer"}
    assert "result" not in response.context
    line_errors = response.context["lines_formset"].forms[0].errors
    assert "product" in line_errors


def test_a_superuser_binds_staff_to_shops_on_the_user_page(admin_client, world):
    user = User.objects.create_user("ola", is_staff=True)
    page = admin_client.get(reverse("admin:auth_user_change", args=[user.pk]))

    names = [f.opts.model._meta.model_name for f in page.context["inline_admin_formsets"]]
    assert names == ["shopstaff"]


def test_scoped_changelists_run_constant_queries_whatever_the_rows(client, world):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from shops.models import ShopStaff

    user = staff_of(world[0]["shop"])
    client.force_login(user)

    def counts():
        result = {}
        for label, model_admin in SCOPED:
            with CaptureQueriesContext(connection) as ctx:
                assert client.get(url(model_admin, "changelist")).status_code == 200
            result[label] = len(ctx)
        return result

    few = counts()
    for code in ("cc", "dd"):
        ShopStaff.objects.create(user=user, shop=build_shop(code, "EUR")["shop"])
    assert counts() == few


def test_confirming_another_shops_bulk_send_is_a_404_like_every_foreign_object(staff, world):
    from notifications.models import BulkSend

    theirs = BulkSend.objects.get(shop=world[1]["shop"])

    response = staff.post(reverse("admin:notifications_bulksend_change", args=[theirs.pk]),
                          {"_confirm": "1"})

    assert response.status_code == 404
    theirs.refresh_from_db()
    assert (theirs.status, theirs.confirmed_at) == ("draft", None)
