import { DateSection } from "@mail/core/common/date_section";
import {
    Component,
    onMounted,
    onPatched,
    onWillDestroy,
    onWillStart,
    onWillUpdateProps,
    status,
    useRef,
    useState,
} from "@odoo/owl";
import { deserializeDateTime } from "@web/core/l10n/dates";
import { _t } from "@web/core/l10n/translation";
import { registry } from "@web/core/registry";
import { user } from "@web/core/user";
import { useService } from "@web/core/utils/hooks";
import { standardWidgetProps } from "@web/views/widgets/standard_widget_props";
import { WhatsappCrmTicks } from "../common/whatsapp_ticks";
import { useWhatsappInboxUpdates } from "../inbox/inbox_hooks";
import { serialize } from "../inbox/serialize";

const { DateTime } = luxon;

/**
 * The messages of `get_thread` grouped by day, in the user's time zone and
 * language, dated like the chatter's messages.
 *
 * @param {Object[]} messages oldest first
 * @returns {{ key: string, label: string, messages: Object[] }[]}
 */
export function groupThreadByDay(messages) {
    const today = DateTime.now().toLocaleString(DateTime.DATE_MED);
    const days = [];
    for (const message of messages) {
        const datetime = deserializeDateTime(message.timestamp);
        const key = datetime.toISODate();
        if (days.at(-1)?.key !== key) {
            const label = datetime.toLocaleString(DateTime.DATE_MED);
            days.push({ key, label: label === today ? _t("Today") : label, messages: [] });
        }
        days.at(-1).messages.push({
            ...message,
            time: datetime.toLocaleString(DateTime.TIME_SIMPLE, { locale: user.lang }),
            dateTitle: datetime.toLocaleString(DateTime.DATETIME_SHORT_WITH_SECONDS),
        });
    }
    return days;
}

/**
 * The WhatsApp conversation of the form's record drawn as chat bubbles: the
 * customer's on the left, ours on the right with their ticks. Texts are shown
 * as written (escaped), never as HTML.
 */
export class WhatsappCrmThread extends Component {
    static template = "whatsapp_crm.Thread";
    static components = { DateSection, WhatsappCrmTicks };
    static props = { ...standardWidgetProps };

    setup() {
        this.orm = useService("orm");
        this.state = useState({ days: [], loaded: false });
        this.threadRef = useRef("thread");
        this.scrollDown = false;
        this.reload = serialize(() => this.load(this.props.record));

        onWillStart(() => this.load(this.props.record));
        onWillUpdateProps((nextProps) => {
            if (nextProps.record.resId !== this.props.record.resId) {
                return this.load(nextProps.record);
            }
        });
        onMounted(() => this.scrollToLatest());
        onPatched(() => this.scrollToLatest());
        useWhatsappInboxUpdates((payload) => {
            if (payload.id && payload.id === this.props.record.resId) {
                this.reload();
            }
        });
        // Ticks change without a conversation update: follow the delivery
        // states the server pushes to the chatter.
        const bus = useService("bus_service");
        const onStoreInsert = (data) => {
            if (status(this) === "destroyed") {
                return;
            }
            const posts = [].concat(data?.["mail.message"] ?? []);
            if (posts.some((post) => post && "whatsapp_crm_state" in post)) {
                this.reload();
            }
        };
        bus.subscribe("mail.record/insert", onStoreInsert);
        onWillDestroy(() => bus.unsubscribe("mail.record/insert", onStoreInsert));
    }

    async load(record) {
        if (status(this) === "destroyed") {
            return;
        }
        const resId = record.isNew ? false : record.resId;
        this.loadingResId = resId;
        const messages = resId
            ? await this.orm.call(record.resModel, "get_thread", [[resId]])
            : [];
        if (resId !== this.loadingResId) {
            return; // another conversation was opened meanwhile
        }
        this.scrollDown = true;
        Object.assign(this.state, { days: groupThreadByDay(messages), loaded: true });
    }

    scrollToLatest() {
        if (this.scrollDown && this.threadRef.el) {
            this.threadRef.el.scrollTop = this.threadRef.el.scrollHeight;
        }
        this.scrollDown = false;
    }

    attachmentUrl(attachment) {
        return `/web/content/${attachment.id}?download=true`;
    }

    isImage(attachment) {
        return (attachment.mimetype || "").startsWith("image/");
    }
}

registry.category("view_widgets").add("whatsapp_crm_thread", { component: WhatsappCrmThread });
