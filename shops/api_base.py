"""What every storefront API router shares: the shop token, the error shape, lookups.

Errors: every 4xx answer is ``{"detail": str, "errors": [{"field": str | null, "message":
str}]}``. 401 missing, unknown or revoked token; 404 a URL naming an object the token's shop
does not have (another shop's objects included); 409 a request that contradicts what is
recorded (an order number with other content); 413 a body over ``API_MAX_BODY_BYTES``; 422
invalid fields, from the schema (pydantic) or from the services' Django ValidationError;
400 a body that is not JSON. Nothing is written on any of them: each endpoint calls one
atomic service.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist, RequestDataTooBig, ValidationError
from django.http import Http404, HttpRequest
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as SchemaError
from ninja.parser import Parser
from ninja.security import HttpBearer

from . import tokens
from .models import ApiToken, Customer, Order, Shop

#: Bodies above this size are refused with 413 before they are read (settings can lower it).
DEFAULT_MAX_BODY_BYTES = 1024 * 1024


class ApiError(Exception):
    """An answer other than success, with the fields it is about."""

    def __init__(self, status: int, detail: str, errors: list[dict] | None = None):
        self.status, self.detail, self.errors = status, detail, errors or []
        super().__init__(detail)


def conflict(detail: str, fields: list[str] | None = None) -> ApiError:
    return ApiError(409, detail, [{"field": f, "message": detail} for f in fields or []])


def invalid(field: str | None, message: str) -> ApiError:
    return ApiError(422, _("Invalid input."), [{"field": field, "message": message}])


def invalid_from(exc: ValidationError, rename: dict[str, str] | None = None) -> ApiError:
    """A service's ValidationError as a 422, with its field names mapped by ``rename``
    ("__all__" for the errors that name no field)."""
    rename = rename or {}
    errors = []
    if hasattr(exc, "error_dict"):
        for field, field_errors in exc.message_dict.items():
            name = rename.get(field, None if field == "__all__" else field)
            errors += [{"field": name, "message": message} for message in field_errors]
    else:
        errors = [{"field": rename.get("__all__"), "message": m} for m in exc.messages]
    return ApiError(422, _("Invalid input."), errors)


class PayloadTooLarge(ApiError):
    def __init__(self, limit: int):
        super().__init__(413, _("The request body is larger than %(n)d bytes.") % {"n": limit})


def max_body_bytes() -> int:
    return getattr(settings, "API_MAX_BODY_BYTES", DEFAULT_MAX_BODY_BYTES)


class ShopToken(HttpBearer):
    """``Authorization: Bearer <key>``: the request acts for the key's shop
    (``request.auth`` is the ApiToken, ``request.auth.shop`` its shop)."""

    def __call__(self, request: HttpRequest):
        # Checked first, before anything reads the body; oversized requests learn nothing.
        length = request.META.get("CONTENT_LENGTH") or 0
        try:
            length = int(length)
        except ValueError:
            length = 0
        if length > max_body_bytes():
            raise PayloadTooLarge(max_body_bytes())
        return super().__call__(request)

    def authenticate(self, request: HttpRequest, token: str) -> ApiToken | None:
        return tokens.api_token_authenticate(token)


class DecimalJsonParser(Parser):
    """JSON numbers with a fraction become Decimal, never float: 0.1 stays 0.1."""

    def parse_body(self, request: HttpRequest):
        return json.loads(request.body, parse_float=Decimal)


def _field_of(loc) -> str | None:
    parts = [str(p) for p in loc]
    # ninja locates errors as ("body", "<parameter>", ...), ("query", "lang"), ("path", "x")
    if parts and parts[0] == "body":
        parts = parts[2:]
    elif parts and parts[0] in ("query", "path", "header", "cookie"):
        parts = parts[1:]
    return ".".join(parts) or None


_DECIMAL_REPR = re.compile(r"Decimal\('([^']*)'\)")


def _message(error: dict) -> str:
    """pydantic's message, with a limit like Decimal('9.99') shown as the storefront sends it."""
    return _DECIMAL_REPR.sub(r"\1", error.get("msg", ""))


def _response(api: NinjaAPI, request, status: int, detail: str, errors=()):
    return api.create_response(
        request, {"detail": detail, "errors": list(errors)}, status=status
    )


def install_error_handlers(api: NinjaAPI) -> None:
    """Every error in the shape above (ninja's defaults differ per error)."""

    @api.exception_handler(ApiError)
    def api_error(request, exc: ApiError):
        return _response(api, request, exc.status, exc.detail, exc.errors)

    @api.exception_handler(SchemaError)
    def schema_error(request, exc: SchemaError):
        errors = [
            {"field": _field_of(e.get("loc", ())), "message": _message(e)}
            for e in exc.errors
        ]
        return _response(api, request, 422, _("Invalid input."), errors)

    @api.exception_handler(ValidationError)
    def service_error(request, exc: ValidationError):
        error = invalid_from(exc)
        return _response(api, request, error.status, error.detail, error.errors)

    @api.exception_handler(AuthenticationError)
    def unauthorized(request, exc):
        response = _response(api, request, 401, _(
            "A valid API token is required: Authorization: Bearer <key>."))
        response["WWW-Authenticate"] = "Bearer"
        return response

    @api.exception_handler(HttpError)
    def http_error(request, exc: HttpError):
        errors = [{"field": None, "message": str(exc)}] if exc.status_code == 400 else []
        return _response(api, request, exc.status_code, str(exc), errors)

    @api.exception_handler(Http404)
    def not_found(request, exc):
        return _response(api, request, 404, str(exc) or _("Not found."))

    @api.exception_handler(ObjectDoesNotExist)
    def does_not_exist(request, exc):
        return _response(api, request, 404, _("Not found."))

    @api.exception_handler(RequestDataTooBig)
    def too_big(request, exc):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        return _response(api, request, 413, PayloadTooLarge(limit).detail)


# --- lookups within the token's shop -------------------------------------------------------


def shop_of(request: HttpRequest) -> Shop:
    return request.auth.shop


def customer_or_404(shop: Shop, external_id: str) -> Customer:
    customer = Customer.objects.filter(shop=shop, external_id=external_id).first()
    if customer is None:
        raise Http404(_("No customer with this external id."))
    customer.shop = shop
    return customer


def order_or_404(shop: Shop, number: str) -> Order:
    order = Order.objects.filter(shop=shop, number=number).select_related("customer").first()
    if order is None:
        raise Http404(_("No order with this number."))
    order.shop = shop
    return order


def check_currency(shop: Shop, currency: str, field: str = "currency") -> None:
    if currency != shop.currency:
        raise invalid(field, _("Currency %(got)s does not match the shop's currency %(want)s.")
                      % {"got": currency, "want": shop.currency})
