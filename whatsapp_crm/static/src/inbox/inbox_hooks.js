import { onWillDestroy, status, useComponent } from "@odoo/owl";
import { useService } from "@web/core/utils/hooks";

/**
 * Calls `callback(payload)` when the server reports that a WhatsApp conversation
 * changed, for as long as the component lives. A component destroyed before it was
 * ever mounted never unmounts: the listener goes when it is destroyed.
 */
export function useWhatsappInboxUpdates(callback) {
    const component = useComponent();
    const inbox = useService("whatsapp_crm_inbox");
    const listener = ({ detail }) => {
        if (status(component) !== "destroyed") {
            callback.call(component, detail);
        }
    };
    inbox.bus.addEventListener("conversation_updated", listener);
    onWillDestroy(() => inbox.bus.removeEventListener("conversation_updated", listener));
}
