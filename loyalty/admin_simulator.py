"""The what-if simulator in the admin: simulations of the saved ladder (add page), of an
edited ladder (a button on the category and rule pages), their progress, table, chart and
CSV. Staff see only their shops' simulations (shops.scoping)."""

from __future__ import annotations

import csv

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from shops.labels import ShopLabelledChoiceField
from shops.models import Shop
from shops.scoping import ShopScopedAdmin, shops_for

from .admin_edited import on_edited_state
from .models import LadderSource, SimulationRun, SimulationStatus
from .simulator import report, services, snapshot

SIMULATE = "_simulate"


class SimulationForm(forms.Form):
    shop = ShopLabelledChoiceField(queryset=Shop.objects.none(), label=gettext_lazy("Shop"))
    months = forms.IntegerField(
        label=gettext_lazy("Months to replay"), initial=12, min_value=1,
        max_value=services.MAX_MONTHS,
        help_text=gettext_lazy("Replayed week by week; 12 months are 52 weeks."),
    )
    last_week_end = forms.DateField(
        label=gettext_lazy("Last week ends on"), required=False,
        help_text=gettext_lazy("Empty: yesterday, the last complete day."),
    )

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["shop"].queryset = shops_for(user)


@admin.register(SimulationRun)
class SimulationRunAdmin(ShopScopedAdmin):
    list_display = ("__str__", "shop", "source", "status", "progress", "created_at",
                    "triggered_by")
    list_filter = ("shop", "status", "source")
    list_select_related = ("shop", "triggered_by")
    show_full_result_count = False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description=gettext_lazy("weeks done"))
    def progress(self, run):
        return f"{run.weeks_done} / {run.weeks_total}"

    def get_urls(self):
        return [
            path("<int:object_id>/csv/", self.admin_site.admin_view(self.csv_view),
                 name="loyalty_simulationrun_csv"),
            *super().get_urls(),
        ]

    def _run_or_404(self, request, object_id):
        run = self.get_object(request, str(object_id))
        if run is None or not self.has_view_permission(request, run):
            from django.http import Http404

            raise Http404
        return run

    def add_view(self, request, form_url="", extra_context=None):
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = SimulationForm(request.POST or None, user=request.user,
                              initial={"shop": request.GET.get("shop")})
        if request.method == "POST" and form.is_valid():
            try:
                run = services.simulation_request(
                    shop=form.cleaned_data["shop"], months=form.cleaned_data["months"],
                    last_week_end=form.cleaned_data["last_week_end"],
                    triggered_by=request.user)
            except ValidationError as exc:
                _add_errors(form, exc)
            else:
                return HttpResponseRedirect(
                    reverse("admin:loyalty_simulationrun_change", args=[run.pk]))
        return TemplateResponse(request, "admin/loyalty/simulator_form.html", {
            **self.admin_site.each_context(request), "title": _("Simulate a category ladder"),
            "form": form, "opts": self.model._meta,
        })

    def change_view(self, request, object_id, form_url="", extra_context=None):
        run = self._run_or_404(request, object_id)
        done = run.status in (SimulationStatus.FINISHED, SimulationStatus.FAILED)
        return TemplateResponse(request, "admin/loyalty/simulator_results.html", {
            **self.admin_site.each_context(request),
            "title": _("Simulation of %(shop)s") % {"shop": run.shop}, "run": run,
            "opts": self.model._meta, "done": done, "header": report.header(run),
            "rows": report.rows(run), "totals": report.totals(run),
            "chart": report.chart(run),
            "percent": 100 * run.weeks_done // run.weeks_total if run.weeks_total else 0,
            "csv_url": reverse("admin:loyalty_simulationrun_csv", args=[run.pk]),
        })

    def csv_view(self, request, object_id):
        run = self._run_or_404(request, object_id)
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="simulation-{run.pk}.csv"'
        writer = csv.writer(response)
        writer.writerow(report.header(run))
        writer.writerows(report.rows(run))
        return response


def _add_errors(form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for name, errors in exc.error_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, exc)


class SimulateMixin:
    """A "simulate" button on the category and rule pages: the form is saved as edited inside
    a transaction that is rolled back, the ladder is kept as a snapshot, and a simulation of
    it is queued. Nothing of the edit is kept but the simulation."""

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        extra_context = {**(extra_context or {}), "show_simulate": True}
        if request.method != "POST" or SIMULATE not in request.POST:
            return super().changeform_view(request, object_id, form_url, extra_context)
        errors, shop, ladder = on_edited_state(
            request, model=self.model, object_id=object_id, shop_path=self.preview_shop,
            save=lambda: super(SimulateMixin, self).changeform_view(
                request, object_id, form_url, extra_context),
            act=snapshot.take,
        )
        if errors is not None:
            return errors
        run = services.simulation_request(
            shop=shop, ladder=ladder, source=LadderSource.EDITED, triggered_by=request.user)
        return HttpResponseRedirect(reverse("admin:loyalty_simulationrun_change", args=[run.pk]))
