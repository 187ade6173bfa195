"""The admin's language switcher: a staff user's choice is kept on their account, so it follows
them to any browser, and in the session, so pages read it without a query.

The choice is put in the session at login (`remember_on_login`) and when it is changed;
`StaffLanguageMiddleware` (after the authentication middleware) activates it for signed-in
staff (a session from before this feature reads it once); without a choice, Django's
`LocaleMiddleware` (browser language, then `LANGUAGE_CODE`) decides as before. The
storefront API has no session and is not affected.
"""

from django.conf import settings
from django.http import HttpResponseRedirect
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from .models import StaffPreference

SESSION_KEY = "patron_admin_language"


def staff_language_set(*, user, language: str) -> None:
    """Remember `language` for `user` (a configured language code)."""
    if language not in dict(settings.LANGUAGES):
        raise ValueError(f"unknown language {language!r}")
    StaffPreference.objects.update_or_create(user=user, defaults={"language": language})


@require_POST
def language_view(request):
    language = request.POST.get("language", "")
    target = request.POST.get("next") or "/admin/"
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = "/admin/"
    response = HttpResponseRedirect(target)
    if language in dict(settings.LANGUAGES):
        staff_language_set(user=request.user, language=language)
        request.session[SESSION_KEY] = language
        response.set_cookie(settings.LANGUAGE_COOKIE_NAME, language, samesite="Lax")
    return response


def remember_on_login(sender, request, user, **kwargs) -> None:
    if request is not None and hasattr(request, "session"):
        request.session[SESSION_KEY] = StaffPreference.objects.filter(user=user).values_list(
            "language", flat=True
        ).first() or ""


class StaffLanguageMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        session = getattr(request, "session", None)
        if session is not None and session.session_key and request.user.is_authenticated:
            language = session.get(SESSION_KEY)
            if language is None:  # a session older than the switcher: one read
                language = StaffPreference.objects.filter(user=request.user).values_list(
                    "language", flat=True
                ).first() or ""
                session[SESSION_KEY] = language
            if language:
                translation.activate(language)
                request.LANGUAGE_CODE = language
        return self.get_response(request)
