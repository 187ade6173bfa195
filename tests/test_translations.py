"""Every user-facing string is translated in all four catalogues (English is the source).

Strings are re-extracted from a temporary copy of the source tree into its copy of
`locale/`, so a string added to the code but not yet to the catalogues fails here too, not
only an empty or fuzzy entry. (makemessages files every string under the `locale/` whose
parent directory contains the source file, so it must run in the copy: run in place, it
would rewrite the real catalogues and check an untouched copy.)
"""

import os
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
NOT_SOURCE = shutil.ignore_patterns(
    ".venv", "var", ".git", "*.egg-info", "__pycache__", ".hypothesis", ".pytest_cache",
    ".ruff_cache", "*.mo", "bench", "tests",
)


def real_catalogues() -> dict[str, bytes]:
    return {lang: (ROOT / "locale" / lang / "LC_MESSAGES" / "django.po").read_bytes()
            for lang in LANGUAGES}


@pytest.fixture(scope="module")
def before_extraction():
    return real_catalogues()


@pytest.fixture(scope="module")
def extracted(tmp_path_factory, before_extraction):
    copy = tmp_path_factory.mktemp("source") / "tree"
    shutil.copytree(ROOT, copy, ignore=NOT_SOURCE)
    here = os.getcwd()
    os.chdir(copy)
    try:
        with override_settings(LOCALE_PATHS=[copy / "locale"]):
            call_command(
                "makemessages", locale=list(LANGUAGES), ignore_patterns=IGNORE,
                no_obsolete=True, verbosity=0,
            )
    finally:
        os.chdir(here)
    return copy / "locale"


def test_extraction_leaves_the_real_catalogues_alone(extracted, before_extraction):
    assert real_catalogues() == before_extraction


@pytest.mark.parametrize("language", LANGUAGES)
def test_catalogue_is_complete(extracted, language):
    catalogue = polib.pofile(str(extracted / language / "LC_MESSAGES" / "django.po"))
    untranslated = [e.msgid for e in catalogue.untranslated_entries()]
    fuzzy = [e.msgid for e in catalogue.fuzzy_entries()]
    assert not untranslated, f"{language}: untranslated {untranslated[:20]}"
    assert not fuzzy, f"{language}: fuzzy {fuzzy[:20]}"
    assert len(catalogue.translated_entries()) > 50
