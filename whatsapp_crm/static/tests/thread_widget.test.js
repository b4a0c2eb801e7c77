import { contains, openFormView, start, startServer } from "@mail/../tests/mail_test_helpers";
import { describe, expect, mockDate, test } from "@odoo/hoot";
import { queryAll, queryAllTexts } from "@odoo/hoot-dom";
import { onRpc, serverState } from "@web/../tests/web_test_helpers";
import { INBOX_NOTIFICATION } from "@whatsapp_crm/inbox/inbox_service";
import { defineWhatsappCrmModels } from "@whatsapp_crm/../tests/whatsapp_crm_test_helpers";

describe.current.tags("desktop");
defineWhatsappCrmModels();

const ARCH = `
    <form js_class="whatsapp_crm_conversation_form">
        <sheet>
            <field name="name"/>
            <widget name="whatsapp_crm_thread"/>
        </sheet>
    </form>`;

function threadMessage(values) {
    return {
        message_type: "text",
        type_label: "Text",
        body: "",
        state: "received",
        state_label: "Received",
        error_message: "",
        author: "",
        reply_to: "",
        attachments: [],
        ...values,
    };
}

// UTC timestamps; the user is in Kolkata (UTC+05:30) where it is 6 March, 17:30.
const THREAD = [
    threadMessage({
        id: 1,
        direction: "in",
        body: "<b>Hola</b>\n¿tienen el plan anual?",
        timestamp: "2024-03-04 20:00:00", // 5 March, 01:30 in Kolkata
    }),
    threadMessage({
        id: 2,
        direction: "out",
        body: "Sí, 990 € al año.",
        state: "read",
        author: "Mitchell Admin",
        timestamp: "2024-03-05 10:15:00", // 5 March, 15:45
    }),
    threadMessage({
        id: 3,
        direction: "out",
        message_type: "image",
        type_label: "Image",
        state: "failed",
        error_message: "Re-engagement message",
        attachments: [{ id: 7, name: "plan.png", mimetype: "image/png" }],
        timestamp: "2024-03-06 09:00:00", // 6 March (today), 14:30
    }),
    threadMessage({
        id: 4,
        direction: "in",
        body: "Perfecto",
        reply_to: "Sí, 990 € al año.",
        timestamp: "2024-03-06 11:00:00", // 6 March, 16:30
    }),
];

async function openConversation() {
    mockDate("2024-03-06 17:30:00", "Asia/Kolkata");
    const pyEnv = await startServer();
    const conversationId = pyEnv["whatsapp.crm.conversation"].create({ name: "Valentina" });
    onRpc("whatsapp.crm.conversation", "get_thread", ({ args }) => {
        expect.step(`get_thread ${args[0]}`);
        return THREAD;
    });
    onRpc("whatsapp.crm.conversation", "action_mark_read", ({ args }) => {
        expect.step(`action_mark_read ${args[0]}`);
        return true;
    });
    await start();
    await openFormView("whatsapp.crm.conversation", conversationId, { arch: ARCH });
    await contains(".o_whatsapp_crm_bubble", { count: 4 });
    await expect.waitForSteps([
        `action_mark_read ${conversationId}`,
        `get_thread ${conversationId}`,
    ]);
    return { pyEnv, conversationId };
}

test("the customer's text is shown as written, never as HTML", async () => {
    await openConversation();
    const [first] = queryAll(".o_whatsapp_crm_row_in .o_whatsapp_crm_text");
    expect(first.textContent).toBe("<b>Hola</b>\n¿tienen el plan anual?");
    expect(".o_whatsapp_crm_thread b").toHaveCount(0);
    expect(first).toHaveStyle({ whiteSpace: "pre-wrap" });
});

test("bubbles: sides, ticks, failure, type, quote and attachments", async () => {
    await openConversation();
    expect(".o_whatsapp_crm_row_in").toHaveCount(2);
    expect(".o_whatsapp_crm_row_out").toHaveCount(2);
    expect(".o_whatsapp_crm_row_out .o_whatsapp_crm_tick_read").toHaveCount(1);
    expect(".o_whatsapp_crm_row_out .o_whatsapp_crm_tick_failed").toHaveCount(1);
    expect(".o_whatsapp_crm_row_in .o_whatsapp_crm_ticks").toHaveCount(0);
    expect(".o_whatsapp_crm_failure").toHaveText("Re-engagement message");
    expect(".o_whatsapp_crm_type").toHaveText("Image");
    expect(".o_whatsapp_crm_quote").toHaveText("Sí, 990 € al año.");
    // (the test templates keep an image's URL in data-src, so as not to load it)
    expect(".o_whatsapp_crm_image").toHaveAttribute("data-src", "/web/image/7");
    expect(".o_whatsapp_crm_attachment_link").toHaveAttribute(
        "href",
        "/web/content/7?download=true"
    );
    expect(".o_whatsapp_crm_author").toHaveText("Mitchell Admin");
});

test("grouped by day and timed in the user's time zone", async () => {
    await openConversation();
    expect(queryAllTexts(".o-mail-DateSection")).toEqual(["Mar 5, 2024", "Today"]);
    const times = queryAllTexts(".o_whatsapp_crm_time").map((time) => time.replace(/\s/g, " "));
    expect(times).toEqual(["1:30 AM", "3:45 PM", "2:30 PM", "4:30 PM"]);
});

test("marks the conversation read once when opened, and reloads on its bus updates", async () => {
    const { pyEnv, conversationId } = await openConversation();
    const [partner] = pyEnv["res.partner"].read(serverState.partnerId);
    pyEnv["bus.bus"]._sendone(partner, INBOX_NOTIFICATION, {
        id: conversationId,
        event: "message",
        user_id: serverState.userId,
    });
    await expect.waitForSteps([`get_thread ${conversationId}`]);
    pyEnv["bus.bus"]._sendone(partner, INBOX_NOTIFICATION, {
        id: conversationId + 1,
        event: "message",
        user_id: serverState.userId,
    });
    await contains(".o_whatsapp_crm_bubble", { count: 4 });
    expect.verifySteps([]); // another conversation; and never marked read twice
    // a delivery state pushed to the chatter: the ticks of the thread follow
    pyEnv["bus.bus"]._sendone(partner, "mail.record/insert", {
        "mail.message": [{ id: 1, whatsapp_crm_state: "delivered" }],
    });
    await expect.waitForSteps([`get_thread ${conversationId}`]);
});
