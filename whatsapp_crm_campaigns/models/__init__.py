from . import mailing_mailing
from . import mailing_trace
from . import whatsapp_crm_campaign
