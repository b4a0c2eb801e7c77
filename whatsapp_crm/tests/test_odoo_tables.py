from odoo.tests import TransactionCase, tagged

# Odoo's own tables that the addon adds columns to.
ODOO_MODELS = ("res.partner", "res.users", "crm.lead", "crm.team", "mail.message",
               "mail.notification", "ir.actions.server")


@tagged("post_install", "-at_install")
class TestOdooTables(TransactionCase):
    def test_no_not_null_column_of_ours_on_odoo_tables(self):
        """Modules installed before ours insert rows without our columns (issue: crm tests)."""
        checked = 0
        for model_name in ODOO_MODELS:
            model = self.env[model_name]
            for field in model._fields.values():
                # Our own columns; selection_add on Odoo's fields keeps Odoo's constraint.
                if not field.name.startswith("whatsapp") or not field.store \
                        or not field.column_type:
                    continue
                self.env.cr.execute(
                    """SELECT is_nullable FROM information_schema.columns
                        WHERE table_name = %s AND column_name = %s""",
                    [model._table, field.name],
                )
                self.assertEqual(self.env.cr.fetchone(), ("YES",),
                                 f"{model_name}.{field.name} must accept NULL")
                checked += 1
        self.assertGreater(checked, 5)

    def test_a_partner_inserted_without_our_columns_is_of_unknown_consent(self):
        self.env.cr.execute(
            """INSERT INTO res_partner (name, active, create_date)
               VALUES ('Raw insert', true, now()) RETURNING id""")
        partner = self.env["res.partner"].browse(self.env.cr.fetchone()[0])
        self.assertFalse(partner.whatsapp_opt_in)
        self.assertFalse(partner._whatsapp_can_receive_marketing())
        partner._whatsapp_set_consent("opted_in", "manual")
        self.assertEqual(partner.whatsapp_consent_log_ids.previous_state, "unknown")
