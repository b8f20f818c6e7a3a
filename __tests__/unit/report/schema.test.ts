/**
 * The published schemas (schema/) against the source: the fixtures' reports and the notification
 * built from them match, the schemas reject what the source never writes, and every object the
 * schemas describe has exactly the keys (and required keys) of its source type, with enums equal to
 * the source's constants. A field added to a type fails the type-check here (its Shape literal),
 * and once it is added to that literal, the comparison with the schema; a field written without
 * being typed fails the end-to-end suites, which validate every run (__tests__/e2e/harness.ts).
 */
import { describe, expect, it, jest } from '@jest/globals'
import * as core from '../../../__fixtures__/core.js'
import {
  iamLeftover,
  imageLeftover,
  instance,
  instances,
  orphan,
  region,
  report,
  settings,
  volumeLeftover
} from '../../../__fixtures__/report.js'
import { NOW } from '../../../__fixtures__/support.js'
import type { CostReport, PriceSource, RateUsed } from '../../../src/model/cost.js'
import type { IamFinding, RemovalStep, RemovalStepOutcome } from '../../../src/kinds/instance-profiles/rules.js'
import type { ReportLists } from '../../../src/kinds/findings.js'
import type { NotificationJson } from '../../../src/report/notification.js'
import type { TruncatedCounts } from '../../../src/report/report.js'
import type {
  AwsErrorInfo,
  ImageFinding,
  InstanceFinding,
  OrphanFinding,
  RegionResult,
  RegionFailure,
  StorageCost,
  TagFilter,
  VolumeFinding
} from '../../../src/model/types.js'
import type { NotificationRecord, Report, ReportSettings, RunContext } from '../../../src/report/types.js'
import {
  expectMatchesSchema,
  expectValidSnsMessage,
  NOTIFICATION_SCHEMA,
  readSchemas,
  REPORT_SCHEMA,
  schemaAt,
  schemaErrors,
  schemaId,
  type SchemaNode
} from '../../schemas.js'

jest.unstable_mockModule('@actions/core', () => core)
const { buildNotifications, NOTIFICATION_KIND, NOTIFICATION_VERSION } =
  await import('../../../src/report/notification.js')
const { fitOutputs, reportJsonWithin } = await import('../../../src/report/report.js')
const { computeCost } = await import('../../../src/model/cost.js')
const { KIND_MODULES } = await import('../../../src/kinds/registry.js')
const { KIND_NAMES, REPORT_LISTS } = await import('../../../src/kinds/names.js')
const { IMAGE_CLASSES, INSTANCE_STATES, OUTCOMES, SWEEP_ACTIONS } = await import('../../../src/model/types.js')

const TOPIC = 'arn:aws:sns:eu-central-1:123456789012:packer-alerts'
const SCHEMAS = readSchemas()

