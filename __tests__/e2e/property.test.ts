/**
 * Over random fleets and random inputs (action, dry-run, exclude-tag, regions, filters), the bundle
 * acts on exactly the instances that match every filter, are older than max-age, are in a counted
 * state, do not carry the exclusion tag, sit in a swept region, and that EC2 lets it act on — never
 * one more. Each run spawns node, so the number of runs stays modest; the seed is fixed
 * (FC_SEED overrides it).
 */
import { describe, expect, it } from '@jest/globals'
import fc from 'fast-check'
import { startSandbox, wildcard, type FleetSeed, type InstanceStateName } from '../../sandbox/index.js'
import { changedIds, sorted } from './fleet.js'
import { requireDist, runAction } from '../../sandbox/run-action.js'
import { describeRun } from './harness.js'

const REGIONS = ['us-east-1', 'us-west-2', 'eu-west-1'] as const
type Region = (typeof REGIONS)[number]
// Weighted (repeats) towards what sweeps meet, so most runs have something to act on.
const STATES: InstanceStateName[] = [
  'pending',
  'running',
  'running',
  'running',
  'shutting-down',
  'terminated',
  'stopping',
  'stopped',
  'stopped'
]
/** Ages in minutes, and max-ages, at least 15 minutes apart: staleness never depends on timing. */
const AGES = [5, 45, 75, 105, 135, 300, 300, 2000, 2000]
const MAX_AGES: Record<string, number> = { '0': 0, '1h': 60, '90m': 90, '2h': 120, '1d': 1440, '3': 180 }
const PACKER_KEY = 'packer_6745a1b2-0000-0000-0000-000000000000'
const KEY_NAMES = [
  PACKER_KEY,
  PACKER_KEY,
  PACKER_KEY,
  'packer_x1',
  'packer_x1',
  'packer_xy',
  'Packer_x1',
  'build_7',
  undefined
]
const TAG_SETS = [[], [], [], ['team=a'], ['run=*'], ['team=b', 'run=1'], ['team=?']]
const PATTERNS = [['packer_*'], ['packer_*'], ['packer_*', 'build_*'], ['packer_x?'], []]
const DEFAULT_EXCLUDE = 'packer-sweeper:keep'
const OTHER_EXCLUDE = 'do-not-sweep'

type Action = 'notify' | 'stop' | 'terminate'

interface Instance {
  region: Region
  zone: 'a' | 'b'
  key?: string
  state: InstanceStateName
  ageMinutes: number
  team?: string
  run?: string
  /** The exclusion tag key it carries, if any (excluded only when it is one of the run's exclude-tag keys). */
  keepTag?: string
  spot: boolean
  instanceStore: boolean
  disableApiTermination: boolean
  disableApiStop: boolean
}

interface Case {
  instances: Instance[]
  action: Action
  dryRun: boolean
  excludeTags: string[]
  regions: Region[]
  maxAge: string
  patterns: string[]
  tags: string[]
  states: InstanceStateName[]
}

/** Refusal-relevant attributes, random on every instance. */
const attributes = {
  zone: fc.constantFrom<'a' | 'b'>('a', 'b'),
  keepTag: fc.option(fc.constantFrom(DEFAULT_EXCLUDE, OTHER_EXCLUDE), { nil: undefined, freq: 3 }),
  spot: fc.constantFrom(false, false, true),
  instanceStore: fc.constantFrom(false, false, false, true),
  disableApiTermination: fc.constantFrom(false, false, true),
  disableApiStop: fc.constantFrom(false, false, false, true)
}

/** Any instance at all. */
const anyInstance: fc.Arbitrary<Instance> = fc.record({
  ...attributes,
  region: fc.constantFrom(...REGIONS),
  key: fc.constantFrom(...KEY_NAMES),
  state: fc.constantFrom(...STATES),
  ageMinutes: fc.constantFrom(...AGES),
  team: fc.option(fc.constantFrom('a', 'b'), { nil: undefined, freq: 4 }),
  run: fc.option(fc.constantFrom('1', '2'), { nil: undefined, freq: 4 })
})

type Settings = Omit<Case, 'instances'>

/** Values of tag `key` that every `tags` line on that key accepts. */
function tagValues(settings: Settings, key: string, values: string[]): string[] {
  return values.filter((v) =>
    settings.tags.every((line) => !line.startsWith(`${key}=`) || wildcard(line.slice(key.length + 1))(v))
  )
}

