"""The admin's statistics page: a shop and a date range -> every section of
loyalty.statistics as a table and a chart (Chart.js, served as a static file), each table
downloadable as CSV. Reads only. Mounted by config/urls.py as ``admin/loyalty/statistics/``
(URL name ``loyalty_statistics``)."""

from __future__ import annotations

import csv
from datetime import timedelta

from django import forms
from django.contrib.admin.widgets import AdminDateWidget
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from shops.scoping import shops_for

from . import statistics
from .models import Category

#: The default range: the last 12 weeks.
DEFAULT_DAYS = 84
#: A longer range is refused (weekly rows would not fit a page).
MAX_DAYS = 3 * 366


class StatisticsForm(forms.Form):
    shop = forms.ModelChoiceField(queryset=None, label=gettext_lazy("Shop"))
    start = forms.DateField(
        label=pgettext_lazy("start of a date range", "From"), widget=AdminDateWidget
    )
    end = forms.DateField(label=gettext_lazy("To (included)"), widget=AdminDateWidget)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["shop"].queryset = shops_for(user)

    def clean(self):
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if start and end:
            if end < start:
                self.add_error("end", _("The end is before the start."))
            elif (end - start).days > MAX_DAYS:
                self.add_error("end", _("At most %(days)d days.") % {"days": MAX_DAYS})
        return data


def _initial(request: HttpRequest):
    shop = shops_for(request.user).order_by("code").first()
    today = shop.today() if shop else timezone.localdate()
    return {"shop": shop, "start": today - timedelta(days=DEFAULT_DAYS - 1), "end": today}


def statistics_view(request: HttpRequest) -> HttpResponse:
    if not request.user.has_module_perms("loyalty"):
        raise PermissionDenied
    initial = _initial(request)
    data = request.GET.copy() if "shop" in request.GET else None
    if data is None:  # first visit: the first shop, the last 12 weeks
        data = {k: getattr(v, "pk", v) for k, v in initial.items()}
    else:  # a link with a shop only (the home page's): the default range
        for key in ("start", "end"):
            if not data.get(key):
                data[key] = initial[key].isoformat()
    form = StatisticsForm(data, user=request.user)
    tables = []
    if form.is_valid():
        period = statistics.Period(
            form.cleaned_data["shop"], form.cleaned_data["start"], form.cleaned_data["end"]
        )
        export = request.GET.get("csv")
        if export:
            table = statistics.section(period, export)
            if table is None:
                raise Http404
            return _csv(table, period)
        tables = statistics.statistics(period)
    query = request.GET.copy()
    query.pop("csv", None)
    if form.is_valid():
        for key, value in form.data.items():
            query.setdefault(key, str(value))
    context = {
        **_admin_context(request),
        "title": _("Statistics"),
        "form": form,
        "tables": [(t, t.chart_data(), f"chart-{t.key}") for t in tables],
        "query": query.urlencode(),
        # core.js first: the calendar (DateTimeShortcuts.js) needs it, as on admin forms.
        "media": forms.Media(js=("admin/js/core.js",)) + form.media,
        "opts": Category._meta,
    }
    return TemplateResponse(request, "admin/loyalty/statistics.html", context)


def _admin_context(request):
    from django.contrib import admin

    return admin.site.each_context(request)


def _csv(table: statistics.Table, period: statistics.Period) -> HttpResponse:
    name = f"{table.key}-{period.shop.code}-{period.start}-{period.end}.csv"
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    writer = csv.writer(response)
    writer.writerow([str(c) for c in table.columns])
    for row in table.rows:
        writer.writerow([_cell(v) for v in row])
    return response


def _cell(value):
    """A value for a spreadsheet: text that a spreadsheet would run as a formula is quoted."""
    if value is None:
        return ""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value
    return value
