from . import whatsapp_crm_composer
