// The restore's public face: what the API, the jobs and the reconciler call. Everything else in this folder is
// the restore's own business.
export { cancelRestore, findRestore } from "./cancel.ts";
export { failRestore, unfinishedRestores } from "./outcomes.ts";
export { type PlanAction, type PlanStep, planRestore, type RestorePlan } from "./plan.ts";
export type { RestoreModeName } from "./planInput.ts";
export { type PlanPorts, planRestoreFor, type RestoreInput } from "./request.ts";
export { type CreatePorts, enqueueRestore, restoreFromMirror } from "./restoreFromMirror.ts";
export { type RunPorts, type RunResult, runRestore, WrongRegion } from "./run.ts";
export { sweepRestoreStaging } from "./stagingSweep.ts";
export { readStoredPlan, UnreadablePlan } from "./storedPlan.ts";
