"""What-if simulations of a category ladder over past weeks (loyalty.simulator)."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class SimulationStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    FINISHED = "finished", _("Finished")
    FAILED = "failed", _("Failed")


class LadderSource(models.TextChoices):
    SAVED = "saved", _("Saved categories and rules")
    EDITED = "edited", _("Edited, unsaved categories and rules")


class SimulationRun(models.Model):
    """One replay of a ladder (kept as a snapshot: later edits do not change it) over the
    weeks ending `first_week_end` .. `last_week_end`, with one result row per week done."""

    shop = models.ForeignKey(
        "shops.Shop", verbose_name=_("shop"), on_delete=models.CASCADE, related_name="+"
    )
    source = models.CharField(
        _("ladder"), max_length=16, choices=LadderSource.choices, default=LadderSource.SAVED
    )
    ladder = models.JSONField(_("ladder snapshot"), default=dict, editable=False)
    months = models.PositiveSmallIntegerField(_("months"), default=12)
    first_week_end = models.DateField(_("first week ends"))
    last_week_end = models.DateField(_("last week ends"))
    status = models.CharField(
        _("status"), max_length=16, choices=SimulationStatus.choices,
        default=SimulationStatus.QUEUED,
    )
    weeks_total = models.PositiveSmallIntegerField(_("weeks"), default=0)
    weeks_done = models.PositiveSmallIntegerField(_("weeks done"), default=0)
    #: One dict per week done, in order (see loyalty.simulator.engine.Week.as_json).
    results = models.JSONField(_("results"), default=list, blank=True, editable=False)
    created_at = models.DateTimeField(_("requested"), default=timezone.now)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    triggered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("requested by"), on_delete=models.SET_NULL,
        null=True, blank=True, related_name="+",
    )
    error = models.TextField(_("error"), blank=True)

    class Meta:
        verbose_name = _("simulation")
        verbose_name_plural = _("simulations")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.shop_id} {self.first_week_end}–{self.last_week_end}"
