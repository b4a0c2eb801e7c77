import { Component, useState } from "@odoo/owl";
import { registry } from "@web/core/registry";
import { useService } from "@web/core/utils/hooks";

/** WhatsApp icon in the navbar with the number of unread customer messages. */
export class WhatsappInboxSystray extends Component {
    static template = "whatsapp_crm.InboxSystray";
    static props = {};

    setup() {
        this.inbox = useState(useService("whatsapp_crm_inbox").state);
        this.action = useService("action");
    }

    openInbox() {
        this.action.doAction("whatsapp_crm.whatsapp_crm_inbox_action", {
            additionalContext: { search_default_mine: 1 },
        });
    }
}

registry
    .category("systray")
    .add("whatsapp_crm.InboxSystray", { Component: WhatsappInboxSystray }, { sequence: 60 });
