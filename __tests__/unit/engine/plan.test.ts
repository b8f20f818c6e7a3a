import { describe, expect, it } from '@jest/globals'
import fc from 'fast-check'
import { ageSeconds } from '../../../src/model/aws-data.js'
import { capProblems, decideInstance, isStale, youngBuilderWarning } from '../../../src/engine/plan.js'
import { SWEEP_ACTIONS } from '../../../src/model/types.js'
import { instanceId, NOW, record } from '../../../__fixtures__/support.js'

describe('ageSeconds', () => {
  it.each([
    ['2026-03-01T12:00:00.000Z', 0],
    ['2026-03-01T11:59:59.000Z', 1],
    ['2026-03-01T11:59:59.001Z', 0], // whole seconds, rounded down
    ['2026-03-01T11:59:58.500Z', 1],
    ['2026-03-01T10:00:00.000Z', 7200],
    ['2026-02-28T12:00:00.000Z', 86400],
    ['2026-03-01T12:00:00.001Z', 0], // clock skew: not negative
    ['2026-03-02T12:00:00.000Z', 0], // launched "tomorrow": not negative
    ['2026-03-01T14:00:00+02:00', 0], // same instant, another offset
    ['2026-03-01T13:00:00+02:00', 3600]
  ])('from %s: %i s', (since, expected) => {
    expect(ageSeconds(since, NOW)).toBe(expected)
  })

  it('takes a Date as well as an ISO string', () => {
    expect(ageSeconds(new Date('2026-03-01T11:00:00Z'), NOW)).toBe(3600)
  })

  it('is never negative and always a whole number', () => {
    fc.assert(
      fc.property(fc.date({ noInvalidDate: true }), fc.date({ noInvalidDate: true }), (since, now) => {
        const age = ageSeconds(since, now)
        expect(Number.isInteger(age)).toBe(true)
        expect(age).toBeGreaterThanOrEqual(0)
      })
    )
  })
})

describe('isStale', () => {
  it.each([
    // strictly older than max-age
    [7201, 7200, true],
    [7200, 7200, false],
    [7199, 7200, false],
    [0, 7200, false],
    [1, 0, true],
    // max-age 0 takes everything, even what was launched this very second
    [0, 0, true],
    [86400 * 30, 0, true],
    [45, 44, true],
    [45, 45, false]
  ])('age %i against max-age %i: %s', (age, maxAge, expected) => {
    expect(isStale(age, maxAge)).toBe(expected)
  })
})

describe('decideInstance', () => {
  const modes = SWEEP_ACTIONS.flatMap((action) => [false, true].map((dryRun) => ({ action, 'dry-run': dryRun })))
  const states = ['pending', 'running', 'stopping', 'stopped']

  describe.each(modes)('action $action, dry-run $dry-run', (inputs) => {
    it.each(states)('an excluded %s instance is skipped and names the tag', (state) => {
      expect(decideInstance(record({ state, excludedBy: 'packer-sweeper:keep' }), inputs)).toEqual({
        call: false,
        outcome: 'skipped',
        reason: 'carries the packer-sweeper:keep tag'
      })
    })

    it('the reason names the key the instance carries, of several', () => {
      expect(decideInstance(record({ excludedBy: 'do-not-delete' }), inputs)).toEqual({
        call: false,
        outcome: 'skipped',
        reason: 'carries the do-not-delete tag'
      })
    })
  })

  it.each([
    // notify: never a call
    ['notify', false, 'running', { call: false, outcome: 'notified' }],
    ['notify', false, 'stopped', { call: false, outcome: 'notified' }],
    ['notify', true, 'running', { call: false, outcome: 'notified' }],
    ['notify', true, 'pending', { call: false, outcome: 'notified' }],
    // stop: a stopped or stopping instance needs no call
    ['stop', false, 'stopped', { call: false, outcome: 'notified', reason: 'already stopped' }],
    ['stop', false, 'stopping', { call: false, outcome: 'notified', reason: 'already stopping' }],
    ['stop', true, 'stopped', { call: false, outcome: 'notified', reason: 'already stopped' }],
    ['stop', true, 'stopping', { call: false, outcome: 'notified', reason: 'already stopping' }],
    ['stop', false, 'running', { call: true }],
    ['stop', false, 'pending', { call: true }],
    ['stop', true, 'running', { call: true }],
    // terminate: every state is a call, stopped ones too
    ['terminate', false, 'running', { call: true }],
    ['terminate', false, 'pending', { call: true }],
    ['terminate', false, 'stopping', { call: true }],
    ['terminate', false, 'stopped', { call: true }],
    ['terminate', true, 'stopped', { call: true }],
    ['terminate', true, 'running', { call: true }]
  ] as const)('%s (dry-run %s) on a %s instance: %j', (action, dryRun, state, expected) => {
    expect(decideInstance(record({ state }), { action, 'dry-run': dryRun })).toEqual(expected)
  })
})

