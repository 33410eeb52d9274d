/** What a processor knows about where it runs: the region its worker serves, and BullMQ's lock token. */
export type JobContext = { regionId: string; token?: string };
