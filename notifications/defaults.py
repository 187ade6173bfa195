"""The message templates that ship with Patron, in the five languages. Data only.

Seeded as the project-wide default templates (no shop) by migration
0002_default_templates, and re-applied by `default_templates_install()` (demo). Per event
and language: (subject, email body, short text). SMS uses the short text; a webhook message
the subject as its title and the short text as its body. Variables: see
`notifications.rendering`.
"""

LANGUAGES = ("en", "pl", "uk", "ru", "fr")

_ORDER_POINTS = {
    "en": "It earned you {{ points_earned }} points; your balance is {{ balance }}.",
    "pl": "Otrzymujesz {{ points_earned }} pkt; stan punktów: {{ balance }}.",
    "uk": "Вам нараховано {{ points_earned }} балів; баланс: {{ balance }}.",
    "ru": "Вам начислено {{ points_earned }} баллов; баланс: {{ balance }}.",
    "fr": "Elle vous rapporte {{ points_earned }} points ; votre solde : {{ balance }}.",
}
_ORDER_CATEGORY = {
    "en": "Your category: {{ new_category }}.",
    "pl": "Twoja kategoria: {{ new_category }}.",
    "uk": "Ваша категорія: {{ new_category }}.",
    "ru": "Ваша категория: {{ new_category }}.",
    "fr": "Votre catégorie : {{ new_category }}.",
}


def _order_body(lang: str, greeting: str, thanks: str) -> str:
    return (
        f"{greeting}\n\n{thanks}\n"
        f"{{% if points_earned %}}{_ORDER_POINTS[lang]}\n{{% endif %}}"
        f"{{% if new_category %}}{_ORDER_CATEGORY[lang]}\n{{% endif %}}"
        "\n{{ shop_name }}"
    )


