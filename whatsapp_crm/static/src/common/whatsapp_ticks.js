import { Component } from "@odoo/owl";
import { _t } from "@web/core/l10n/translation";

/**
 * The delivery state of a message we sent, as WhatsApp draws it: a clock while
 * queued, one grey tick once sent, two grey ticks once delivered, two blue ticks
 * once read, and a red exclamation with the reason when it failed. Nothing for
 * other states (e.g. "received", a customer's message).
 */
export class WhatsappCrmTicks extends Component {
    static template = "whatsapp_crm.Ticks";
    static props = {
        state: { type: [String, Boolean], optional: true },
        error: { type: [String, Boolean], optional: true },
    };

    get title() {
        switch (this.props.state) {
            case "queued":
                return _t("Queued");
            case "sent":
                return _t("Sent");
            case "delivered":
                return _t("Delivered");
            case "read":
                return _t("Read");
            case "failed":
                return _t("Failed");
        }
        return "";
    }
}
