from . import whatsapp_crm_composer
from . import whatsapp_crm_transfer
from . import whatsapp_crm_dashboard
