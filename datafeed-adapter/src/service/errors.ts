/** A query the service refuses: HTTP status, the parameter at fault and why (answered as `{error, param, reason}`). */
export class ServiceError extends Error {
  constructor(readonly status: number, readonly param: string, readonly reason: string) {
    super(`${param}: ${reason}`);
  }
}
