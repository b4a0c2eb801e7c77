from . import whatsapp_crm_ai_faq
