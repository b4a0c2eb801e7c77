import { describe, expect, test } from "@odoo/hoot";
import { Deferred, tick } from "@odoo/hoot-dom";
import { serialize } from "@whatsapp_crm/inbox/serialize";

describe.current.tags("headless");

/** A serialized function whose runs wait for the test to end them one by one. */
function makeRun() {
    const runs = [];
    let active = 0;
    const run = serialize(async function (payload) {
        active++;
        const done = new Deferred();
        runs.push({ payload, self: this, active, done });
        await done;
        active--;
    });
    return { run, runs };
}

test("calls during a run fold into one follow-up with the latest payload", async () => {
    const { run, runs } = makeRun();
    const first = run({ id: 1 });
    run({ id: 2 });
    run({ id: 3 });
    await tick();
    expect(runs.map((r) => r.payload.id)).toEqual([1]);

    runs[0].done.resolve();
    await tick();
    expect(runs.map((r) => r.payload.id)).toEqual([1, 3]);

    run({ id: 4 }); // arrives during the follow-up: one more run, with it
    runs[1].done.resolve();
    await tick();
    expect(runs.map((r) => r.payload.id)).toEqual([1, 3, 4]);

    runs[2].done.resolve();
    await first;
    expect(runs.every((r) => r.active === 1)).toBe(true); // never two at once
});

test("runs at once when idle, with the caller's this", async () => {
    const { run, runs } = makeRun();
    const owner = { run };
    owner.run({ id: 1 });
    await tick();
    expect(runs).toHaveLength(1);
    expect(runs[0].self).toBe(owner);
    runs[0].done.resolve();
    await tick();

    owner.run({ id: 2 });
    await tick();
    expect(runs.map((r) => r.payload.id)).toEqual([1, 2]);
    runs[1].done.resolve();
});

test("a failed run does not block the next ones", async () => {
    let fail = true;
    const seen = [];
    const run = serialize(async (payload) => {
        seen.push(payload);
        if (fail) {
            fail = false;
            throw new Error("network");
        }
    });
    await expect(run("a")).rejects.toThrow("network");
    await run("b");
    expect(seen).toEqual(["a", "b"]);
});
