"""Pure Python rules of whatsapp_crm_campaigns (no `odoo` import)."""
