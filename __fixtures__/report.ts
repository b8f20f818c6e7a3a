/**
 * Builders for `Report` and its findings, for the tests of everything that renders a report
 * (outputs, job summary, SNS). Each builder gives a plausible default and takes overrides.
 */
import { defaultInputs, instanceId } from './support.js'
import type { IamFinding } from '../src/kinds/instance-profiles/rules.js'
import { emptyReportLists } from '../src/kinds/findings.js'
import type {
  ImageFinding,
  InstanceFinding,
  OrphanFinding,
  RegionFailure,
  RegionResult,
  VolumeFinding
} from '../src/model/types.js'
import type { Report, ReportSettings } from '../src/report/types.js'

/** The report's settings: action.yml's defaults, with action terminate in one region. */
export function settings(overrides: Partial<ReportSettings> = {}): ReportSettings {
  const { regions: _regions, ...inputs } = defaultInputs({ action: 'terminate' })
  return { ...inputs, regions: ['eu-west-1'], ...overrides }
}

export function instance(overrides: Partial<InstanceFinding> = {}): InstanceFinding {
  return {
    id: instanceId(1),
    region: 'eu-west-1',
    keyName: 'packer_6745a1b2-0000-0000-0000-000000000000',
    launchTime: '2026-03-01T08:48:00.000Z',
    ageSeconds: 3 * 3600 + 12 * 60,
    state: 'running',
    outcome: 'terminated',
    instanceType: 't3.micro',
    ...overrides
  }
}

export function orphan(overrides: Partial<OrphanFinding> = {}): OrphanFinding {
  return {
    kind: 'key-pairs',
    id: 'packer_6745a1b2-0000-0000-0000-000000000000',
    name: 'packer_6745a1b2-0000-0000-0000-000000000000',
    region: 'eu-west-1',
    createdAt: '2026-03-01T08:48:00.000Z',
    ageSource: 'name',
    ageSeconds: 3 * 3600 + 12 * 60,
    outcome: 'deleted',
    ...overrides
  }
}

/** An IAM instance profile and role Packer left, in the report (region `global`). */
export function iamLeftover(overrides: Partial<IamFinding> = {}): IamFinding {
  const name = overrides.id ?? 'packer-6745a1b2-0000-4000-8000-000000000000'
  return {
    ...orphan({ kind: 'instance-profiles', id: name, name, region: 'global' }),
    iam: { profile: true, role: name, inlinePolicies: [name], steps: [] },
    ...overrides
  }
}

/** An image a Packer build made, in the report: an interrupted one from a builder, with one snapshot and no copies. */
export function imageLeftover(
  overrides: Partial<Omit<ImageFinding, 'image'>> & { image?: Partial<ImageFinding['image']> } = {}
): ImageFinding {
  const { image, ...rest } = overrides
  return {
    ...orphan({
      kind: 'images',
      id: 'ami-0123456789abcdef0',
      name: 'packer-build-1772354880',
      ageSource: 'create-time',
      outcome: 'notified'
    }),
    image: {
      state: 'available',
      class: 'interrupted',
      origin: 'builder',
      sourceInstanceId: instanceId(1),
      snapshots: [{ id: 'snap-0123456789abcdef0', sizeGiB: 8 }],
      copies: [],
      notes: [],
      ...image
    },
    ...rest
  }
}

/** A builder's volume kept with DeleteOnTermination=false, in the report: reported, not deleted. */
export function volumeLeftover(
  overrides: Partial<Omit<VolumeFinding, 'volume'>> & { volume?: Partial<VolumeFinding['volume']> } = {}
): VolumeFinding {
  const { volume, ...rest } = overrides
  return {
    ...orphan({
      kind: 'volumes',
      id: 'vol-0123456789abcdef0',
      name: '',
      ageSource: 'create-time',
      outcome: 'skipped',
      reason: 'kept: delete-inherited-volumes is false'
    }),
    volume: {
      instanceId: instanceId(1),
      deviceName: '/dev/xvda',
      state: 'in-use',
      sizeGiB: 20,
      volumeType: 'gp3',
      ...volume
    },
    ...rest
  }
}

export function region(overrides: Partial<RegionResult> = {}): RegionResult {
  return { region: 'eu-west-1', status: 'ok', matched: 0, fresh: 0, failures: [], ...overrides }
}

/** What failed in a region: a kind (`instances` by default) or, with `kind: undefined`, the region itself. */
export function regionFailure(overrides: Partial<RegionFailure> = {}): RegionFailure {
  return {
    kind: 'instances',
    code: 'UnauthorizedOperation',
    message: 'You are not authorized to perform this operation.',
    ...overrides
  }
}

/** A report of one clean region; pass findings and regions to make it say something. */
export function report(overrides: Partial<Report> = {}): Report {
  return {
    version: 1,
    startedAt: '2026-03-01T12:00:00.000Z',
    finishedAt: '2026-03-01T12:00:05.000Z',
    settings: settings(),
    run: { repository: 'acme/images', runUrl: 'https://github.com/acme/images/actions/runs/42' },
    regions: [region()],
    ...emptyReportLists(),
    errors: [],
    cancelled: false,
    ...overrides
  }
}

/** `count` instances in `regionName`, numbered from `first`, all with the same overrides. */
export function instances(count: number, overrides: Partial<InstanceFinding> = {}, first = 1): InstanceFinding[] {
  return Array.from({ length: count }, (_, i) => instance({ id: instanceId(first + i), ...overrides }))
}
