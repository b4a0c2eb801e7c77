import { Chatter } from "@mail/chatter/web_portal/chatter";
import { onWillStart } from "@odoo/owl";
import { user } from "@web/core/user";
import { useService } from "@web/core/utils/hooks";
import { patch } from "@web/core/utils/patch";

// Records a salesperson chats from: the lead, the contact and the conversation itself.
const WHATSAPP_MODELS = ["crm.lead", "res.partner", "whatsapp.crm.conversation"];

patch(Chatter.prototype, {
    setup() {
        super.setup(...arguments);
        this.whatsappAction = useService("action");
        this.whatsappAllowed = false;
        onWillStart(async () => {
            this.whatsappAllowed = await user.hasGroup("whatsapp_crm.group_whatsapp_crm_user");
        });
    },

    get showWhatsappButton() {
        return this.whatsappAllowed && WHATSAPP_MODELS.includes(this.props.threadModel);
    },

    async openWhatsappComposer() {
        const thread = this.state.thread;
        if (!thread.id) {
            await this.props.saveRecord?.();
        }
        const threadId = this.state.thread.id;
        if (!threadId) {
            return;
        }
        await this.whatsappAction.doAction("whatsapp_crm.whatsapp_crm_composer_action", {
            additionalContext: {
                active_model: this.props.threadModel,
                active_id: threadId,
                active_ids: [threadId],
            },
            onClose: () => this.load(this.state.thread, ["messages"]),
        });
    },
});
