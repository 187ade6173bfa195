"""Webhook URLs cannot reach internal addresses (issue 15, item 2): refused on save and on
every send (DNS may change), the send connects to the checked address, no redirect is
followed, and the receiver's answer never appears in the admin."""

import pytest
from django.test import override_settings
from django.urls import reverse

from notifications import delivery
from notifications.addresses import UnsafeURL, check_url, is_public
from notifications.models import ChannelSettings, Message

from .servers import HttpEndpoint, start_http
from .test_delivery import move_up

INTERNAL = [
    "127.0.0.1", "127.8.9.10", "10.1.2.3", "172.16.0.1", "172.31.255.255", "192.168.1.1",
    "169.254.169.254", "169.254.0.1", "100.64.0.1", "100.100.100.200", "0.0.0.0",  # noqa: S104 - a refused address
    "224.0.0.1", "239.255.255.250", "255.255.255.255", "198.18.0.1", "192.0.2.1",
    "::1", "::", "fe80::1", "fe80::1%1", "fc00::1", "fd00:ec2::254", "ff02::1",
    "::ffff:127.0.0.1", "::ffff:169.254.169.254", "::ffff:10.0.0.1",
    "64:ff9b::a9fe:a9fe", "2002:7f00:1::", "2001:db8::1",
]
PUBLIC = ["93.184.216.34", "8.8.8.8", "2606:2800:220:1:248:1893:25c8:1946",
          "2a00:1450:4001:82a::200e"]


@pytest.mark.parametrize("address", INTERNAL)
def test_internal_addresses_are_refused(address):
    assert not is_public(address)


@pytest.mark.parametrize("address", PUBLIC)
def test_public_addresses_are_allowed(address):
    assert is_public(address)


def internal_message(host, address):
    return (f"The webhook host “{host}” is an internal address ({address}): webhooks may "
            "only post to public internet addresses.")


@pytest.mark.parametrize(("url", "host", "address"), [
    ("http://127.0.0.1:8102/admin/login/", "127.0.0.1", "127.0.0.1"),
    ("http://[::ffff:127.0.0.1]/", "::ffff:127.0.0.1", "::ffff:127.0.0.1"),
    ("http://metadata.google.internal/computeMetadata/v1/", "metadata.google.internal",
     "169.254.169.254"),
    ("https://rebind.example.com/hook", "rebind.example.com", "10.0.0.5"),
])
def test_a_url_is_refused_when_its_host_resolves_to_an_internal_address(dns, url, host,
                                                                        address):
    dns.names.update({"metadata.google.internal": ["169.254.169.254"],
                      # one public answer does not make the private one safe
                      "rebind.example.com": ["93.184.216.34", "10.0.0.5"]})
    with pytest.raises(UnsafeURL) as error:
        check_url(url)
    assert str(error.value) == internal_message(host, address)


def test_other_schemes_and_unknown_hosts_are_refused():
    with pytest.raises(UnsafeURL, match="must start with http:// or https://"):
        check_url("file:///etc/passwd")
    with pytest.raises(UnsafeURL, match="“nowhere.invalid” cannot be resolved"):
        check_url("https://nowhere.invalid/")


@override_settings(WEBHOOK_ALLOWED_HOSTS=["LocalHost", "10.0.0.7"])
def test_hosts_in_the_setting_are_allowed(dns):
    dns.names["localhost"] = ["127.0.0.1"]
    assert check_url("http://localhost:8000/hook?x=1").address == "127.0.0.1"
    assert check_url("http://localhost:8000/hook?x=1").path == "/hook?x=1"
    assert check_url("http://10.0.0.7/").address == "10.0.0.7"


# --- on save ---------------------------------------------------------------------------


def settings_post(shop, url):
    return {"shop": shop.pk, "email_enabled": "on", "sms_price": "1.01",
            "sms_billing": "characters", "sms_billing_characters": "70",
            "webhook_url": url, "webhook_secret": "s3cret"}


@pytest.mark.django_db
def test_the_admin_refuses_an_internal_webhook_url(admin_client, ladder):
    response = admin_client.post(reverse("admin:notifications_channelsettings_add"),
                                 settings_post(ladder.shop, "http://127.0.0.1:8102/admin/login/"))

    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {
        "webhook_url": [internal_message("127.0.0.1", "127.0.0.1")]
    }
    assert not ChannelSettings.objects.exists()


@pytest.mark.django_db
def test_the_admin_saves_a_public_webhook_url(admin_client, ladder):
    response = admin_client.post(reverse("admin:notifications_channelsettings_add"),
                                 settings_post(ladder.shop, "https://bot.example.com/hook"))

    assert response.status_code == 302
    assert ChannelSettings.objects.get().webhook_url == "https://bot.example.com/hook"