/** A report that uses every field the report type has: every kind, every optional field, a failed region, the cost. */
function fullReport(): Report {
  const builders = [
    instance({ name: 'packer build', lifecycle: 'spot', availabilityZone: 'eu-west-1a', reason: 'already terminated' }),
    ...instances(
      1,
      {
        outcome: 'failed',
        error: { code: 'UnauthorizedOperation', message: 'no', missingPermission: 'ec2:TerminateInstances' }
      },
      2
    ),
    ...instances(1, { outcome: 'skipped', reason: 'carries the packer-sweeper:keep tag', state: 'stopped' }, 3)
  ]
  const prices = new Map([
    ['spot/eu-west-1/eu-west-1a/t3.micro', { usdPerHour: 0.0035 }],
    ['on-demand/eu-west-1/t3.micro', { unknown: 'AccessDeniedException' }]
  ])
  return report({
    settings: settings({
      resources: [...KIND_NAMES],
      tags: [{ key: 'github-run-id', value: '42*' }],
      'sns-topic-arn': TOPIC,
      'estimate-cost': true
    }),
    run: {
      repository: 'acme/images',
      runUrl: 'https://github.com/acme/images/actions/runs/42',
      actor: 'octocat',
      sha: 'a1b2c3',
      workflow: 'sweep'
    },
    regions: [
      region({ matched: 4, fresh: 1 }),
      region({ region: 'us-east-1', status: 'failed', failures: [{ code: 'RegionTimeout', message: 'silent' }] }),
      region({
        region: 'us-west-2',
        status: 'partial',
        failures: [
          {
            kind: 'key-pairs',
            code: 'UnauthorizedOperation',
            message: 'denied',
            missingPermission: 'ec2:DescribeKeyPairs'
          }
        ]
      })
    ],
    instances: builders,
    keyPairs: [
      orphan(),
      orphan({
        id: 'packer_x',
        name: 'packer_x',
        createdAt: undefined,
        ageSeconds: undefined,
        ageSource: 'unknown',
        outcome: 'skipped'
      })
    ],
    securityGroups: [
      orphan({
        kind: 'security-groups',
        id: 'sg-0123456789abcdef0',
        outcome: 'in-use',
        reason: 'in use by instance i-1'
      })
    ],
    launchTemplates: [
      orphan({ kind: 'launch-templates', id: 'lt-0123456789abcdef0', ageSource: 'create-time', outcome: 'unknown' })
    ],
    instanceProfiles: [
      iamLeftover({
        outcome: 'failed',
        iam: {
          profile: true,
          role: 'packer-6745a1b2-0000-4000-8000-000000000000',
          inlinePolicies: [],
          steps: [
            { step: 'remove-role-from-profile', outcome: 'done' },
            { step: 'delete-role', outcome: 'failed', error: { code: 'AccessDenied', message: 'denied' } }
          ]
        }
      })
    ],
    images: [
      imageLeftover({
        image: {
          origin: 'copy',
          sourceImageId: 'ami-0fedcba9876543210',
          sourceImageRegion: 'us-east-1',
          snapshots: [{ id: 'snap-1', sizeGiB: 8 }, { id: 'snap-2' }],
          copies: [{ id: 'ami-0aaaaaaaaaaaaaaaa', region: 'us-west-2' }],
          notes: ['snapshot snap-2 kept: another image uses it'],
          monthlyCost: { usdPerMonth: 0.4 }
        }
      }),
      imageLeftover({
        id: 'ami-0bbbbbbbbbbbbbbbb',
        outcome: 'failed',
        error: { code: 'UnauthorizedOperation', message: 'no', missingPermission: 'ec2:DeregisterImage' },
        image: { class: 'unknown', monthlyCost: { unknown: 'AccessDeniedException' } }
      })
    ],
    volumes: [
      volumeLeftover({ volume: { monthlyCost: { usdPerMonth: 1.6 } } }),
      volumeLeftover({
        id: 'vol-0bbbbbbbbbbbbbbbb',
        volume: { state: undefined, sizeGiB: undefined, volumeType: undefined, monthlyCost: { unknown: 'not read' } }
      })
    ],
    errors: ['max-resources: 7 resources would be changed, more than the cap of 5'],
    cancelled: true,
    reportFile: '/tmp/packer-sweeper-report-42-1-7.json',
    notification: { topicArn: TOPIC, parts: 2, published: 1, error: 'KMSDisabled: the key is disabled' },
    cost: computeCost(builders, prices, NOW)
  })
}

