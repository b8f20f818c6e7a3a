import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeEach, describe, expect, it } from '@jest/globals'
import { expectNothingLinked, LINKY, renderGfm } from '../../../__fixtures__/gfm.js'
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
import { computeCost, priceKeyId, priceKeyOf, STORAGE_BASIS_NOTE } from '../../../src/model/cost.js'
import { COPIES_NOT_SWEPT, MARK_BUILDS_HINT } from '../../../src/kinds/images/rules.js'
import { formatAge, formatMaxAge, formatTime, oneLine } from '../../../src/model/format.js'
import { KIND_MODULES } from '../../../src/kinds/registry.js'
import {
  escapeForSummary,
  renderSummary,
  SUMMARY_MAX_BYTES,
  SUMMARY_MAX_ROWS,
  writeSummary
} from '../../../src/report/summary.js'
import { instanceId } from '../../../__fixtures__/support.js'

const HOSTILE = [
  '<img src=x onerror=alert(1)>',
  '](javascript:alert(1))',
  '[click](https://evil.example)',
  '<script>alert(1)</script>',
  '| a | b |',
  '`code` **bold** _em_ ~~gone~~ $x^2$',
  '"quoted" \'single\' & ampersand \\ backslash',
  'line\n\nbreak <b>after a blank line</b>',
  '<a href="javascript:alert(1)">x</a>'
]

/** The tags renderSummary itself writes; anything else came from a value. */
const OWN_TAGS = new Set(['h2', 'h3', 'h4', 'p', 'b', 'i', 'code', 'table', 'tr', 'th', 'td', 'ul', 'li'])

function tagsIn(html: string): string[] {
  return [...html.matchAll(/<\/?([a-zA-Z][a-zA-Z0-9]*)/g)].map((match) => (match[1] as string).toLowerCase())
}

/** An image whose every string from AWS is `value`, its cost unknown for that reason. */
const hostileImage = (value: string) =>
  imageLeftover({
    id: value,
    name: value,
    region: value,
    reason: value,
    image: {
      state: value,
      sourceInstanceId: value,
      snapshots: [{ id: value, sizeGiB: 8 }],
      copies: [{ id: value, region: value }],
      notes: [value],
      monthlyCost: { unknown: value }
    }
  })

/** A builder's volume whose every string from AWS is `value`, its cost unknown for that reason. */
const hostileVolume = (value: string) =>
  volumeLeftover({
    id: value,
    name: value,
    region: value,
    reason: value,
    volume: { instanceId: value, deviceName: value, state: value, volumeType: value, monthlyCost: { unknown: value } }
  })

describe('formatAge', () => {
  it.each([
    [0, '0s'],
    [45, '45s'],
    [60, '1m'],
    [61, '1m 1s'],
    [3600, '1h'],
    [3 * 3600 + 12 * 60 + 30, '3h 12m'],
    [2 * 86400 + 3600, '2d 1h'],
    [2 * 86400 + 5 * 60, '2d'], // "2d 5m" would hide the empty hour
    [400 * 86400, '400d'],
    [59.9, '59s'],
    [-5, '0s'],
    [Number.NaN, 'unknown']
  ])('%p s reads %p', (seconds, expected) => {
    expect(formatAge(seconds)).toBe(expected)
  })
})

describe('formatMaxAge', () => {
  it.each([
    [0, '0 (every match)'],
    [7200, '2h'],
    [5400, '1h 30m']
  ])('%p s reads %p', (seconds, expected) => {
    expect(formatMaxAge(seconds)).toBe(expected)
  })
})

describe('formatTime', () => {
  it.each([
    ['2026-03-01T08:48:31.000Z', '2026-03-01 08:48 UTC'],
    ['2026-03-01T10:48:31+02:00', '2026-03-01 08:48 UTC'],
    ['not a time', 'not a time']
  ])('%s reads %s', (iso, expected) => {
    expect(formatTime(iso)).toBe(expected)
  })
})

describe('oneLine', () => {
  it('turns every control character and line separator into a space', () => {
    expect(oneLine('a\nb\r\nc\td\u0000e\u2028f\u0085g')).toBe('a b c d e f g')
  })

  it('cuts long text by code point with an ellipsis', () => {
    expect(oneLine('😀'.repeat(10), 5)).toBe('😀😀😀😀…')
    expect(oneLine('short', 5)).toBe('short')
  })
})

