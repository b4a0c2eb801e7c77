import { registry } from "@web/core/registry";
import { FormController } from "@web/views/form/form_controller";
import { formView } from "@web/views/form/form_view";
import { KanbanController } from "@web/views/kanban/kanban_controller";
import { kanbanView } from "@web/views/kanban/kanban_view";
import { ListController } from "@web/views/list/list_controller";
import { listView } from "@web/views/list/list_view";
import { useWhatsappInboxUpdates } from "./inbox_hooks";
import { serialize } from "./serialize";

/** Reload a list or kanban of conversations when one of them changes. */
function useReloadOnUpdate() {
    useWhatsappInboxUpdates(
        serialize(async function () {
            if (this.model.root?.editedRecord) {
                return; // never throw away what the agent is typing
            }
            await this.model.load();
        })
    );
}

export class WhatsappInboxListController extends ListController {
    setup() {
        super.setup();
        useReloadOnUpdate();
    }
}

export class WhatsappInboxKanbanController extends KanbanController {
    setup() {
        super.setup();
        useReloadOnUpdate();
    }
}

/**
 * The open conversation: reloads when it changes (unless being edited), and
 * marks it read on the server each time the form shows another conversation.
 */
export class WhatsappConversationFormController extends FormController {
    setup() {
        super.setup();
        this.whatsappReadId = false;
        const reload = serialize(async () => {
            const record = this.model.root;
            if (await record.isDirty()) {
                return;
            }
            await record.load();
        });
        useWhatsappInboxUpdates(function (payload) {
            // The bus may speak while the form is still loading its record.
            const record = this.model.root;
            if (record && !record.isNew && payload.id === record.resId) {
                reload();
            }
        });
    }

    get modelParams() {
        const params = super.modelParams;
        const onRootLoaded = params.hooks.onRootLoaded;
        params.hooks.onRootLoaded = (root) => {
            this.markWhatsappRead(root);
            return onRootLoaded?.(root);
        };
        return params;
    }

    /** Once per opened conversation: unread goes to zero and Meta gets a read receipt. */
    markWhatsappRead(root) {
        if (!root.resId || root.isNew || root.resId === this.whatsappReadId) {
            return;
        }
        this.whatsappReadId = root.resId;
        this.orm.call(root.resModel, "action_mark_read", [[root.resId]]);
    }
}

registry.category("views").add("whatsapp_crm_inbox_list", {
    ...listView,
    Controller: WhatsappInboxListController,
});
registry.category("views").add("whatsapp_crm_inbox_kanban", {
    ...kanbanView,
    Controller: WhatsappInboxKanbanController,
});
registry.category("views").add("whatsapp_crm_conversation_form", {
    ...formView,
    Controller: WhatsappConversationFormController,
});
