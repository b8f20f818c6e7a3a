import { describe, expect, it } from '@jest/globals'
import {
  DescribeInstancesCommand,
  StopInstancesCommand,
  TerminateInstancesCommand,
  type InstanceStateName
} from '@aws-sdk/client-ec2'
import 'aws-sdk-client-mock-jest'
import {
  ACTION_BATCH_SIZE,
  actOnBatch,
  actOnInstances,
  instancesToChange,
  NOT_STARTED_CANCELLED,
  refusedInstanceIds,
  toFinding
} from '../../../src/engine/builders.js'
import { chunk } from '../../../src/aws/batches.js'
import { POLICY_HINT } from '../../../src/aws/errors.js'
import type { InstanceFinding, InstanceRecord, Inputs } from '../../../src/model/types.js'
import { defaultInputs, ec2Error, instanceId, NOW, record, useMockedEc2 } from '../../../__fixtures__/support.js'

const ids = (from: number, count: number): string[] => Array.from({ length: count }, (_, i) => instanceId(from + i))
const records = (idList: readonly string[], overrides: Partial<InstanceRecord> = {}): InstanceRecord[] =>
  idList.map((id) => record({ id, launchTime: '2026-03-01T09:00:00.000Z', ...overrides }))
const inputs = (overrides: Partial<Inputs>): Inputs => defaultInputs({ 'max-instances': 0, ...overrides })

const protectedMessage = (id: string): string =>
  `The instance '${id}' may not be terminated. Modify its 'disableApiTermination' instance attribute and try again.`
const notFoundMessage = (idList: readonly string[]): string => `The instance IDs '${idList.join(', ')}' do not exist`

const ec2 = useMockedEc2()
const ec2Mock = ec2.mock

/** The InstanceIds of every call of one command, in order. */
function sentIds(command: typeof StopInstancesCommand | typeof TerminateInstancesCommand): string[][] {
  return ec2Mock.commandCalls(command).map((call) => [...(call.args[0].input.InstanceIds ?? [])])
}

const outcomes = (findings: readonly InstanceFinding[]): Record<string, string> =>
  Object.fromEntries(findings.map((finding) => [finding.id, finding.outcome]))

describe('chunk', () => {
  it.each([
    [[], 100, []],
    [[1], 100, [[1]]],
    [[1, 2, 3], 2, [[1, 2], [3]]],
    [
      [1, 2, 3, 4],
      2,
      [
        [1, 2],
        [3, 4]
      ]
    ],
    [[1, 2, 3], 3, [[1, 2, 3]]],
    [[1, 2, 3], 1, [[1], [2], [3]]]
  ])('%j in chunks of %i → %j', (items, size, expected) => {
    expect(chunk(items, size)).toEqual(expected)
  })

  it.each([
    [100, [100]],
    [101, [100, 1]],
    [250, [100, 100, 50]],
    [1000, Array(10).fill(100)]
  ])('%i IDs in batches of ACTION_BATCH_SIZE → %j', (count, sizes) => {
    expect(ACTION_BATCH_SIZE).toBe(100)
    expect(chunk(ids(1, count), ACTION_BATCH_SIZE).map((batch) => batch.length)).toEqual(sizes)
  })
})

