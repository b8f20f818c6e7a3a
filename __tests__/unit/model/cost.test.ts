/**
 * The arithmetic of estimate-cost on a fixed fleet: exact figures per region and in total, and
 * the words the summary and notification show them with.
 */
import { describe, expect, it } from '@jest/globals'
import { instance } from '../../../__fixtures__/report.js'
import {
  computeCost,
  costLines,
  costParagraphs,
  costSummaryHtml,
  formatUsd,
  priceKeyId,
  priceKeysFor,
  type PriceLookup
} from '../../../src/model/cost.js'
import { escapeForSummary } from '../../../src/report/summary.js'
import type { InstanceFinding } from '../../../src/model/types.js'
import { instanceId, hoursBefore, NOW } from '../../../__fixtures__/support.js'

/** Six stale builders in two regions: On-Demand and spot, acted on or not, one stopped, one without a price. */
const FLEET: InstanceFinding[] = [
  instance({
    id: instanceId(1),
    region: 'us-east-1',
    instanceType: 't3.medium',
    launchTime: hoursBefore(NOW, 3).toISOString(),
    state: 'running',
    outcome: 'terminated'
  }),
  instance({
    id: instanceId(2),
    region: 'us-east-1',
    instanceType: 't3.medium',
    launchTime: hoursBefore(NOW, 5.5).toISOString(),
    state: 'running',
    outcome: 'failed'
  }),
  instance({
    id: instanceId(3),
    region: 'us-east-1',
    instanceType: 'm5.large',
    lifecycle: 'spot',
    availabilityZone: 'us-east-1b',
    launchTime: hoursBefore(NOW, 2).toISOString(),
    state: 'running',
    outcome: 'terminated'
  }),
  instance({
    id: instanceId(4),
    region: 'us-east-1',
    instanceType: 't3.micro',
    launchTime: hoursBefore(NOW, 26).toISOString(),
    state: 'stopped',
    outcome: 'terminated'
  }),
  instance({
    id: instanceId(5),
    region: 'eu-west-1',
    instanceType: 'c5.xlarge',
    launchTime: hoursBefore(NOW, 4).toISOString(),
    state: 'running',
    outcome: 'skipped'
  }),
  instance({
    id: instanceId(6),
    region: 'eu-west-1',
    instanceType: 'm5.large',
    launchTime: hoursBefore(NOW, 10).toISOString(),
    state: 'running',
    outcome: 'stopped'
  })
]

const PRICES = new Map<string, PriceLookup>([
  ['on-demand/us-east-1/t3.medium', { usdPerHour: 0.0416 }],
  ['spot/us-east-1/us-east-1b/m5.large', { usdPerHour: 0.035 }],
  [
    'on-demand/eu-west-1/c5.xlarge',
    { unknown: 'AccessDeniedException: not authorized to perform pricing:GetProducts' }
  ],
  ['on-demand/eu-west-1/m5.large', { usdPerHour: 0.107 }]
])

describe('priceKeysFor', () => {
  it('one key per type and region for On-Demand, per zone for spot; running builders only', () => {
    const more = [
      ...FLEET,
      instance({ id: instanceId(7), region: 'us-east-1', instanceType: 't3.medium', state: 'running' }),
      instance({
        id: instanceId(8),
        region: 'us-east-1',
        instanceType: 'm5.large',
        lifecycle: 'spot',
        availabilityZone: 'us-east-1c',
        state: 'running'
      })
    ]
    expect(priceKeysFor(more).map(priceKeyId)).toEqual([
      'on-demand/us-east-1/t3.medium',
      'spot/us-east-1/us-east-1b/m5.large',
      'on-demand/eu-west-1/c5.xlarge',
      'on-demand/eu-west-1/m5.large',
      'spot/us-east-1/us-east-1c/m5.large'
    ])
  })
})

describe('computeCost on a fixed fleet', () => {
  const cost = computeCost(FLEET, PRICES, NOW)

  it('per region: instance-hours, cost so far, the rate stopped and the rate still running', () => {
    expect(cost.regions).toEqual([
      {
        region: 'eu-west-1',
        running: 2,
        priceUnknown: 1,
        stopped: 0,
        instanceHours: 14,
        usdSoFar: 1.07,
        usdPerHourStopped: 0.107,
        usdPerMonthStopped: 78.11,
        usdPerHourStillRunning: 0
      },
      {
        region: 'us-east-1',
        running: 3,
        priceUnknown: 0,
        stopped: 1,
        instanceHours: 10.5,
        // 3 h × 0.0416 + 5.5 h × 0.0416 + 2 h × 0.035 (spot)
        usdSoFar: 0.4236,
        usdPerHourStopped: 0.0766,
        usdPerMonthStopped: 55.918,
        usdPerHourStillRunning: 0.0416
      }
    ])
  })

  it('in total, labelled as a USD list-price estimate', () => {
    expect(cost).toMatchObject({
      currency: 'USD',
      basis: 'list-price-estimate',
      asOf: NOW.toISOString(),
      running: 5,
      priceUnknown: 1,
      stopped: 1,
      instanceHours: 24.5,
      usdSoFar: 1.4936,
      usdPerHourStopped: 0.1836,
      usdPerMonthStopped: 134.028,
      usdPerHourStillRunning: 0.0416,
      unknown: ['AccessDeniedException: not authorized to perform pricing:GetProducts']
    })
  })

  it('lists each rate used once, with the builders it priced', () => {
    expect(cost.rates).toEqual([
      { region: 'eu-west-1', instanceType: 'c5.xlarge', source: 'on-demand', usdPerHour: null, instances: 1 },
      { region: 'eu-west-1', instanceType: 'm5.large', source: 'on-demand', usdPerHour: 0.107, instances: 1 },
      { region: 'us-east-1', instanceType: 't3.medium', source: 'on-demand', usdPerHour: 0.0416, instances: 2 },
      {
        region: 'us-east-1',
        instanceType: 'm5.large',
        source: 'spot',
        availabilityZone: 'us-east-1b',
        usdPerHour: 0.035,
        instances: 1
      }
    ])
  })

  it('a stopped builder is counted, never priced; a price missing from the map is unknown', () => {
    const stoppedOnly = computeCost([FLEET[3] as InstanceFinding], new Map(), NOW)
    expect(stoppedOnly).toMatchObject({ running: 0, stopped: 1, usdSoFar: 0, rates: [] })
    const unpriced = computeCost([FLEET[0] as InstanceFinding], new Map(), NOW)
    expect(unpriced).toMatchObject({ running: 1, priceUnknown: 1, instanceHours: 3, usdSoFar: 0 })
    expect(unpriced.unknown).toEqual(['no price was looked up for t3.medium in us-east-1 (On-Demand)'])
  })

  it('a launch time after now counts as no hours', () => {
    const future = instance({
      launchTime: hoursBefore(NOW, -1).toISOString(),
      instanceType: 't3.medium',
      region: 'us-east-1'
    })
    expect(computeCost([future], PRICES, NOW)).toMatchObject({ instanceHours: 0, usdSoFar: 0 })
  })
})

