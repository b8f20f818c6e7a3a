import { DeleteKeyPairCommand, DescribeKeyPairsCommand, type EC2Client, type Filter } from '@aws-sdk/client-ec2'
import { tagMap } from '../aws-data.js'
import { chunk, MAX_FILTER_VALUES } from '../batches.js'
import { describing } from '../orphans/describe-error.js'
import { BY_KEY_NAME } from '../orphans/instance-usage.js'
import { tagFilters } from '../orphans/kind.js'
import type { Candidate } from '../orphans/model.js'
import { matchesAnyPattern, matchesTags } from '../orphans/rules.js'
import { PERMISSION } from '../permissions.js'
import type { Inputs, OrphanFinding } from '../types.js'
import { leftoverPermissions, selectedIdsOutput, type RegionalLeftoverKind } from './kind.js'

/**
 * Packer's temporary key pair `packer_<uuid>`, or whatever the `key-name` patterns say marks a
 * builder's key. DescribeKeyPairs has no pagination (a region holds at most 5,000 key pairs).
 */
export const keyPairs: RegionalLeftoverKind<'key-pairs', 'keyPairs', OrphanFinding, 'key-pairs'> = {
  name: 'key-pairs',
  list: 'keyPairs',
  nouns: { singular: 'key pair', plural: 'key pairs', title: 'Key pairs' },
  description: 'Temporary key pairs (`packer_<uuid>`, or whatever `key-name` matches) that no live instance uses.',
  outputs: [selectedIdsOutput('key-pairs')],
  permissions: leftoverPermissions({ read: [PERMISSION.describeKeyPairs, PERMISSION.describeInstances], remove: [PERMISSION.deleteKeyPair] }),
  // DeleteKeyPair does not refuse a key in use: its use is looked up again right before deleting.
  inUseCodes: [],
  nameHeader: 'Key pair',
  engine: 'regional-leftovers',
  sweeper: {
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
          if (keyPair.KeyPairId) candidate.deleteId = keyPair.KeyPairId
          if (keyPair.CreateTime) candidate.createTime = keyPair.CreateTime
          if (matchesAnyPattern(candidate.name, patterns) && matchesTags(candidate.tags, inputs.tags)) {
            found.set(candidate.name, candidate)
          }
        }
      }
      return [...found.values()]
    },

    usage: { instanceUse: BY_KEY_NAME },

    async remove(client, candidate, dryRun, abortSignal) {
      // The key-… ID, which DeleteKeyPair prefers; without it the key is deleted by name.
      const target = candidate.deleteId ? { KeyPairId: candidate.deleteId } : { KeyName: candidate.name }
      await client.send(new DeleteKeyPairCommand({ ...target, DryRun: dryRun }), { abortSignal })
    },

    removePermission: PERMISSION.deleteKeyPair,
    alreadyGoneCodes: ['InvalidKeyPair.NotFound']
  }
}
