import { readFileSync } from 'node:fs'
import { beforeEach, describe, expect, it, jest } from '@jest/globals'
import { parse } from 'yaml'
import * as core from '../../../__fixtures__/core.js'
import {
  iamLeftover,
  imageLeftover,
  instance,
  instances,
  orphan,
  region,
  regionFailure,
  report,
  settings,
  volumeLeftover
} from '../../../__fixtures__/report.js'
import type { Outcome } from '../../../src/model/types.js'
import type { Report } from '../../../src/report/types.js'
import { instanceId } from '../../../__fixtures__/support.js'

jest.unstable_mockModule('@actions/core', () => core)
const {
  fitOutputs,
  headline,
  needsAttention,
  outputNames,
  OUTPUTS_BYTE_BUDGET,
  outputsWithoutReport,
  reportJsonWithin,
  stepFailures,
  writeOutputs
} = await import('../../../src/report/report.js')
const { KIND_MODULES } = await import('../../../src/kinds/registry.js')

/** An output's JSON array of IDs; an output that is not there fails the test. */
const parseIds = (json: string | undefined): string[] => {
  if (json === undefined) throw new Error('no such output')
  return JSON.parse(json) as string[]
}
type ReportOutput = Report & { truncated?: Record<string, number> }

describe('outputNames', () => {
  it('are exactly the outputs action.yml declares, in its order', () => {
    const yml = parse(readFileSync(new URL('../../../action.yml', import.meta.url), 'utf8')) as {
      outputs: Record<string, unknown>
    }
    expect(outputNames(KIND_MODULES)).toEqual(Object.keys(yml.outputs))
  })
})

/** Every output's value, as writeOutputs sets them. */
const outputsFor = (kinds: typeof KIND_MODULES, whole: Report) => fitOutputs(kinds, whole).values

