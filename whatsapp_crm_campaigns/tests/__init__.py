from . import test_whatsapp_crm_campaign
from . import test_mailing