describe('words', () => {
  const cost = computeCost(FLEET, PRICES, NOW)

  it('formatUsd keeps four decimals under a dollar', () => {
    expect([formatUsd(0.0416), formatUsd(1.4936), formatUsd(134.028), formatUsd(0), formatUsd(1234.5)]).toEqual([
      '$0.0416',
      '$1.49',
      '$134.03',
      '$0.00',
      '$1,234.50'
    ])
  })

  it('costLines: one line per figure', () => {
    expect(costLines(cost, cost.unknown)).toEqual([
      '5 running builders had run 24.5 instance-hours: about $1.49 so far (4 priced)',
      'No longer running after this run: $0.1836 per hour (about $134.03 a month)',
      'Still running: $0.0416 per hour (about $30.37 a month)',
      '1 builder found stopped: not billed for compute',
      'Price unknown for 1 builder: AccessDeniedException: not authorized to perform pricing:GetProducts'
    ])
  })

  it('says what this run ended without saying "stopped", which would be wrong for a terminate run', () => {
    // The rate is the same whether the run stopped or terminated them: the words must fit both.
    const words = [...costLines(cost, cost.unknown), costSummaryHtml(cost, escapeForSummary, literal)].join('\n')
    expect(words).not.toMatch(/this run stopped|stopped by this run/i)
    expect(costSummaryHtml(cost, escapeForSummary, literal)).toContain(
      '<th>No longer running</th><th>Still running</th><th>Found stopped</th>'
    )
  })

  it('the notification paragraph, and none without a cost report', () => {
    expect(costParagraphs(undefined)).toEqual([])
    const [paragraph] = costParagraphs(cost)
    expect(paragraph?.split('\n').slice(0, 3)).toEqual([
      'What the leftovers cost (estimate):',
      '* 5 running builders had run 24.5 instance-hours: about $1.49 so far (4 priced)',
      '* No longer running after this run: $0.1836 per hour (about $134.03 a month)'
    ])
    expect(paragraph).toContain('list price')
  })

  const literal = (value: string) => `<code>${escapeForSummary(value)}</code>`

  it('the summary section: escaped, a row per region and a total', () => {
    expect(costSummaryHtml(undefined, escapeForSummary, literal)).toBe('')
    const html = costSummaryHtml(cost, escapeForSummary, literal)
    expect(html.startsWith('<h3>What the leftovers cost</h3>')).toBe(true)
    expect(html).not.toContain('\n')
    // `$` and parentheses are markup to GitHub's Markdown: escaped like every other value.
    expect(html).not.toContain('$')
    // Every line whole, each escaped on its own; the reasons for unknown prices as literals.
    for (const line of costLines(cost)) expect(html).toContain(`<li>${escapeForSummary(line)}`)
    expect(html).toContain(
      `<li>Price unknown for 1 builder: <code>${escapeForSummary(cost.unknown[0] ?? '')}</code></li>`
    )
    expect(html).toContain(
      '<td><code>us-east-1</code></td><td>3</td><td>10.5</td><td>&#36;0.4236</td><td>&#36;0.0766/h</td><td>&#36;0.0416/h</td><td>1</td><td>0</td>'
    )
    expect(html).toContain('<td>All regions</td><td>5</td><td>24.5</td><td>&#36;1.49</td>')
  })

  it('escapes what AWS said in an unknown price, and shows it as a literal', () => {
    const hostile = computeCost(
      [FLEET[0] as InstanceFinding],
      new Map([['on-demand/us-east-1/t3.medium', { unknown: '<img src=x onerror=alert(1)> @team' }]]),
      NOW
    )
    const html = costSummaryHtml(hostile, escapeForSummary, literal)
    expect(html).not.toContain('<img')
    expect(html).toContain(
      '<li>Price unknown for 1 builder: <code>&#60;img src=x onerror=alert&#40;1&#41;&#62; @team</code></li>'
    )
  })
})