TEXTS: dict[str, dict[str, tuple[str, str, str]]] = {
    "category_up": {
        "en": (
            "You are now {{ new_category }} at {{ shop_name }}",
            "Hello {{ customer_name }},\n\ngood news: you have moved up to {{ new_category }}."
            "\nYour points balance: {{ balance }}.\n\nThank you for shopping with us,"
            "\n{{ shop_name }}",
            "{{ shop_name }}: congratulations, {{ customer_name }}! "
            "You are now {{ new_category }}.",
        ),
        "pl": (
            "Twoja nowa kategoria w sklepie {{ shop_name }}: {{ new_category }}",
            "Dzień dobry, {{ customer_name }}!\n\nMamy dobrą wiadomość: Twoja kategoria to "
            "teraz {{ new_category }}.\nStan Twoich punktów: {{ balance }}.\n\n"
            "Dziękujemy za zakupy,\n{{ shop_name }}",
            "{{ shop_name }}: gratulacje, {{ customer_name }}! "
            "Twoja kategoria to teraz {{ new_category }}.",
        ),
        "uk": (
            "Ваша нова категорія в {{ shop_name }}: {{ new_category }}",
            "Вітаємо, {{ customer_name }}!\n\nМаємо гарну новину: ваша категорія тепер "
            "{{ new_category }}.\nВаш бонусний баланс: {{ balance }}.\n\n"
            "Дякуємо, що обираєте нас,\n{{ shop_name }}",
            "{{ shop_name }}: вітаємо, {{ customer_name }}! "
            "Ваша категорія тепер {{ new_category }}.",
        ),
        "ru": (
            "Ваша новая категория в {{ shop_name }}: {{ new_category }}",
            "Здравствуйте, {{ customer_name }}!\n\nУ нас хорошая новость: ваша категория "
            "теперь {{ new_category }}.\nВаш бонусный баланс: {{ balance }}.\n\n"
            "Спасибо, что выбираете нас,\n{{ shop_name }}",
            "{{ shop_name }}: поздравляем, {{ customer_name }}! "
            "Ваша категория теперь {{ new_category }}.",
        ),
        "fr": (
            "Vous êtes désormais {{ new_category }} chez {{ shop_name }}",
            "Bonjour {{ customer_name }},\n\nbonne nouvelle : vous passez à la catégorie "
            "{{ new_category }}.\nVotre solde de points : {{ balance }}.\n\n"
            "Merci de votre fidélité,\n{{ shop_name }}",
            "{{ shop_name }} : félicitations, {{ customer_name }} ! "
            "Vous êtes désormais {{ new_category }}.",
        ),
    },
    "category_down": {
        "en": (
            "Your category at {{ shop_name }} has changed",
            "Hello {{ customer_name }},\n\nyour category has changed from {{ old_category }} "
            "to {{ new_category }}.\nA few more orders will bring you back up.\n\n"
            "{{ shop_name }}",
            "{{ shop_name }}: {{ customer_name }}, your category is now {{ new_category }}.",
        ),
        "pl": (
            "Zmiana Twojej kategorii w sklepie {{ shop_name }}",
            "Dzień dobry, {{ customer_name }}!\n\nTwoja kategoria zmieniła się z "
            "{{ old_category }} na {{ new_category }}.\nKilka kolejnych zamówień pozwoli Ci "
            "wrócić wyżej.\n\n{{ shop_name }}",
            "{{ shop_name }}: {{ customer_name }}, Twoja kategoria to teraz {{ new_category }}.",
        ),
        "uk": (
            "Ваша категорія в {{ shop_name }} змінилася",
            "Вітаємо, {{ customer_name }}!\n\nВаша категорія змінилася з {{ old_category }} "
            "на {{ new_category }}.\nЩе кілька замовлень — і ви повернетеся вище.\n\n"
            "{{ shop_name }}",
            "{{ shop_name }}: {{ customer_name }}, ваша категорія тепер {{ new_category }}.",
        ),
        "ru": (
            "Ваша категория в {{ shop_name }} изменилась",
            "Здравствуйте, {{ customer_name }}!\n\nВаша категория изменилась с "
            "{{ old_category }} на {{ new_category }}.\nЕщё несколько заказов — и вы "
            "вернётесь выше.\n\n{{ shop_name }}",
            "{{ shop_name }}: {{ customer_name }}, ваша категория теперь {{ new_category }}.",
        ),
        "fr": (
            "Votre catégorie chez {{ shop_name }} a changé",
            "Bonjour {{ customer_name }},\n\nvotre catégorie est passée de {{ old_category }} "
            "à {{ new_category }}.\nQuelques commandes de plus vous feront remonter.\n\n"
            "{{ shop_name }}",
            "{{ shop_name }} : {{ customer_name }}, votre catégorie est désormais "
            "{{ new_category }}.",
        ),
    },
    "registered": {
        "en": (
            "Welcome to {{ shop_name }}",
            "Hello {{ customer_name }},\n\nwelcome to {{ shop_name }}! Every order brings you "
            "closer to our loyalty categories and their rewards.\n\nSee you soon,"
            "\n{{ shop_name }}",
            "Welcome to {{ shop_name }}, {{ customer_name }}!",
        ),
        "pl": (
            "Witamy w sklepie {{ shop_name }}",
            "Dzień dobry, {{ customer_name }}!\n\nWitamy w sklepie {{ shop_name }}! Każde "
            "zamówienie przybliża Cię do naszych kategorii lojalnościowych i ich korzyści."
            "\n\nDo zobaczenia,\n{{ shop_name }}",
            "Witamy w sklepie {{ shop_name }}, {{ customer_name }}!",
        ),
        "uk": (
            "Ласкаво просимо до {{ shop_name }}",
            "Вітаємо, {{ customer_name }}!\n\nЛаскаво просимо до {{ shop_name }}! Кожне "
            "замовлення наближає вас до наших категорій лояльності та їхніх переваг.\n\n"
            "До зустрічі,\n{{ shop_name }}",
            "Ласкаво просимо до {{ shop_name }}, {{ customer_name }}!",
        ),
        "ru": (
            "Добро пожаловать в {{ shop_name }}",
            "Здравствуйте, {{ customer_name }}!\n\nДобро пожаловать в {{ shop_name }}! Каждый "
            "заказ приближает вас к нашим категориям лояльности и их преимуществам.\n\n"
            "До встречи,\n{{ shop_name }}",
            "Добро пожаловать в {{ shop_name }}, {{ customer_name }}!",
        ),
        "fr": (
            "Bienvenue chez {{ shop_name }}",
            "Bonjour {{ customer_name }},\n\nbienvenue chez {{ shop_name }} ! Chaque commande "
            "vous rapproche de nos catégories de fidélité et de leurs avantages.\n\n"
            "À bientôt,\n{{ shop_name }}",
            "Bienvenue chez {{ shop_name }}, {{ customer_name }} !",
        ),
    },
    "order_completed": {
        "en": (
            "Thank you for your order {{ order_number }}",
            _order_body("en", "Hello {{ customer_name }},",
                        "thank you for your order {{ order_number }}."),
            "{{ shop_name }}: thank you for order {{ order_number }}!"
            "{% if points_earned %} +{{ points_earned }} points, balance {{ balance }}."
            "{% endif %}",
        ),
        "pl": (
            "Dziękujemy za zamówienie {{ order_number }}",
            _order_body("pl", "Dzień dobry, {{ customer_name }}!",
                        "Dziękujemy za zamówienie {{ order_number }}."),
            "{{ shop_name }}: dziękujemy za zamówienie {{ order_number }}!"
            "{% if points_earned %} +{{ points_earned }} pkt, stan: {{ balance }}.{% endif %}",
        ),
        "uk": (
            "Дякуємо за замовлення {{ order_number }}",
            _order_body("uk", "Вітаємо, {{ customer_name }}!",
                        "Дякуємо за замовлення {{ order_number }}."),
            "{{ shop_name }}: дякуємо за замовлення {{ order_number }}!"
            "{% if points_earned %} +{{ points_earned }} балів, баланс: {{ balance }}."
            "{% endif %}",
        ),
        "ru": (
            "Спасибо за заказ {{ order_number }}",
            _order_body("ru", "Здравствуйте, {{ customer_name }}!",
                        "Спасибо за заказ {{ order_number }}."),
            "{{ shop_name }}: спасибо за заказ {{ order_number }}!"
            "{% if points_earned %} +{{ points_earned }} баллов, баланс: {{ balance }}."
            "{% endif %}",
        ),
        "fr": (
            "Merci pour votre commande {{ order_number }}",
            _order_body("fr", "Bonjour {{ customer_name }},",
                        "merci pour votre commande {{ order_number }}."),
            "{{ shop_name }} : merci pour votre commande {{ order_number }} !"
            "{% if points_earned %} +{{ points_earned }} points, solde : {{ balance }}."
            "{% endif %}",
        ),
    },
}