describe('the report schema', () => {
  it('describes the fixtures’ reports: an empty one, a full one, the cost present', () => {
    expectMatchesSchema(REPORT_SCHEMA, report(), 'an empty report')
    const full = fullReport()
    expect(full.cost?.rates.length).toBeGreaterThan(0)
    expectMatchesSchema(REPORT_SCHEMA, JSON.parse(JSON.stringify(full)), 'a full report')
  })

  it('describes the `report` output when it is cut to fit, `truncated` included', () => {
    const big = report({ instances: instances(500) })
    const cut = JSON.parse(reportJsonWithin(big, 20_000) ?? 'null') as { truncated?: TruncatedCounts }
    expect(cut.truncated?.instances).toBeGreaterThan(0)
    expectMatchesSchema(REPORT_SCHEMA, cut, 'the report cut to 20 kB')
    const outputs = fitOutputs(KIND_MODULES, big, 5_000)
    expect(outputs.values['outputs-truncated']).toBe('true')
    expectMatchesSchema(REPORT_SCHEMA, JSON.parse(outputs.values.report ?? 'null'), 'the report output within 5 kB')
  })

  it.each([
    [
      'an unknown top-level key',
      (r: Record<string, unknown>) => (r.extra = 1),
      '(root) must NOT have unevaluated properties'
    ],
    [
      'an unknown setting',
      (r: Record<string, unknown>) => ((r.settings as Record<string, unknown>)['new-input'] = true),
      '/settings must NOT have additional properties'
    ],
    [
      'an unknown outcome',
      (r: Record<string, unknown>) => ((r.instances as Record<string, unknown>[])[0]!.outcome = 'vanished'),
      '/instances/0/outcome must be equal to one of the allowed values'
    ],
    [
      'an unknown finding field',
      (r: Record<string, unknown>) => ((r.keyPairs as Record<string, unknown>[])[0]!.size = 1),
      '/keyPairs/0 must NOT have unevaluated properties'
    ],
    [
      'a finding in the wrong list',
      (r: Record<string, unknown>) => ((r.keyPairs as Record<string, unknown>[])[0]!.kind = 'security-groups'),
      '/keyPairs/0/kind must be equal to constant'
    ],
    [
      'a list missing',
      (r: Record<string, unknown>) => delete r.launchTemplates,
      "(root) must have required property 'launchTemplates'"
    ],
    ['another version', (r: Record<string, unknown>) => (r.version = 2), '/version must be equal to constant'],
    [
      'a time that is not ISO 8601',
      (r: Record<string, unknown>) => (r.startedAt = 'yesterday'),
      '/startedAt must match format "date-time"'
    ],
    [
      'an unknown image field',
      (r: Record<string, unknown>) => (((r.images as ImageFinding[])[0]!.image as Record<string, unknown>).size = 1),
      '/images/0/image must NOT have additional properties'
    ],
    [
      'a volume in the images list',
      (r: Record<string, unknown>) => ((r.images as Record<string, unknown>[])[0]!.kind = 'volumes'),
      '/images/0/kind must be equal to constant'
    ],
    [
      'a cost that is both a price and unknown',
      (r: Record<string, unknown>) =>
        ((r.volumes as VolumeFinding[])[0]!.volume.monthlyCost = { usdPerMonth: 1, unknown: 'x' } as StorageCost),
      '/volumes/0/volume/monthlyCost must match exactly one schema in oneOf'
    ],
    [
      'an unknown IAM step',
      (r: Record<string, unknown>) =>
        (((r.instanceProfiles as IamFinding[])[0]!.iam.steps[0] as { step: string }).step = 'detach'),
      '/instanceProfiles/0/iam/steps/0/step'
    ]
  ])('rejects %s', (_name, spoil, error) => {
    const spoilt = JSON.parse(JSON.stringify(fullReport())) as Record<string, unknown>
    spoil(spoilt)
    expect(schemaErrors(REPORT_SCHEMA, spoilt)).toContain(error)
  })
})

describe('the notification schema', () => {
  it('describes every part of buildNotifications’ message, the envelope and its JSON', () => {
    const single = buildNotifications(KIND_MODULES, fullReport(), TOPIC)
    expect(single).toHaveLength(1)
    expectValidSnsMessage(single[0]!.message, 'the message of a full report')
    const split = buildNotifications(
      KIND_MODULES,
      report({ instances: instances(3_000, { name: 'x'.repeat(60) }), errors: ['a run error'] }),
      TOPIC
    )
    expect(split.length).toBeGreaterThan(1)
    for (const notification of split)
      expectValidSnsMessage(notification.message, `part ${notification.part} of ${notification.parts}`)
  })

  it('rejects regions outside part 1, a missing protocol, and JSON that differs between protocols', () => {
    const [notification] = buildNotifications(KIND_MODULES, fullReport(), TOPIC)
    const envelope = JSON.parse(notification!.message) as Record<string, string>
    const json = JSON.parse(envelope.sqs!) as Record<string, unknown>
    expect(schemaErrors(NOTIFICATION_SCHEMA, { ...json, part: 2, parts: 2 })).toContain('must NOT be valid')
    expect(
      schemaErrors(NOTIFICATION_SCHEMA, { ...json, ids: { ...(json.ids as object), instances: { gone: ['i-1'] } } })
    ).toContain('/ids/instances')
    expect(
      schemaErrors(schemaId(NOTIFICATION_SCHEMA, '/$defs/envelope'), { default: 'text', sqs: envelope.sqs })
    ).toContain("required property 'lambda'")
    const differing = JSON.stringify({ ...envelope, https: JSON.stringify({ ...json, truncated: 1 }) })
    expect(() => expectValidSnsMessage(differing, 'a message')).toThrow('the https JSON differs from the sqs JSON')
  })
})

/**
 * Each key of T, with whether T requires it: a literal of this type must name every key of T and
 * no other, so a field added to (or removed from) a source type is a type error until it is listed.
 */
type Shape<T> = { [K in keyof T]-?: Record<never, never> extends Pick<T, K> ? 'optional' : 'required' }

/** The members of a string union, listed: a type error while one is missing. */
const members =
  <T extends string>() =>
  <const V extends readonly T[]>(
    values: V & ([Exclude<T, V[number]>] extends [never] ? unknown : never)
  ): readonly string[] =>
    values

