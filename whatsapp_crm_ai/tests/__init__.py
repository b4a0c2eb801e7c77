from . import test_whatsapp_crm_ai_faq
