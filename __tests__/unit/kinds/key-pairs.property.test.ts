/**
 * Issue 17: a key pair is deleted only when its name is Packer's temporary `packer_<uuid>`, or, with
 * `delete-custom-key-pairs`, when it carries the value of a `tags` line that is more than wildcards.
 * Over random key pairs (Packer's names, near misses, anyone's names; random tags and ages) and
 * random `key-name`, `tags` and opt-in, including combinations the input guards refuse, every
 * DeleteKeyPair the sweep sends (DryRun or not) is checked against that rule, written here again
 * from Packer's format rather than imported.
 */
import { describe, expect, it } from '@jest/globals'
import fc from 'fast-check'
import type { TagFilter } from '../../../src/model/types.js'
import { startSandbox, wildcard } from '../../../sandbox/index.js'
import { REGION, regionalKindsFor, sandboxClient, planLeftovers, actOn, testScope } from '../engine/harness.js'
import { defaultInputs, hoursBefore, NOW } from '../../../__fixtures__/support.js'

/** `packer_` + uuid.TimeOrderedUUID(): `%08x-%04x-%04x-%04x-%04x%08x`, lowercase hex. */
const PACKERS_OWN = /^packer_[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/
const ONLY_WILDCARDS = /^[*?]+$/

const hex = (length: number) =>
  fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: length, maxLength: length })
const packerUuidName = fc.tuple(hex(8), hex(4), hex(4), hex(4), hex(12)).map((parts) => `packer_${parts.join('-')}`)

const keyName = fc.oneof(
  { weight: 4, arbitrary: packerUuidName },
  { weight: 1, arbitrary: packerUuidName.map((name) => `packer_${name.slice(7).toUpperCase()}`) },
  { weight: 1, arbitrary: packerUuidName.map((name) => name.slice(0, -1)) },
  { weight: 1, arbitrary: packerUuidName.map((name) => `${name}0`) },
  { weight: 1, arbitrary: packerUuidName.map((name) => name.replace('packer_', 'packer-')) },
  { weight: 1, arbitrary: packerUuidName.map((name) => name.replace(/-/g, '')) },
  {
    weight: 2,
    arbitrary: fc.constantFrom('packer_shared', 'prod-bastion', 'packer_', 'packer_ci-temp', 'deploy', 'Packer_shared')
  },
  { weight: 2, arbitrary: fc.string({ minLength: 1, maxLength: 24 }) }
)

const keyPair = fc.record({
  name: keyName,
  tags: fc.record(
    {
      team: fc.constantFrom('platform', 'platform', 'data', 'plat'),
      build: fc.constantFrom('ci', 'ci', 'nightly'),
      Name: fc.string({ maxLength: 4 })
    },
    { requiredKeys: [] }
  ),
  ageHours: fc.option(fc.integer({ min: 0, max: 24 * 60 }), { nil: undefined, freq: 8 })
})

const tagLine: fc.Arbitrary<TagFilter> = fc.record({
  key: fc.constantFrom('team', 'build', 'Name'),
  value: fc.constantFrom('platform', 'platform', 'plat*', 'p?atform', 'ci', 'ci', 'data', '*', '?*', '**')
})

const anyScenario = fc.record({
  keyPairs: fc.uniqueArray(keyPair, { selector: (key) => key.name, maxLength: 6 }),
  keyNames: fc.oneof(
    {
      weight: 5,
      arbitrary: fc.constantFrom<string[]>(
        [],
        [],
        ['packer_*'],
        ['packer_????????-????-????-????-????????????'],
        ['*'],
        ['?*'],
        ['prod-*', 'packer_*']
      )
    },
    { weight: 1, arbitrary: fc.array(fc.string({ minLength: 1, maxLength: 8 }), { maxLength: 2 }) }
  ),
  tags: fc.uniqueArray(tagLine, { selector: (line) => line.key, maxLength: 2 }),
  optIn: fc.boolean(),
  maxAgeHours: fc.constantFrom(0, 2),
  dryRun: fc.boolean()
})

/** Opted in with the team's tag, the case where custom-named keys may go: so that some do. */
const optedIn = anyScenario.map((s) => ({
  ...s,
  optIn: true,
  tags: [{ key: 'team', value: 'platform' }],
  keyNames: s.keyNames.length > 1 ? [] : s.keyNames
}))
const scenario = fc.oneof({ weight: 3, arbitrary: anyScenario }, { weight: 1, arbitrary: optedIn })

