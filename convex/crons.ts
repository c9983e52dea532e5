// Housekeeping on a real deployment (the embedded backend does not run crons).
import { cronJobs } from "convex/server";
import { internal } from "./_generated/api";

const crons = cronJobs();
crons.hourly("sweep expired idempotency keys", { minuteUTC: 17 }, internal.idempotency.sweep, {});
crons.hourly("sweep ended rate-limit windows", { minuteUTC: 47 }, internal.rateLimits.sweep, {});
crons.hourly("sweep old mutation receipts", { minuteUTC: 2 }, internal.receipts.sweep, {});
crons.hourly("purge ended sessions and expired sign-ins", { minuteUTC: 32 }, internal.sessions.purge, {});
crons.hourly("sweep old webhook events and deliveries", { minuteUTC: 52 }, internal.webhooks.sweep, {});
export default crons;
