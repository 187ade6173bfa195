"""The admin in headless Chromium, with every request outside this server blocked: the home
page, the translation tabs, the API docs, the shop-dependent category filter, *Price a cart*
searching the chosen shop only, and the move-and-lock form.

Skipped when Chromium or its driver is missing on a developer machine; CI installs them
(.ci/run). ADMIN_SCREENSHOTS=<folder> keeps a picture of each page, in English and Polish.
"""

import os
from decimal import Decimal

import pytest
from django.test import Client

from loyalty import services
from loyalty.models import CategoryChange, ChangeReason
from shops.models import Customer
from tests.browser import chromium, needs_chromium
from tests.factories import (
    CategoryFactory,
    CustomerFactory,
    ProductFactory,
    ShopFactory,
    add_rule,
    order,
)

pytestmark = [
    # serialized_rollback: the flush must not lose the rows migrations seed (nightly task).
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    needs_chromium,
]


@pytest.fixture
def browser():
    with chromium(offline=True, console_log=True) as driver:
        yield driver


def log_in(browser, live_server, user, language="en"):
    client = Client()
    client.force_login(user)
    browser.get(f"{live_server.url}/admin/login/")
    browser.add_cookie({"name": "sessionid", "value": client.cookies["sessionid"].value})
    browser.add_cookie({"name": "django_language", "value": language})


def visit(browser, live_server, path):
    browser.get(f"{live_server.url}{path}")
    assert "Server Error" not in browser.title


def outside_resources(browser, live_server):
    """Every resource the page loaded that did not come from this server."""
    urls = browser.execute_script(
        "return performance.getEntriesByType('resource').map(e => e.name);")
    return [u for u in urls if not u.startswith(live_server.url)]


def script_errors(browser):
    return [e["message"] for e in browser.get_log("browser") if e["level"] == "SEVERE"
            and "favicon" not in e["message"]]


def screenshot(browser, name):
    folder = os.environ.get("ADMIN_SCREENSHOTS")
    if folder:
        os.makedirs(folder, exist_ok=True)
        browser.save_screenshot(os.path.join(folder, f"{name}.png"))


def wait(browser, condition, timeout=30):
    from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
    from selenium.webdriver.support.ui import WebDriverWait

    # While the next page loads, an element read from the old one goes stale (or the new
    # one has no such element yet): asked again, not failed.
    return WebDriverWait(
        browser, timeout,
        ignored_exceptions=(NoSuchElementException, StaleElementReferenceException),
    ).until(condition)


def two_shops():
    shops = {}
    for code in ("pl", "cz"):
        shop = ShopFactory(code=code, name=f"Shop {code}", currency="PLN")
        CategoryFactory(shop=shop, rank=1, is_default=True, name="Member")
        gold = CategoryFactory(shop=shop, rank=2, name="Gold")
        add_rule(gold, {"kind": "window_spend", "days": 30, "amount": Decimal(100)})
        for value in ("50.00", "150.00"):
            order(CustomerFactory(shop=shop, name="Michał Dąbrowski"), value, days_ago=2)
        ProductFactory(shop=shop, sku=f"TEE-{code}", name="Tee")
        services.categories_recalculate(shop=shop)
        shops[code] = shop
    return shops


@pytest.fixture
def boss(django_user_model):
    return django_user_model.objects.create_superuser("boss", "boss@example.com", "pw")


@pytest.mark.parametrize("language", ["en", "pl"])
def test_home_page_shows_each_shop_and_its_tools(live_server, browser, boss, language):
    from selenium.webdriver.common.by import By

    two_shops()
    log_in(browser, live_server, boss, language)
    visit(browser, live_server, "/admin/")
    cards = browser.find_elements(By.CSS_SELECTOR, ".shop-card")
    assert [c.find_element(By.TAG_NAME, "h2").text for c in cards] == [
        "Shop cz · cz (PLN)", "Shop pl · pl (PLN)"]
    rows = cards[1].find_elements(By.CSS_SELECTOR, "tr.category-row")
    assert [r.find_elements(By.TAG_NAME, "td")[1].text for r in rows] == ["1", "1"]
    assert len(cards[1].find_elements(By.CSS_SELECTOR, ".tools a.button")) == 4
    assert cards[1].find_element(By.CSS_SELECTOR, "input.recalculate-now")
    assert browser.find_element(By.ID, "nightly").text
    assert outside_resources(browser, live_server) == []
    screenshot(browser, f"home-{language}")
    # The statistics link opens the shop's statistics with the default range, drawn.
    cards[1].find_element(By.CSS_SELECTOR, "a[href*='/statistics/']").click()
    wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "canvas[data-rendered='1']"))
    assert not browser.find_elements(By.CSS_SELECTOR, ".errorlist")
    assert script_errors(browser) == []
    screenshot(browser, f"statistics-{language}")


