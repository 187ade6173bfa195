"""Autocomplete fields in inlines at a constant number of queries.

An autocomplete widget renders only its selected options, and Django looks them up form by
form: one query per inline row. `SelectedOnce` (mixed into every shop-scoped inline's formset)
gives each such widget a stand-in for its choices that looks up the selected objects of every
form of the formset in one query per field, the first time one of them is rendered.
"""

from django.contrib.admin.widgets import AutocompleteMixin


class _SelectedChoices:
    """Stands in for the `ModelChoiceIterator` an autocomplete widget reads in `optgroups`:
    `.field` for labels and empty values, `.queryset.using(db).filter(<key>__in=ids)` for the
    selected objects, which it answers from the formset's shared lookup."""

    def __init__(self, formset, name, choices):
        self.formset, self.name, self.field = formset, name, choices.field
        self.db = None

    @property
    def queryset(self):
        return self

    def using(self, db):
        self.db = db
        return self

    def filter(self, **lookup):
        ((key, wanted),) = lookup.items()
        attname = key.removesuffix("__in")
        return [obj for obj in self.formset.selected_objects(self.name, key, self.db)
                if str(getattr(obj, attname)) in wanted]


class SelectedOnce:
    """Inline formset mixin: the selected objects of each autocomplete field, for all forms
    at once."""

    def _construct_form(self, i, **kwargs):
        form = super()._construct_form(i, **kwargs)
        for name, field in form.fields.items():
            widget = getattr(field.widget, "widget", field.widget)  # the related-field wrapper
            if isinstance(widget, AutocompleteMixin):
                widget.choices = _SelectedChoices(self, name, widget.choices)
        return form

    def selected_objects(self, name, key, db):
        cache = self.__dict__.setdefault("_selected_objects", {})
        if name not in cache:
            ids = set()
            for form in self.forms:
                value = form[name].value()
                values = value if isinstance(value, (list, tuple)) else [value]
                empty = form.fields[name].empty_values
                ids.update(str(v) for v in values if v not in empty and str(v) not in empty)
            field = self.forms[0].fields[name]
            cache[name] = list(field.queryset.using(db).filter(**{key: ids})) if ids else []
        return cache[name]
