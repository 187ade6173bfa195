"""Storefront API keys: creation, revocation and authentication.

A key reads ``<prefix>.<secret>``: the prefix (public, unique) finds the token row, the
whole key is checked against the stored SHA-256 hash with a constant-time comparison. The
key itself is returned once by ``api_token_create`` and never stored. SHA-256 without salt
or stretching is enough here: the secret is 32 random bytes, not a password.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from .api_lookups import token_lookup
from .models import ApiToken, Shop

#: last_used_at is written at most this often per token (it would otherwise be a write on
#: every request).
LAST_USED_RESOLUTION = timedelta(minutes=1)


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def new_key() -> tuple[str, str]:
    """A fresh (prefix, key)."""
    prefix = secrets.token_hex(6)
    return prefix, f"{prefix}.{secrets.token_urlsafe(32)}"


@transaction.atomic
def api_token_issue(token: ApiToken) -> str:
    """Give an unsaved ``token`` a fresh key and save it; returns the key (show it once)."""
    token.prefix, key = new_key()
    token.key_hash = hash_key(key)
    token.save()
    return key


def api_token_create(*, shop: Shop, name: str, created_by=None) -> tuple[ApiToken, str]:
    """Create a token for ``shop``; returns the token and the key (show it once)."""
    token = ApiToken(shop=shop, name=name, created_by=created_by)
    return token, api_token_issue(token)


def api_token_revoke(*, token: ApiToken) -> bool:
    """Revoke ``token`` from now on; False when it was already revoked."""
    return bool(
        ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True)
        .update(revoked_at=timezone.now())
    )


def api_token_authenticate(key: str) -> ApiToken | None:
    """The active token of ``key`` (with its shop), or None. One query."""
    prefix, dot, _secret = key.partition(".")
    if not dot or not prefix or len(prefix) > 16:
        return None
    # Plain SQL: the ORM's compilation of this query cost more than the database's
    # answer, on every request (shops.api_lookups).
    token = token_lookup(prefix)
    if token is None or not hmac.compare_digest(token.key_hash, hash_key(key)):
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token
