"""Admin pages for the CSV import: upload -> a background check (preview) -> confirm ->
a background import, each job on its own page that refreshes itself while the job runs.

Mounted by config/urls.py as ``admin/shops/import/`` (name ``shops_import``); a job's page is
``?job=<id>`` on the same path. The uploaded file is stored with the job (shops.ImportJob),
so what is imported is the file that was previewed; it is checked again before writing,
because the shop's data may have changed in between. No request reads more of the file
than the upload: checking and writing run in the task (shops.tasks.run_import). The
formats are documented in shops.importing.
"""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from . import importing
from .importing import jobs
from .models import ImportJob, ImportStatus, Shop
from .scoping import shops_for

#: Seconds between two refreshes of a running job's page.
REFRESH_SECONDS = 2
#: Jobs listed under the upload form.
RECENT_JOBS = 10

#: The permissions a user needs to import each kind of file.
PERMISSIONS = {
    importing.ImportKind.CUSTOMERS: ("shops.add_customer", "shops.change_customer"),
    importing.ImportKind.ORDERS: ("shops.add_order", "shops.change_order"),
    importing.ImportKind.RETURNS: ("shops.add_return",),
}


class ImportForm(forms.Form):
    shop = forms.ModelChoiceField(queryset=Shop.objects.none(), label=gettext_lazy("Shop"))
    kind = forms.ChoiceField(
        choices=importing.ImportKind.choices, label=gettext_lazy("The file holds")
    )
    file = forms.FileField(
        label=gettext_lazy("CSV file"),
        help_text=gettext_lazy("UTF-8, with a header line. Nothing is written before you "
                               "confirm the preview."),
    )
    history = forms.BooleanField(
        required=False, label=gettext_lazy("Past history"),
        help_text=gettext_lazy("For a migration from another system: no messages to "
                               "customers, one recalculation of the affected customers at "
                               "the end."),
    )
    as_of = forms.DateField(
        required=False, label=gettext_lazy("Categories as of"),
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=gettext_lazy("Past history only: decide the categories for this day "
                               "(empty: today)."),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["shop"].queryset = shops_for(user)

    def clean_kind(self):
        kind = self.cleaned_data["kind"]
        if not self.user.has_perms(PERMISSIONS[importing.ImportKind(kind)]):
            raise forms.ValidationError(_("You may not import this kind of file."))
        return kind

    def clean(self):
        data = super().clean()
        if data.get("as_of") and not data.get("history"):
            self.add_error("as_of", _("A date is only used for past history."))
        return data


def _columns() -> list[tuple[str, list[str], list[str]]]:
    return [
        (importing.ImportKind(kind).label, list(cols.required), list(cols.optional))
        for kind, cols in importing.COLUMNS.items()
    ]


def _render(request: HttpRequest, template: str, **context) -> TemplateResponse:
    context = {
        **admin.site.each_context(request),
        "title": _("Import from CSV"),
        "formats": _columns(),
        **context,
    }
    return TemplateResponse(request, f"admin/shops/{template}", context)


def _job_for(request: HttpRequest, job_id: str) -> ImportJob:
    """The job, if the user may see it: one of their shops, a kind they may import."""
    job = (ImportJob.objects.select_related("shop", "created_by")
           .filter(pk=int(job_id) if str(job_id).isdigit() else 0,
                   shop__in=shops_for(request.user)).first())
    if job is None or not request.user.has_perms(PERMISSIONS[importing.ImportKind(job.kind)]):
        raise PermissionDenied
    return job


def _job_page(request: HttpRequest, job: ImportJob) -> HttpResponse:
    report = job.report or {}
    can_confirm = (job.status == ImportStatus.FINISHED and not job.apply
                   and report.get("has_changes"))
    return _render(request, "import_job.html", job=job, report=report,
                   kind_label=importing.ImportKind(job.kind).label, can_confirm=can_confirm,
                   refresh=REFRESH_SECONDS if job.is_running else None)


def _confirm(request: HttpRequest) -> HttpResponse:
    job = _job_for(request, request.POST.get("job", ""))
    if job.status != ImportStatus.FINISHED or job.apply or not job.report.get("has_changes"):
        messages.error(request, _("This preview cannot be imported; upload the file again."))
        return redirect(f"{request.path}?job={job.pk}")
    new = jobs.job_confirm(job=job, user=request.user)
    return redirect(f"{request.path}?job={new.pk}")


def _import_view(request: HttpRequest) -> HttpResponse:
    if request.method == "POST" and "confirm" in request.POST:
        return _confirm(request)
    if request.method == "GET" and "job" in request.GET:
        return _job_page(request, _job_for(request, request.GET["job"]))
    form = ImportForm(request.POST or None, request.FILES or None, user=request.user,
                      initial={"shop": request.GET.get("shop")})
    if not form.is_valid():
        recent = (ImportJob.objects.filter(shop__in=shops_for(request.user))
                  .select_related("shop")[:RECENT_JOBS])
        return _render(request, "import_form.html", form=form, recent=recent)
    data = form.cleaned_data
    upload = data["file"]
    job = jobs.job_create(
        shop=data["shop"], kind=data["kind"], file=upload, file_name=upload.name,
        apply=False, history=data["history"], as_of=data["as_of"], user=request.user,
    )
    return redirect(f"{request.path}?job={job.pk}")


#: The view to mount; admin_view requires an active staff user and adds CSRF protection.
import_view = admin.site.admin_view(_import_view)
