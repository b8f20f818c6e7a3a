import type { AwsErrorInfo } from '../model/types.js'

/** Where the least-privilege policy lives, for errors that name a missing permission. */
export const POLICY_HINT =
  'see deploy/iam-policy.json (the full policy) or deploy/cloudformation.yml (per mode) in the packer-sweeper repository'

const PERMISSION_ERROR_CODES = new Set([
  'UnauthorizedOperation',
  'AccessDenied',
  'AccessDeniedException',
  'AuthorizationError',
  'UnauthorizedAccess'
])

export function errorCode(error: unknown): string {
  if (error && typeof error === 'object') {
    const e = error as { name?: unknown; Code?: unknown; code?: unknown }
    if (typeof e.Code === 'string' && e.Code) return e.Code
    if (typeof e.name === 'string' && e.name && e.name !== 'Error') return e.name
    if (typeof e.code === 'string' && e.code) return e.code
  }
  return 'Error'
}

export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message
  return String(error)
}

export function isPermissionError(error: unknown): boolean {
  return PERMISSION_ERROR_CODES.has(errorCode(error))
}

/**
 * Turns anything thrown by an AWS call into report data. `permission` is the IAM action the
 * call needs (e.g. `ec2:StopInstances`); it is named when AWS says access was denied, so the
 * user learns which statement of the policy is missing.
 */
export function describeAwsError(error: unknown, permission?: string): AwsErrorInfo {
  const info: AwsErrorInfo = { code: errorCode(error), message: errorMessage(error) }
  if (permission && isPermissionError(error)) {
    info.missingPermission = permission
    info.message = `${info.message} (missing IAM permission ${permission}: ${POLICY_HINT})`
  }
  return info
}

/**
 * True when a call ended without any answer from AWS: a dropped connection, an attempt timeout
 * after the retries ran out, or an aborted deadline. Whether such a call took effect is unknown
 * until it is read back; an answer of any HTTP status, errors included, is never this.
 */
export function gotNoAnswer(error: unknown): boolean {
  if (!(error instanceof Error)) return false
  const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode
  return status === undefined && errorCode(error) !== 'DryRunOperation'
}