describe('refusedInstanceIds', () => {
  const [a, b, c] = [instanceId(0xa), instanceId(0xb), instanceId(0xc)] as [string, string, string]
  const batch = [a, b, c]

  it.each([
    ['termination protection names one', ec2Error('OperationNotPermitted', protectedMessage(b)), [b]],
    [
      'stop protection',
      ec2Error(
        'OperationNotPermitted',
        `The instance '${a}' may not be stopped. Modify its 'disableApiStop' instance attribute and try again.`
      ),
      [a]
    ],
    [
      'spot cannot be stopped',
      ec2Error(
        'UnsupportedOperation',
        `You can't stop the Spot Instance '${c}' because it is associated with a one-time Spot Instance request.`
      ),
      [c]
    ],
    [
      'wrong state',
      ec2Error('IncorrectInstanceState', `The instance '${a}' is not in a state from which it can be stopped.`),
      [a]
    ],
    ['one not found', ec2Error('InvalidInstanceID.NotFound', `The instance ID '${c}' does not exist`), [c]],
    ['two not found, in batch order', ec2Error('InvalidInstanceID.NotFound', notFoundMessage([c, a])), [a, c]],
    ['malformed', ec2Error('InvalidInstanceID.Malformed', `Invalid id: "${b}"`), [b]],
    ['a named instance outside the batch', ec2Error('OperationNotPermitted', protectedMessage(instanceId(0xd))), []],
    ['no instance named', ec2Error('OperationNotPermitted', 'Not permitted.'), []],
    [
      'permission denied never names a culprit',
      ec2Error('UnauthorizedOperation', `You are not authorized to terminate ${a}.`),
      []
    ],
    ['throttling', ec2Error('RequestLimitExceeded', `Request limit exceeded for ${a}.`), []],
    [
      'a prefix of an ID is no match',
      ec2Error('IncorrectInstanceState', `The instance '${a}0' is not in a state.`),
      []
    ],
    ['not an error', 'OperationNotPermitted', []]
  ])('%s', (_title, error, expected) => {
    expect(refusedInstanceIds(error, batch)).toEqual(expected)
  })

  it('8-digit IDs of older instances are recognised too', () => {
    expect(
      refusedInstanceIds(ec2Error('OperationNotPermitted', protectedMessage('i-0a1b2c3d')), [
        'i-0a1b2c3d',
        'i-0a1b2c3e'
      ])
    ).toEqual(['i-0a1b2c3d'])
  })
})

