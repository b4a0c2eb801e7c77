import { registry } from "@web/core/registry";
import { FormController } from "@web/views/form/form_controller";
import { formView } from "@web/views/form/form_view";
import { KanbanController } from "@web/views/kanban/kanban_controller";
import { kanbanView } from "@web/views/kanban/kanban_view";
import { ListController } from "@web/views/list/list_controller";
import { listView } from "@web/views/list/list_view";
import { useWhatsappInboxUpdates } from "./inbox_hooks";

/**
 * Run `reload` for a bus update, one at a time: updates arriving meanwhile are
 * folded into one more reload, so a burst of messages never overlaps two loads.
 */
function serialize(reload) {
    let running = null;
    let again = false;
    return async function (payload) {
        if (running) {
            again = true;
            return;
        }
        running = reload.call(this, payload);
        try {
            await running;
            while (again) {
                again = false;
                await reload.call(this, payload);
            }
        } finally {
            running = null;
        }
    };
}

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

/** The open conversation redraws its thread when it changes (unless being edited). */
export class WhatsappConversationFormController extends FormController {
    setup() {
        super.setup();
        useWhatsappInboxUpdates(
            serialize(async function (payload) {
                // The bus may speak while the form is still loading its record.
                const record = this.model.root;
                if (!record || record.isNew || payload.id !== record.resId) {
                    return;
                }
                if (await record.isDirty()) {
                    return;
                }
                await record.load();
            })
        );
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
