from . import whatsapp_crm_campaign
