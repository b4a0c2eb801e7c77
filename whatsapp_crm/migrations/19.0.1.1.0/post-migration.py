def migrate(cr, version):
    """Conversations keyed by a BSUID kept it in ``wa_id``: it now has its own field.
    Webhook events lose the indexes no query needs (every POST writes them)."""
    cr.execute(
        """
        UPDATE whatsapp_crm_conversation
           SET bsuid = wa_id, wa_id = NULL
         WHERE wa_id IS NOT NULL AND wa_id !~ '^[0-9]+$' AND bsuid IS NULL
        """
    )
    for index in ("whatsapp_crm_webhook_event_state_idx",
                  "whatsapp_crm_webhook_event__state_index",
                  "whatsapp_crm_webhook_event__company_id_index"):
        cr.execute(f"DROP INDEX IF EXISTS {index}")