@pytest.mark.django_db
@override_settings(WEBHOOK_ALLOWED_HOSTS=["127.0.0.1"])
def test_the_admin_saves_an_allowed_internal_host(admin_client, ladder):
    response = admin_client.post(reverse("admin:notifications_channelsettings_add"),
                                 settings_post(ladder.shop, "http://127.0.0.1:9000/hook"))

    assert response.status_code == 302


# --- at send time ------------------------------------------------------------------------


@pytest.fixture
def receiver():
    endpoint = HttpEndpoint()
    server = start_http(endpoint)
    yield endpoint
    server.shutdown()
    server.server_close()


def webhook_message(ladder, url):
    ChannelSettings.objects.create(shop=ladder.shop, email_enabled=False, webhook_url=url,
                                   webhook_secret="s3cret")
    return Message.objects.get(customer=move_up(ladder), channel="webhook")


@pytest.mark.django_db
def test_a_name_that_resolves_inside_at_send_time_is_not_posted_to(ladder, dns, receiver):
    port = receiver.url.split(":")[2].split("/")[0]
    dns.names["hooks.example.com"] = ["93.184.216.34"]
    url = f"http://hooks.example.com:{port}/send"
    check_url(url)  # what the admin checked when the URL was saved
    message = webhook_message(ladder, url)
    dns.names["hooks.example.com"] = ["127.0.0.1"]  # DNS rebinding

    report = delivery.deliver_due()

    message.refresh_from_db()
    assert (report.failed, message.status) == (1, "failed")
    assert message.last_error == internal_message("hooks.example.com", "127.0.0.1")
    assert receiver.requests == []


@pytest.mark.django_db
@override_settings(WEBHOOK_ALLOWED_HOSTS=["hooks.example.com"])
def test_the_send_connects_to_the_checked_address_without_a_second_lookup(ladder, dns,
                                                                         receiver):
    # hooks.example.com exists only in the fake DNS: a client resolving it again would fail.
    dns.names["hooks.example.com"] = ["127.0.0.1"]
    port = receiver.url.split(":")[2].split("/")[0]
    message = webhook_message(ladder, f"http://hooks.example.com:{port}/send?shop=ua")
    dns.lookups.clear()

    delivery.deliver_due()

    message.refresh_from_db()
    assert message.status == "sent"
    assert dns.lookups == ["hooks.example.com"]  # once, by the check
    (request,) = receiver.requests
    assert request.headers["Host"] == f"hooks.example.com:{port}"
    assert request.path == "/send?shop=ua"


@pytest.mark.django_db
@override_settings(WEBHOOK_ALLOWED_HOSTS=["127.0.0.1"])
def test_redirects_are_not_followed(ladder, receiver):
    inside = HttpEndpoint()
    server = start_http(inside)
    try:
        receiver.failures, receiver.fail_with = 1, 307
        receiver.fail_headers = {"Location": inside.url}
        message = webhook_message(ladder, receiver.url)

        delivery.deliver_due()
    finally:
        server.shutdown()
        server.server_close()

    message.refresh_from_db()
    assert (message.status, message.last_error) == (
        "failed", "HTTP 307 Temporary Redirect: redirects are not followed")
    assert len(receiver.requests) == 1 and inside.requests == []


@pytest.mark.django_db
@override_settings(WEBHOOK_ALLOWED_HOSTS=["127.0.0.1"])
def test_the_answer_body_never_reaches_the_admin(admin_client, ladder, receiver):
    receiver.failures, receiver.fail_with = 1, 500
    receiver.fail_body = b"<html>Django administration: csrfmiddlewaretoken=SECRET</html>"
    message = webhook_message(ladder, receiver.url)

    delivery.deliver_due()

    message.refresh_from_db()
    assert (message.status, message.last_error) == ("pending", "HTTP 500 Internal Server Error")
    for page in (reverse("admin:notifications_message_changelist"),
                 reverse("admin:notifications_message_change", args=[message.pk])):
        content = admin_client.get(page).content.decode()
        assert "HTTP 500 Internal Server Error" in content
        assert "SECRET" not in content and "Django administration:" not in content


@pytest.mark.django_db
def test_the_sms_provider_answer_body_is_not_kept_either(ladder, sms_provider):
    from .test_delivery import sms_customer

    message = sms_customer(ladder)
    sms_provider.failures, sms_provider.fail_with = 1, 400
    sms_provider.fail_body = b"internal detail"

    delivery.deliver_due()

    message.refresh_from_db()
    assert (message.status, message.last_error) == ("failed", "HTTP 400 Bad Request")