describe('actOnBatch', () => {
  it('terminates a batch in one call', async () => {
    ec2Mock.on(TerminateInstancesCommand).resolves({})
    const batch = ids(1, 3)
    const results = await actOnBatch(ec2.client(), 'terminate', false, batch)
    expect(ec2Mock).toHaveReceivedCommandTimes(TerminateInstancesCommand, 1)
    expect(ec2Mock).toHaveReceivedCommandWith(TerminateInstancesCommand, { InstanceIds: batch, DryRun: false })
    expect([...results]).toEqual(batch.map((id) => [id, { outcome: 'terminated' }]))
  })

  it('stops a batch in one call', async () => {
    ec2Mock.on(StopInstancesCommand).resolves({})
    const batch = ids(1, 2)
    const results = await actOnBatch(ec2.client(), 'stop', false, batch)
    expect(ec2Mock).toHaveReceivedCommandWith(StopInstancesCommand, { InstanceIds: batch, DryRun: false })
    expect(ec2Mock).not.toHaveReceivedCommand(TerminateInstancesCommand)
    expect([...results.values()]).toEqual([{ outcome: 'stopped' }, { outcome: 'stopped' }])
  })

  it('never asks to force a stop or to lift protection', async () => {
    ec2Mock.on(StopInstancesCommand).resolves({})
    ec2Mock.on(TerminateInstancesCommand).resolves({})
    await actOnBatch(ec2.client(), 'stop', false, ids(1, 1))
    await actOnBatch(ec2.client(), 'terminate', false, ids(1, 1))
    expect(Object.keys(ec2Mock.commandCalls(StopInstancesCommand)[0]?.args[0].input ?? {}).sort()).toEqual([
      'DryRun',
      'InstanceIds'
    ])
    expect(Object.keys(ec2Mock.commandCalls(TerminateInstancesCommand)[0]?.args[0].input ?? {}).sort()).toEqual([
      'DryRun',
      'InstanceIds'
    ])
  })

  it.each(['stop', 'terminate'] as const)('dry-run %s: DryRun true, DryRunOperation → dry-run', async (action) => {
    const command = action === 'stop' ? StopInstancesCommand : TerminateInstancesCommand
    ec2Mock.on(command).rejects(ec2Error('DryRunOperation', 'Request would have succeeded, but DryRun flag is set.'))
    const batch = ids(1, 3)
    const results = await actOnBatch(ec2.client(), action, true, batch)
    expect(ec2Mock).toHaveReceivedCommandTimes(command, 1)
    expect(ec2Mock).toHaveReceivedCommandWith(command, { InstanceIds: batch, DryRun: true })
    expect([...results]).toEqual(batch.map((id) => [id, { outcome: 'dry-run' }]))
  })

  it('DryRunOperation outside a dry run is a failure, not a success', async () => {
    ec2Mock
      .on(TerminateInstancesCommand)
      .rejects(ec2Error('DryRunOperation', 'Request would have succeeded, but DryRun flag is set.'))
    const results = await actOnBatch(ec2.client(), 'terminate', false, ids(1, 1))
    expect([...results.values()].map((result) => result.outcome)).toEqual(['failed'])
  })

  it.each([
    ['terminate', 'ec2:TerminateInstances'],
    ['stop', 'ec2:StopInstances']
  ] as const)(
    'dry-run %s without permission: UnauthorizedOperation → every instance failed, naming %s',
    async (action, permission) => {
      const command = action === 'stop' ? StopInstancesCommand : TerminateInstancesCommand
      const message =
        'You are not authorized to perform this operation. User: arn:aws:sts::123456789012:assumed-role/ci/packer-sweeper is not authorized'
      ec2Mock.on(command).rejects(ec2Error('UnauthorizedOperation', message))
      const batch = ids(1, 2)
      const results = await actOnBatch(ec2.client(), action, true, batch)
      expect(ec2Mock).toHaveReceivedCommandTimes(command, 1)
      for (const id of batch) {
        expect(results.get(id)).toEqual({
          outcome: 'failed',
          error: {
            code: 'UnauthorizedOperation',
            message: `${message} (missing IAM permission ${permission}: ${POLICY_HINT})`,
            missingPermission: permission
          }
        })
      }
    }
  )

  it('OperationNotPermitted on one instance: it fails, the rest are sent again once without it', async () => {
    const batch = ids(1, 5)
    const guarded = batch[2] as string
    const error = ec2Error('OperationNotPermitted', protectedMessage(guarded))
    ec2Mock.on(TerminateInstancesCommand).rejectsOnce(error).resolves({})
    const results = await actOnBatch(ec2.client(), 'terminate', false, batch)
    expect(ec2Mock).toHaveReceivedCommandTimes(TerminateInstancesCommand, 2)
    expect(sentIds(TerminateInstancesCommand)).toEqual([batch, batch.filter((id) => id !== guarded)])
    expect(results.get(guarded)).toEqual({
      outcome: 'failed',
      error: { code: 'OperationNotPermitted', message: protectedMessage(guarded) }
    })
    for (const id of batch.filter((id) => id !== guarded)) expect(results.get(id)).toEqual({ outcome: 'terminated' })
    expect(results.size).toBe(5)
  })

  it('two refusals in sequence: three calls, each without the instances refused so far', async () => {
    const batch = ids(1, 4)
    const [first, , second] = [batch[0], batch[1], batch[2]] as [string, string, string]
    ec2Mock
      .on(TerminateInstancesCommand)
      .rejectsOnce(ec2Error('OperationNotPermitted', protectedMessage(second)))
      .rejectsOnce(ec2Error('OperationNotPermitted', protectedMessage(first)))
      .resolves({})
    const results = await actOnBatch(ec2.client(), 'terminate', false, batch)
    expect(ec2Mock).toHaveReceivedCommandTimes(TerminateInstancesCommand, 3)
    expect(sentIds(TerminateInstancesCommand)).toEqual([batch, [batch[0], batch[1], batch[3]], [batch[1], batch[3]]])
    expect(Object.fromEntries([...results].map(([id, result]) => [id, result.outcome]))).toEqual({
      [batch[0] as string]: 'failed',
      [batch[1] as string]: 'terminated',
      [batch[2] as string]: 'failed',
      [batch[3] as string]: 'terminated'
    })
  })

  it('every instance refused one by one: no call with an empty list', async () => {
    const batch = ids(1, 2)
    ec2Mock
      .on(TerminateInstancesCommand)
      .rejectsOnce(ec2Error('OperationNotPermitted', protectedMessage(batch[0] as string)))
      .rejectsOnce(ec2Error('OperationNotPermitted', protectedMessage(batch[1] as string)))
      .resolves({})
    const results = await actOnBatch(ec2.client(), 'terminate', false, batch)
    expect(sentIds(TerminateInstancesCommand)).toEqual([batch, [batch[1]]])
    expect([...results.values()].map((result) => result.outcome)).toEqual(['failed', 'failed'])
  })

  it('stop: a one-time spot instance cannot be stopped (UnsupportedOperation), the rest stop', async () => {
    const batch = ids(1, 3)
    const spot = batch[1] as string
    const message = `You can't stop the Spot Instance '${spot}' because it is associated with a one-time Spot Instance request. You can only stop Spot Instances associated with persistent Spot Instance requests.`
    ec2Mock.on(StopInstancesCommand).rejectsOnce(ec2Error('UnsupportedOperation', message)).resolves({})
    const results = await actOnBatch(ec2.client(), 'stop', false, batch)
    expect(sentIds(StopInstancesCommand)).toEqual([batch, [batch[0], batch[2]]])
    expect(results.get(spot)).toEqual({ outcome: 'failed', error: { code: 'UnsupportedOperation', message } })
    expect(results.get(batch[0] as string)).toEqual({ outcome: 'stopped' })
    expect(results.get(batch[2] as string)).toEqual({ outcome: 'stopped' })
  })

  it('IncorrectInstanceState: that instance fails, the rest are acted on', async () => {
    const batch = ids(1, 3)
    const message = `The instance '${batch[0]}' is not in a state from which it can be stopped.`
    ec2Mock.on(StopInstancesCommand).rejectsOnce(ec2Error('IncorrectInstanceState', message)).resolves({})
    const results = await actOnBatch(ec2.client(), 'stop', false, batch)
    expect(ec2Mock).toHaveReceivedCommandTimes(StopInstancesCommand, 2)
    expect(results.get(batch[0] as string)).toEqual({
      outcome: 'failed',
      error: { code: 'IncorrectInstanceState', message }
    })
    expect(results.get(batch[1] as string)?.outcome).toBe('stopped')
  })

  it("InvalidInstanceID.NotFound naming two: 'The instance IDs 'a, b' do not exist' → both fail, one retry", async () => {
    const batch = ids(1, 4)
    const gone = [batch[1], batch[3]] as string[]
    ec2Mock
      .on(TerminateInstancesCommand)
      .rejectsOnce(ec2Error('InvalidInstanceID.NotFound', notFoundMessage(gone)))
      .resolves({})
    const results = await actOnBatch(ec2.client(), 'terminate', false, batch)
    expect(sentIds(TerminateInstancesCommand)).toEqual([batch, [batch[0], batch[2]]])
    for (const id of gone)
      expect(results.get(id)).toEqual({
        outcome: 'failed',
        error: { code: 'InvalidInstanceID.NotFound', message: notFoundMessage(gone) }
      })
    expect(results.get(batch[0] as string)?.outcome).toBe('terminated')
    expect(results.get(batch[2] as string)?.outcome).toBe('terminated')
  })

  it.each([
    ['a refusal naming no instance', ec2Error('OperationNotPermitted', 'The operation is not permitted.')],
    [
      'a refusal naming an instance outside the batch',
      ec2Error('OperationNotPermitted', protectedMessage(instanceId(0xfff)))
    ],
    ['access denied', ec2Error('UnauthorizedOperation', 'You are not authorized to perform this operation.')],
    ['a server error', ec2Error('InternalError', 'An internal error has occurred.')]
  ])('%s: the whole batch fails, no retry', async (_title, error) => {
    const batch = ids(1, 3)
    ec2Mock.on(TerminateInstancesCommand).rejectsOnce(error).resolves({})
    const results = await actOnBatch(ec2.client(), 'terminate', false, batch)
    expect(ec2Mock).toHaveReceivedCommandTimes(TerminateInstancesCommand, 1)
    expect([...results.keys()]).toEqual(batch)
    for (const result of results.values()) expect(result.outcome).toBe('failed')
  })

  it('a failure after a refusal fails only what was still pending', async () => {
    const batch = ids(1, 3)
    ec2Mock
      .on(TerminateInstancesCommand)
      .rejectsOnce(ec2Error('OperationNotPermitted', protectedMessage(batch[0] as string)))
      .rejectsOnce(ec2Error('UnauthorizedOperation', 'You are not authorized to perform this operation.'))
    const results = await actOnBatch(ec2.client(), 'terminate', false, batch)
    expect(ec2Mock).toHaveReceivedCommandTimes(TerminateInstancesCommand, 2)
    expect(results.get(batch[0] as string)?.error?.code).toBe('OperationNotPermitted')
    expect(results.get(batch[1] as string)?.error).toMatchObject({
      code: 'UnauthorizedOperation',
      missingPermission: 'ec2:TerminateInstances'
    })
    expect(results.get(batch[2] as string)?.error?.code).toBe('UnauthorizedOperation')
  })
})