const LIST_KEYS = Object.fromEntries(KIND_NAMES.map((name) => [REPORT_LISTS[name], 'required'])) as Shape<ReportLists>
const REPORT: Shape<Report & { truncated?: TruncatedCounts }> = {
  ...LIST_KEYS,
  version: 'required',
  startedAt: 'required',
  finishedAt: 'required',
  settings: 'required',
  run: 'required',
  regions: 'required',
  errors: 'required',
  cancelled: 'required',
  reportFile: 'optional',
  notification: 'optional',
  cost: 'optional',
  truncated: 'optional'
}
const SETTINGS: Shape<ReportSettings> = {
  'max-age': 'required',
  action: 'required',
  regions: 'required',
  resources: 'required',
  'key-name': 'required',
  tags: 'required',
  'instance-states': 'required',
  'exclude-tag': 'required',
  'delete-custom-key-pairs': 'required',
  'max-instances': 'required',
  'max-resources': 'required',
  'region-timeout': 'required',
  'dry-run': 'required',
  'sns-topic-arn': 'required',
  'role-to-assume': 'required',
  'role-session-name': 'required',
  audience: 'required',
  'fail-on-stale': 'required',
  'estimate-cost': 'required',
  'image-incomplete-tag': 'optional',
  'delete-inherited-volumes': 'required'
}
const TAG: Shape<TagFilter> = { key: 'required', value: 'required' }
const RUN: Shape<RunContext> = {
  repository: 'optional',
  runUrl: 'optional',
  actor: 'optional',
  sha: 'optional',
  workflow: 'optional'
}
const REGION: Shape<RegionResult> = {
  region: 'required',
  status: 'required',
  matched: 'required',
  fresh: 'required',
  failures: 'required'
}
const REGION_FAILURE: Shape<RegionFailure> = {
  kind: 'optional',
  code: 'required',
  message: 'required',
  missingPermission: 'optional'
}
const AWS_ERROR: Shape<AwsErrorInfo> = { code: 'required', message: 'required', missingPermission: 'optional' }
const INSTANCE: Shape<InstanceFinding> = {
  id: 'required',
  region: 'required',
  keyName: 'optional',
  name: 'optional',
  launchTime: 'required',
  ageSeconds: 'required',
  state: 'required',
  outcome: 'required',
  reason: 'optional',
  error: 'optional',
  instanceType: 'required',
  lifecycle: 'optional',
  availabilityZone: 'optional'
}
const LEFTOVER: Shape<OrphanFinding> = {
  kind: 'required',
  id: 'required',
  name: 'required',
  region: 'required',
  createdAt: 'optional',
  ageSource: 'required',
  ageSeconds: 'optional',
  outcome: 'required',
  reason: 'optional',
  error: 'optional'
}
const IAM_FINDING: Shape<IamFinding> = { ...LEFTOVER, iam: 'required' }
const IAM: Shape<IamFinding['iam']> = {
  profile: 'required',
  role: 'optional',
  inlinePolicies: 'required',
  steps: 'required'
}
const IMAGE_FINDING: Shape<ImageFinding> = { ...LEFTOVER, image: 'required' }
const IMAGE: Shape<ImageFinding['image']> = {
  state: 'required',
  class: 'required',
  origin: 'required',
  sourceInstanceId: 'optional',
  sourceImageId: 'optional',
  sourceImageRegion: 'optional',
  snapshots: 'required',
  copies: 'required',
  notes: 'required',
  monthlyCost: 'optional'
}
const SNAPSHOT: Shape<ImageFinding['image']['snapshots'][number]> = { id: 'required', sizeGiB: 'optional' }
const COPY: Shape<ImageFinding['image']['copies'][number]> = { id: 'required', region: 'required' }
const VOLUME_FINDING: Shape<VolumeFinding> = { ...LEFTOVER, volume: 'required' }
const VOLUME: Shape<VolumeFinding['volume']> = {
  instanceId: 'required',
  deviceName: 'required',
  state: 'optional',
  sizeGiB: 'optional',
  volumeType: 'optional',
  monthlyCost: 'optional'
}
/** Each branch of a StorageCost: a price, or why there is none. */
const PRICED: Shape<Extract<StorageCost, { usdPerMonth: number }>> = { usdPerMonth: 'required' }
const UNPRICED: Shape<Extract<StorageCost, { unknown: string }>> = { unknown: 'required' }
const IAM_STEP: Shape<RemovalStepOutcome> = { step: 'required', outcome: 'required', error: 'optional' }
const NOTIFICATION_RECORD: Shape<NotificationRecord> = {
  topicArn: 'required',
  parts: 'required',
  published: 'required',
  error: 'optional'
}
const COST_FIGURES = {
  running: 'required',
  priceUnknown: 'required',
  stopped: 'required',
  instanceHours: 'required',
  usdSoFar: 'required',
  usdPerHourStopped: 'required',
  usdPerMonthStopped: 'required',
  usdPerHourStillRunning: 'required'
} as const
const COST: Shape<CostReport> = {
  ...COST_FIGURES,
  currency: 'required',
  basis: 'required',
  asOf: 'required',
  regions: 'required',
  rates: 'required',
  unknown: 'required'
}
const COST_REGION: Shape<CostReport['regions'][number]> = { ...COST_FIGURES, region: 'required' }
const RATE: Shape<RateUsed> = {
  region: 'required',
  instanceType: 'required',
  source: 'required',
  availabilityZone: 'optional',
  usdPerHour: 'required',
  instances: 'required'
}
const TRUNCATED: Shape<TruncatedCounts> = LIST_KEYS as Shape<TruncatedCounts>
const NOTIFICATION: Shape<NotificationJson> = {
  kind: 'required',
  version: 'required',
  runId: 'required',
  part: 'required',
  parts: 'required',
  ids: 'required',
  totals: 'required',
  headline: 'required',
  startedAt: 'required',
  finishedAt: 'required',
  run: 'required',
  settings: 'required',
  regions: 'optional',
  errors: 'optional',
  findings: 'required',
  truncated: 'required'
}
const PER_LIST: Shape<NotificationJson['ids']> = LIST_KEYS as Shape<NotificationJson['ids']>

