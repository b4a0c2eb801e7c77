import { EventBus, reactive } from "@odoo/owl";
import { registry } from "@web/core/registry";
import { user } from "@web/core/user";

export const INBOX_NOTIFICATION = "whatsapp_crm/conversation_updated";

/**
 * Listens to the conversation updates the server sends on the bus (new customer
 * message, assignment, read) and tells the open inbox views and chatters, and
 * keeps the unread counter of the systray badge.
 */
export const whatsappInboxService = {
    dependencies: ["bus_service", "orm"],
    start(env, { bus_service, orm }) {
        const bus = new EventBus();
        const state = reactive({ unread: 0, allowed: false });

        async function refreshUnread() {
            if (!state.allowed) {
                return;
            }
            state.unread = await orm.call(
                "whatsapp.crm.conversation",
                "get_inbox_unread_count",
                []
            );
        }

        bus_service.subscribe(INBOX_NOTIFICATION, (payload) => {
            bus.trigger("conversation_updated", payload);
            refreshUnread();
        });

        user.hasGroup("whatsapp_crm.group_whatsapp_crm_user").then((allowed) => {
            state.allowed = allowed;
            if (allowed) {
                bus_service.start();
                refreshUnread();
            }
        });

        return { bus, state, refreshUnread };
    },
};

registry.category("services").add("whatsapp_crm_inbox", whatsappInboxService);
