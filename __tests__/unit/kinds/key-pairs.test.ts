import { beforeEach, describe, expect, it } from '@jest/globals'
import type { Inputs } from '../../../src/model/types.js'
import {
  inputsOf,
  orphanContext,
  planAndSweep as sweep,
  REGION,
  useSandbox,
  planLeftovers,
  actOn,
  heldBack,
  type LeftoverRun
} from '../engine/harness.js'
import { hoursBefore, NOW, packerName } from '../../../__fixtures__/support.js'

const { sandbox, seed } = useSandbox()
const context = (inputs: Partial<Inputs> = {}): LeftoverRun => orphanContext({ resources: ['key-pairs'], ...inputs })
const at = (hours: number) => hoursBefore(NOW, hours).toISOString()
const keyPairs = () => sandbox().fleet.keyPairs(REGION)
const deletes = () => sandbox().callsOf('DeleteKeyPair')
const STOPPED = 'i-05f0bbed'
const GONE = 'i-090e0000'
const OTHER = 'i-0f4e1000'
const BUILDER = 'i-0b111de0'
const NEW = 'i-0e3e3000'
/** The run_tags a template gives its builds, and the inputs that opt in to deleting custom-named keys carrying them. */
const BUILD_TAG = { build: 'ci' }
const OPTED_IN: Partial<Inputs> = { 'delete-custom-key-pairs': true, tags: [{ key: 'build', value: 'ci' }] }
const NOT_PACKERS = "not Packer's temporary key-pair name packer_<uuid>; set delete-custom-key-pairs"

