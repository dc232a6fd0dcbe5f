"""InboundMessage keeps the query string in its own field, next to the body (both, as sent).

Old rows: a POST's query string was in ``headers["Query-String"]`` (kept only when the body was not
read); an OsmAnd GET's query string was stored as its ``body``. Both move to ``query``; the reverse
puts them back.
"""

from django.db import migrations, models

FORWARD = """
UPDATE fleet_inboundmessage SET query = headers->>'Query-String', headers = headers - 'Query-String'
 WHERE headers ? 'Query-String';
UPDATE fleet_inboundmessage SET query = body, body = ''
 WHERE channel = 'osmand' AND headers->>'Method' = 'GET' AND query = '';
"""
BACKWARD = """
UPDATE fleet_inboundmessage SET body = query, query = ''
 WHERE channel = 'osmand' AND headers->>'Method' = 'GET' AND body = '';
UPDATE fleet_inboundmessage SET headers = headers || jsonb_build_object('Query-String', query)
 WHERE query <> '';
"""


class Migration(migrations.Migration):
    dependencies = [
        ("fleet", "0004_names_in_two_languages"),
    ]

    operations = [
        migrations.AddField(
            model_name="inboundmessage",
            name="query",
            field=models.TextField(blank=True, default="", help_text="the query string as sent, secrets masked"),
            preserve_default=False,
        ),
        migrations.AlterField(
            model_name="inboundmessage",
            name="body",
            field=models.TextField(blank=True, help_text="the body as sent (form, JSON, ...), secrets masked"),
        ),
        migrations.RunSQL(FORWARD, BACKWARD),
    ]
