import { Failure } from "@mail/core/common/failure_model";
import { Message } from "@mail/core/common/message_model";
import { fields } from "@mail/model/export";
import { Notification } from "@mail/core/common/notification_model";
import { _t } from "@web/core/l10n/translation";
import { patch } from "@web/core/utils/patch";

export const WHATSAPP_MESSAGE_TYPE = "whatsapp_crm";

// Statuses only move forward on the server (failed is final unless read); a thread
// fetch that left the server before a pushed status must not take the ticks back.
const STATE_RANK = { queued: 0, sent: 1, delivered: 2, failed: 2.5, read: 3 };

export function mostAdvancedState(shown, received) {
    if (!received) {
        return shown;
    }
    if (!shown || !(received in STATE_RANK) || !(shown in STATE_RANK)) {
        return received;
    }
    if (shown === "failed" && received === "queued") {
        return received; // sent again
    }
    return STATE_RANK[received] >= STATE_RANK[shown] ? received : shown;
}

patch(Message.prototype, {
    setup() {
        super.setup(...arguments);
        // Sent by the server with each WhatsApp post, and again on the bus when
        // the state changes (a "mail.record/insert"): the ticks follow.
        /** @type {"queued"|"sent"|"delivered"|"read"|"failed"|"received"|false|undefined} */
        this.whatsapp_crm_state = fields.Attr(undefined, {
            onUpdate() {
                this.whatsappCrmBestState = mostAdvancedState(
                    this.whatsappCrmBestState,
                    this.whatsapp_crm_state
                );
            },
        });
        /** The most advanced state received, whatever order the updates arrived in. */
        this.whatsappCrmBestState = undefined;
        /** @type {"in"|"out"|false|undefined} */
        this.whatsapp_crm_direction = undefined;
        /** @type {string|false|undefined} */
        this.whatsapp_crm_error = undefined;
    },

    /** The state whose ticks the post shows: only for what we sent. */
    get whatsappCrmTickState() {
        if (this.message_type !== WHATSAPP_MESSAGE_TYPE || this.whatsapp_crm_direction !== "out") {
            return false;
        }
        return this.whatsappCrmBestState || false;
    },
});

patch(Notification.prototype, {
    get failureMessage() {
        if (this.failure_type === "whatsapp_crm_error") {
            return this.mail_message_id?.whatsapp_crm_error || _t("WhatsApp Error");
        }
        return super.failureMessage;
    },
    get icon() {
        if (this.notification_type === WHATSAPP_MESSAGE_TYPE) {
            return "fa fa-whatsapp";
        }
        return super.icon;
    },
    get label() {
        if (this.notification_type === WHATSAPP_MESSAGE_TYPE) {
            return _t("WhatsApp");
        }
        return super.label;
    },
});

patch(Failure.prototype, {
    get iconSrc() {
        if (this.type === WHATSAPP_MESSAGE_TYPE) {
            return "/whatsapp_crm/static/description/icon.png";
        }
        return super.iconSrc;
    },
    get body() {
        if (this.type === WHATSAPP_MESSAGE_TYPE) {
            if (this.notifications.length === 1 && this.lastMessage?.thread) {
                return _t("A WhatsApp message could not be sent on “%(record_name)s”", {
                    record_name: this.lastMessage.thread.display_name,
                });
            }
            return _t("WhatsApp messages could not be sent");
        }
        return super.body;
    },
});
