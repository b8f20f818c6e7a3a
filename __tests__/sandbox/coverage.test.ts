/**
 * The sandbox answers every AWS action the code may call: a new kind's calls fail here, by name,
 * before an end-to-end run fails with InvalidAction in every region.
 */
import { describe, expect, it } from '@jest/globals'
import { EC2_HANDLERS } from '../../sandbox/ec2.js'
import { IAM_HANDLERS } from '../../sandbox/iam.js'
import { PERMISSION } from '../../src/model/permissions.js'

/** Served by the sandbox's own dispatch rather than a table of handlers. */
const SERVED_ELSEWHERE = new Set(['sns:Publish', 'sts:AssumeRoleWithWebIdentity', 'pricing:GetProducts'])

describe('the sandbox speaks every call the code may make', () => {
  it.each(Object.values(PERMISSION))('%s', (permission) => {
    const [service, action] = permission.split(':') as [string, string]
    if (service === 'ec2') expect(Object.keys(EC2_HANDLERS)).toContain(action)
    else if (service === 'iam') expect(Object.keys(IAM_HANDLERS)).toContain(action)
    else expect(SERVED_ELSEWHERE).toContain(permission)
  })
})
