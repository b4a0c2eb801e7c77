import { click, contains, openFormView, start, startServer } from "@mail/../tests/mail_test_helpers";
import { mailDataHelpers } from "@mail/../tests/mock_server/mail_mock_server";
import { describe, test } from "@odoo/hoot";
import { serverState } from "@web/../tests/web_test_helpers";
import { defineWhatsappCrmModels } from "@whatsapp_crm/../tests/whatsapp_crm_test_helpers";

describe.current.tags("desktop");
defineWhatsappCrmModels();

function postWhatsapp(pyEnv, partnerId, body, values) {
    return pyEnv["mail.message"].create({
        body: `<p>${body}</p>`,
        message_type: "whatsapp_crm",
        model: "res.partner",
        res_id: partnerId,
        whatsapp_crm_direction: "out",
        ...values,
    });
}

test("each state of a sent WhatsApp post has its ticks; received posts none", async () => {
    const pyEnv = await startServer();
    const partnerId = pyEnv["res.partner"].create({ name: "Valentina Ríos" });
    for (const state of ["queued", "sent", "delivered", "read"]) {
        postWhatsapp(pyEnv, partnerId, `Message ${state}`, { whatsapp_crm_state: state });
    }
    postWhatsapp(pyEnv, partnerId, "Message failed", {
        whatsapp_crm_state: "failed",
        whatsapp_crm_error: "The customer's number is not on WhatsApp.",
    });
    postWhatsapp(pyEnv, partnerId, "Message received", {
        whatsapp_crm_direction: "in",
        whatsapp_crm_state: "received",
    });
    await start();
    await openFormView("res.partner", partnerId);
    await contains(".o-mail-Message", { count: 6 });
    const post = (body) => `.o-mail-Message:has(.o-mail-Message-body:contains('${body}'))`;
    await contains(`${post("Message queued")} .o_whatsapp_crm_tick_queued .fa-clock-o`);
    await contains(`${post("Message sent")} .o_whatsapp_crm_tick_sent .fa-check`, { count: 1 });
    await contains(`${post("Message delivered")} .o_whatsapp_crm_tick_delivered .fa-check`, {
        count: 2,
    });
    await contains(`${post("Message read")} .o_whatsapp_crm_tick_read .fa-check`, { count: 2 });
    await contains(`${post("Message failed")} .o_whatsapp_crm_tick_failed .fa-exclamation-circle`);
    await contains(`${post("Message failed")} .o_whatsapp_crm_tick_error`, {
        text: "The customer's number is not on WhatsApp.",
    });
    await contains(`${post("Message received")} .o_whatsapp_crm_ticks`, { count: 0 });
    await contains(".o_whatsapp_crm_ticks", { count: 5 });
});

/** The server pushes new values of a post to the current user, as on a status change. */
function pushPost(pyEnv, messageId, values) {
    const [partner] = pyEnv["res.partner"].read(serverState.partnerId);
    pyEnv["bus.bus"]._sendone(
        partner,
        "mail.record/insert",
        new mailDataHelpers.Store(pyEnv["mail.message"].browse(messageId), values).get_result()
    );
}

/** A contact's chatter open on one sent WhatsApp post; returns how to push its state. */
async function openSentPost(name, body, state) {
    const pyEnv = await startServer();
    const partnerId = pyEnv["res.partner"].create({ name });
    const messageId = postWhatsapp(pyEnv, partnerId, body, { whatsapp_crm_state: state });
    await start();
    await openFormView("res.partner", partnerId);
    await contains(`.o-mail-Message .o_whatsapp_crm_tick_${state}`);
    return (values) => pushPost(pyEnv, messageId, values);
}

test("the ticks follow the state the server pushes on the bus", async () => {
    const push = await openSentPost("Valentina Ríos", "Hola", "queued");
    push({ whatsapp_crm_state: "delivered" });
    await contains(".o-mail-Message .o_whatsapp_crm_tick_delivered .fa-check", { count: 2 });
    await contains(".o_whatsapp_crm_tick_queued", { count: 0 });
    push({ whatsapp_crm_state: "read" });
    await contains(".o-mail-Message .o_whatsapp_crm_tick_read");
    // A fetch that left the server before the last push never takes the ticks back.
    push({ whatsapp_crm_state: "sent" });
    push({ whatsapp_crm_state: "delivered" });
    push({ whatsapp_crm_state: "failed", whatsapp_crm_error: "Too late" });
    await contains(".o-mail-Message .o_whatsapp_crm_tick_read");
    await contains(".o_whatsapp_crm_tick_sent", { count: 0 });
    await contains(".o_whatsapp_crm_tick_error", { count: 0 });
});

test("a failed post shows why, and its resend starts again from the clock", async () => {
    const push = await openSentPost("Bruno Faults", "Oi", "sent");
    push({ whatsapp_crm_state: "failed", whatsapp_crm_error: "Message expired" });
    await contains(".o-mail-Message .o_whatsapp_crm_tick_error", { text: "Message expired" });
    push({ whatsapp_crm_state: "queued", whatsapp_crm_error: false });
    await contains(".o-mail-Message .o_whatsapp_crm_tick_queued");
});

test("a WhatsApp notification shows the WhatsApp icon, label and failure reason", async () => {
    const pyEnv = await startServer();
    const partnerId = pyEnv["res.partner"].create({ name: "Valentina Ríos" });
    const messageId = postWhatsapp(pyEnv, partnerId, "Hola", {
        whatsapp_crm_state: "failed",
        whatsapp_crm_error: "Re-engagement message",
    });
    pyEnv["mail.notification"].create({
        mail_message_id: messageId,
        notification_status: "exception",
        notification_type: "whatsapp_crm",
        failure_type: "whatsapp_crm_error",
        res_partner_id: partnerId,
    });
    await start();
    await openFormView("res.partner", partnerId);
    await contains(".o-mail-Message-notification i.fa-whatsapp");
    await contains(".o-mail-Message-notification", { text: "WhatsApp" });
    await click(".o-mail-Message-notification");
    await contains(".o-mail-MessageNotificationPopover", { text: "Valentina Ríos" });
    await contains(".o-mail-MessageNotificationPopover span", { text: "(Re-engagement message)" });
});