const resolve = (file: string, ref: string) => schemaAt(SCHEMAS, file, ref)

/** The properties an object schema describes, and the required ones, following its `$ref`s. */
function shapeOf(file: string, node: SchemaNode): Record<string, 'required' | 'optional'> {
  const referred = typeof node.$ref === 'string' ? resolve(file, node.$ref) : undefined
  const base = referred ? shapeOf(referred.file, referred.node) : {}
  const required = new Set([
    ...Object.entries(base).flatMap(([key, need]) => (need === 'required' ? [key] : [])),
    ...((node.required as string[]) ?? [])
  ])
  const keys = [...Object.keys(base), ...Object.keys((node.properties as SchemaNode) ?? {})]
  return Object.fromEntries([...new Set(keys)].sort().map((key) => [key, required.has(key) ? 'required' : 'optional']))
}

const enumAt = (file: string, pointer: string) => {
  const node = resolve(file, pointer).node
  return (node.enum as unknown[] | undefined) ?? [node.const]
}

describe('the schemas follow the source', () => {
  it.each([
    [REPORT_SCHEMA, '#', REPORT],
    [REPORT_SCHEMA, '#/$defs/settings', SETTINGS],
    [REPORT_SCHEMA, '#/$defs/tagFilter', TAG],
    [REPORT_SCHEMA, '#/$defs/runContext', RUN],
    [REPORT_SCHEMA, '#/$defs/regionResult', REGION],
    [REPORT_SCHEMA, '#/$defs/regionFailure', REGION_FAILURE],
    [REPORT_SCHEMA, '#/$defs/awsError', AWS_ERROR],
    [REPORT_SCHEMA, '#/$defs/instanceFinding', INSTANCE],
    [REPORT_SCHEMA, '#/$defs/leftoverFinding', LEFTOVER],
    [REPORT_SCHEMA, '#/$defs/iamFinding', IAM_FINDING],
    [REPORT_SCHEMA, '#/$defs/iamFinding/properties/iam', IAM],
    [REPORT_SCHEMA, '#/$defs/iamRemovalStep', IAM_STEP],
    [REPORT_SCHEMA, '#/$defs/imageFinding', IMAGE_FINDING],
    [REPORT_SCHEMA, '#/$defs/imageFinding/properties/image', IMAGE],
    [REPORT_SCHEMA, '#/$defs/imageFinding/properties/image/properties/snapshots/items', SNAPSHOT],
    [REPORT_SCHEMA, '#/$defs/imageFinding/properties/image/properties/copies/items', COPY],
    [REPORT_SCHEMA, '#/$defs/volumeFinding', VOLUME_FINDING],
    [REPORT_SCHEMA, '#/$defs/volumeFinding/properties/volume', VOLUME],
    [REPORT_SCHEMA, '#/$defs/storageCost/oneOf/0', PRICED],
    [REPORT_SCHEMA, '#/$defs/storageCost/oneOf/1', UNPRICED],
    [REPORT_SCHEMA, '#/$defs/notificationRecord', NOTIFICATION_RECORD],
    [REPORT_SCHEMA, '#/$defs/costReport', COST],
    [REPORT_SCHEMA, '#/$defs/costReport/properties/regions/items', COST_REGION],
    [REPORT_SCHEMA, '#/$defs/costRate', RATE],
    [REPORT_SCHEMA, '#/$defs/truncatedCounts', TRUNCATED],
    [REPORT_SCHEMA, '#/$defs/resourceLists', LIST_KEYS],
    [NOTIFICATION_SCHEMA, '#', NOTIFICATION],
    [NOTIFICATION_SCHEMA, '#/properties/ids', PER_LIST],
    [NOTIFICATION_SCHEMA, '#/properties/totals', PER_LIST],
    [NOTIFICATION_SCHEMA, '#/properties/findings', PER_LIST]
  ])('%s%s has exactly the keys of its type, required where the type requires them', (file, pointer, shape) => {
    expect(shapeOf(file, resolve(file, pointer).node)).toEqual(shape)
  })

  it.each([
    ['#/$defs/outcome', OUTCOMES],
    ['#/$defs/kind', KIND_NAMES],
    ['#/$defs/action', SWEEP_ACTIONS],
    ['#/$defs/instanceState', INSTANCE_STATES],
    ['#/$defs/regionStatus', members<RegionResult['status']>()(['ok', 'partial', 'failed'])],
    [
      '#/$defs/leftoverFields/properties/ageSource',
      members<OrphanFinding['ageSource']>()(['name', 'create-time', 'unknown'])
    ],
    [
      '#/$defs/iamRemovalStep/properties/step',
      members<RemovalStep>()([
        'remove-role-from-profile',
        'delete-role-policy',
        'delete-role',
        'delete-instance-profile'
      ])
    ],
    [
      '#/$defs/iamRemovalStep/properties/outcome',
      members<RemovalStepOutcome['outcome']>()(['done', 'already-gone', 'failed', 'unknown'])
    ],
    ['#/$defs/imageFinding/properties/image/properties/class', IMAGE_CLASSES],
    [
      '#/$defs/imageFinding/properties/image/properties/origin',
      members<ImageFinding['image']['origin']>()(['builder', 'tags', 'copy'])
    ],
    ['#/$defs/costRate/properties/source', members<PriceSource>()(['on-demand', 'spot'])],
    ['#/$defs/costReport/properties/currency', members<CostReport['currency']>()(['USD'])],
    ['#/$defs/costReport/properties/basis', members<CostReport['basis']>()(['list-price-estimate'])],
    ['#/properties/version', [report().version]]
  ])('report %s lists exactly the values of the source', (pointer, values) => {
    expect(enumAt(REPORT_SCHEMA, pointer)).toEqual([...values])
  })

  it('the notification’s kind and version are the source’s', () => {
    expect(enumAt(NOTIFICATION_SCHEMA, '#/properties/kind')).toEqual([NOTIFICATION_KIND])
    expect(enumAt(NOTIFICATION_SCHEMA, '#/properties/version')).toEqual([NOTIFICATION_VERSION])
  })

  it('every kind of the registry has its list, in registry order, holding findings of that kind only', () => {
    const lists = resolve(REPORT_SCHEMA, '#/$defs/resourceLists').node.properties as Record<string, SchemaNode>
    expect(Object.keys(lists)).toEqual(KIND_MODULES.map((kind) => REPORT_LISTS[kind.name]))
    for (const kind of KIND_MODULES) {
      const list = REPORT_LISTS[kind.name]
      const items = lists[list]?.items as SchemaNode
      // The builders' findings carry no kind: their list says it.
      expect({ list, kind: resolveKind(items) }).toEqual({
        list,
        kind: kind.engine === 'builders' ? undefined : kind.name
      })
    }
  })
})

/** The `kind` a list's items are held to: their own `const`, or that of the schema they refer to. */
function resolveKind(items: SchemaNode): unknown {
  const own = ((items.properties as Record<string, SchemaNode> | undefined)?.kind as SchemaNode | undefined)?.const
  if (own !== undefined || typeof items.$ref !== 'string') return own
  return resolveKind(resolve(REPORT_SCHEMA, items.$ref).node)
}
