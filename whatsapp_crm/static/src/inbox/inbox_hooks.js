import { onWillUnmount, useComponent } from "@odoo/owl";
import { useService } from "@web/core/utils/hooks";

/**
 * Calls `callback(payload)` when the server reports that a WhatsApp conversation
 * changed, for as long as the component is mounted.
 */
export function useWhatsappInboxUpdates(callback) {
    const component = useComponent();
    const inbox = useService("whatsapp_crm_inbox");
    const listener = ({ detail }) => callback.call(component, detail);
    inbox.bus.addEventListener("conversation_updated", listener);
    onWillUnmount(() => inbox.bus.removeEventListener("conversation_updated", listener));
}
