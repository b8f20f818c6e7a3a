/**
 * Over random fleets and random inputs, the bundle acts on exactly the instances that match every
 * filter, are older than max-age, are in a counted state and do not carry the exclusion tag.
 * Each run spawns node, so the number of runs stays modest.
 */
import { describe, expect, it } from '@jest/globals'
import fc from 'fast-check'
import { startSandbox, wildcard, type InstanceSeed, type InstanceStateName } from '../sandbox/index.js'
import { changedIds, sorted } from './fleet.js'
import { expectExit, requireDist, runAction } from './harness.js'

const STATES: InstanceStateName[] = ['pending', 'running', 'shutting-down', 'terminated', 'stopping', 'stopped']
/** Ages in minutes, and max-ages, at least 15 minutes apart: staleness never depends on timing. */
const AGES = [5, 45, 75, 105, 135, 300, 2000]
const MAX_AGES: Record<string, number> = { '0': 0, '1h': 60, '90m': 90, '2h': 120, '1d': 1440, '3': 180 }
const KEY_NAMES = ['packer_6745a1b2-0000-0000-0000-000000000000', 'packer_x1', 'packer_xy', 'Packer_x1', 'build_7', undefined]
const TAG_SETS = [[], ['team=a'], ['run=*'], ['team=b', 'run=1'], ['team=?']]
const PATTERNS = [['packer_*'], ['packer_*', 'build_*'], ['packer_x?'], []]

interface Case {
  instances: Array<{ key?: string; state: InstanceStateName; ageMinutes: number; team?: string; run?: string; keep: boolean }>
  action: 'terminate' | 'notify'
  maxAge: string
  patterns: string[]
  tags: string[]
  states: InstanceStateName[]
}

const instance = fc.record({
  key: fc.constantFrom(...KEY_NAMES),
  state: fc.constantFrom(...STATES),
  ageMinutes: fc.constantFrom(...AGES),
  team: fc.option(fc.constantFrom('a', 'b'), { nil: undefined }),
  run: fc.option(fc.constantFrom('1', '2'), { nil: undefined }),
  keep: fc.boolean()
})

const scenario: fc.Arbitrary<Case> = fc
  .record({
    instances: fc.array(instance, { minLength: 1, maxLength: 25 }),
    action: fc.constantFrom<'terminate' | 'notify'>('terminate', 'terminate', 'notify'),
    maxAge: fc.constantFrom(...Object.keys(MAX_AGES)),
    patterns: fc.constantFrom(...PATTERNS),
    tags: fc.constantFrom(...TAG_SETS),
    // The action accepts only the states an instance can be acted on in (it refuses shutting-down and terminated).
    states: fc.subarray<InstanceStateName>(['pending', 'running', 'stopping', 'stopped'], { minLength: 1 })
  })
  // An empty key-name is only allowed together with tags.
  .filter((c) => c.patterns.length > 0 || c.tags.length > 0)

/** The specification, as a model: which instances a sweep selects. */
function selects(c: Case, i: Case['instances'][number]): boolean {
  const tags: Record<string, string | undefined> = { team: i.team, run: i.run }
  const keyMatches = c.patterns.length === 0 || (i.key !== undefined && c.patterns.some((p) => wildcard(p)(i.key as string)))
  const tagsMatch = c.tags.every((line) => {
    const [k, v] = line.split('=') as [string, string]
    return tags[k] !== undefined && wildcard(v)(tags[k] as string)
  })
  return keyMatches && tagsMatch && c.states.includes(i.state) && i.ageMinutes > (MAX_AGES[c.maxAge] as number)
}

describe('property: the acted-on set is exactly what the filters select', () => {
  it('holds over random fleets and inputs', async () => {
    requireDist()
    await fc.assert(
      fc.asyncProperty(scenario, async (c) => {
        const seeds: InstanceSeed[] = c.instances.map((i, n) => ({
          ref: String(n),
          keyName: i.key,
          state: i.state,
          ageSeconds: i.ageMinutes * 60,
          tags: Object.fromEntries(
            Object.entries({ team: i.team, run: i.run, ...(i.keep ? { 'packer-sweeper:keep': 'yes' } : {}) }).filter((e): e is [string, string] => e[1] !== undefined)
          )
        }))
        const s = await startSandbox({ fleet: { 'us-east-1': { instances: seeds } } })
        try {
          const run = await runAction({
            sandbox: s,
            inputs: {
              action: c.action,
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
          const selected = sorted(chosen.filter(({ i }) => !i.keep).map(({ id }) => id))
          const skipped = sorted(chosen.filter(({ i }) => i.keep).map(({ id }) => id))
          const changes = c.action === 'notify' ? [] : sorted(chosen.filter(({ i }) => !i.keep && i.state !== 'terminated' && i.state !== 'shutting-down').map(({ id }) => id))
          expectExit(run, 0)
          expect(run.list('instance-ids')).toEqual(selected)
          expect(run.list('skipped-ids')).toEqual(skipped)
          expect(run.list('failed-ids')).toEqual([])
          expect(changedIds(s)).toEqual(changes)
          if (c.action === 'notify') expect(run.list('acted-ids')).toEqual([])
        } finally {
          await s.close()
        }
      }),
      { numRuns: 20, seed: Number(process.env.FC_SEED ?? 20251126), endOnFailure: true }
    )
  }, 600_000)
})