type Scenario = typeof anyScenario extends fc.Arbitrary<infer T> ? T : never

/** The rule, from the issue: which key pairs a DeleteKeyPair may name at all. */
function mayBeDeleted(key: Scenario['keyPairs'][number], s: Scenario): boolean {
  if (PACKERS_OWN.test(key.name)) return true
  if (!s.optIn) return false
  const tags: Record<string, string | undefined> = key.tags
  return s.tags.some(
    (line) =>
      !ONLY_WILDCARDS.test(line.value) && tags[line.key] !== undefined && wildcard(line.value)(tags[line.key] as string)
  )
}

describe('key pairs: only packer_<uuid>, or an opted-in custom name carrying a concrete tags value', () => {
  it('no DeleteKeyPair ever names another key pair, whatever key-name, tags and the opt-in say', async () => {
    const deletedRuns = { packers: 0, custom: 0, heldBack: 0 }
    await fc.assert(
      fc.asyncProperty(scenario, async (s) => {
        const sandbox = await startSandbox({
          regions: [REGION],
          pageSize: 2,
          fleet: {
            [REGION]: {
              keyPairs: s.keyPairs.map((key, n) => ({
                keyName: key.name,
                keyPairId: `key-${n}`,
                createTime: key.ageHours === undefined ? null : hoursBefore(NOW, key.ageHours).toISOString(),
                tags: key.tags
              }))
            }
          }
        })
        const client = sandboxClient(sandbox)
        try {
          const inputs = defaultInputs({
            resources: ['key-pairs'],
            action: 'terminate',
            'dry-run': s.dryRun,
            'max-age': s.maxAgeHours * 3600,
            'key-name': s.keyNames,
            tags: s.tags,
            'delete-custom-key-pairs': s.optIn
          })
          const kinds = regionalKindsFor(inputs)
          const ctx = { kinds, scope: testScope({ region: REGION, inputs, now: NOW, ec2For: () => client }, kinds) }
          const plan = await planLeftovers(ctx, new Set())
          const findings = await actOn(ctx, plan)

          const byId = new Map(s.keyPairs.map((key, n) => [`key-${n}`, key]))
          const byName = new Map(s.keyPairs.map((key) => [key.name, key]))
          const named = sandbox.callsOf('DeleteKeyPair', REGION).map((call) => {
            const key =
              call.params.KeyPairId !== undefined
                ? byId.get(call.params.KeyPairId)
                : byName.get(call.params.KeyName ?? '')
            expect(key).toBeDefined()
            return key as Scenario['keyPairs'][number]
          })
          for (const key of named) {
            if (!s.optIn)
              expect({ name: key.name, packers: PACKERS_OWN.test(key.name) }).toEqual({ name: key.name, packers: true })
            expect({ name: key.name, tags: key.tags, mayBeDeleted: mayBeDeleted(key, s) }).toEqual({
              name: key.name,
              tags: key.tags,
              mayBeDeleted: true
            })
          }
          // What was not deleted for its name is reported as skipped, with the reason.
          for (const finding of findings) {
            if (
              !PACKERS_OWN.test(finding.name) &&
              !mayBeDeleted(byName.get(finding.name) as Scenario['keyPairs'][number], s)
            )
              expect(finding).toMatchObject({ outcome: 'skipped' })
          }
          if (named.some((key) => PACKERS_OWN.test(key.name))) deletedRuns.packers++
          if (named.some((key) => !PACKERS_OWN.test(key.name))) deletedRuns.custom++
          if (findings.some((finding) => finding.reason?.includes('not Packer'))) deletedRuns.heldBack++
        } finally {
          client.destroy()
          await sandbox.close()
        }
      }),
      { numRuns: 200 }
    )
    // Not vacuous: Packer's keys are deleted, opted-in custom keys are deleted, and others are held back.
    expect(deletedRuns.packers).toBeGreaterThan(10)
    expect(deletedRuns.custom).toBeGreaterThan(10)
    expect(deletedRuns.heldBack).toBeGreaterThan(10)
  })
})