describe('outputsFor', () => {
  it.each<[Outcome, { selected: boolean; acted: boolean; failed: boolean; skipped: boolean }]>([
    ['terminated', { selected: true, acted: true, failed: false, skipped: false }],
    ['stopped', { selected: true, acted: true, failed: false, skipped: false }],
    ['notified', { selected: true, acted: false, failed: false, skipped: false }],
    ['dry-run', { selected: true, acted: false, failed: false, skipped: false }],
    ['failed', { selected: true, acted: false, failed: true, skipped: false }],
    ['skipped', { selected: false, acted: false, failed: false, skipped: true }]
  ])('an instance %s is in instance-ids %p', (outcome, expected) => {
    const outputs = outputsFor(KIND_MODULES, report({ instances: [instance({ outcome })] }))
    const has = (name: 'instance-ids' | 'acted-ids' | 'failed-ids' | 'skipped-ids') =>
      parseIds(outputs[name]).includes(instanceId(1))
    expect({
      selected: has('instance-ids'),
      acted: has('acted-ids'),
      failed: has('failed-ids'),
      skipped: has('skipped-ids')
    }).toEqual(expected)
    expect(outputs.count).toBe(expected.selected ? '1' : '0')
  })

  it('sorts the ids of all regions together', () => {
    const outputs = outputsFor(
      KIND_MODULES,
      report({
        instances: [
          instance({ id: instanceId(3), region: 'us-east-1' }),
          instance({ id: instanceId(1), region: 'eu-west-1' }),
          instance({ id: instanceId(2), region: 'ap-south-1', outcome: 'failed' })
        ]
      })
    )
    expect(parseIds(outputs['instance-ids'])).toEqual([instanceId(1), instanceId(2), instanceId(3)])
    expect(parseIds(outputs['acted-ids'])).toEqual([instanceId(1), instanceId(3)])
    expect(parseIds(outputs['failed-ids'])).toEqual([instanceId(2)])
    expect(outputs.count).toBe('3')
  })

  it('lists the orphans of each kind that were not skipped, sorted', () => {
    const outputs = outputsFor(
      KIND_MODULES,
      report({
        keyPairs: [
          orphan({ id: 'packer_b' }),
          orphan({ id: 'packer_a', outcome: 'in-use' }),
          orphan({ id: 'packer_c', outcome: 'skipped' })
        ],
        securityGroups: [
          orphan({ kind: 'security-groups', id: 'sg-2', outcome: 'failed' }),
          orphan({ kind: 'security-groups', id: 'sg-1' })
        ],
        launchTemplates: [orphan({ kind: 'launch-templates', id: 'lt-1', outcome: 'notified' })],
        instanceProfiles: [
          iamLeftover({ id: 'packer-b', outcome: 'in-use' }),
          iamLeftover({ id: 'packer-c', outcome: 'skipped' }),
          iamLeftover({ id: 'packer-a', outcome: 'deleted' })
        ],
        images: [
          imageLeftover({ id: 'ami-2', outcome: 'dry-run' }),
          imageLeftover({ id: 'ami-3', outcome: 'skipped' }),
          imageLeftover({ id: 'ami-1', outcome: 'deleted' })
        ],
        volumes: [volumeLeftover({ id: 'vol-2' }), volumeLeftover({ id: 'vol-1', outcome: 'deleted' })]
      })
    )
    expect(parseIds(outputs['key-pairs'])).toEqual(['packer_a', 'packer_b'])
    expect(parseIds(outputs['security-groups'])).toEqual(['sg-1', 'sg-2'])
    expect(parseIds(outputs['launch-templates'])).toEqual(['lt-1'])
    expect(parseIds(outputs['instance-profiles'])).toEqual(['packer-a', 'packer-b'])
    expect(parseIds(outputs.images)).toEqual(['ami-1', 'ami-2'])
    expect(parseIds(outputs.volumes)).toEqual(['vol-1'])
    expect(parseIds(outputs['instance-ids'])).toEqual([])
  })

  it('has the whole report, round-tripping through JSON, when it is small', () => {
    const whole = report({ instances: instances(3), keyPairs: [orphan()], errors: ['something'] })
    expect(JSON.parse(outputsFor(KIND_MODULES, whole).report)).toEqual(whole)
  })

  it('cuts the resource lists of a report over the budget and says by how many, keeping the id lists whole', () => {
    const name = 'x'.repeat(250)
    const big = report({
      instances: instances(5000, { name }),
      keyPairs: Array.from({ length: 3 }, (_, i) => orphan({ id: `packer_${i}` }))
    })
    expect(Buffer.byteLength(JSON.stringify(big))).toBeGreaterThan(OUTPUTS_BYTE_BUDGET)

    const outputs = outputsFor(KIND_MODULES, big)
    const total = Object.values(outputs).reduce((sum, value) => sum + Buffer.byteLength(value), 0)
    expect(total).toBeLessThanOrEqual(OUTPUTS_BYTE_BUDGET)
    expect(parseIds(outputs['instance-ids'])).toHaveLength(5000)
    expect(parseIds(outputs['acted-ids'])).toHaveLength(5000)

    const cut = JSON.parse(outputs.report) as ReportOutput
    expect(cut.instances.length).toBeGreaterThan(1000)
    expect(cut.instances).toEqual(big.instances.slice(0, cut.instances.length))
    expect(cut.keyPairs).toEqual(big.keyPairs) // short lists stay whole
    expect(cut.truncated).toEqual({
      instances: 5000 - cut.instances.length,
      keyPairs: 0,
      securityGroups: 0,
      launchTemplates: 0,
      instanceProfiles: 0,
      images: 0,
      volumes: 0
    })
    expect(cut.settings).toEqual(big.settings)
  })

  it('keeps only counts in the report when the id lists alone fill the budget', () => {
    const huge = report({ instances: instances(25_000) })
    const cut = JSON.parse(outputsFor(KIND_MODULES, huge).report) as ReportOutput
    expect(cut.instances).toEqual([])
    expect(cut.truncated).toEqual({
      instances: 25_000,
      keyPairs: 0,
      securityGroups: 0,
      launchTemplates: 0,
      instanceProfiles: 0,
      images: 0,
      volumes: 0
    })
    expect(cut.regions).toEqual(huge.regions)
  })
})

