"""The statistics page in headless Chromium: every chart is drawn by Chart.js.

Skipped when Chromium or its driver is missing on a developer machine; CI installs them
(.ci/run)."""

import os
import tempfile
from decimal import Decimal

import pytest

from loyalty import segments, services
from tests.browser import chromium, needs_chromium
from tests.factories import CategoryFactory, CustomerFactory, ShopFactory, add_rule, order

pytestmark = [
    # serialized_rollback: the flush must not lose the rows migrations seed (nightly task).
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    needs_chromium,
]


@pytest.fixture
def browser():
    with chromium(height=2000) as driver:
        yield driver


def test_statistics_page_draws_every_chart(live_server, browser, django_user_model):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    django_user_model.objects.create_superuser("boss", "boss@example.com", "secret-pass")
    shop = ShopFactory(code="pl", timezone="Europe/Warsaw")
    CategoryFactory(shop=shop, name="Member", rank=1, is_default=True)
    silver = CategoryFactory(shop=shop, name="Silver", rank=2)
    add_rule(silver, {"kind": "window_spend", "days": 30, "amount": Decimal(100)})
    for value in ("50.00", "150.00", "250.00"):
        order(CustomerFactory(shop=shop), value, days_ago=3)
    services.categories_recalculate(shop=shop)
    segments.segments_refresh(shop=shop)

    browser.get(f"{live_server.url}/admin/login/?next=/admin/loyalty/statistics/")
    browser.find_element(By.NAME, "username").send_keys("boss")
    browser.find_element(By.NAME, "password").send_keys("secret-pass")
    browser.find_element(By.CSS_SELECTOR, "input[type=submit]").click()

    WebDriverWait(browser, 30).until(
        lambda d: d.find_elements(By.CSS_SELECTOR, "canvas.statistics-chart")
    )
    canvases = browser.find_elements(By.CSS_SELECTOR, "canvas.statistics-chart")
    assert len(canvases) == 6  # categories, segments, order value, moves, points, messages
    WebDriverWait(browser, 30).until(
        lambda d: all(c.get_attribute("data-rendered") == "1" for c in canvases)
    )
    # Drawn, not only marked: each canvas has coloured pixels.
    painted = browser.execute_script("""
        return Array.from(document.querySelectorAll("canvas.statistics-chart")).map(c => {
          const data = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
          let n = 0;
          for (let i = 3; i < data.length; i += 4) { if (data[i] > 0) n++; }
          return n;
        });
    """)
    assert all(n > 1000 for n in painted), painted
    with tempfile.TemporaryDirectory() as folder:
        # STATISTICS_SCREENSHOT=path keeps the picture, to look at it.
        path = os.environ.get("STATISTICS_SCREENSHOT") or os.path.join(folder, "page.png")
        assert browser.save_screenshot(path)
        assert os.path.getsize(path) > 10_000
