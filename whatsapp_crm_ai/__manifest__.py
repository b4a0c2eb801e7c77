{
    "name": "WhatsApp CRM AI",
    "summary": "Offline FAQ answers for WhatsApp conversations (English, Spanish, Portuguese)",
    "version": "19.0.1.0.0",
    "category": "Sales/CRM",
    "license": "LGPL-3",
    "author": "WhatsApp CRM for Odoo contributors",
    "website": "https://github.com/whatsapp-crm-odoo/whatsapp-crm",
    "development_status": "Alpha",
    "depends": ["whatsapp_crm"],
    # The embedded matcher is pure Python (standard library only).
    "external_dependencies": {"python": []},
    "data": [
        "security/whatsapp_crm_ai_security.xml",
        "security/ir.model.access.csv",
        "views/whatsapp_crm_ai_faq_views.xml",
    ],
    "installable": True,
}