describe('fitOutputs', () => {
  const reportFile = '/runner/_temp/packer-sweeper-report-42-1-7.json'

  it('everything fits: nothing shortened, outputs-truncated false, report-file named', () => {
    const { values, shortened } = fitOutputs(KIND_MODULES, report({ instances: instances(3), reportFile }))
    expect(shortened).toEqual([])
    expect(values['outputs-truncated']).toBe('false')
    expect(values['report-file']).toBe(reportFile)
  })

  it('30,000 acted instances: all outputs together within the budget; short lists whole, long ones cut; the report says where the rest is', () => {
    const failed = instances(20, { outcome: 'failed' }).map((finding, i) => ({
      ...finding,
      id: `i-f${String(i).padStart(16, '0')}`
    }))
    const big = report({ instances: [...instances(30_000), ...failed], keyPairs: [orphan()], reportFile })
    const { values, shortened } = fitOutputs(KIND_MODULES, big)
    const total = Object.values(values).reduce((sum, value) => sum + Buffer.byteLength(value), 0)
    expect(total).toBeLessThanOrEqual(OUTPUTS_BYTE_BUDGET)
    expect(values['outputs-truncated']).toBe('true')
    expect(shortened).toEqual(expect.arrayContaining(['instance-ids', 'acted-ids', 'report']))
    expect(shortened).not.toContain('failed-ids')
    expect(parseIds(values['failed-ids'])).toHaveLength(20)
    expect(parseIds(values['key-pairs'])).toHaveLength(1)
    const acted = parseIds(values['acted-ids'])
    expect(acted.length).toBeGreaterThan(5_000)
    expect(acted.length).toBeLessThan(30_000)
    expect(acted).toEqual([...acted].sort())
    expect(values.count).toBe('30020')
    const cut = JSON.parse(values.report) as ReportOutput
    expect(cut.reportFile).toBe(reportFile)
    expect(cut.truncated?.instances).toBe(30_020 - cut.instances.length)
  })

  it('writeOutputs warns naming what it shortened and where the whole report is', () => {
    core.warning.mockReset()
    core.setOutput.mockReset()
    writeOutputs(KIND_MODULES, report({ instances: instances(30_000), reportFile }))
    expect(core.warning).toHaveBeenCalledTimes(1)
    expect(core.warning.mock.calls[0]?.[0]).toMatch(
      new RegExp(
        `^Outputs shortened to stay within GitHub's 1 MB per job: .*instance-ids.*; the whole report is in ${reportFile.replace(/[.]/g, '\\.')} \\(output report-file\\)\\.$`
      )
    )
  })
})

describe('reportJsonWithin', () => {
  const sample = report({ instances: instances(40), securityGroups: [orphan({ kind: 'security-groups', id: 'sg-1' })] })
  const size = (json: string) => Buffer.byteLength(json)

  it('is the whole report when it fits exactly', () => {
    const whole = JSON.stringify(sample)
    expect(reportJsonWithin(sample, size(whole))).toBe(whole)
  })

  /** The report cut to `keep` entries per list, as the output shows it. */
  const keeping = (keep: number) =>
    JSON.stringify({
      ...sample,
      instances: sample.instances.slice(0, keep),
      keyPairs: [],
      securityGroups: sample.securityGroups.slice(0, keep),
      launchTemplates: [],
      instanceProfiles: [],
      truncated: {
        instances: Math.max(0, 40 - keep),
        keyPairs: 0,
        securityGroups: Math.max(0, 1 - keep),
        launchTemplates: 0,
        instanceProfiles: 0,
        images: 0,
        volumes: 0
      }
    })

  it.each([0, 1, 1000, 4000, 8000])(
    'keeps the most entries that fit in %i bytes more than the empty lists',
    (extra) => {
      const limit = size(keeping(0)) + extra
      const json = reportJsonWithin(sample, limit) as string
      expect(size(json)).toBeLessThanOrEqual(limit)
      const kept = (JSON.parse(json) as ReportOutput).instances.length
      expect(json).toBe(keeping(kept))
      expect(size(keeping(kept + 1))).toBeGreaterThan(limit)
    }
  )

  it('is undefined when not even the empty lists fit', () => {
    expect(reportJsonWithin(sample, 100)).toBeUndefined()
  })

  it('measures with the function it is given', () => {
    const whole = JSON.stringify(sample)
    expect(reportJsonWithin(sample, size(whole), (json) => size(json) * 2)).not.toBe(whole)
  })
})

