from . import mailing_mailing
from . import mailing_trace
from . import res_company
from . import res_config_settings
from . import res_partner
from . import whatsapp_crm_campaign