# Notices (notifications.notices): {{ keeps_until }}, {{ to_keep }}, {{ next_category }} and
# {{ to_next }} are already formatted in the customer's language ("200,00 PLN", "1 order").
TEXTS["category_at_risk"] = {
    "en": (
        "Keep your {{ new_category }} category at {{ shop_name }}",
        "Hello {{ customer_name }},\n\nyour {{ new_category }} category is yours until "
        "{{ keeps_until }}.\nTo keep it after that, you still need: {{ to_keep }}.\n\n"
        "See you soon,\n{{ shop_name }}",
        "{{ shop_name }}: {{ customer_name }}, your {{ new_category }} category lasts until "
        "{{ keeps_until }}. To keep it you need: {{ to_keep }}.",
    ),
    "pl": (
        "Zachowaj kategorię {{ new_category }} w sklepie {{ shop_name }}",
        "Dzień dobry, {{ customer_name }}!\n\nTwoja kategoria {{ new_category }} obowiązuje "
        "do {{ keeps_until }} włącznie.\nAby ją zachować, brakuje Ci jeszcze: "
        "{{ to_keep }}.\n\n"
        "Do zobaczenia,\n{{ shop_name }}",
        "{{ shop_name }}: {{ customer_name }}, Twoja kategoria {{ new_category }} obowiązuje "
        "do {{ keeps_until }} włącznie. Aby ją zachować, brakuje: {{ to_keep }}.",
    ),
    "uk": (
        "Збережіть категорію {{ new_category }} в {{ shop_name }}",
        "Вітаємо, {{ customer_name }}!\n\nВаша категорія {{ new_category }} діє до "
        "{{ keeps_until }} включно.\nЩоб зберегти її, вам бракує: {{ to_keep }}.\n\n"
        "До зустрічі,\n{{ shop_name }}",
        "{{ shop_name }}: {{ customer_name }}, ваша категорія {{ new_category }} діє до "
        "{{ keeps_until }} включно. Щоб зберегти її, бракує: {{ to_keep }}.",
    ),
    "ru": (
        "Сохраните категорию {{ new_category }} в {{ shop_name }}",
        "Здравствуйте, {{ customer_name }}!\n\nВаша категория {{ new_category }} действует "
        "до {{ keeps_until }} включительно.\nЧтобы сохранить её, вам не хватает: "
        "{{ to_keep }}.\n\n"
        "До встречи,\n{{ shop_name }}",
        "{{ shop_name }}: {{ customer_name }}, ваша категория {{ new_category }} действует "
        "до {{ keeps_until }} включительно. Чтобы сохранить её, не хватает: "
        "{{ to_keep }}.",
    ),
    "fr": (
        "Gardez votre catégorie {{ new_category }} chez {{ shop_name }}",
        "Bonjour {{ customer_name }},\n\nvotre catégorie {{ new_category }} est valable "
        "jusqu'au {{ keeps_until }} inclus.\nPour la conserver, il vous manque : "
        "{{ to_keep }}.\n\n"
        "À bientôt,\n{{ shop_name }}",
        "{{ shop_name }} : {{ customer_name }}, votre catégorie {{ new_category }} est valable "
        "jusqu'au {{ keeps_until }} inclus. Pour la garder, il manque : {{ to_keep }}.",
    ),
}
TEXTS["close_to_next"] = {
    "en": (
        "You are close to {{ next_category }} at {{ shop_name }}",
        "Hello {{ customer_name }},\n\nyou are almost {{ next_category }}: only "
        "{{ to_next }} to go.\n\nSee you soon,\n{{ shop_name }}",
        "{{ shop_name }}: {{ customer_name }}, only {{ to_next }} to go to "
        "{{ next_category }}!",
    ),
    "pl": (
        "Niewiele brakuje Ci do kategorii {{ next_category }} w sklepie {{ shop_name }}",
        "Dzień dobry, {{ customer_name }}!\n\nDo kategorii {{ next_category }} brakuje Ci "
        "już tylko: {{ to_next }}.\n\nDo zobaczenia,\n{{ shop_name }}",
        "{{ shop_name }}: {{ customer_name }}, do kategorii {{ next_category }} brakuje już "
        "tylko: {{ to_next }}!",
    ),
    "uk": (
        "Ви майже в категорії {{ next_category }} в {{ shop_name }}",
        "Вітаємо, {{ customer_name }}!\n\nДо категорії {{ next_category }} вам бракує лише: "
        "{{ to_next }}.\n\nДо зустрічі,\n{{ shop_name }}",
        "{{ shop_name }}: {{ customer_name }}, до категорії {{ next_category }} бракує лише: "
        "{{ to_next }}!",
    ),
    "ru": (
        "Вы почти в категории {{ next_category }} в {{ shop_name }}",
        "Здравствуйте, {{ customer_name }}!\n\nДо категории {{ next_category }} вам не "
        "хватает всего: {{ to_next }}.\n\nДо встречи,\n{{ shop_name }}",
        "{{ shop_name }}: {{ customer_name }}, до категории {{ next_category }} не хватает "
        "всего: {{ to_next }}!",
    ),
    "fr": (
        "Vous êtes tout près de {{ next_category }} chez {{ shop_name }}",
        "Bonjour {{ customer_name }},\n\nil ne vous manque plus que {{ to_next }} pour "
        "passer à la catégorie {{ next_category }}.\n\nÀ bientôt,\n{{ shop_name }}",
        "{{ shop_name }} : {{ customer_name }}, plus que {{ to_next }} pour passer à "
        "{{ next_category }} !",
    ),
}


def template_texts(event: str, channel: str) -> dict[str, tuple[str, str]]:
    """{language: (subject, body)} of the shipped template for an event and channel."""
    result = {}
    for lang, (subject, email_body, short) in TEXTS[event].items():
        if channel == "email":
            result[lang] = (subject, email_body)
        elif channel == "sms":
            result[lang] = ("", short)
        else:
            result[lang] = (subject, short)
    return result


def template_fields(event: str, channel: str, *, originals: bool = False) -> dict[str, str]:
    """Model field values: subject_<lang>, body_<lang>; with `originals` also the
    untranslated columns (for historical models in migrations, which have no descriptors)."""
    fields = {}
    for lang, (subject, body) in template_texts(event, channel).items():
        fields[f"subject_{lang}"] = subject
        fields[f"body_{lang}"] = body
    if originals:
        fields["subject"], fields["body"] = fields["subject_en"], fields["body_en"]
    return fields