describe('actOnBatch: a call that got no answer', () => {
  /** What the SDK throws when the retries ran out on timeouts or dropped connections: no HTTP status. */
  const noAnswer = () =>
    Object.assign(new Error('socket hang up'), { name: 'TimeoutError', code: 'ECONNRESET', $metadata: { attempts: 8 } })
  const described = (states: Record<string, string>) => ({
    Reservations: [
      {
        Instances: Object.entries(states).map(([InstanceId, Name]) => ({
          InstanceId,
          State: { Name: Name as InstanceStateName }
        }))
      }
    ]
  })

  it.each([
    ['terminate', 'shutting-down', 'terminated'],
    ['terminate', 'terminated', 'terminated'],
    ['stop', 'stopping', 'stopped'],
    ['stop', 'stopped', 'stopped']
  ] as const)(
    '%s, read back as %s: %s, said to be read back, with one DescribeInstances and no second call',
    async (action, state, outcome) => {
      const batch = ids(1, 3)
      const command = action === 'stop' ? StopInstancesCommand : TerminateInstancesCommand
      ec2Mock.on(command).rejects(noAnswer())
      ec2Mock.on(DescribeInstancesCommand).resolves(described(Object.fromEntries(batch.map((id) => [id, state]))))
      const results = await actOnBatch(ec2.client(), action, false, batch)
      expect(ec2Mock).toHaveReceivedCommandTimes(command, 1)
      expect(ec2Mock).toHaveReceivedCommandTimes(DescribeInstancesCommand, 1)
      expect(ec2Mock).toHaveReceivedCommandWith(DescribeInstancesCommand, { InstanceIds: batch })
      for (const id of batch)
        expect(results.get(id)).toEqual({ outcome, reason: `read back as ${state} after the call got no answer` })
    }
  )

  it('read back as still running (or not found): failed, with the call error and the state', async () => {
    const batch = ids(1, 2)
    ec2Mock.on(TerminateInstancesCommand).rejects(noAnswer())
    ec2Mock.on(DescribeInstancesCommand).resolves(described({ [batch[0] as string]: 'running' }))
    const results = await actOnBatch(ec2.client(), 'terminate', false, batch)
    expect(results.get(batch[0] as string)).toMatchObject({
      outcome: 'failed',
      reason: 'read back as running after the call got no answer',
      error: { code: 'TimeoutError' }
    })
    expect(results.get(batch[1] as string)).toMatchObject({
      outcome: 'failed',
      reason: 'read back as not found after the call got no answer'
    })
  })

  it('an abandoned call (aborted) read back unchanged: unknown, since it may still take effect', async () => {
    const batch = ids(1, 1)
    ec2Mock
      .on(TerminateInstancesCommand)
      .rejects(Object.assign(new Error('Request aborted'), { name: 'AbortError', $metadata: {} }))
    ec2Mock.on(DescribeInstancesCommand).resolves(described({ [batch[0] as string]: 'running' }))
    const results = await actOnBatch(ec2.client(), 'terminate', false, batch)
    expect(results.get(batch[0] as string)).toMatchObject({
      outcome: 'unknown',
      reason: 'read back as running after the call was abandoned; it may still take effect'
    })
  })

  it('the read-back gets no answer either: unknown, never claimed done', async () => {
    const batch = ids(1, 2)
    ec2Mock.on(TerminateInstancesCommand).rejects(noAnswer())
    ec2Mock.on(DescribeInstancesCommand).rejects(noAnswer())
    const results = await actOnBatch(ec2.client(), 'terminate', false, batch)
    for (const id of batch) {
      expect(results.get(id)?.outcome).toBe('unknown')
      expect(results.get(id)?.reason).toMatch(
        /^the terminate call got no answer and the instance could not be read back/
      )
    }
  })

  it('passes the abort signal to the call and a fresh one to the read-back', async () => {
    const callSignal = new AbortController().signal
    const readBackSignal = new AbortController().signal
    ec2Mock.on(TerminateInstancesCommand).rejects(noAnswer())
    ec2Mock.on(DescribeInstancesCommand).resolves(described({ [instanceId(1)]: 'terminated' }))
    await actOnBatch(ec2.client(), 'terminate', false, ids(1, 1), {
      abortSignal: callSignal,
      readBackSignal: () => readBackSignal
    })
    expect((ec2Mock.commandCalls(TerminateInstancesCommand)[0]?.args as unknown[] | undefined)?.[1]).toEqual({
      abortSignal: callSignal
    })
    expect((ec2Mock.commandCalls(DescribeInstancesCommand)[0]?.args as unknown[] | undefined)?.[1]).toEqual({
      abortSignal: readBackSignal
    })
  })

  it('dry-run: an unanswered call is failed, not read back (nothing could have changed)', async () => {
    ec2Mock.on(TerminateInstancesCommand).rejects(noAnswer())
    const results = await actOnBatch(ec2.client(), 'terminate', true, ids(1, 1))
    expect(ec2Mock).toHaveReceivedCommandTimes(DescribeInstancesCommand, 0)
    expect(results.get(instanceId(1))?.outcome).toBe('failed')
  })
})

