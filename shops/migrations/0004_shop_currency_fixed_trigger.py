"""A shop's currency is fixed once it has products or orders: a PostgreSQL trigger refuses
the change whatever writes it (the admin and shops.services.shop_update check first, with a
form error; this is the guard behind them). Skipped on SQLite, which has only the service
check."""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION shops_shop_currency_fixed() RETURNS trigger AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM shops_product WHERE shop_id = OLD.id)
       OR EXISTS (SELECT 1 FROM shops_order WHERE shop_id = OLD.id) THEN
        RAISE EXCEPTION 'The currency of shop % cannot change: it has products or orders',
            OLD.code USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END
$$ LANGUAGE plpgsql;
CREATE TRIGGER shop_currency_fixed BEFORE UPDATE OF currency ON shops_shop
    FOR EACH ROW WHEN (OLD.currency IS DISTINCT FROM NEW.currency)
    EXECUTE FUNCTION shops_shop_currency_fixed();
"""
DROP = """
DROP TRIGGER IF EXISTS shop_currency_fixed ON shops_shop;
DROP FUNCTION IF EXISTS shops_shop_currency_fixed();
"""


def on_postgresql(sql):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql, params=None)
    return run


class Migration(migrations.Migration):

    dependencies = [
        ("shops", "0003_staff_access_and_api_tokens"),
    ]

    operations = [
        migrations.RunPython(on_postgresql(CREATE), on_postgresql(DROP)),
    ]
