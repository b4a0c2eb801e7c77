"""Plain-Python core of WhatsApp CRM: Cloud API client, webhook parsing, phones, secrets.

No ``odoo`` import anywhere in this package: Odoo models adapt it to records, and
the unit tests import it as the top-level package ``lib``.
"""
