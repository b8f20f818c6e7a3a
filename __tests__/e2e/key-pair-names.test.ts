/**
 * Issue 17 on the committed bundle: only Packer's temporary key pair `packer_<uuid>` is deleted.
 * A key that a broad `key-name` or `tags` also matches (`prod-bastion`, `packer_shared`) is reported
 * `skipped` with the reason and survives, unless `delete-custom-key-pairs` and a `tags` line with
 * a concrete value it carries say it is the user's build's.
 */
import { describe, expect, it } from '@jest/globals'
import { CUSTOM_KEYS_TAG, KEYS, customKeyPairsFleet } from '../../__fixtures__/custom-key-pairs-fleet.js'
import type { Sandbox } from '../../sandbox/index.js'
import { runAction, type RunResult } from '../../sandbox/run-action.js'
import { sandboxPerTest, sorted } from './fleet.js'
import { expectExit, summarySection } from './harness.js'

const { start } = sandboxPerTest()
const R = 'us-east-1'
const NOT_PACKERS = "not Packer's temporary key-pair name packer_<uuid>; set delete-custom-key-pairs"

const keyNames = (s: Sandbox) => sorted(s.fleet.keyPairs(R).map((k) => k.keyName))

/** The key names DeleteKeyPair named (by KeyPairId, read before the run, or by KeyName). */
function deleted(s: Sandbox, nameById: ReadonlyMap<string | undefined, string>): string[] {
  return sorted(
    s
      .callsOf('DeleteKeyPair')
      .map((c) => c.params.KeyName ?? nameById.get(c.params.KeyPairId) ?? `unknown ${c.params.KeyPairId}`)
  )
}

async function sweep(inputs: Record<string, string>): Promise<{ s: Sandbox; run: RunResult; deletedNames: string[] }> {
  const s = await start({ fleet: customKeyPairsFleet() })
  const ids = new Map(s.fleet.keyPairs(R).map((k) => [k.keyPairId, k.keyName]))
  const run = await runAction({ sandbox: s, inputs: { action: 'terminate', resources: 'key-pairs', ...inputs } })
  return { s, run, deletedNames: deleted(s, ids) }
}

const outcomes = (run: RunResult) => Object.fromEntries((run.report?.keyPairs ?? []).map((f) => [f.name, f.outcome]))
const finding = (run: RunResult, name: string) => run.report?.keyPairs.find((f) => f.name === name)

describe("key pairs: only Packer's packer_<uuid>", () => {
  it("key-name '' and tags team=platform: the 30-day-old unused prod-bastion with that tag is reported skipped with the reason, not deleted", async () => {
    const { s, run, deletedNames } = await sweep({ 'key-name': '', tags: CUSTOM_KEYS_TAG })
    expectExit(run, 0)
    expect(deletedNames).toEqual([KEYS.packers])
    expect(keyNames(s)).toEqual(sorted([KEYS.bastion, KEYS.shared, KEYS.otherTeam]))
    expect(outcomes(run)).toEqual({ [KEYS.packers]: 'deleted', [KEYS.bastion]: 'skipped', [KEYS.shared]: 'skipped' })
    expect(finding(run, KEYS.bastion)?.reason).toContain(NOT_PACKERS)
    expect(finding(run, KEYS.bastion)?.ageSeconds).toBeGreaterThanOrEqual(30 * 24 * 3600)
    // Outputs list what was acted on; the summary shows the skipped ones with why.
    expect(run.list('key-pairs')).toEqual([KEYS.packers])
    const section = summarySection(run.summary, 'Key pairs')
    expect(section).toContain(KEYS.bastion)
    expect(section).toContain(NOT_PACKERS)
    expect(run.report?.settings).toMatchObject({ 'key-name': [], 'delete-custom-key-pairs': false })
  })

  it('the defaults: key-name is the packer_<uuid> shape, so packer_shared is neither listed nor deleted', async () => {
    const { s, run, deletedNames } = await sweep({})
    expectExit(run, 0)
    expect(s.callsOf('DescribeKeyPairs')[0]?.params).toMatchObject({
      'Filter.1.Name': 'key-name',
      'Filter.1.Value.1': 'packer_????????-????-????-????-????????????'
    })
    expect(deletedNames).toEqual([KEYS.packers])
    expect(outcomes(run)).toEqual({ [KEYS.packers]: 'deleted' })
    expect(keyNames(s)).toContain(KEYS.shared)
  })

  it('key-name packer_* set by hand (the old default): packer_shared is reported skipped with the reason, not deleted', async () => {
    const { s, run, deletedNames } = await sweep({ 'key-name': 'packer_*' })
    expectExit(run, 0)
    expect(deletedNames).toEqual([KEYS.packers])
    expect(finding(run, KEYS.shared)).toMatchObject({
      outcome: 'skipped',
      reason: expect.stringContaining(NOT_PACKERS)
    })
    expect(keyNames(s)).toContain(KEYS.shared)
  })

  it('delete-custom-key-pairs with the concrete tag: the custom-named keys carrying it are deleted; one without it survives', async () => {
    const { s, run, deletedNames } = await sweep({
      'key-name': '',
      tags: CUSTOM_KEYS_TAG,
      'delete-custom-key-pairs': 'true'
    })
    expectExit(run, 0)
    expect(deletedNames).toEqual(sorted([KEYS.packers, KEYS.bastion, KEYS.shared]))
    expect(keyNames(s)).toEqual([KEYS.otherTeam])
    expect(sorted(run.list('key-pairs'))).toEqual(sorted([KEYS.packers, KEYS.bastion, KEYS.shared]))
    expect(run.report?.settings).toMatchObject({ 'delete-custom-key-pairs': true })

    // With key-name packer_*, the opt-in reaches packer_shared, and prod-bastion is not even listed.
    const narrow = await sweep({ 'key-name': 'packer_*', tags: CUSTOM_KEYS_TAG, 'delete-custom-key-pairs': 'true' })
    expect(narrow.deletedNames).toEqual(sorted([KEYS.packers, KEYS.shared]))
    expect(finding(narrow.run, KEYS.bastion)).toBeUndefined()
  })

  it.each(['', 'team=*'])(
    'delete-custom-key-pairs without a concrete tags line (tags %j) is refused before any request',
    async (tags) => {
      const { s, run } = await sweep({ 'key-name': 'packer_*', tags, 'delete-custom-key-pairs': 'true' })
      expectExit(run, 1)
      const errors = run.stdout.split('\n').filter((line) => line.startsWith('::error'))
      expect(errors.join('\n')).toContain(
        'delete-custom-key-pairs: "true" needs a tags line whose value is not only wildcards'
      )
      expect(s.calls).toEqual([])
      expect(keyNames(s)).toHaveLength(4)
    }
  )
})
