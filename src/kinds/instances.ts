/**
 * The builder instances Packer launched: found by `key-name`, `tags` and `instance-states`,
 * stopped or terminated in batches of 100. Every other kind is judged by what these free, so
 * they are surveyed and acted on first.
 */
import * as core from '@actions/core'
import { actOnInstances, instancesToChange, NOT_STARTED_CANCELLED, toFinding } from '../engine/builders.js'
import { discoverInstances, type RegionDiscovery } from '../engine/discovery.js'
import { isSelected, sortedIds } from '../model/findings.js'
import { describeReadError } from '../aws/describe-error.js'
import { PERMISSION } from '../model/permissions.js'
import { oneLine } from '../model/format.js'
import { decideInstance, youngBuilderWarning } from '../engine/plan.js'
import type { Finding, Outcome } from '../model/types.js'
import {
  failedSurvey,
  OVER_CAP,
  type BuilderKind,
  type FindingsByKind,
  type HeldBack,
  type PhaseSignals,
  type RegionalSurvey,
  type RegionScope
} from '../engine/kind.js'

const withOutcome = (outcome: Outcome) => (finding: Finding) => finding.outcome === outcome

export const instances = {
  name: 'instances',
  nouns: { singular: 'instance', plural: 'instances', title: 'Instances' },
  description:
    'The builder instances: launched with a key matching `key-name` (Packer’s `packer_<uuid>`), in `instance-states`, carrying `tags`.',
  outputs: [
    {
      name: 'instance-ids',
      description:
        'JSON array of the stale instances selected for the action, all regions, sorted; excluded ones are not included.',
      ids: (findings) => sortedIds(findings, isSelected)
    },
    {
      name: 'count',
      description: 'How many instances are in instance-ids.',
      count: (findings) => findings.filter(isSelected).length
    },
    {
      name: 'acted-ids',
      description: 'JSON array of the instances actually stopped or terminated (empty for notify and dry-run).',
      ids: (findings) =>
        sortedIds(findings, (finding) => finding.outcome === 'stopped' || finding.outcome === 'terminated')
    },
    {
      name: 'failed-ids',
      description:
        'JSON array of the instances whose action failed (an instance whose call got no answer has the outcome unknown and is only in report).',
      ids: (findings) => sortedIds(findings, withOutcome('failed'))
    },
    {
      name: 'skipped-ids',
      description: 'JSON array of the stale instances skipped because they carry exclude-tag.',
      ids: (findings) => sortedIds(findings, withOutcome('skipped'))
    }
  ],
  permissions: {
    read: [PERMISSION.describeInstances],
    stop: [PERMISSION.stopInstances],
    terminate: [PERMISSION.terminateInstances]
  },
  // Stop and terminate refuse one instance at a time; nothing "uses" an instance.
  inUseCodes: [],
  nameHeader: 'Instance',
  engine: 'builders',
  survey: surveyBuilders
} satisfies BuilderKind

async function surveyBuilders(scope: RegionScope, signals: PhaseSignals): Promise<RegionalSurvey> {
  let discovery: RegionDiscovery
  try {
    // With a pass over the region's live instances, the builders come out of it: one DescribeInstances serves all.
    discovery = scope.pass
      ? (await scope.pass).builders
      : await discoverInstances(scope.client, scope.region, scope.inputs, scope.now, signals.abortSignal)
  } catch (error) {
    return failedSurvey([{ kind: 'instances', ...describeReadError(error, PERMISSION.describeInstances) }])
  }
  const { inputs, now } = scope
  const { stale } = discovery
  const toChange = instancesToChange(stale, inputs)
  const young = youngBuilderWarning(toChange, inputs, now)
  if (young) core.warning(oneLine(young))
  return {
    errors: [],
    counts: { matched: discovery.matched, fresh: discovery.fresh },
    stale,
    terminating: new Set(inputs.action === 'terminate' ? toChange.map((record) => record.id) : []),
    changes: toChange.length,
    async act(act: PhaseSignals): Promise<FindingsByKind> {
      const findings = await actOnInstances(scope.client, stale, inputs, now, {
        ...act,
        onSettled: (settled) => scope.onSettled(settled)
      })
      return new Map([['instances', findings]])
    },
    holdBack(why: HeldBack): FindingsByKind {
      const reason = why === 'over-cap' ? OVER_CAP : NOT_STARTED_CANCELLED
      const findings = stale.map((record) => {
        const decision = decideInstance(record, inputs)
        return toFinding(
          record,
          now,
          decision.call || decision.outcome !== 'skipped' ? { outcome: 'notified', reason } : decision
        )
      })
      return new Map([['instances', findings]])
    }
  }
}