describe('headline', () => {
  it.each<[string, Partial<Report>, string]>([
    ['nothing', { regions: [region(), region({ region: 'us-east-1' })] }, 'no stale Packer resources in 2 regions'],
    ['all terminated', { instances: instances(3) }, '3 stale Packer instances terminated'],
    ['one stopped', { instances: instances(1, { outcome: 'stopped' }) }, '1 stale Packer instance stopped'],
    ['reported only', { instances: instances(2, { outcome: 'notified' }) }, '2 stale Packer instances found'],
    [
      'mixed',
      { instances: [...instances(2), ...instances(1, { outcome: 'failed' }, 3)] },
      '3 stale Packer instances (2 terminated, 1 failed)'
    ],
    // One count of stale instances, as the summary's count line and the region tables give it: the skipped are stale too.
    [
      'skipped are counted with their part',
      { instances: [...instances(1), ...instances(2, { outcome: 'skipped' }, 2)] },
      '3 stale Packer instances (1 terminated, 2 skipped)'
    ],
    [
      'the demo run',
      {
        instances: [
          ...instances(2),
          ...instances(1, { outcome: 'failed' }, 3),
          ...instances(1, { outcome: 'skipped' }, 4)
        ],
        keyPairs: [orphan(), orphan({ id: 'k2' }), orphan({ id: 'k3', outcome: 'skipped' })]
      },
      '4 stale Packer instances (2 terminated, 1 failed, 1 skipped), 3 Packer leftovers (2 deleted, 1 skipped)'
    ],
    [
      'reported and skipped',
      { instances: [...instances(2, { outcome: 'notified' }), ...instances(1, { outcome: 'skipped' }, 3)] },
      '3 stale Packer instances found'
    ],
    ['only skipped', { instances: instances(2, { outcome: 'skipped' }) }, '2 stale Packer resources skipped'],
    [
      'leftovers',
      { keyPairs: [orphan()], securityGroups: [orphan({ kind: 'security-groups', id: 'sg-1' })] },
      '2 Packer leftovers deleted'
    ],
    [
      'leftovers in use',
      { keyPairs: [orphan(), orphan({ id: 'k2', outcome: 'in-use' })] },
      '2 Packer leftovers (1 deleted, 1 in-use)'
    ],
    ['failed region', { regions: [region({ status: 'failed', failures: [regionFailure()] })] }, '1 region failed'],
    [
      'partly swept regions',
      {
        instances: instances(1),
        regions: [
          region({ status: 'partial', failures: [regionFailure({ kind: 'key-pairs' })] }),
          region({ status: 'partial' })
        ]
      },
      '1 stale Packer instance terminated, 2 regions partly swept'
    ],
    [
      'run errors',
      { instances: instances(60, { outcome: 'notified' }), errors: ['max-instances: …'] },
      '60 stale Packer instances found, 1 error'
    ]
  ])('%s', (_, overrides, expected) => {
    expect(headline(report(overrides))).toBe(expected)
  })

  it('in brief drops words and the breakdown but never the failures', () => {
    const mixed = report({
      instances: [...instances(2), ...instances(1, { outcome: 'failed' }, 3)],
      keyPairs: [orphan(), orphan({ id: 'k2', outcome: 'in-use' })]
    })
    expect(headline(mixed, { brief: true })).toBe('3 stale instances (1 failed), 2 leftovers')
    expect(headline(report({ instances: instances(3) }), { brief: true })).toBe('3 stale instances terminated')
  })

  it('says dry run', () => {
    expect(
      headline(report({ settings: settings({ 'dry-run': true }), instances: instances(3, { outcome: 'dry-run' }) }))
    ).toBe('3 stale Packer instances found (dry run)')
  })
})