/**
 * An instance built to pass the filters of `settings` (a generator bias only: what is selected is
 * still decided by the model below), so that most runs have plenty to act on or refuse.
 */
function fittingInstance(settings: Settings): fc.Arbitrary<Instance> {
  const keys = KEY_NAMES.filter(
    (k): k is string =>
      k !== undefined && (settings.patterns.length === 0 || settings.patterns.some((p) => wildcard(p)(k)))
  )
  return fc.record({
    ...attributes,
    region: fc.constantFrom(...settings.regions),
    key: fc.constantFrom(...keys),
    state: fc.constantFrom(...settings.states),
    ageMinutes: fc.constantFrom(...AGES.filter((a) => a > (MAX_AGES[settings.maxAge] as number))),
    team: fc.constantFrom(...tagValues(settings, 'team', ['a', 'b'])),
    run: fc.constantFrom(...tagValues(settings, 'run', ['1', '2']))
  })
}

const settings: fc.Arbitrary<Settings> = fc
  .record({
    action: fc.constantFrom<Action>('notify', 'stop', 'stop', 'terminate', 'terminate'),
    dryRun: fc.constantFrom(false, false, true),
    excludeTags: fc.constantFrom<string[]>(
      [DEFAULT_EXCLUDE],
      [DEFAULT_EXCLUDE],
      [OTHER_EXCLUDE],
      [DEFAULT_EXCLUDE, OTHER_EXCLUDE]
    ),
    regions: fc.subarray([...REGIONS], { minLength: 1 }),
    maxAge: fc.constantFrom(...Object.keys(MAX_AGES)),
    patterns: fc.constantFrom(...PATTERNS),
    tags: fc.constantFrom(...TAG_SETS),
    // The action accepts only the states an instance can be acted on in (it refuses shutting-down and terminated).
    states: fc.subarray<InstanceStateName>(['pending', 'running', 'stopping', 'stopped'], { minLength: 1 })
  })
  // The input guards: an empty key-name, and a max-age under 1h (0 here), are only allowed with a tag whose value is more than wildcards.
  .filter((c) => {
    const scoped = c.tags.some((tag) => !/^[*?]+$/.test(tag.slice(tag.indexOf('=') + 1)))
    return (c.patterns.length > 0 || scoped) && ((MAX_AGES[c.maxAge] as number) >= 60 || scoped)
  })

const scenario: fc.Arbitrary<Case> = settings
  .chain((s) =>
    fc
      .array(fc.oneof(anyInstance, fittingInstance(s)), { minLength: 3, maxLength: 24 })
      .map((instances) => ({ ...s, instances }))
  )
  // EC2 cannot stop a pending instance (IncorrectInstanceState) and no rule says what the sweep should
  // then do: a stop sweep sees builders that are already up.
  .map((c) =>
    c.action === 'stop'
      ? { ...c, instances: c.instances.map((i) => (i.state === 'pending' ? { ...i, state: 'running' as const } : i)) }
      : c
  )

/** The specification, as a model: which instances a sweep selects (excluded ones included). */
function selects(c: Case, i: Instance): boolean {
  const tags: Record<string, string | undefined> = { team: i.team, run: i.run }
  const keyMatches =
    c.patterns.length === 0 || (i.key !== undefined && c.patterns.some((p) => wildcard(p)(i.key as string)))
  const tagsMatch = c.tags.every((line) => {
    const [k, v] = line.split('=') as [string, string]
    return tags[k] !== undefined && wildcard(v)(tags[k] as string)
  })
  return (
    c.regions.includes(i.region) &&
    keyMatches &&
    tagsMatch &&
    c.states.includes(i.state) &&
    i.ageMinutes > (MAX_AGES[c.maxAge] as number)
  )
}

/** EC2's refusal of the action on this instance, if it must refuse (see the sandbox README). */
function refusal(action: Action, i: Instance): string | undefined {
  if (action === 'terminate') return i.disableApiTermination ? 'OperationNotPermitted' : undefined
  if (action !== 'stop' || i.state !== 'running') return undefined
  if (i.spot || i.instanceStore) return 'UnsupportedOperation'
  return i.disableApiStop ? 'OperationNotPermitted' : undefined
}

/** Whether acting on it changes its state (stop: only running ones; already stopped/stopping are no-ops). */
function changes(action: Action, i: Instance): boolean {
  if (action === 'terminate') return true
  return action === 'stop' && i.state === 'running'
}

