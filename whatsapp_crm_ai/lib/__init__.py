"""Pure Python helpers of whatsapp_crm_ai (no `odoo` import)."""