describe('needsAttention', () => {
  it.each<[string, Partial<Report>, boolean]>([
    ['a clean run', {}, false],
    [
      'only skipped findings',
      { instances: instances(1, { outcome: 'skipped' }), keyPairs: [orphan({ outcome: 'skipped' })] },
      false
    ],
    ['a reported instance', { instances: instances(1, { outcome: 'notified' }) }, true],
    ['a leftover in use', { keyPairs: [orphan({ outcome: 'in-use' })] }, true],
    ['a failed region', { regions: [region({ status: 'failed' })] }, true],
    [
      'a partly swept region',
      { regions: [region({ status: 'partial', failures: [regionFailure({ kind: 'key-pairs' })] })] },
      true
    ],
    ['a run error', { errors: ['no credentials'] }, true]
  ])('%s: %p', (_, overrides, expected) => {
    expect(needsAttention(report(overrides))).toBe(expected)
  })
})

describe('stepFailures', () => {
  it('a cancelled run fails, first; unknown outcomes fail, after the failed ones, named as such', () => {
    const failures = stepFailures(
      KIND_MODULES,
      report({
        cancelled: true,
        instances: [
          instance({ id: instanceId(1), outcome: 'failed', error: { code: 'OperationNotPermitted', message: 'x' } }),
          instance({ id: instanceId(2), outcome: 'unknown', error: { code: 'TimeoutError', message: 'y' } })
        ]
      })
    )
    expect(failures).toEqual([
      'The job was cancelled before the sweep finished; the report says what was done.',
      `1 instance failed: ${instanceId(1)} (OperationNotPermitted)`,
      `1 instance got no answer (outcome unknown): ${instanceId(2)} (TimeoutError)`
    ])
  })

  it('is empty for a run that did what it was asked, skips and leftovers in use included', () => {
    expect(
      stepFailures(
        KIND_MODULES,
        report({
          instances: [...instances(2), ...instances(1, { outcome: 'skipped' }, 3)],
          keyPairs: [orphan({ outcome: 'in-use' })]
        })
      )
    ).toEqual([])
  })

  it('lists run errors, failed regions, failed instances and failed leftovers, in that order', () => {
    const failures = stepFailures(
      KIND_MODULES,
      report({
        errors: ['max-instances: 60 instances would be terminated', 'fail-on-stale: stale resources were found'],
        regions: [
          region(),
          region({
            region: 'ap-east-1',
            status: 'failed',
            failures: [
              regionFailure({
                code: 'AuthFailure',
                message: 'AWS was not able to validate the provided access credentials'
              })
            ]
          }),
          region({ region: 'me-south-1', status: 'failed' })
        ],
        instances: [
          instance({ id: instanceId(1) }),
          instance({
            id: instanceId(2),
            outcome: 'failed',
            error: { code: 'OperationNotPermitted', message: 'may not be terminated' }
          }),
          instance({ id: instanceId(3), outcome: 'failed' })
        ],
        securityGroups: [
          orphan({
            kind: 'security-groups',
            id: 'sg-1',
            outcome: 'failed',
            error: { code: 'DependencyViolation', message: 'in use' }
          })
        ]
      })
    )
    expect(failures).toEqual([
      'max-instances: 60 instances would be terminated',
      'fail-on-stale: stale resources were found',
      'region ap-east-1: nothing swept: instances failed: AuthFailure: AWS was not able to validate the provided access credentials',
      'region me-south-1: nothing swept',
      `2 instances failed: ${instanceId(2)} (OperationNotPermitted), ${instanceId(3)} (no error recorded)`,
      '1 security group failed: sg-1 (DependencyViolation)'
    ])
  })

  it('keeps each failure on one line when names and messages from AWS hold line breaks', () => {
    const failures = stepFailures(
      KIND_MODULES,
      report({
        regions: [
          region({
            region: 'eu-west-1',
            status: 'failed',
            failures: [regionFailure({ code: 'InternalError', message: 'boom\r\n::error::pwned' })]
          })
        ],
        keyPairs: [
          orphan({ id: 'packer_x\n::add-mask::x', outcome: 'failed', error: { code: 'InternalError', message: 'no' } })
        ]
      })
    )
    expect(failures).toEqual([
      'region eu-west-1: nothing swept: instances failed: InternalError: boom ::error::pwned',
      '1 key pair failed: packer_x ::add-mask::x (InternalError)'
    ])
  })

  it('a partly swept region fails the step, naming each kind that failed and what was swept', () => {
    const resources = ['instances', 'key-pairs', 'security-groups', 'launch-templates', 'instance-profiles'] as const
    const failures = stepFailures(
      KIND_MODULES,
      report({
        settings: settings({ resources: [...resources] }),
        regions: [
          region({
            status: 'partial',
            failures: [
              regionFailure({ kind: 'key-pairs', message: 'no keys' }),
              regionFailure({ kind: 'launch-templates', code: 'RequestLimitExceeded', message: 'slow down' })
            ]
          }),
          region({
            region: 'us-east-1',
            status: 'partial',
            failures: [
              regionFailure({
                kind: undefined,
                code: 'RegionTimeout',
                message: 'us-east-1 was not swept within region-timeout (4m)'
              })
            ]
          })
        ],
        instances: instances(1)
      })
    )
    expect(failures).toEqual([
      'region eu-west-1: partly swept: key pairs failed: UnauthorizedOperation: no keys; launch templates failed: RequestLimitExceeded: slow down; instances, security groups swept',
      // The region's own failure says what was not done: no kind is claimed as swept.
      'region us-east-1: partly swept: RegionTimeout: us-east-1 was not swept within region-timeout (4m)'
    ])
  })

  it('names at most 20 failed ids per line and counts the rest', () => {
    const [line] = stepFailures(
      KIND_MODULES,
      report({
        instances: instances(25, { outcome: 'failed', error: { code: 'UnauthorizedOperation', message: 'no' } })
      })
    )
    expect(line).toMatch(/^25 instances failed: /)
    expect(line).toContain(instanceId(20))
    expect(line).not.toContain(instanceId(21))
    expect(line).toMatch(/, … and 5 more$/)
  })
})

describe('writeOutputs', () => {
  beforeEach(() => {
    core.setOutput.mockReset()
  })

  it('sets every output to what outputsFor says', () => {
    const sample = report({ instances: instances(2) })
    writeOutputs(KIND_MODULES, sample)
    expect(Object.fromEntries(core.setOutput.mock.calls)).toEqual(outputsFor(KIND_MODULES, sample))
    expect(core.setOutput).toHaveBeenCalledTimes(outputNames(KIND_MODULES).length)
  })

  it('sets every output, as parseable JSON, without a report', () => {
    writeOutputs(KIND_MODULES, undefined)
    const written = Object.fromEntries(core.setOutput.mock.calls) as Record<string, string>
    expect(written).toEqual(outputsWithoutReport(KIND_MODULES))
    expect(Object.keys(written)).toEqual(outputNames(KIND_MODULES))
    for (const [name, value] of Object.entries(written))
      if (name !== 'report-file') expect(() => JSON.parse(value)).not.toThrow()
  })
})
