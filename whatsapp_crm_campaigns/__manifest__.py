{
    "name": "WhatsApp CRM Campaigns",
    "summary": "Send approved WhatsApp templates to a segment of contacts",
    "version": "19.0.1.1.0",
    "category": "Sales/CRM",
    "license": "LGPL-3",
    "author": "WhatsApp CRM for Odoo contributors",
    "website": "https://github.com/whatsapp-crm-odoo/whatsapp-crm",
    "development_status": "Alpha",
    "depends": ["whatsapp_crm", "mass_mailing_sms"],
    "external_dependencies": {"python": ["phonenumbers"]},
    "data": [
        "security/whatsapp_crm_campaign_security.xml",
        "security/ir.model.access.csv",
        "views/whatsapp_crm_campaign_views.xml",
        "views/mailing_mailing_views.xml",
    ],
    "installable": True,
}
