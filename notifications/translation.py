from modeltranslation.translator import TranslationOptions, register

from .models import BulkSend, MessageTemplate


@register(MessageTemplate)
class MessageTemplateTranslationOptions(TranslationOptions):
    fields = ("subject", "body")


@register(BulkSend)
class BulkSendTranslationOptions(TranslationOptions):
    fields = ("subject", "body")
