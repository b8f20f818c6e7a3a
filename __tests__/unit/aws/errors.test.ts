import { describe, expect, it } from '@jest/globals'
import { POLICY_HINT, describeAwsError, errorCode, errorMessage, isPermissionError } from '../../../src/aws/errors.js'
import { formatAwsError } from '../../../src/model/format.js'
import { ec2Error } from '../../../__fixtures__/support.js'

const named = (name: string, message = 'boom'): Error => Object.assign(new Error(message), { name })

describe('errorCode', () => {
  it.each([
    ['an SDK service exception: its name', ec2Error('OperationNotPermitted', 'x'), 'OperationNotPermitted'],
    ['a dotted code', ec2Error('InvalidInstanceID.NotFound', 'x'), 'InvalidInstanceID.NotFound'],
    [
      'Code wins over name',
      Object.assign(named('EC2ServiceException'), { Code: 'UnauthorizedOperation' }),
      'UnauthorizedOperation'
    ],
    ['a named error', named('TimeoutError'), 'TimeoutError'],
    ['a plain Error has no code', new Error('x'), 'Error'],
    [
      'a node system error: its code',
      Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }),
      'ECONNREFUSED'
    ],
    ['an empty Code falls back to name', Object.assign(named('Throttling'), { Code: '' }), 'Throttling'],
    ['a string', 'oops', 'Error'],
    ['undefined', undefined, 'Error'],
    ['null', null, 'Error'],
    ['a number', 42, 'Error']
  ])('%s', (_title, error, expected) => {
    expect(errorCode(error)).toBe(expected)
  })
})

describe('errorMessage', () => {
  it.each([
    [new Error('the message'), 'the message'],
    [
      ec2Error('AuthFailure', 'AWS was not able to validate the provided access credentials'),
      'AWS was not able to validate the provided access credentials'
    ],
    ['a string', 'a string'],
    [42, '42'],
    [undefined, 'undefined']
  ])('%p → %j', (error, expected) => {
    expect(errorMessage(error)).toBe(expected)
  })
})

describe('isPermissionError', () => {
  it.each([
    ['UnauthorizedOperation', true],
    ['AccessDenied', true],
    ['AccessDeniedException', true],
    ['AuthorizationError', true],
    ['UnauthorizedAccess', true],
    ['AuthFailure', false],
    ['OptInRequired', false],
    ['InvalidClientTokenId', false],
    ['UnrecognizedClientException', false],
    ['OperationNotPermitted', false],
    ['RequestLimitExceeded', false],
    ['DryRunOperation', false],
    ['InvalidInstanceID.NotFound', false]
  ])('%s: permission %s', (code, permission) => {
    expect(isPermissionError(ec2Error(code, 'x'))).toBe(permission)
  })
})

describe('describeAwsError', () => {
  it.each([
    'UnauthorizedOperation',
    'AccessDenied',
    'AccessDeniedException',
    'AuthorizationError',
    'UnauthorizedAccess'
  ])('%s names the missing permission and the policy', (code) => {
    const info = describeAwsError(
      ec2Error(code, 'You are not authorized to perform this operation.'),
      'ec2:TerminateInstances'
    )
    expect(info).toEqual({
      code,
      message: `You are not authorized to perform this operation. (missing IAM permission ec2:TerminateInstances: ${POLICY_HINT})`,
      missingPermission: 'ec2:TerminateInstances'
    })
  })

  it.each([
    ['OperationNotPermitted', "The instance 'i-0123456789abcdef0' may not be terminated."],
    ['IncorrectInstanceState', "The instance 'i-0123456789abcdef0' is not in a state from which it can be stopped."],
    ['AuthFailure', 'AWS was not able to validate the provided access credentials'],
    ['RequestLimitExceeded', 'Request limit exceeded.'],
    ['DryRunOperation', 'Request would have succeeded, but DryRun flag is set.']
  ])('%s is not a permission error: no permission named, message untouched', (code, message) => {
    const info = describeAwsError(ec2Error(code, message), 'ec2:TerminateInstances')
    expect(info).toEqual({ code, message })
    expect(info).not.toHaveProperty('missingPermission')
  })

  it('a permission error without a known permission names none', () => {
    const info = describeAwsError(ec2Error('UnauthorizedOperation', 'You are not authorized.'))
    expect(info).toEqual({ code: 'UnauthorizedOperation', message: 'You are not authorized.' })
  })

  it('something that is not an Error still gives code and message', () => {
    expect(describeAwsError('socket hang up', 'ec2:DescribeInstances')).toEqual({
      code: 'Error',
      message: 'socket hang up'
    })
  })
})

describe('formatAwsError', () => {
  it.each([
    [
      { code: 'OperationNotPermitted', message: 'may not be terminated' },
      'OperationNotPermitted: may not be terminated'
    ],
    [
      { code: 'UnauthorizedOperation', message: 'denied (missing …)', missingPermission: 'ec2:StopInstances' },
      'UnauthorizedOperation: denied (missing …)'
    ]
  ])('%j → %j', (info, expected) => {
    expect(formatAwsError(info)).toBe(expected)
  })
})
