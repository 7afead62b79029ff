/** Thrown out of a vCPU's wait when the run was aborted (watchdog, a dead thread); the engine reports why. */
export class Aborted extends Error {}
