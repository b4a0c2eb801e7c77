import { EventBus, reactive } from "@odoo/owl";
import { browser } from "@web/core/browser/browser";
import { registry } from "@web/core/registry";
import { user } from "@web/core/user";

export const INBOX_NOTIFICATION = "whatsapp_crm/conversation_updated";
/** A burst of bus updates within this delay (ms) costs one unread-count request. */
export const UNREAD_REFRESH_DELAY = 300;

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
        let timeout = null;
        let lastRequest = 0;

        async function refreshUnread() {
            if (!state.allowed) {
                return;
            }
            const request = ++lastRequest;
            const unread = await orm.call(
                "whatsapp.crm.conversation",
                "get_inbox_unread_count",
                []
            );
            if (request === lastRequest) {
                state.unread = unread; // an older, slower answer never wins
            }
        }

        /** One request for all the updates of the next few hundred milliseconds. */
        function scheduleRefresh() {
            if (timeout === null) {
                timeout = browser.setTimeout(() => {
                    timeout = null;
                    refreshUnread();
                }, UNREAD_REFRESH_DELAY);
            }
        }

        bus_service.subscribe(INBOX_NOTIFICATION, (payload) => {
            bus.trigger("conversation_updated", payload);
            // The badge counts the user's own conversations: only those, or a
            // change of assignee, can move it.
            if (payload.event === "assigned" || payload.user_id === user.userId) {
                scheduleRefresh();
            }
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
