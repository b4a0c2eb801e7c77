/**
 * Wrap `run` so that its calls never overlap: a call arriving while one runs is
 * not started at once but remembered, and only the latest of them runs when the
 * current one ends. A burst of bus updates thus costs at most two runs, and the
 * follow-up run sees the newest arguments.
 *
 * @template {(...args: any[]) => Promise<any>|any} T
 * @param {T} run
 * @returns {(...args: Parameters<T>) => Promise<void>}
 */
export function serialize(run) {
    let running = false;
    let pending = null;
    return async function (...args) {
        if (running) {
            pending = { self: this, args };
            return;
        }
        running = true;
        try {
            let next = { self: this, args };
            while (next) {
                pending = null;
                await run.apply(next.self, next.args);
                next = pending;
            }
        } finally {
            running = false;
            pending = null;
        }
    };
}