describe('actOnInstances', () => {
  it('reports each batch the moment it returns, in order', async () => {
    ec2Mock.on(TerminateInstancesCommand).resolves({})
    const settled: string[][] = []
    await actOnInstances(ec2.client(), records(ids(1, 250)), inputs({ action: 'terminate' }), NOW, {
      onSettled: (findings) => settled.push(findings.map((finding) => `${finding.id}:${finding.outcome}`))
    })
    expect(settled.map((batch) => batch.length)).toEqual([100, 100, 50])
    expect(settled[0]?.[0]).toBe(`${instanceId(1)}:terminated`)
  })

  it('cancelled: no batch is started after it; those instances are notified with the reason', async () => {
    const cancel = new AbortController()
    ec2Mock.on(TerminateInstancesCommand).callsFake(() => {
      cancel.abort()
      return {}
    })
    const findings = await actOnInstances(ec2.client(), records(ids(1, 250)), inputs({ action: 'terminate' }), NOW, {
      cancelled: cancel.signal
    })
    expect(ec2Mock).toHaveReceivedCommandTimes(TerminateInstancesCommand, 1)
    expect(findings.filter((finding) => finding.outcome === 'terminated')).toHaveLength(100)
    const notStarted = findings.filter((finding) => finding.outcome === 'notified')
    expect(notStarted).toHaveLength(150)
    for (const finding of notStarted) expect(finding.reason).toBe(NOT_STARTED_CANCELLED)
  })

  it('250 instances → 3 calls of at most 100, in order', async () => {
    ec2Mock.on(TerminateInstancesCommand).resolves({})
    const idList = ids(1, 250)
    const findings = await actOnInstances(ec2.client(), records(idList), inputs({ action: 'terminate' }), NOW)
    expect(ec2Mock).toHaveReceivedCommandTimes(TerminateInstancesCommand, 3)
    expect(sentIds(TerminateInstancesCommand)).toEqual([
      idList.slice(0, 100),
      idList.slice(100, 200),
      idList.slice(200)
    ])
    expect(findings.map((finding) => finding.id)).toEqual(idList)
    expect(findings.every((finding) => finding.outcome === 'terminated')).toBe(true)
  })

  it.each([false, true])('notify (dry-run %s): no call at all, every instance notified', async (dryRun) => {
    const findings = await actOnInstances(
      ec2.client(),
      records(ids(1, 3)),
      inputs({ action: 'notify', 'dry-run': dryRun }),
      NOW
    )
    expect(ec2Mock.calls()).toHaveLength(0)
    expect(findings.map((finding) => finding.outcome)).toEqual(['notified', 'notified', 'notified'])
  })

  it('nothing stale: no call', async () => {
    await expect(actOnInstances(ec2.client(), [], inputs({ action: 'terminate' }), NOW)).resolves.toEqual([])
    expect(ec2Mock.calls()).toHaveLength(0)
  })

  it('dry-run terminate: DryRun true on every batch, outcome dry-run', async () => {
    ec2Mock
      .on(TerminateInstancesCommand)
      .rejects(ec2Error('DryRunOperation', 'Request would have succeeded, but DryRun flag is set.'))
    const idList = ids(1, 150)
    const findings = await actOnInstances(
      ec2.client(),
      records(idList),
      inputs({ action: 'terminate', 'dry-run': true }),
      NOW
    )
    expect(ec2Mock).toHaveReceivedCommandTimes(TerminateInstancesCommand, 2)
    for (const call of ec2Mock.commandCalls(TerminateInstancesCommand)) expect(call.args[0].input.DryRun).toBe(true)
    expect(new Set(findings.map((finding) => finding.outcome))).toEqual(new Set(['dry-run']))
  })

  it('excluded instances are never sent, whatever the action', async () => {
    ec2Mock.on(TerminateInstancesCommand).resolves({})
    const [kept, gone] = ids(1, 2) as [string, string]
    const stale = [record({ id: kept, excludedBy: 'packer-sweeper:keep' }), record({ id: gone })]
    const findings = await actOnInstances(ec2.client(), stale, inputs({ action: 'terminate' }), NOW)
    expect(sentIds(TerminateInstancesCommand)).toEqual([[gone]])
    expect(findings[0]).toMatchObject({ id: kept, outcome: 'skipped', reason: 'carries the packer-sweeper:keep tag' })
    expect(findings[0]).not.toHaveProperty('error')
    expect(findings[1]).toMatchObject({ id: gone, outcome: 'terminated' })
  })

  it('only excluded instances: no call', async () => {
    const findings = await actOnInstances(
      ec2.client(),
      records(ids(1, 2), { excludedBy: 'packer-sweeper:keep' }),
      inputs({ action: 'terminate' }),
      NOW
    )
    expect(ec2Mock.calls()).toHaveLength(0)
    expect(findings.map((finding) => finding.outcome)).toEqual(['skipped', 'skipped'])
  })

  it('stop on already stopped or stopping instances: no call, notified with a reason (nothing this run changed)', async () => {
    ec2Mock.on(StopInstancesCommand).resolves({})
    const [stopped, stopping, running] = ids(1, 3) as [string, string, string]
    const stale = [
      record({ id: stopped, state: 'stopped' }),
      record({ id: stopping, state: 'stopping' }),
      record({ id: running, state: 'running' })
    ]
    const findings = await actOnInstances(ec2.client(), stale, inputs({ action: 'stop' }), NOW)
    expect(sentIds(StopInstancesCommand)).toEqual([[running]])
    expect(findings.map(({ id, outcome, reason }) => ({ id, outcome, reason }))).toEqual([
      { id: stopped, outcome: 'notified', reason: 'already stopped' },
      { id: stopping, outcome: 'notified', reason: 'already stopping' },
      { id: running, outcome: 'stopped', reason: undefined }
    ])
  })

  it('stop when every instance is stopped already: no call', async () => {
    const findings = await actOnInstances(
      ec2.client(),
      records(ids(1, 3), { state: 'stopped' }),
      inputs({ action: 'stop' }),
      NOW
    )
    expect(ec2Mock.calls()).toHaveLength(0)
    expect(findings.every((finding) => finding.outcome === 'notified' && finding.reason === 'already stopped')).toBe(
      true
    )
  })

  it('terminate includes stopped instances', async () => {
    ec2Mock.on(TerminateInstancesCommand).resolves({})
    const idList = ids(1, 2)
    await actOnInstances(ec2.client(), records(idList, { state: 'stopped' }), inputs({ action: 'terminate' }), NOW)
    expect(sentIds(TerminateInstancesCommand)).toEqual([idList])
  })

  it('a refusal in the second batch: the others of that batch and the first batch are unaffected', async () => {
    const idList = ids(1, 150)
    const guarded = idList[120] as string
    ec2Mock
      .on(TerminateInstancesCommand)
      .resolvesOnce({})
      .rejectsOnce(ec2Error('OperationNotPermitted', protectedMessage(guarded)))
      .resolves({})
    const findings = await actOnInstances(ec2.client(), records(idList), inputs({ action: 'terminate' }), NOW)
    expect(ec2Mock).toHaveReceivedCommandTimes(TerminateInstancesCommand, 3)
    expect(sentIds(TerminateInstancesCommand)[2]).toEqual(idList.slice(100).filter((id) => id !== guarded))
    const byOutcome = outcomes(findings)
    expect(Object.values(byOutcome).filter((outcome) => outcome === 'terminated')).toHaveLength(149)
    expect(byOutcome[guarded]).toBe('failed')
    expect(findings.find((finding) => finding.id === guarded)?.error).toEqual({
      code: 'OperationNotPermitted',
      message: protectedMessage(guarded)
    })
  })

  it('keeps the order of the stale list and reports every instance once', async () => {
    ec2Mock.on(StopInstancesCommand).resolves({})
    const stale = [
      record({ id: instanceId(3), state: 'stopped' }),
      record({ id: instanceId(1), excludedBy: 'packer-sweeper:keep' }),
      record({ id: instanceId(2) })
    ]
    const findings = await actOnInstances(ec2.client(), stale, inputs({ action: 'stop' }), NOW)
    expect(findings.map((finding) => finding.id)).toEqual([instanceId(3), instanceId(1), instanceId(2)])
  })
})

