import { DeleteKeyPairCommand, DescribeKeyPairsCommand, type EC2Client, type Filter } from '@aws-sdk/client-ec2'
import { PERMISSION } from '../permissions.js'
import type { Inputs } from '../types.js'
import { chunk, MAX_FILTER_VALUES } from '../batches.js'
import { describing } from './describe-error.js'
import { BY_KEY_NAME, instanceUsageOf } from './instance-usage.js'
import type { OrphanKindSweeper } from './kind.js'
import { tagMap } from '../aws-data.js'
import { tagFilters } from './kind.js'
import type { Candidate } from './model.js'
import { matchesAnyPattern, matchesTags } from './rules.js'

/**
 * Packer's temporary key pair `packer_<uuid>`, or whatever the `key-name` patterns say marks a
 * builder's key. DescribeKeyPairs has no pagination (a region holds at most 5,000 key pairs).
 */
export const keyPairSweeper: OrphanKindSweeper = {
  kind: 'key-pairs',

  async discover(client: EC2Client, inputs: Inputs, abortSignal?: AbortSignal): Promise<Candidate[]> {
    const patterns = inputs['key-name']
    // Empty patterns: no name filter (allowed only with `tags`), so one call with the tag filters.
    const nameFilters: Filter[][] = patterns.length === 0 ? [[]] : chunk(patterns, MAX_FILTER_VALUES).map((batch) => [{ Name: 'key-name', Values: batch }])
    const found = new Map<string, Candidate>()
    for (const nameFilter of nameFilters) {
      const response = await describing(PERMISSION.describeKeyPairs, () =>
        client.send(new DescribeKeyPairsCommand({ Filters: [...nameFilter, ...tagFilters(inputs)] }), { abortSignal })
      )
      for (const keyPair of response.KeyPairs ?? []) {
        if (!keyPair.KeyName) continue
        const candidate: Candidate = {
          kind: 'key-pairs',
          id: keyPair.KeyName,
          name: keyPair.KeyName,
          tags: tagMap(keyPair.Tags)
        }
        if (keyPair.KeyPairId) candidate.keyPairId = keyPair.KeyPairId
        if (keyPair.CreateTime) candidate.createTime = keyPair.CreateTime
        if (matchesAnyPattern(candidate.name, patterns) && matchesTags(candidate.tags, inputs.tags)) {
          found.set(candidate.name, candidate)
        }
      }
    }
    return [...found.values()]
  },

  findUsage: instanceUsageOf(BY_KEY_NAME),

  recheckBeforeDelete: true,

  async remove(client, candidate, dryRun, abortSignal) {
    const target = candidate.keyPairId ? { KeyPairId: candidate.keyPairId } : { KeyName: candidate.name }
    await client.send(new DeleteKeyPairCommand({ ...target, DryRun: dryRun }), { abortSignal })
  },

  removePermission: PERMISSION.deleteKeyPair,
  alreadyGoneCodes: ['InvalidKeyPair.NotFound']
}
