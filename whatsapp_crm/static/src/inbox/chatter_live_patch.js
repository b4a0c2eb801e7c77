import { Chatter } from "@mail/chatter/web_portal/chatter";
import { patch } from "@web/core/utils/patch";
import { useWhatsappInboxUpdates } from "./inbox_hooks";

// Which field of the bus payload names the record a chatter shows.
const PAYLOAD_FIELD = {
    "crm.lead": "lead_id",
    "res.partner": "partner_id",
    "whatsapp.crm.conversation": "id",
};

/** New WhatsApp messages appear in an open chatter without reloading the page. */
patch(Chatter.prototype, {
    setup() {
        super.setup(...arguments);
        useWhatsappInboxUpdates(function (payload) {
            const field = PAYLOAD_FIELD[this.props.threadModel];
            const thread = this.state.thread;
            if (field && thread?.id && payload[field] === thread.id) {
                thread.fetchNewMessages();
            }
        });
    },
});
