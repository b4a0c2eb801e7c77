from . import test_whatsapp_crm_campaign
