from modeltranslation.translator import TranslationOptions, register

from .models import Category, Segment


@register(Category)
class CategoryTranslationOptions(TranslationOptions):
    fields = ("name", "description")


@register(Segment)
class SegmentTranslationOptions(TranslationOptions):
    fields = ("name", "description")
