/**
 * estimate-cost through the bundle: exact figures for a fixed fleet in the report, the summary and
 * the SNS message; each price asked once; "price unknown" with one warning when GetProducts is
 * denied, and the step still succeeds; nothing priced (and the Pricing client never asked) without it.
 */
import { describe, expect, it } from '@jest/globals'
import { DEFAULT_TOPIC_ARN, packerName, type FleetSeed } from '../../sandbox/index.js'
import { sandboxPerTest } from './fleet.js'
import { runAction } from '../../sandbox/run-action.js'
import { expectExit } from './harness.js'

const { start } = sandboxPerTest()
const H = 3600

/**
 * us-east-1: an On-Demand t3.medium (3h) and a spot m5.large in us-east-1b (2h30m) to terminate, a
 * stopped t3.micro, and a c5.xlarge kept by the exclude tag (4h); eu-west-1: an m5.large (5h).
 */
function pricedFleet(): FleetSeed {
  const key = (age: number) => ({ keyName: packerName(age), ageSeconds: age })
  return {
    'us-east-1': {
      instances: [
        { ref: 'on-demand', ...key(3 * H), instanceType: 't3.medium' },
        { ref: 'spot', ...key(2.5 * H), instanceType: 'm5.large', lifecycle: 'spot', availabilityZone: 'us-east-1b' },
        { ref: 'stopped', ...key(26 * H), instanceType: 't3.micro', state: 'stopped' },
        { ref: 'kept', ...key(4 * H), instanceType: 'c5.xlarge', tags: { 'packer-sweeper:keep': 'debugging' } }
      ]
    },
    'eu-west-1': { instances: [{ ref: 'ireland', ...key(5 * H), instanceType: 'm5.large' }] }
  }
}

const inputs = {
  action: 'terminate',
  regions: 'us-east-1,eu-west-1',
  'estimate-cost': 'true',
  'sns-topic-arn': DEFAULT_TOPIC_ARN
}

/** The `default` (e-mail) text of the one message published. */
function publishedText(message: string | undefined): string {
  return String((JSON.parse(message ?? '{}') as { default?: unknown }).default ?? '')
}

describe('estimate-cost', () => {
  it('prices a fixed fleet: the hours run, their cost, the rate no longer running after the run, the rate still running', async () => {
    const s = await start({ fleet: pricedFleet(), topics: [DEFAULT_TOPIC_ARN] })
    const run = await runAction({ sandbox: s, inputs })
    expectExit(run, 0)

    const cost = run.report?.cost
    // Rates are exact; hours and money so far grow by the second or so the run took to start.
    // Stopped: 0.0416 (t3.medium) + 0.0385 (spot m5.large, us-east-1b) + 0.107 (m5.large, eu-west-1).
    expect(cost).toMatchObject({
      currency: 'USD',
      basis: 'list-price-estimate',
      running: 4,
      priceUnknown: 0,
      stopped: 1,
      usdPerHourStopped: 0.1871,
      usdPerMonthStopped: 136.583,
      usdPerHourStillRunning: 0.17,
      unknown: []
    })
    // 3 h × 0.0416 + 2.5 h × 0.0385 + 4 h × 0.17 + 5 h × 0.107
    expect(cost?.usdSoFar).toBeCloseTo(1.43605, 3)
    expect(cost?.instanceHours).toBeCloseTo(14.5, 2)
    expect(
      cost?.regions.map((region) => [region.region, region.running, region.stopped, region.usdPerHourStopped])
    ).toEqual([
      ['eu-west-1', 1, 0, 0.107],
      ['us-east-1', 3, 1, 0.0801]
    ])
    expect(cost?.rates).toEqual(
      expect.arrayContaining([
        {
          region: 'us-east-1',
          instanceType: 'm5.large',
          source: 'spot',
          availabilityZone: 'us-east-1b',
          usdPerHour: 0.0385,
          instances: 1
        }
      ])
    )

    // Once per type and region, once per zone for spot; the Pricing endpoint is us-east-1's.
    expect(s.callsOf('GetProducts').map((call) => call.region)).toEqual(['us-east-1', 'us-east-1', 'us-east-1'])
    expect(s.callsOf('DescribeSpotPriceHistory')).toMatchObject([
      { region: 'us-east-1', params: { AvailabilityZone: 'us-east-1b', 'InstanceType.1': 'm5.large' } }
    ])

    expect(run.summary).toContain('<h3>What the leftovers cost</h3>')
    expect(run.summary).toContain('<li>4 running builders had run 14.5 instance-hours: about &#36;1.44 so far</li>')
    expect(run.summary).toContain(
      '<li>No longer running after this run: &#36;0.1871 per hour &#40;about &#36;136.58 a month&#41;</li>'
    )
    expect(run.summary).toContain('<li>Still running: &#36;0.1700 per hour &#40;about &#36;124.10 a month&#41;</li>')
    expect(run.summary).toContain('<li>1 builder found stopped: not billed for compute</li>')

    const text = publishedText(s.published[0]?.message)
    expect(text).toContain(
      'What the leftovers cost (estimate):\n* 4 running builders had run 14.5 instance-hours: about $1.44 so far\n* No longer running after this run: $0.1871 per hour (about $136.58 a month)'
    )
    expect(run.log).not.toContain('::warning::Cost estimate')
  })

  it('GetProducts denied: On-Demand builders read "price unknown", spot ones are still priced, one warning, and the step succeeds', async () => {
    const s = await start({ fleet: pricedFleet(), topics: [DEFAULT_TOPIC_ARN] })
    s.faults.deny({ action: 'GetProducts' })
    const run = await runAction({ sandbox: s, inputs })
    expectExit(run, 0)

    expect(run.report?.cost).toMatchObject({
      running: 4,
      priceUnknown: 3,
      usdPerHourStopped: 0.0385,
      usdPerHourStillRunning: 0
    })
    expect(run.report?.cost?.unknown).toEqual([
      expect.stringMatching(/^AccessDeniedException: .*missing IAM permission pricing:GetProducts/)
    ])
    const warnings = run.stdout.split('\n').filter((line) => line.startsWith('::warning::'))
    expect(warnings.filter((line) => line.includes('Cost estimate'))).toHaveLength(1)
    expect(warnings.join('\n')).toContain('price unknown for 3 running builders')
    expect(run.summary).toContain('<li>Price unknown for 3 builders: <code>AccessDeniedException')
    // Asked once per key even when denied: no retry storm, no per-instance calls.
    expect(s.callsOf('GetProducts')).toHaveLength(3)
    expect(run.list('acted-ids')).toHaveLength(4)
  })

  it('off by default: no price is asked and the report has no cost', async () => {
    const s = await start({ fleet: pricedFleet() })
    const run = await runAction({ sandbox: s, inputs: { action: 'notify', regions: 'us-east-1,eu-west-1' } })
    expectExit(run, 0)
    expect(run.report?.cost).toBeUndefined()
    expect(s.calls.filter((call) => call.service === 'pricing' || call.action === 'DescribeSpotPriceHistory')).toEqual(
      []
    )
    expect(run.summary).not.toContain('What the leftovers cost')
  })
})