@pytest.mark.parametrize("language", ["en", "pl"])
def test_translation_tabs_work_without_outside_requests(live_server, browser, boss, language):
    from selenium.webdriver.common.by import By

    category = two_shops()["pl"].categories.get(name="Gold")
    log_in(browser, live_server, boss, language)
    visit(browser, live_server, f"/admin/loyalty/category/{category.pk}/change/")
    wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, ".ui-tabs-nav"))
    assert script_errors(browser) == []
    assert outside_resources(browser, live_server) == []

    def visible_names():
        return [e.get_attribute("name") for e in browser.find_elements(
            By.CSS_SELECTOR, "input[name^='name_']") if e.is_displayed()]

    assert visible_names() == [f"name_{language}"]  # the admin's language first
    tabs = browser.find_elements(By.CSS_SELECTOR, ".ui-tabs-nav a")
    french = next(t for t in tabs if t.is_displayed() and "fr" in t.text.lower())
    french.click()
    assert visible_names() == ["name_fr"]
    screenshot(browser, f"category-tabs-{language}")


def test_api_docs_load_without_outside_requests(live_server, browser, boss):
    from selenium.webdriver.common.by import By

    log_in(browser, live_server, boss)
    visit(browser, live_server, "/api/v1/docs")
    wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, ".opblock"))
    assert outside_resources(browser, live_server) == []
    screenshot(browser, "api-docs")


def test_customers_category_filter_follows_the_shop_filter(live_server, browser, boss):
    from selenium.webdriver.common.by import By

    shops = two_shops()
    log_in(browser, live_server, boss)
    visit(browser, live_server, "/admin/shops/customer/")

    def category_choices():
        links = browser.find_elements(By.CSS_SELECTOR, "#changelist-filter a")
        return sorted(a.text for a in links if "category__id__exact" in (
            a.get_attribute("href") or ""))

    assert category_choices() == ["Gold · cz", "Gold · pl", "Member · cz", "Member · pl"]
    browser.find_element(By.LINK_TEXT, "Shop pl").click()
    assert category_choices() == ["Gold · pl", "Member · pl"]
    browser.find_element(By.LINK_TEXT, "Gold · pl").click()
    rows = browser.find_elements(By.CSS_SELECTOR, "#result_list tbody tr")
    assert len(rows) == 1 and "Shop pl" in rows[0].text
    screenshot(browser, "customers-filtered")
    assert shops


def test_price_a_cart_searches_only_the_chosen_shop(live_server, browser, boss):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    shops = two_shops()
    log_in(browser, live_server, boss)
    visit(browser, live_server, f"/admin/pricing/orderdiscount/price-cart/?shop={shops['cz'].pk}")
    assert Select(browser.find_element(By.ID, "id_shop")).first_selected_option.text == "Shop cz"
    Select(browser.find_element(By.ID, "id_shop")).select_by_visible_text("Shop pl")

    def search(field_id, term):
        browser.find_element(By.CSS_SELECTOR, f"#{field_id} + .select2 .select2-selection").click()
        box = wait(browser, lambda d: d.find_element(By.CSS_SELECTOR, ".select2-search__field"))
        box.send_keys(term)
        wait(browser, lambda d: d.find_elements(
            By.CSS_SELECTOR, ".select2-results__option:not(.loading-results)") and not
            d.find_elements(By.CSS_SELECTOR, ".select2-results__option.loading-results"))
        return [o.text for o in browser.find_elements(
            By.CSS_SELECTOR, ".select2-results__option")]

    customers = search("id_customer", "Dąbrowski")
    pl_customers = Customer.objects.filter(shop=shops["pl"])
    assert sorted(customers) == sorted(f"{c} · pl" for c in pl_customers)
    browser.find_element(By.CSS_SELECTOR, ".select2-results__option").click()
    assert search("id_lines-0-product", "Tee") == ["TEE-pl Tee · pl"]
    browser.find_element(By.CSS_SELECTOR, ".select2-results__option").click()
    screenshot(browser, "price-cart")
    browser.find_element(By.CSS_SELECTOR, "input[type=submit].default").click()
    wait(browser, lambda d: d.find_elements(By.ID, "quote"))
    assert not browser.find_elements(By.CSS_SELECTOR, ".errorlist")


