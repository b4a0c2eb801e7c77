import { mailModels } from "@mail/../tests/mail_test_helpers";
import { defineModels, fields, models } from "@web/../tests/web_test_helpers";

/** The WhatsApp attributes the server adds to the store data of its posts. */
export class MailMessage extends mailModels.MailMessage {
    // Not fields of the real model: store attributes computed from the WhatsApp message.
    whatsapp_crm_state = fields.Char();
    whatsapp_crm_direction = fields.Char();
    whatsapp_crm_error = fields.Char();

    get _to_store_defaults() {
        return [
            ...super._to_store_defaults,
            "whatsapp_crm_state",
            "whatsapp_crm_direction",
            "whatsapp_crm_error",
        ];
    }
}

export class WhatsappCrmConversation extends models.Model {
    _name = "whatsapp.crm.conversation";

    name = fields.Char();
    unread_count = fields.Integer();

    action_mark_read() {
        return true;
    }

    get_inbox_unread_count() {
        return 0;
    }
}

export const whatsappCrmModels = { ...mailModels, MailMessage, WhatsappCrmConversation };

export function defineWhatsappCrmModels() {
    return defineModels(whatsappCrmModels);
}
