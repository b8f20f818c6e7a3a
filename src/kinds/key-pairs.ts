import { DeleteKeyPairCommand, DescribeKeyPairsCommand, type EC2Client, type Filter } from '@aws-sdk/client-ec2'
import { chunk, MAX_FILTER_VALUES } from '../aws/batches.js'
import { describing } from '../aws/describe-error.js'
import type { InstanceUseQuery } from '../engine/instance-usage.js'
import { candidatesOf, regionalLeftover, tagFilters, type Listed } from '../engine/regional-kind.js'
import type { Candidate } from '../engine/leftover-model.js'
import { keyPairOnlyReported, matchesAnyPattern } from '../engine/rules.js'
import { PERMISSION } from '../model/permissions.js'
import type { Inputs } from '../model/types.js'
import { leftoverPermissions, selectedIdsOutput } from '../engine/kind.js'

/** Instances know a key pair by its name. */
export const BY_KEY_NAME: InstanceUseQuery = {
  candidateValue: (candidate) => candidate.name,
  usedValue: (instance) => instance.KeyName
}

/**
 * Packer's temporary key pair `packer_<uuid>`, found by the `key-name` patterns and `tags`. What
 * else those match (a template's `temporary_key_pair_name`, anyone's own key) is only reported,
 * unless `delete-custom-key-pairs` and a concrete `tags` line say it is the user's builds'.
 * DescribeKeyPairs has no pagination (a region holds at most 5,000 key pairs).
 */
export const keyPairs = regionalLeftover({
  name: 'key-pairs',
  nouns: { singular: 'key pair', plural: 'key pairs', title: 'Key pairs' },
  description:
    'Packer’s temporary key pairs (`packer_<uuid>`) matching `key-name` and `tags` that no live instance uses; other names that match are only reported, unless `delete-custom-key-pairs`.',
  outputs: [
    {
      ...selectedIdsOutput('key-pairs'),
      description:
        'JSON array of the names of the orphaned key pairs found (with their outcome in report); one still in use by something this run does not terminate is only in report, as skipped.'
    }
  ],
  permissions: leftoverPermissions({
    read: [PERMISSION.describeKeyPairs, PERMISSION.describeInstances],
    remove: [PERMISSION.deleteKeyPair]
  }),
  // DeleteKeyPair does not refuse a key in use: its use is looked up again right before deleting.
  inUseCodes: [],
  nameHeader: 'Key pair',
  sweeper: {
    async discover(client: EC2Client, inputs: Inputs, abortSignal?: AbortSignal): Promise<Candidate[]> {
      const patterns = inputs['key-name']
      // Empty patterns: no name filter (allowed only with `tags`), so one call with the tag filters.
      const nameFilters: Filter[][] =
        patterns.length === 0
          ? [[]]
          : chunk(patterns, MAX_FILTER_VALUES).map((batch) => [{ Name: 'key-name', Values: batch }])
      const listed: Listed[] = []
      for (const nameFilter of nameFilters) {
        const response = await describing(PERMISSION.describeKeyPairs, () =>
          client.send(new DescribeKeyPairsCommand({ Filters: [...nameFilter, ...tagFilters(inputs)] }), { abortSignal })
        )
        // A key pair is known by its name; its key-… ID is what DeleteKeyPair prefers.
        for (const key of response.KeyPairs ?? [])
          listed.push({
            id: key.KeyName,
            name: key.KeyName,
            tags: key.Tags,
            createTime: key.CreateTime,
            deleteId: key.KeyPairId
          })
      }
      return candidatesOf('key-pairs', listed, inputs, (name) => matchesAnyPattern(name, patterns))
    },

    usage: { instanceUse: BY_KEY_NAME },
    onlyReported: keyPairOnlyReported,

    async remove(client, candidate, dryRun, abortSignal) {
      // The key-… ID, which DeleteKeyPair prefers; without it the key is deleted by name.
      const target = candidate.deleteId ? { KeyPairId: candidate.deleteId } : { KeyName: candidate.name }
      await client.send(new DeleteKeyPairCommand({ ...target, DryRun: dryRun }), { abortSignal })
    },

    removePermission: PERMISSION.deleteKeyPair,
    alreadyGoneCodes: ['InvalidKeyPair.NotFound']
  }
})