function seed(c: Case): FleetSeed {
  const fleet: FleetSeed = {}
  c.instances.forEach((i, n) => {
    const tags = Object.fromEntries(
      Object.entries({ team: i.team, run: i.run, ...(i.keepTag ? { [i.keepTag]: 'yes' } : {}) }).filter(
        (e): e is [string, string] => e[1] !== undefined
      )
    )
    ;(fleet[i.region] ??= { instances: [] }).instances?.push({
      ref: String(n),
      keyName: i.key,
      state: i.state,
      ageSeconds: i.ageMinutes * 60,
      availabilityZone: `${i.region}${i.zone}`,
      lifecycle: i.spot ? 'spot' : undefined,
      rootDeviceType: i.instanceStore ? 'instance-store' : 'ebs',
      disableApiTermination: i.disableApiTermination,
      disableApiStop: i.disableApiStop,
      tags
    })
  })
  return fleet
}

describe('property: the acted-on set is exactly what the filters select and EC2 allows', () => {
  it('holds over random fleets, actions, dry-run, exclude-tag and regions', async () => {
    requireDist()
    await fc.assert(
      fc.asyncProperty(scenario, async (c) => {
        const s = await startSandbox({ fleet: seed(c), regions: [...REGIONS] })
        try {
          const run = await runAction({
            sandbox: s,
            inputs: {
              action: c.action,
              'dry-run': String(c.dryRun),
              'exclude-tag': c.excludeTags.join(', '),
              regions: c.regions.join(','),
              'max-age': c.maxAge,
              'key-name': c.patterns.join(','),
              tags: c.tags.join('\n'),
              'instance-states': c.states.join(','),
              'max-instances': '0',
              'max-resources': '0'
            }
          })
          const id = (n: number) => s.fleet.byRef(String(n)).id
          const chosen = c.instances.map((i, n) => ({ i, id: id(n) })).filter(({ i }) => selects(c, i))
          const excluded = (i: Instance) => i.keepTag !== undefined && c.excludeTags.includes(i.keepTag)
          const targets = chosen.filter(({ i }) => !excluded(i))
          const refused =
            c.action === 'notify'
              ? []
              : sorted(targets.filter(({ i }) => refusal(c.action, i) !== undefined).map(({ id }) => id))
          const expected =
            c.action === 'notify' || c.dryRun
              ? []
              : sorted(targets.filter(({ i }) => !refusal(c.action, i) && changes(c.action, i)).map(({ id }) => id))
          const context = `${JSON.stringify(c)}\n${describeRun(run)}`

          expect({ context, ids: run.list('instance-ids') }).toEqual({
            context,
            ids: sorted(targets.map(({ id }) => id))
          })
          expect(run.list('skipped-ids')).toEqual(sorted(chosen.filter(({ i }) => excluded(i)).map(({ id }) => id)))
          // The sandbox's record: exactly the expected instances changed state, nothing else, anywhere.
          expect({ context, changed: changedIds(s) }).toEqual({ context, changed: expected })
          expect(run.list('acted-ids')).toEqual(expected)
          if (c.dryRun || c.action === 'notify') {
            expect(
              s.calls.filter((call) => /^(Stop|Terminate)/.test(call.action) && call.params.DryRun !== 'true')
            ).toEqual([])
            // Dry-run: EC2 may refuse the DryRun call for the same reasons, nothing else may fail.
            for (const failed of run.list('failed-ids')) expect(refused).toContain(failed)
          } else {
            expect(run.list('failed-ids')).toEqual(refused)
            expect({ context, exit: run.exitCode }).toEqual({ context, exit: refused.length > 0 ? 1 : 0 })
          }
          // Refused instances are reported with EC2's error code.
          if (!c.dryRun) {
            for (const { i, id: refusedId } of targets.filter(
              ({ i }) => c.action !== 'notify' && refusal(c.action, i)
            )) {
              expect(run.report?.instances.find((f) => f.id === refusedId)).toMatchObject({
                outcome: 'failed',
                error: { code: refusal(c.action, i) }
              })
            }
          }
        } finally {
          await s.close()
        }
      }),
      { numRuns: 25, seed: Number(process.env.FC_SEED ?? 20261126), endOnFailure: true }
    )
  }, 600_000)
})
