/**
 * Key pairs for issue 17 in us-east-1, all 30 days old and used by no instance: Packer's own
 * temporary key `packer_<uuid>`, and keys with other names that a broad `key-name` or `tags` match
 * (a bastion key, a `packer_` key someone made by hand, a template's temporary_key_pair_name).
 * `CUSTOM_KEYS_TAG` is the team tag that Packer's `run_tags` and the bastion key both carry.
 */
import { packerName, type FleetSeed } from '../sandbox/index.js'

export const CUSTOM_KEYS_TAG = 'team=platform'

export const KEYS = {
  packers: packerName(30 * 24 * 3600, Date.now(), 'issue-17'),
  bastion: 'prod-bastion',
  shared: 'packer_shared',
  /** Another team's template's temporary_key_pair_name: matches key-name: '' but not the tag. */
  otherTeam: 'ci-temp-key'
}

export function customKeyPairsFleet(): FleetSeed {
  const platform = { team: 'platform' }
  return {
    'us-east-1': {
      keyPairs: [
        { keyName: KEYS.packers, age: '30d', tags: platform },
        { keyName: KEYS.bastion, age: '30d', tags: platform },
        { keyName: KEYS.shared, age: '30d', tags: platform },
        { keyName: KEYS.otherTeam, age: '30d', tags: { team: 'data' } }
      ]
    }
  }
}