describe('key pairs', () => {
  it("deletes a killed build's stale key that nothing uses, by KeyPairId", async () => {
    const name = packerName(3 * 3600, NOW)
    seed({ keyPairs: [{ keyName: name, keyPairId: 'key-1', createTime: at(3) }] })
    const { plan, findings } = await sweep(context())
    expect(plan.changes).toBe(1)
    expect(findings).toEqual([
      {
        kind: 'key-pairs',
        id: name,
        name,
        region: 'us-east-1',
        createdAt: hoursBefore(NOW, 3).toISOString(),
        ageSource: 'create-time',
        ageSeconds: 3 * 3600,
        outcome: 'deleted'
      }
    ])
    expect(inputsOf(sandbox(), 'DeleteKeyPair')).toContainEqual(
      expect.objectContaining({ KeyPairId: 'key-1', DryRun: false })
    )
    expect(keyPairs()).toEqual([])
  })

  it('asks EC2 for the key-name patterns and tags, and lists the live instances once for the plan and once before deleting, however many keys', async () => {
    seed({
      keyPairs: Array.from({ length: 250 }, (_, n) => ({
        keyName: packerName(3 * 3600, NOW, `k${n}`),
        createTime: at(3),
        tags: { run: '7' }
      }))
    })
    const { plan } = await sweep(context({ 'key-name': ['packer_*', 'ci-?'], tags: [{ key: 'run', value: '7' }] }))
    expect(inputsOf(sandbox(), 'DescribeKeyPairs')).toContainEqual(
      expect.objectContaining({
        Filters: [
          { Name: 'key-name', Values: ['packer_*', 'ci-?'] },
          { Name: 'tag:run', Values: ['7'] }
        ]
      })
    )
    const usageCalls = inputsOf(sandbox(), 'DescribeInstances')
    const firstPages = usageCalls.filter((input) => !input.NextToken)
    // Twice: once for the plan, once right before deleting; no key name is sent, so none can be read as a wildcard.
    expect(firstPages).toEqual([
      {
        MaxResults: 1000,
        Filters: [
          { Name: 'instance-state-name', Values: ['pending', 'running', 'shutting-down', 'stopping', 'stopped'] }
        ]
      },
      {
        MaxResults: 1000,
        Filters: [
          { Name: 'instance-state-name', Values: ['pending', 'running', 'shutting-down', 'stopping', 'stopped'] }
        ]
      }
    ])
    expect(plan.changes).toBe(250)
  })

  it('leaves alone a key a stopped instance still uses, and says so', async () => {
    const name = packerName(30 * 3600, NOW)
    seed({
      keyPairs: [{ keyName: name, createTime: at(30) }],
      instances: [{ id: STOPPED, state: 'stopped', keyName: name }]
    })
    const { plan, findings } = await sweep(context())
    expect(plan.changes).toBe(0)
    expect(findings).toEqual([
      expect.objectContaining({ id: name, outcome: 'skipped', reason: `in use by instance ${STOPPED}` })
    ])
    expect(deletes()).toEqual([])
  })

  it('does not count terminated instances as users', async () => {
    const name = packerName(30 * 3600, NOW)
    seed({
      keyPairs: [{ keyName: name, createTime: at(30) }],
      instances: [{ id: GONE, state: 'terminated', keyName: name }]
    })
    const { findings } = await sweep(context())
    expect(findings.map((finding) => finding.outcome)).toEqual(['deleted'])
  })

  it('leaves out a key younger than max-age', async () => {
    seed({ keyPairs: [{ keyName: packerName(3600, NOW), createTime: at(1) }] })
    const { findings } = await sweep(context())
    expect(findings).toEqual([])
    expect(sandbox().callsOf('DescribeInstances')).toEqual([])
  })

  it('asks EC2 for no other name than Packer’s own packer_<uuid> by default', async () => {
    await sweep(context())
    expect(inputsOf(sandbox(), 'DescribeKeyPairs')).toEqual([
      { Filters: [{ Name: 'key-name', Values: ['packer_????????-????-????-????-????????????'] }] }
    ])
  })

  it('ages a custom-named key by its CreateTime (opted in, with a concrete tag)', async () => {
    seed({
      keyPairs: [
        { keyName: 'packer_something', createTime: at(1), tags: BUILD_TAG },
        { keyName: 'packer_old-laptop', createTime: at(500), tags: BUILD_TAG }
      ]
    })
    const { findings } = await sweep(context({ ...OPTED_IN, 'key-name': ['packer_*'] }))
    expect(findings).toEqual([
      expect.objectContaining({ name: 'packer_old-laptop', ageSource: 'create-time', outcome: 'deleted' })
    ])
  })

  it('ages by the younger clock when the name and CreateTime disagree, and says so', async () => {
    seed({ keyPairs: [{ keyName: packerName(72 * 3600, NOW), createTime: at(1) }] })
    expect((await sweep(context())).findings).toEqual([])
    keyPairs().splice(0)
    seed({ keyPairs: [{ keyName: packerName(72 * 3600, NOW), createTime: at(5) }] })
    const { findings } = await sweep(context())
    expect(findings).toEqual([
      expect.objectContaining({ ageSeconds: 5 * 3600, outcome: 'deleted', reason: expect.stringMatching(/disagree/) })
    ])
  })

  it('reports a key without any age as skipped, never deleted', async () => {
    seed({ keyPairs: [{ keyName: 'packer_imported', createTime: null }] })
    const { findings } = await sweep(context({ 'key-name': ['packer_*'] }))
    expect(findings).toEqual([
      expect.objectContaining({ outcome: 'skipped', reason: 'age unknown', ageSource: 'unknown' })
    ])
    expect(deletes()).toEqual([])
  })

  it('matches client-side by EC2 wildcards, whatever the endpoint returned', async () => {
    // An endpoint that ignores filters returns every key; only the pattern's are judged.
    const [abc, def] = [packerName(900 * 3600, NOW, 'abc'), packerName(900 * 3600, NOW, 'def')]
    seed({
      keyPairs: [
        { keyName: 'prod-deploy', createTime: at(900), tags: { run: '7' } },
        { keyName: 'packer_def', createTime: at(900), tags: { run: '7' } },
        { keyName: abc, createTime: at(900), tags: { run: '8' } },
        { keyName: def, createTime: at(900), tags: { run: '7' } }
      ]
    })
    sandbox().faults.ignoreFilters({ action: 'DescribeKeyPairs' })
    const { findings } = await sweep(context({ tags: [{ key: 'run', value: '7' }] }))
    expect(findings.map((finding) => finding.name)).toEqual([def])
  })

  it('matches key names exactly: a name holding * or ? is never sent as a pattern and matches no other key', async () => {
    seed({
      keyPairs: [{ keyName: 'packer_*odd?', createTime: at(3), tags: BUILD_TAG }],
      instances: [{ id: OTHER, state: 'running', keyName: 'packer_*oddX' }]
    })
    const { findings } = await sweep(context({ ...OPTED_IN, 'key-name': ['packer_*'] }))
    expect(inputsOf(sandbox(), 'DescribeInstances').flatMap((input) => input.Filters ?? [])).not.toContainEqual(
      expect.objectContaining({ Name: 'key-name' })
    )
    expect(findings.map((finding) => finding.outcome)).toEqual(['deleted'])
  })

  describe("only Packer's own packer_<uuid> is deleted, unless delete-custom-key-pairs and a concrete tag say otherwise", () => {
    const THIRTY_DAYS = 30 * 24
    const PLATFORM = [{ key: 'team', value: 'platform' }]

    it('key-name empty, tags team=platform: a 30-day-old unused prod-bastion with that tag is reported skipped, with the reason, never deleted', async () => {
      const packers = packerName(THIRTY_DAYS * 3600, NOW)
      seed({
        keyPairs: [
          {
            keyName: 'prod-bastion',
            keyPairId: 'key-bastion',
            createTime: at(THIRTY_DAYS),
            tags: { team: 'platform' }
          },
          { keyName: packers, keyPairId: 'key-packer', createTime: at(THIRTY_DAYS), tags: { team: 'platform' } }
        ]
      })
      const { plan, findings } = await sweep(context({ 'key-name': [], tags: PLATFORM }))
      expect(plan.changes).toBe(1)
      expect(findings).toEqual([
        expect.objectContaining({ name: packers, outcome: 'deleted' }),
        expect.objectContaining({
          name: 'prod-bastion',
          outcome: 'skipped',
          reason: expect.stringContaining(NOT_PACKERS),
          ageSeconds: THIRTY_DAYS * 3600
        })
      ])
      expect(inputsOf(sandbox(), 'DeleteKeyPair')).toEqual([expect.objectContaining({ KeyPairId: 'key-packer' })])
      expect(keyPairs().map((key) => key.keyName)).toEqual(['prod-bastion'])
    })

    it('key-name packer_* (the old default, set by hand): packer_shared is reported skipped, never deleted', async () => {
      seed({ keyPairs: [{ keyName: 'packer_shared', createTime: at(THIRTY_DAYS) }] })
      const { plan, findings } = await sweep(context({ 'key-name': ['packer_*'] }))
      expect(plan.changes).toBe(0)
      expect(findings).toEqual([
        expect.objectContaining({
          name: 'packer_shared',
          outcome: 'skipped',
          reason: expect.stringContaining(NOT_PACKERS)
        })
      ])
      expect(deletes()).toEqual([])
    })

    it('the defaults never even list packer_shared', async () => {
      seed({ keyPairs: [{ keyName: 'packer_shared', createTime: at(THIRTY_DAYS) }] })
      expect((await sweep(context())).findings).toEqual([])
      expect(deletes()).toEqual([])
    })

    it.each([
      [
        'uppercase hex',
        packerName(THIRTY_DAYS * 3600, NOW)
          .toUpperCase()
          .replace('PACKER_', 'packer_')
      ],
      ['a suffix', `${packerName(THIRTY_DAYS * 3600, NOW)}-old`],
      ['one digit short', packerName(THIRTY_DAYS * 3600, NOW).slice(0, -1)]
    ])('a near miss (%s) is skipped even where key-name lets it through', async (_what, name) => {
      seed({ keyPairs: [{ keyName: name, createTime: at(THIRTY_DAYS) }] })
      const { findings } = await sweep(context({ 'key-name': ['packer_*'] }))
      expect(findings).toEqual([
        expect.objectContaining({ name, outcome: 'skipped', reason: expect.stringContaining(NOT_PACKERS) })
      ])
      expect(deletes()).toEqual([])
    })

    it('delete-custom-key-pairs with the concrete tag: the custom-named keys carrying it are deleted, the others skipped', async () => {
      seed({
        keyPairs: [
          { keyName: 'prod-bastion', createTime: at(THIRTY_DAYS), tags: { team: 'platform' } },
          { keyName: 'packer_shared', createTime: at(THIRTY_DAYS), tags: { team: 'platform' } },
          { keyName: 'packer_other-team', createTime: at(THIRTY_DAYS), tags: { team: 'data' } }
        ]
      })
      sandbox().faults.ignoreFilters({ action: 'DescribeKeyPairs' })
      const { findings } = await sweep(
        context({ 'key-name': ['packer_*'], tags: PLATFORM, 'delete-custom-key-pairs': true })
      )
      expect(findings).toEqual([expect.objectContaining({ name: 'packer_shared', outcome: 'deleted' })])
      expect(keyPairs().map((key) => key.keyName)).toEqual(['prod-bastion', 'packer_other-team'])
    })

    it('delete-custom-key-pairs with only wildcard tags (the input refuses it; the rule holds anyway): nothing custom is deleted', async () => {
      seed({ keyPairs: [{ keyName: 'packer_shared', createTime: at(THIRTY_DAYS), tags: { team: 'platform' } }] })
      const { findings } = await sweep(
        context({ 'key-name': ['packer_*'], tags: [{ key: 'team', value: '*' }], 'delete-custom-key-pairs': true })
      )
      expect(findings).toEqual([
        expect.objectContaining({
          outcome: 'skipped',
          reason: expect.stringMatching(/delete-custom-key-pairs deletes only/)
        })
      ])
      expect(deletes()).toEqual([])
    })

    it('notify reports a custom-named key as skipped too, without looking up what uses it', async () => {
      seed({ keyPairs: [{ keyName: 'packer_shared', createTime: at(THIRTY_DAYS) }] })
      const ctx = context({ action: 'notify', 'key-name': ['packer_*'] })
      const plan = await planLeftovers(ctx)
      expect(heldBack(plan)).toEqual([
        expect.objectContaining({ outcome: 'skipped', reason: expect.stringContaining(NOT_PACKERS) })
      ])
      expect(sandbox().callsOf('DescribeInstances')).toEqual([])
    })
  })

  describe('freed by an instance this run terminates', () => {
    const name = packerName(3 * 3600, NOW)
    beforeEach(() => {
      seed({
        keyPairs: [{ keyName: name, keyPairId: 'key-1', createTime: at(3) }],
        instances: [{ id: BUILDER, state: 'running', keyName: name }]
      })
    })

    it('is planned before the instance is touched, then deleted after the waiter saw it terminated', async () => {
      const ctx = context()
      const plan = await planLeftovers(ctx, new Set([BUILDER]))
      expect(plan.changes).toBe(1)
      expect(heldBack(plan)[0]?.reason).toBe(`not deleted: this run made no changes (used by ${BUILDER})`)
      sandbox().fleet.update(BUILDER, { state: 'terminated' }) // the core terminated it
      const planned = sandbox().calls.length
      const findings = await actOn(ctx, plan, [BUILDER])
      expect(findings).toEqual([expect.objectContaining({ outcome: 'deleted', reason: `after ${BUILDER} terminated` })])
      const calls = sandbox().calls
      const waiterPoll = calls.findIndex((call, index) => index >= planned && call.action === 'DescribeInstances')
      const deletion = calls.findIndex((call) => call.action === 'DeleteKeyPair')
      expect(waiterPoll).toBeGreaterThanOrEqual(planned)
      expect(deletion).toBeGreaterThan(waiterPoll)
    })

    it('is in use when the instance did not reach terminated within the wait', async () => {
      const ctx = context()
      const plan = await planLeftovers(ctx, new Set([BUILDER]))
      sandbox().fleet.update(BUILDER, { state: 'shutting-down' })
      const findings = await actOn(ctx, plan, [BUILDER])
      expect(findings).toEqual([
        expect.objectContaining({
          outcome: 'in-use',
          reason: expect.stringMatching(new RegExp(`${BUILDER} did not reach terminated.*shutting-down`))
        })
      ])
      expect(deletes()).toEqual([])
    })

    it('is in use when the termination failed', async () => {
      const { findings } = await sweep(context(), [BUILDER], [])
      expect(findings).toEqual([
        expect.objectContaining({
          outcome: 'in-use',
          reason: expect.stringMatching(new RegExp(`${BUILDER} was not terminated by this run`))
        })
      ])
      expect(inputsOf(sandbox(), 'DescribeInstances')).not.toContainEqual(
        expect.objectContaining({ InstanceIds: [BUILDER] })
      )
      expect(deletes()).toEqual([])
    })

    it('is in use when a new instance took the key meanwhile (checked again right before deleting)', async () => {
      const ctx = context()
      const plan = await planLeftovers(ctx, new Set([BUILDER]))
      sandbox().fleet.update(BUILDER, { state: 'terminated' })
      seed({ instances: [{ id: NEW, state: 'pending', keyName: name }] })
      const findings = await actOn(ctx, plan, [BUILDER])
      expect(findings).toEqual([expect.objectContaining({ outcome: 'in-use', reason: `in use by instance ${NEW}` })])
      expect(deletes()).toEqual([])
    })

    it('is skipped as in use when the run does not terminate that instance', async () => {
      const { plan, findings } = await sweep(context())
      expect(plan.changes).toBe(0)
      expect(findings).toEqual([
        expect.objectContaining({ outcome: 'skipped', reason: `in use by instance ${BUILDER}` })
      ])
      expect(deletes()).toEqual([])
    })

    it('under dry-run: no wait, a DryRun delete, outcome dry-run', async () => {
      const { findings } = await sweep(context({ 'dry-run': true }), [BUILDER], [])
      expect(findings).toEqual([
        expect.objectContaining({ outcome: 'dry-run', reason: `would be deleted after ${BUILDER} terminated` })
      ])
      expect(inputsOf(sandbox(), 'DeleteKeyPair')).toContainEqual(
        expect.objectContaining({ KeyPairId: 'key-1', DryRun: true })
      )
      expect(inputsOf(sandbox(), 'DescribeInstances')).not.toContainEqual(
        expect.objectContaining({ InstanceIds: [BUILDER] })
      )
      expect(keyPairs()).toHaveLength(1)
    })

    it('under notify the instance is not terminated, so the key stays in use', async () => {
      const ctx = context({ action: 'notify' })
      const plan = await planLeftovers(ctx, new Set([BUILDER]))
      expect(heldBack(plan)).toEqual([
        expect.objectContaining({ outcome: 'skipped', reason: `in use by instance ${BUILDER}` })
      ])
    })
  })
})