@pytest.mark.parametrize("language", ["en", "pl"])
def test_move_and_lock_keeps_the_customer_in_the_category(live_server, browser, boss, language):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    shop = two_shops()["pl"]
    customer = Customer.objects.filter(shop=shop, category__name="Member").get()
    log_in(browser, live_server, boss, language)
    visit(browser, live_server, f"/admin/shops/customer/?shop__id__exact={shop.pk}")
    browser.find_element(
        By.CSS_SELECTOR, f"input[name=_selected_action][value='{customer.pk}']").click()
    Select(browser.find_element(By.NAME, "action")).select_by_value("move_selected")
    browser.find_element(By.NAME, "index").click()
    lock = wait(browser, lambda d: d.find_element(By.NAME, "lock"))
    assert lock.is_selected()  # on by default
    assert browser.find_element(By.CSS_SELECTOR, "#id_lock_helptext").text
    Select(browser.find_element(By.NAME, "category")).select_by_visible_text("Gold · pl")
    screenshot(browser, f"move-and-lock-{language}")
    browser.find_element(By.CSS_SELECTOR, "input[type=submit].default").click()
    wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, ".messagelist"))
    customer.refresh_from_db()
    assert customer.category.name == "Gold" and customer.category_locked
    assert list(CategoryChange.objects.filter(customer=customer).order_by("-id").values_list(
        "reason", flat=True)[:2]) == [ChangeReason.LOCKED, ChangeReason.MANUAL]
    # The next recalculation keeps them there.
    services.categories_recalculate(shop=shop)
    customer.refresh_from_db()
    assert customer.category.name == "Gold"
    visit(browser, live_server, f"/admin/shops/customer/{customer.pk}/change/")
    history = browser.find_element(By.ID, "category_changes-group").text
    assert ("Automatic movement locked" if language == "en" else "") in history
    screenshot(browser, f"customer-history-{language}")


def test_bulk_send_offers_only_the_chosen_shops_categories(live_server, browser, boss):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    shops = two_shops()
    log_in(browser, live_server, boss)
    visit(browser, live_server, "/admin/notifications/bulksend/add/")
    assert script_errors(browser) == []

    def offered():
        return sorted(o.text for o in Select(browser.find_element(By.ID, "id_category")).options
                      if o.is_enabled() and o.get_attribute("value"))

    assert offered() == ["Gold · cz", "Gold · pl", "Member · cz", "Member · pl"]
    Select(browser.find_element(By.ID, "id_shop")).select_by_value(str(shops["pl"].pk))
    assert offered() == ["Gold · pl", "Member · pl"]
    Select(browser.find_element(By.ID, "id_category")).select_by_visible_text("Gold · pl")
    Select(browser.find_element(By.ID, "id_shop")).select_by_value(str(shops["cz"].pk))
    assert offered() == ["Gold · cz", "Member · cz"]
    # The category of the shop no longer chosen is not kept.
    assert Select(browser.find_element(By.ID, "id_category")).first_selected_option.get_attribute(
        "value") == ""
    screenshot(browser, "bulk-send")


def test_customer_page_explains_the_category_in_a_sentence(live_server, browser, boss):
    from selenium.webdriver.common.by import By

    shop = ShopFactory(code="pl", currency="PLN")
    CategoryFactory(shop=shop, rank=1, is_default=True, name="Member")
    gold = CategoryFactory(shop=shop, rank=2, name="Gold")
    add_rule(gold, {"kind": "window_spend", "days": 60, "amount": Decimal("5000.00")},
             name="Spent 5000 in 60 days")
    customer = CustomerFactory(shop=shop, name="Ewa Nowak")
    order(customer, "1986.21", days_ago=5)
    log_in(browser, live_server, boss)
    visit(browser, live_server, f"/admin/shops/customer/{customer.pk}/change/")
    unmet = [e.text for e in browser.find_elements(By.CSS_SELECTOR, ".field-explanation .unmet")]
    assert unmet == [
        "✘ Spend in the last 60 days: 1,986.21 PLN of 5,000.00 PLN — 3,013.79 PLN to go"]
    assert "LATEST ORDERS" in browser.page_source.upper()
    screenshot(browser, "customer_explanation_en")


def test_language_switch_in_the_header_turns_the_admin_polish_and_stays(
    live_server, browser, boss
):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    shop = ShopFactory(code="pl", currency="PLN")
    CustomerFactory.create_batch(5, shop=shop)
    log_in(browser, live_server, boss)
    visit(browser, live_server, "/admin/shops/customer/")
    assert browser.find_element(By.TAG_NAME, "h1").text == "Select customer to change"
    Select(browser.find_element(By.ID, "admin-language")).select_by_value("pl")
    browser.find_element(By.CSS_SELECTOR, "#language-form button").click()  # "Switch"
    wait(browser, lambda d: d.find_element(By.TAG_NAME, "h1").text == "Wybierz klienta do zmiany")
    assert "5 klientów" in browser.find_element(By.CSS_SELECTOR, "p.paginator").text
    assert browser.find_element(By.CSS_SELECTOR, ".object-tools a.addlink").text.lower() == (
        "dodaj klienta")
    screenshot(browser, "customers_pl")
    # a new browser session of the same user opens in Polish, whatever its cookie says
    browser.delete_all_cookies()
    log_in(browser, live_server, boss, language="en")
    visit(browser, live_server, "/admin/shops/customer/")
    assert browser.find_element(By.TAG_NAME, "h1").text == "Wybierz klienta do zmiany"
