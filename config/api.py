"""The storefront HTTP API, version 1, mounted at /api/v1/ (SPEC section 7).

django-ninja: request bodies are pydantic schemas, so bad input is rejected field by field
before any service runs, and the OpenAPI schema (/api/v1/openapi.json) and the browsable
docs (/api/v1/docs) come from the same code. Each app keeps its endpoints in ``<app>/api.py``
and its bodies in ``<app>/api_schemas.py``; shops.api_base holds the token check and the one
error shape.
"""

from ninja import NinjaAPI

from loyalty.api import router as loyalty_router
from pricing.api import router as pricing_router
from shops.api import router as shops_router
from shops.api_base import DecimalJsonParser, ShopToken, install_error_handlers

api = NinjaAPI(
    title="Patron storefront API",
    version="1",
    description=(
        "Customers, orders, returns, loyalty and cart quotes of one shop. Authenticate with "
        "the shop's API key: `Authorization: Bearer <key>` (created in the admin under API "
        "tokens). Errors: `{detail, errors: [{field, message}]}`; 401 bad token, 404 unknown "
        "object, 409 conflicting order or return, 413 body too large, 422 invalid fields."
    ),
    urls_namespace="api-v1",
    auth=ShopToken(),
    parser=DecimalJsonParser(),
)
install_error_handlers(api)
api.add_router("/", shops_router)
api.add_router("/", loyalty_router)
api.add_router("/", pricing_router)
