"""Every user-facing string is translated in all four catalogues (English is the source).

Strings are re-extracted from the code into a temporary copy of `locale/`, so a string
added to the code but not yet to the catalogues fails here too, not only an empty or fuzzy
entry.
"""

import shutil
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import override_settings

LANGUAGES = ("pl", "uk", "ru", "fr")
ROOT = Path(settings.BASE_DIR)
IGNORE = [".venv", "var", "bench", "tests", "*.egg-info", "node_modules"]


@pytest.fixture(scope="module")
def extracted(tmp_path_factory, django_db_blocker):
    target = tmp_path_factory.mktemp("locale")
    shutil.copytree(ROOT / "locale", target, dirs_exist_ok=True)
    with override_settings(LOCALE_PATHS=[target]):
        call_command(
            "makemessages", locale=list(LANGUAGES), ignore_patterns=IGNORE, no_obsolete=True,
            verbosity=0,
        )
    return target


@pytest.mark.parametrize("language", LANGUAGES)
def test_catalogue_is_complete(extracted, language):
    catalogue = polib.pofile(str(extracted / language / "LC_MESSAGES" / "django.po"))
    untranslated = [e.msgid for e in catalogue.untranslated_entries()]
    fuzzy = [e.msgid for e in catalogue.fuzzy_entries()]
    assert not untranslated, f"{language}: untranslated {untranslated[:20]}"
    assert not fuzzy, f"{language}: fuzzy {fuzzy[:20]}"
    assert len(catalogue.translated_entries()) > 50
