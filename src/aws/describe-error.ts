import { describeAwsError } from './errors.js'
import type { Permission } from '../model/permissions.js'
import type { AwsErrorInfo } from '../model/types.js'

/**
 * A read call that failed, with the IAM action it needed, so the plan can say which permission
 * is missing without knowing which of a kind's several reads it was.
 */
export class DescribeError extends Error {
  readonly info: AwsErrorInfo

  constructor(cause: unknown, permission: Permission) {
    const info = describeAwsError(cause, permission)
    super(info.message, { cause })
    this.name = 'DescribeError'
    this.info = info
  }
}

export async function describing<T>(permission: Permission, read: () => Promise<T>): Promise<T> {
  try {
    return await read()
  } catch (error) {
    throw error instanceof DescribeError ? error : new DescribeError(error, permission)
  }
}

/** What a failed read says: the permission it needed when `describing` wrapped it. */
export function describeReadError(error: unknown, permission?: Permission): AwsErrorInfo {
  return error instanceof DescribeError ? error.info : describeAwsError(error, permission)
}
