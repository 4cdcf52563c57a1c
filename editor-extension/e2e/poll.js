// @ts-check
// Polling instead of fixed sleeps: the one wait the suite uses.
'use strict';

/** Calls `probe` every 100 ms until it returns a truthy value (returned) or `ms` pass. */
async function poll(what, probe, ms = 20000) {
  const end = Date.now() + ms;
  let last;
  for (;;) {
    try {
      const value = await probe();
      if (value) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > end) {
      throw new Error(`timed out after ${ms} ms waiting for ${what}${last ? ` (last error: ${last.message})` : ''}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

module.exports = { poll };
