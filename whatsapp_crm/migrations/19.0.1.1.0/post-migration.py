def migrate(cr, version):
    """Conversations keyed by a BSUID kept it in ``wa_id``: it now has its own field."""
    cr.execute(
        """
        UPDATE whatsapp_crm_conversation
           SET bsuid = wa_id, wa_id = NULL
         WHERE wa_id IS NOT NULL AND wa_id !~ '^[0-9]+$' AND bsuid IS NULL
        """
    )