describe('capProblems', () => {
  const caps = { 'max-instances': 50, 'max-resources': 200 }

  it.each([
    ['nothing planned', { instances: 0, total: 0 }, caps],
    ['below both caps', { instances: 10, total: 20 }, caps],
    ['exactly at the instance cap', { instances: 50, total: 50 }, caps],
    ['exactly at the resource cap', { instances: 10, total: 200 }, caps],
    ['exactly at both caps', { instances: 50, total: 200 }, caps],
    ['0 means no instance cap', { instances: 100000, total: 100000 }, { 'max-instances': 0, 'max-resources': 0 }],
    [
      '0 instance cap, resource cap not reached',
      { instances: 150, total: 200 },
      { 'max-instances': 0, 'max-resources': 200 }
    ],
    ['cap of 1, one planned', { instances: 1, total: 1 }, { 'max-instances': 1, 'max-resources': 1 }]
  ])('%s: no problem', (_title, planned, limits) => {
    expect(capProblems(planned, { action: 'terminate', ...limits })).toEqual([])
  })

  it('one over the instance cap names the input, both numbers, and that nothing changed', () => {
    const problems = capProblems({ instances: 51, total: 51 }, { action: 'terminate', ...caps })
    expect(problems).toHaveLength(1)
    expect(problems[0]).toMatch(
      /^max-instances: 51 instances would be terminated, more than the cap of 50; nothing was changed\./
    )
  })

  it('stop says stopped', () => {
    const problems = capProblems({ instances: 3, total: 3 }, { action: 'stop', 'max-instances': 2, 'max-resources': 0 })
    expect(problems).toHaveLength(1)
    expect(problems[0]).toMatch(/^max-instances: 3 instances would be stopped, more than the cap of 2;/)
  })

  it('one over the resource cap names max-resources and both numbers', () => {
    const problems = capProblems({ instances: 10, total: 201 }, { action: 'terminate', ...caps })
    expect(problems).toHaveLength(1)
    expect(problems[0]).toMatch(
      /^max-resources: 201 resources would be terminated or deleted, more than the cap of 200; nothing was changed\./
    )
  })

  it('both caps exceeded: two problems, instances first', () => {
    const problems = capProblems({ instances: 60, total: 300 }, { action: 'terminate', ...caps })
    expect(problems).toHaveLength(2)
    expect(problems[0]).toMatch(/^max-instances: 60 .* 50;/)
    expect(problems[1]).toMatch(/^max-resources: 300 .* 200;/)
  })

  it('the resource cap binds without the instance cap', () => {
    const problems = capProblems(
      { instances: 5, total: 6 },
      { action: 'terminate', 'max-instances': 0, 'max-resources': 5 }
    )
    expect(problems).toEqual([
      expect.stringMatching(/^max-resources: 6 resources would be terminated or deleted, more than the cap of 5;/)
    ])
  })

  it('over a cap exactly when planned > cap > 0', () => {
    fc.assert(
      fc.property(fc.nat(1000), fc.nat(1000), (planned, cap) => {
        const problems = capProblems(
          { instances: planned, total: 0 },
          { action: 'terminate', 'max-instances': cap, 'max-resources': 0 }
        )
        expect(problems.length).toBe(cap > 0 && planned > cap ? 1 : 0)
      })
    )
  })
})

describe('youngBuilderWarning: a max-age under the 2h default names the youngest builder acted on', () => {
  const minutesAgo = (minutes: number) => new Date(NOW.getTime() - minutes * 60_000).toISOString()
  const builders = [
    record({ id: instanceId(1), region: 'us-east-1', launchTime: minutesAgo(300) }),
    record({ id: instanceId(2), region: 'eu-west-1', launchTime: minutesAgo(95) }),
    record({ id: instanceId(3), region: 'us-east-1', launchTime: minutesAgo(130) })
  ]
  const settings = { 'max-age': 90 * 60, tags: [], action: 'terminate' as const }

  it('names the youngest, its region and age, and what max-age must exceed', () => {
    expect(youngBuilderWarning(builders, settings, NOW)).toBe(
      `max-age 1h 30m is under the 2h default: ${instanceId(2)} in eu-west-1, the youngest builder to terminate, is 1h 35m old. ` +
        'If that is a live build, it is cut short: max-age must exceed your longest build, the AMI wait included.'
    )
  })

  it('says stop for a stop sweep', () => {
    expect(youngBuilderWarning(builders, { ...settings, action: 'stop' }, NOW)).toContain(
      'the youngest builder to stop, is 1h 35m old'
    )
  })

  it.each<[string, Parameters<typeof youngBuilderWarning>[1], typeof builders]>([
    ['max-age 2h', { ...settings, 'max-age': 7200 }, builders],
    ['max-age 1d', { ...settings, 'max-age': 86400 }, builders],
    ['nothing to act on', settings, []],
    [
      'a sweep scoped by a concrete tag',
      { ...settings, tags: [{ key: 'packer-sweeper-job', value: '42-1-build-0' }] },
      builders
    ],
    [
      'max-age 0 scoped by a concrete tag',
      { ...settings, 'max-age': 0, tags: [{ key: 'packer-sweeper-job', value: '42-1-build-0' }] },
      builders
    ]
  ])('no warning: %s', (_title, inputs, records) => {
    expect(youngBuilderWarning(records, inputs, NOW)).toBeUndefined()
  })

  it('still warns when the only tags are wildcards', () => {
    expect(youngBuilderWarning(builders, { ...settings, tags: [{ key: 'Name', value: '*' }] }, NOW)).toMatch(
      /^max-age 1h 30m is under the 2h default/
    )
  })
})
