import { waitForChannels } from "@bus/../tests/bus_test_helpers";
import { describe, expect, test } from "@odoo/hoot";
import { advanceTime, waitUntil } from "@odoo/hoot-dom";
import {
    getService,
    makeMockEnv,
    MockServer,
    onRpc,
    serverState,
} from "@web/../tests/web_test_helpers";
import { INBOX_NOTIFICATION, UNREAD_REFRESH_DELAY } from "@whatsapp_crm/inbox/inbox_service";
import { defineWhatsappCrmModels } from "@whatsapp_crm/../tests/whatsapp_crm_test_helpers";

describe.current.tags("headless");
defineWhatsappCrmModels();

const CHANNEL = "whatsapp_crm_test";

/** A started inbox service whose bus receives what the test sends on CHANNEL. */
async function startInbox() {
    let unread = 2;
    onRpc("get_inbox_unread_count", () => {
        expect.step("get_inbox_unread_count");
        return unread;
    });
    await makeMockEnv();
    const inbox = getService("whatsapp_crm_inbox");
    const received = [];
    inbox.bus.addEventListener("conversation_updated", ({ detail }) => received.push(detail));
    getService("bus_service").addChannel(CHANNEL);
    await waitForChannels([CHANNEL]);
    await expect.waitForSteps(["get_inbox_unread_count"]); // when the service starts
    expect(inbox.state.unread).toBe(2);
    return { inbox, received, setUnread: (value) => (unread = value) };
}

function sendUpdates(count, values) {
    for (let id = 1; id <= count; id++) {
        MockServer.env["bus.bus"]._sendone(CHANNEL, INBOX_NOTIFICATION, {
            id,
            event: "message",
            user_id: serverState.userId,
            unread_count: 1,
            ...values,
        });
    }
}

test("a burst of bus updates costs one unread-count request", async () => {
    const { inbox, received, setUnread } = await startInbox();
    setUnread(12);
    sendUpdates(10);
    await waitUntil(() => received.length === 10);
    expect.verifySteps([]); // nothing asked yet: the burst may go on
    await advanceTime(UNREAD_REFRESH_DELAY);
    await expect.waitForSteps(["get_inbox_unread_count"]);
    expect(inbox.state.unread).toBe(12);
    await advanceTime(UNREAD_REFRESH_DELAY * 5);
    expect.verifySteps([]); // one request for the ten updates
    // every update still reaches the open views
    expect(received.map((payload) => payload.id)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
});

test("updates of other agents' conversations do not ask; a reassignment does", async () => {
    const { received } = await startInbox();
    sendUpdates(3, { user_id: serverState.userId + 1000 });
    await waitUntil(() => received.length === 3);
    await advanceTime(UNREAD_REFRESH_DELAY * 2);
    expect.verifySteps([]);
    sendUpdates(1, { user_id: serverState.userId + 1000, event: "assigned" });
    await waitUntil(() => received.length === 4);
    await advanceTime(UNREAD_REFRESH_DELAY);
    await expect.waitForSteps(["get_inbox_unread_count"]);
});