describe('toFinding', () => {
  it('carries the record, the age at start, and the outcome', () => {
    const found = record({
      id: instanceId(1),
      name: 'Packer Builder',
      keyName: 'packer_1',
      launchTime: '2026-03-01T09:30:00.000Z',
      state: 'stopped',
      lifecycle: 'spot',
      availabilityZone: 'us-east-1b'
    })
    expect(
      toFinding(found, NOW, { outcome: 'failed', error: { code: 'OperationNotPermitted', message: 'no' } })
    ).toStrictEqual({
      id: instanceId(1),
      region: 'us-east-1',
      keyName: 'packer_1',
      name: 'Packer Builder',
      launchTime: '2026-03-01T09:30:00.000Z',
      ageSeconds: 9000,
      state: 'stopped',
      outcome: 'failed',
      instanceType: 't3.micro',
      lifecycle: 'spot',
      availabilityZone: 'us-east-1b',
      error: { code: 'OperationNotPermitted', message: 'no' }
    })
  })

  it('leaves out what is absent', () => {
    const found: InstanceRecord = {
      id: instanceId(1),
      region: 'eu-west-1',
      launchTime: '2026-03-01T11:00:00.000Z',
      state: 'running',
      instanceType: 'm5.large'
    }
    expect(toFinding(found, NOW, { outcome: 'notified' })).toStrictEqual({
      id: instanceId(1),
      region: 'eu-west-1',
      launchTime: '2026-03-01T11:00:00.000Z',
      ageSeconds: 3600,
      state: 'running',
      outcome: 'notified',
      instanceType: 'm5.large'
    })
  })
})

describe('instancesToChange: what the caps count', () => {
  const stale = [
    record({ id: instanceId(1), state: 'running' }),
    record({ id: instanceId(2), state: 'stopped' }),
    record({ id: instanceId(3), state: 'running', excludedBy: 'packer-sweeper:keep' }),
    record({ id: instanceId(4), state: 'stopping' }),
    record({ id: instanceId(5), state: 'pending' })
  ]

  it.each([
    ['notify', false, []],
    ['notify', true, []],
    ['stop', false, [1, 5]],
    ['stop', true, [1, 5]],
    ['terminate', false, [1, 2, 4, 5]],
    ['terminate', true, [1, 2, 4, 5]]
  ] as const)('%s (dry-run %s) → %j', (action, dryRun, expected) => {
    expect(instancesToChange(stale, inputs({ action, 'dry-run': dryRun })).map((found) => found.id)).toEqual(
      expected.map(instanceId)
    )
  })
})