describe('escapeForSummary', () => {
  it.each(HOSTILE)('leaves no markup in %j', (text) => {
    const escaped = escapeForSummary(text)
    expect(escaped).not.toMatch(/[<>"'`|[\]()*_~\\$\n]/)
    // Every & starts a character reference that GitHub shows as the character.
    expect(escaped).not.toMatch(/&(?!#\d+;)/)
  })

  it('escapes into references of the same characters', () => {
    expect(escapeForSummary('<a> & [b](c)')).toBe('&#60;a&#62; &#38; &#91;b&#93;&#40;c&#41;')
  })
})

describe('renderSummary', () => {
  it('says in one line that nothing was found, with the settings', () => {
    const html = renderSummary(
      KIND_MODULES,
      report({ regions: [region(), region({ region: 'us-east-1' }), region({ region: 'ap-south-1' })] })
    )
    expect(html).toContain('<p>No stale Packer resources in 3 regions.</p>')
    expect(html).toContain('Action <code>terminate</code>')
    expect(html).not.toContain('<table>')
  })

  it('has a heading with the counts and the settings', () => {
    const html = renderSummary(
      KIND_MODULES,
      report({
        settings: settings({ regions: ['eu-west-1', 'us-east-1'], 'dry-run': true, 'max-age': 5400 }),
        instances: [
          ...instances(2, { outcome: 'dry-run' }),
          instance({ id: instanceId(3), outcome: 'skipped', reason: 'carries the packer-sweeper:keep tag' })
        ]
      })
    )
    // The heading and the count line below it count the same 3 stale instances.
    expect(html).toContain('<h2>packer-sweeper: 3 stale Packer instances found &#40;dry run&#41;</h2>')
    expect(html).toContain('3 stale instances (2 dry-run, 1 skipped)')
    expect(html).toContain('max-age <code>1h 30m</code>')
    expect(html).toContain('regions <code>eu-west-1</code>, <code>us-east-1</code>')
    expect(html).toContain('<b>dry run</b>')
  })

  it('shows each instance in its region with name, key, launch time, human age, state and outcome', () => {
    const html = renderSummary(
      KIND_MODULES,
      report({
        regions: [region({ matched: 5, fresh: 3 }), region({ region: 'us-east-1', matched: 4, fresh: 4 })],
        instances: [
          instance({
            name: 'ubuntu build',
            outcome: 'failed',
            error: { code: 'OperationNotPermitted', message: 'may not be terminated' }
          }),
          instance({ id: instanceId(2), outcome: 'stopped', reason: 'already stopped', state: 'stopped' })
        ]
      })
    )
    expect(html).toContain(
      '<h4><code>eu-west-1</code></h4><p>2 stale instances of 5 matching, 3 younger than max-age</p>'
    )
    expect(html).toContain(
      '<tr><th>Instance</th><th>Name</th><th>Key</th><th>Launched</th><th>Age</th><th>State</th><th>Outcome</th></tr>'
    )
    expect(html).toContain(
      `<tr><td><code>${instanceId(1)}</code></td><td><code>ubuntu build</code></td><td><code>packer&#95;6745a1b2-0000-0000-0000-000000000000</code></td>` +
        '<td>2026-03-01 08:48 UTC</td><td>3h 12m</td><td><code>running</code></td><td>failed: <code>OperationNotPermitted: may not be terminated</code></td></tr>'
    )
    expect(html).toContain('<td>stopped <code>&#40;already stopped&#41;</code></td>')
    expect(html).toContain('<p>No stale instances in <code>us-east-1</code> (4 matching, 4 younger than max-age).</p>')
  })

  it('lists run errors and failed regions with the missing permission, named once', () => {
    const html = renderSummary(
      KIND_MODULES,
      report({
        errors: ['max-instances: 60 instances would be terminated'],
        regions: [
          region({
            status: 'failed',
            failures: [regionFailure({ message: 'denied', missingPermission: 'ec2:DescribeInstances' })]
          }),
          region({
            region: 'us-east-1',
            status: 'failed',
            failures: [
              regionFailure({
                message: 'denied (missing IAM permission ec2:DescribeInstances: see the policy)',
                missingPermission: 'ec2:DescribeInstances'
              })
            ]
          })
        ]
      })
    )
    expect(html).toContain(
      '<h3>Errors</h3><ul><li><code>max-instances: 60 instances would be terminated</code></li></ul>'
    )
    expect(html).toContain(
      '<li><code>eu-west-1</code>: nothing swept: instances failed: <code>UnauthorizedOperation: denied</code> (missing IAM permission <code>ec2:DescribeInstances</code>)</li>'
    )
    expect(html).toContain(
      '<li><code>us-east-1</code>: nothing swept: instances failed: <code>UnauthorizedOperation: denied &#40;missing IAM permission ec2:DescribeInstances: see the policy&#41;</code></li>'
    )
    expect(html).not.toContain('<p>No stale instances in')
  })

  it('a partly swept region names each kind that failed and why, and the kinds it swept; its builders keep their table', () => {
    const html = renderSummary(
      KIND_MODULES,
      report({
        settings: settings({ resources: ['instances', 'key-pairs', 'security-groups', 'instance-profiles'] }),
        regions: [
          region({
            status: 'partial',
            matched: 1,
            failures: [
              regionFailure({ kind: 'key-pairs', message: 'denied', missingPermission: 'ec2:DescribeKeyPairs' })
            ]
          })
        ],
        instances: [instance()]
      })
    )
    expect(html).toMatch(/^<h2>packer-sweeper: 1 stale Packer instance terminated, 1 region partly swept<\/h2>/)
    expect(html).toContain(
      '<h3>Regions with failures</h3><ul><li><code>eu-west-1</code>: partly swept: key pairs failed: <code>UnauthorizedOperation: denied</code> ' +
        '(missing IAM permission <code>ec2:DescribeKeyPairs</code>); instances, security groups swept</li></ul>'
    )
    expect(html).toContain(
      '<h4><code>eu-west-1</code></h4><p>1 stale instance of 1 matching, 0 younger than max-age</p>'
    )
    // Its quiet counts too: a partly swept region did read its instances.
    const quiet = renderSummary(
      KIND_MODULES,
      report({
        regions: [region({ status: 'partial', matched: 2, fresh: 2, failures: [regionFailure({ kind: 'key-pairs' })] })]
      })
    )
    expect(quiet).toContain('<p>No stale instances in <code>eu-west-1</code> (2 matching, 2 younger than max-age).</p>')
  })

  it('a region past its deadline says so, without claiming any kind was swept', () => {
    const timeout = regionFailure({
      kind: undefined,
      code: 'RegionTimeout',
      message: 'eu-west-1 was not swept within region-timeout (4m)'
    })
    const html = renderSummary(
      KIND_MODULES,
      report({
        regions: [region({ status: 'partial', failures: [timeout] })],
        instances: [instance({ outcome: 'unknown' })]
      })
    )
    expect(html).toContain(
      '<li><code>eu-west-1</code>: partly swept: <code>RegionTimeout: eu-west-1 was not swept within region-timeout &#40;4m&#41;</code></li>'
    )
  })

  it('has a section per kind of leftover that was found, and none for the others', () => {
    const html = renderSummary(
      KIND_MODULES,
      report({
        settings: settings({ resources: ['key-pairs', 'security-groups', 'launch-templates'] }),
        keyPairs: [orphan()],
        securityGroups: [
          orphan({
            kind: 'security-groups',
            id: 'sg-0abc',
            name: 'packer_6745a1b2',
            ageSource: 'unknown',
            ageSeconds: undefined,
            createdAt: undefined,
            outcome: 'skipped',
            reason: 'age unknown'
          })
        ]
      })
    )
    expect(html).toContain(
      '<h3>Key pairs</h3><table><tr><th>Key pair</th><th>Region</th><th>Created</th><th>Age</th><th>Outcome</th></tr>'
    )
    expect(html).toContain('<td>3h 12m &#40;from name&#41;</td><td>deleted</td>')
    expect(html).toContain('<td><code>eu-west-1</code></td><td>2026-03-01 08:48 UTC</td>')
    expect(html).toContain('<h3>Security groups</h3><table><tr><th>ID</th><th>Name</th>')
    expect(html).toContain(
      '<td><code>sg-0abc</code></td><td><code>packer&#95;6745a1b2</code></td><td><code>eu-west-1</code></td><td>unknown</td><td>unknown</td><td>skipped <code>&#40;age unknown&#41;</code></td>'
    )
    expect(html).not.toContain('Launch templates')
    expect(html).not.toContain('<h3>Instances</h3>')
  })

  it('IAM instance profiles and roles: one name column, region global, each step in the outcome; a dry run says the IAM permissions were not proven', () => {
    const name = 'packer-6745a1b2-0000-4000-8000-000000000000'
    const removed = iamLeftover({
      id: name,
      name,
      outcome: 'deleted',
      reason: 'role removed from the profile, inline policy deleted, role deleted, profile deleted',
      iam: { profile: true, role: name, inlinePolicies: [name], steps: [] }
    })
    const html = renderSummary(
      KIND_MODULES,
      report({ settings: settings({ resources: ['instance-profiles'] }), instanceProfiles: [removed] })
    )
    expect(html).toContain(
      '<h3>IAM instance profiles and roles</h3><table><tr><th>Name</th><th>Region</th><th>Created</th><th>Age</th><th>Outcome</th></tr>'
    )
    expect(html).toContain(
      `<td><code>packer-6745a1b2-0000-4000-8000-000000000000</code></td><td><code>global</code></td>`
    )
    expect(html).toContain(
      'deleted <code>&#40;role removed from the profile, inline policy deleted, role deleted, profile deleted&#41;</code>'
    )
    const dry = renderSummary(
      KIND_MODULES,
      report({
        settings: settings({ resources: ['instance-profiles'], 'dry-run': true }),
        instanceProfiles: [{ ...removed, outcome: 'dry-run' }]
      })
    )
    expect(dry).toContain(
      'the IAM permissions to remove instance profiles and roles were not proven (IAM has no DryRun)'
    )
    expect(
      renderSummary(
        KIND_MODULES,
        report({ settings: settings({ 'dry-run': true }), instances: [instance({ outcome: 'dry-run' })] })
      )
    ).not.toContain('IAM has no DryRun')
  })

  describe('images and volumes', () => {
    const hint = MARK_BUILDS_HINT
    const interrupted = imageLeftover({
      id: 'ami-0aaaaaaaaaaaaaaa1',
      name: 'packer-build-1',
      outcome: 'skipped',
      reason: hint,
      image: {
        snapshots: [
          { id: 'snap-1', sizeGiB: 8 },
          { id: 'snap-2', sizeGiB: 8 }
        ],
        copies: [{ id: 'ami-0bbbbbbbbbbbbbbb2', region: 'us-east-1' }],
        monthlyCost: { usdPerMonth: 0.8 }
      }
    })
    const pending = imageLeftover({
      id: 'ami-0ccccccccccccccc3',
      name: 'packer-build-2',
      outcome: 'skipped',
      reason: 'pending: left for a later sweep, once EC2 finishes or fails it',
      image: {
        state: 'pending',
        snapshots: [{ id: 'snap-3' }],
        monthlyCost: { unknown: 'the size of snap-3 is unknown' }
      }
    })
    const kept = volumeLeftover({ volume: { monthlyCost: { usdPerMonth: 1.6 } } })
    const resources = settings({ resources: ['instances', 'images', 'volumes'], 'estimate-cost': true })

    it('the images table: region, ID, name, state, class, snapshots, copies, cost and outcome; the hint to mark builds said once above it', () => {
      const html = renderSummary(KIND_MODULES, report({ settings: resources, images: [interrupted, pending] }))
      const section = html.slice(html.indexOf('<h3>Images</h3>'))
      expect(section).toContain(
        `<h3>Images</h3><p>${escapeForSummary(`Note: ${hint}.`)}</p><p>${escapeForSummary(`Note: ${COPIES_NOT_SWEPT}.`)}</p>`
      )
      expect(section).toContain(
        '<tr><th>ID</th><th>Name</th><th>Region</th><th>Created</th><th>Age</th><th>State</th><th>Class</th><th>Snapshots</th><th>Copies</th><th>Per month</th><th>Outcome</th></tr>'
      )
      expect(section).toContain(
        '<td><code>available</code></td><td>interrupted</td><td>2</td><td><code>ami-0bbbbbbbbbbbbbbb2 &#40;us-east-1&#41;</code></td><td>up to &#36;0.8000</td><td>skipped &#40;see the note above&#41;</td></tr>'
      )
      expect(section).toContain(
        '<td><code>pending</code></td><td>interrupted</td><td>1</td><td></td><td>unknown <code>&#40;the size of snap-3 is unknown&#41;</code></td><td>skipped <code>&#40;pending: left for a later sweep, once EC2 finishes or fails it&#41;</code></td>'
      )
      // Said once, not on every row.
      expect(html.split(escapeForSummary(hint)).length - 1).toBe(1)
    })

    it('with image-incomplete-tag set, no hint to mark builds; the copies’ limit is still said', () => {
      const html = renderSummary(
        KIND_MODULES,
        report({
          settings: settings({ ...resources, 'image-incomplete-tag': { key: 'packer-build', value: 'incomplete' } }),
          images: [{ ...interrupted, outcome: 'deleted', reason: undefined }]
        })
      )
      expect(html).not.toContain('image-incomplete-tag')
      expect(html).toContain(escapeForSummary(COPIES_NOT_SWEPT))
    })

    it('without estimate-cost, no cost column', () => {
      const unpriced = imageLeftover({ image: { monthlyCost: undefined } })
      const html = renderSummary(KIND_MODULES, report({ images: [unpriced] }))
      expect(html).not.toContain('<th>Per month</th>')
      expect(html).not.toContain('EBS storage')
    })

    it('the volumes table: region, volume ID, builder, device, size and type, cost and outcome', () => {
      const unread = volumeLeftover({
        id: 'vol-0bbbbbbbbbbbbbbb2',
        volume: {
          state: undefined,
          sizeGiB: undefined,
          volumeType: undefined,
          monthlyCost: { unknown: 'its size and type were not read' }
        }
      })
      const html = renderSummary(KIND_MODULES, report({ settings: resources, volumes: [kept, unread] }))
      const section = html.slice(html.indexOf('<h3>Volumes</h3>'))
      expect(section).toContain(
        '<h3>Volumes</h3><table><tr><th>ID</th><th>Name</th><th>Region</th><th>Created</th><th>Age</th><th>Builder</th><th>Device</th><th>Size</th><th>Per month</th><th>Outcome</th></tr>'
      )
      expect(section).toContain(
        `<td><code>${instanceId(1)}</code></td><td><code>/dev/xvda</code></td><td><code>20 GiB gp3</code></td><td>&#36;1.60</td><td>skipped <code>&#40;kept: delete-inherited-volumes is false&#41;</code></td>`
      )
      expect(section).toContain(
        '<td>not read</td><td>unknown <code>&#40;its size and type were not read&#41;</code></td>'
      )
    })

    it('the cost section says what the images’ snapshots (up to) and the volumes cost to keep, and what is unknown', () => {
      const html = renderSummary(
        KIND_MODULES,
        report({
          settings: resources,
          images: [interrupted, pending, { ...interrupted, id: 'ami-0ddddddddddddddd4', outcome: 'deleted' }],
          volumes: [kept],
          cost: computeCost([], new Map(), new Date('2026-03-01T12:00:00.000Z'))
        })
      )
      expect(html).toContain(
        `<li>${escapeForSummary('EBS storage still billed after this run: the images’ snapshots up to $0.8000 a month (1 image); the builders’ volumes $1.60 a month (1 volume)')}</li>`
      )
      expect(html).toContain(
        `<li>${escapeForSummary('EBS storage this run removed: the images’ snapshots up to $0.8000 a month (1 image)')}</li>`
      )
      expect(html).toContain(
        `<li>${escapeForSummary('Storage price unknown for 1 image')}: <code>the size of snap-3 is unknown</code></li>`
      )
      // Whole, not clipped like a value from AWS.
      expect(html).toContain(`<p><i>${escapeForSummary(STORAGE_BASIS_NOTE, Infinity)}</i></p>`)
    })
  })

  it.each(HOSTILE)('renders the hostile value %j as text only', (value) => {
    const html = renderSummary(
      KIND_MODULES,
      report({
        errors: [value],
        regions: [
          region({
            region: value,
            status: 'partial',
            failures: [regionFailure({ kind: 'key-pairs', code: value, message: value, missingPermission: value })]
          })
        ],
        instances: [
          instance({
            name: value,
            keyName: value,
            state: value,
            region: value,
            reason: value,
            error: { code: value, message: value }
          })
        ],
        keyPairs: [orphan({ id: value, name: value, region: value, reason: value })],
        launchTemplates: [orphan({ kind: 'launch-templates', id: value, name: value, createdAt: value })],
        images: [hostileImage(value)],
        volumes: [hostileVolume(value)],
        cost: computeCost([], new Map(), new Date('2026-03-01T12:00:00.000Z'))
      })
    )
    expect(html).toContain('<h3>Images</h3>')
    expect(html).toContain('<h3>Volumes</h3>')
    expect(html).toContain('Storage price unknown for 1 image, 1 volume')
    for (const tag of tagsIn(html)) expect(OWN_TAGS).toContain(tag)
    expect(html).not.toMatch(/[[\]`|]/)
    expect(html).not.toContain('javascript:alert(1))')
    // One HTML block: a blank line inside would end it and let the rest be read as Markdown.
    expect(html.trimEnd()).not.toContain('\n\n')
  })

  it('stays under 1 MiB with thousands of long hostile rows, and counts what it left out', () => {
    const name = '<img src=x onerror=alert(1)>|'.repeat(9).slice(0, 256)
    const many = report({
      errors: Array.from({ length: 60 }, () => name.repeat(10)),
      regions: [
        region({ matched: 6000 }),
        region({ region: 'us-east-1', matched: 3000 }),
        ...Array.from({ length: 30 }, (_, i) =>
          region({
            region: `xx-failed-${i}`,
            status: 'failed' as const,
            failures: [regionFailure({ code: 'AuthFailure', message: name.repeat(10) })]
          })
        )
      ],
      instances: [
        ...instances(6000, {
          name,
          keyName: name,
          reason: name,
          outcome: 'failed',
          error: { code: 'OperationNotPermitted', message: name.repeat(4) }
        }),
        ...instances(3000, { region: 'us-east-1', name }, 6001)
      ],
      keyPairs: Array.from({ length: 3000 }, (_, i) => orphan({ id: `packer_${i}`, name }))
    })
    const html = renderSummary(KIND_MODULES, many)
    expect(Buffer.byteLength(html)).toBeLessThan(SUMMARY_MAX_BYTES)

    const rows = (html.match(/<tr><td>/g) ?? []).length
    const omitted = [...html.matchAll(/<td colspan="\d+">… and (\d+) more/g)].reduce(
      (sum, match) => sum + Number(match[1]),
      0
    )
    expect(rows + omitted).toBe(12_000)
    expect(omitted).toBeGreaterThan(0)
    expect(html).toContain('<h3>Key pairs</h3>') // later sections keep their heading and count
  })

  it('shows at most SUMMARY_MAX_ROWS rows in total, then counts the rest', () => {
    const html = renderSummary(KIND_MODULES, report({ instances: instances(SUMMARY_MAX_ROWS + 500) }))
    expect((html.match(/<tr><td><code>/g) ?? []).length).toBe(SUMMARY_MAX_ROWS)
    expect(html).toContain('<tr><td colspan="7">… and 500 more</td></tr>')
  })

  it('says where the rows it left out are: the report file', () => {
    const html = renderSummary(
      KIND_MODULES,
      report({ instances: instances(SUMMARY_MAX_ROWS + 500), reportFile: '/runner/_temp/packer-sweeper-report-1.json' })
    )
    expect(html).toContain("The tables leave out 500 rows to stay under GitHub's 1 MiB")
    expect(html).toContain(
      '<code>report-file</code> output (<code>/runner/&#95;temp/packer-sweeper-report-1.json</code>)'
    )
    expect(renderSummary(KIND_MODULES, report({ instances: instances(3), reportFile: '/tmp/r.json' }))).not.toContain(
      'The tables leave out'
    )
  })

  it('a cancelled run is headed as cancelled, even with nothing found', () => {
    const html = renderSummary(
      KIND_MODULES,
      report({
        cancelled: true,
        instances: [instance({ outcome: 'notified', reason: 'not acted on: the job was cancelled first' })]
      })
    )
    expect(html).toMatch(/^<h2>packer-sweeper: cancelled: /)
    expect(html).toContain('<b>The job was cancelled</b>')
    expect(renderSummary(KIND_MODULES, report({ cancelled: true }))).toMatch(
      /^<h2>packer-sweeper: cancelled: no stale Packer resources in 1 region<\/h2>/
    )
  })
})

describe('nothing from AWS becomes a link or a mention', () => {
  // A mention is not GFM but GitHub's own filter: the test below checks where the text is instead.
  it.each(LINKY.filter((value) => !value.startsWith('@')))(
    'the renderer links %j in plain Markdown, so the test below means something',
    (value) => {
      expect(renderGfm(`Name: ${value}`)).toContain('<a ')
    }
  )

  it.each(LINKY)(
    '%j in a tag value, a name, a reason, an error and a failed region stays text inside <code>',
    (value) => {
      const lookup = { unknown: `AccessDeniedException: ${value}` }
      const priced = instance({ name: value })
      const html = renderSummary(
        KIND_MODULES,
        report({
          errors: [`Publishing failed: ${value}`],
          regions: [
            region({
              region: value,
              status: 'partial',
              failures: [regionFailure({ kind: 'key-pairs', message: value, missingPermission: value })]
            }),
            region({
              region: 'us-east-1',
              status: 'failed',
              failures: [regionFailure({ kind: undefined, code: 'RegionTimeout', message: value })]
            })
          ],
          instances: [
            instance({
              name: value,
              keyName: value,
              state: value,
              region: value,
              reason: value,
              error: { code: 'InternalError', message: value }
            }),
            instance({ id: instanceId(2), name: `build for ${value}`, launchTime: value })
          ],
          keyPairs: [orphan({ id: value, name: value, region: value, reason: value })],
          securityGroups: [
            orphan({
              kind: 'security-groups',
              id: 'sg-0abc',
              name: value,
              createdAt: value,
              error: { code: value, message: value }
            })
          ],
          images: [hostileImage(value)],
          volumes: [hostileVolume(value)],
          cost: computeCost(
            [priced],
            new Map([[priceKeyId(priceKeyOf(priced)), lookup]]),
            new Date('2026-03-01T12:00:00.000Z')
          )
        })
      )
      expectNothingLinked(html, [value])
    }
  )
})

describe('writeSummary', () => {
  // core.summary remembers the first file it wrote to: one file for all tests, emptied before each.
  const directory = mkdtempSync(join(tmpdir(), 'summary-'))
  const file = join(directory, 'step-summary.md')
  const saved = process.env.GITHUB_STEP_SUMMARY

  beforeEach(() => {
    writeFileSync(file, 'earlier content\n')
    process.env.GITHUB_STEP_SUMMARY = file
  })

  afterAll(() => {
    rmSync(directory, { recursive: true, force: true })
    if (saved === undefined) delete process.env.GITHUB_STEP_SUMMARY
    else process.env.GITHUB_STEP_SUMMARY = saved
  })

  it('appends the rendered summary to GITHUB_STEP_SUMMARY', async () => {
    const sample = report({ instances: instances(2) })
    await writeSummary(KIND_MODULES, sample)
    expect(readFileSync(file, 'utf8')).toBe(`earlier content\n${renderSummary(KIND_MODULES, sample)}\n`)
  })

  it('writes each summary once: nothing of an earlier one is left in the buffer', async () => {
    await writeSummary(KIND_MODULES, report({ instances: instances(1) }))
    const clean = report()
    await writeSummary(KIND_MODULES, clean)
    expect(readFileSync(file, 'utf8')).toBe(
      `earlier content\n${renderSummary(KIND_MODULES, report({ instances: instances(1) }))}\n${renderSummary(KIND_MODULES, clean)}\n`
    )
  })
})
