import { describe, expect, it } from '@jest/globals'
import { DescribeRegionsCommand } from '@aws-sdk/client-ec2'
import 'aws-sdk-client-mock-jest'
import { POLICY_HINT } from '../../../src/aws/errors.js'
import {
  FALLBACK_HOME_REGION,
  homeRegion,
  isKnownRegion,
  nearestName,
  resolveRegions,
  suggestRegion
} from '../../../src/aws/regions.js'
import { ec2Error, useMockedEc2 } from '../../../__fixtures__/support.js'

const ec2 = useMockedEc2()
const ec2Mock = ec2.mock

describe('resolveRegions', () => {
  it.each([[['us-east-1']], [['eu-west-1', 'us-east-1']], [['us-west-2', 'ap-southeast-7', 'eu-central-1']]])(
    'an explicit list %j passes through as given, without a call',
    async (regions) => {
      await expect(resolveRegions({ regions }, ec2.client())).resolves.toEqual(regions)
      expect(ec2Mock.calls()).toHaveLength(0)
    }
  )

  describe('a name the SDK does not know: one DescribeRegions (AllRegions) before anything is swept', () => {
    const ACCOUNT_REGIONS = [
      { RegionName: 'us-east-1', OptInStatus: 'opt-in-not-required' },
      { RegionName: 'us-east-2', OptInStatus: 'opt-in-not-required' },
      { RegionName: 'eu-west-1', OptInStatus: 'opt-in-not-required' },
      { RegionName: 'ap-southeast-9', OptInStatus: 'opted-in' },
      { RegionName: 'mx-west-7' }, // no status: enabled
      { RegionName: 'ap-east-9', OptInStatus: 'not-opted-in' }
    ]

    it.each([[['ap-southeast-9']], [['us-east-1', 'ap-southeast-9', 'mx-west-7']]])(
      '%j: listed and enabled → swept as given',
      async (regions) => {
        ec2Mock.on(DescribeRegionsCommand).resolves({ Regions: ACCOUNT_REGIONS })
        await expect(resolveRegions({ regions }, ec2.client())).resolves.toEqual(regions)
        expect(ec2Mock).toHaveReceivedCommandTimes(DescribeRegionsCommand, 1)
        expect(ec2Mock).toHaveReceivedCommandWith(DescribeRegionsCommand, { AllRegions: true })
      }
    )

    it('a typo shaped like a region: refused with the nearest name the account has', async () => {
      ec2Mock.on(DescribeRegionsCommand).resolves({ Regions: ACCOUNT_REGIONS })
      await expect(resolveRegions({ regions: ['us-east-1', 'us-esat-1'] }, ec2.client())).rejects.toThrow(
        'regions: "us-esat-1" is not a region: DescribeRegions does not list it for this account. Did you mean us-east-1?'
      )
    })

    it('listed but not opted in: refused as not enabled for this account', async () => {
      ec2Mock.on(DescribeRegionsCommand).resolves({ Regions: ACCOUNT_REGIONS })
      await expect(resolveRegions({ regions: ['ap-east-9'] }, ec2.client())).rejects.toThrow(
        'regions: "ap-east-9" is not enabled for this account (opt-in status not-opted-in). Enable it, or leave it out of regions.'
      )
    })

    it('every unknown name is judged, one line each', async () => {
      ec2Mock.on(DescribeRegionsCommand).resolves({ Regions: ACCOUNT_REGIONS })
      const error = await resolveRegions(
        { regions: ['us-esat-1', 'ap-southeast-9', 'ap-east-9', 'eu-wset-1'] },
        ec2.client()
      ).catch((caught: unknown) => caught as Error)
      expect((error as Error).message.split('\n')).toEqual([
        'regions: "us-esat-1" is not a region: DescribeRegions does not list it for this account. Did you mean us-east-1?',
        'regions: "ap-east-9" is not enabled for this account (opt-in status not-opted-in). Enable it, or leave it out of regions.',
        'regions: "eu-wset-1" is not a region: DescribeRegions does not list it for this account. Did you mean eu-west-1?'
      ])
    })

    it('the lookup denied: refused with the reason, the missing permission and the offline guess', async () => {
      ec2Mock
        .on(DescribeRegionsCommand)
        .rejects(ec2Error('UnauthorizedOperation', 'You are not authorized to perform this operation.'))
      await expect(resolveRegions({ regions: ['us-east-1', 'us-esat-1'] }, ec2.client())).rejects.toThrow(
        'regions: "us-esat-1" is not a region this version of packer-sweeper knows (did you mean us-east-1?), and looking it up failed: ' +
          `UnauthorizedOperation: You are not authorized to perform this operation. (missing IAM permission ec2:DescribeRegions: ${POLICY_HINT})`
      )
    })

    it('the lookup failed otherwise: refused with that reason', async () => {
      ec2Mock.on(DescribeRegionsCommand).rejects(ec2Error('RequestLimitExceeded', 'Request limit exceeded.'))
      await expect(resolveRegions({ regions: ['mx-west-7'] }, ec2.client())).rejects.toThrow(
        'regions: "mx-west-7" is not a region this version of packer-sweeper knows, and looking it up failed: RequestLimitExceeded: Request limit exceeded.'
      )
    })

    it('an answer without names refuses rather than sweeps', async () => {
      ec2Mock.on(DescribeRegionsCommand).resolves({})
      await expect(resolveRegions({ regions: ['ap-southeast-9'] }, ec2.client())).rejects.toThrow(
        'regions: "ap-southeast-9" is not a region: DescribeRegions does not list it for this account.'
      )
    })
  })

  it('all: DescribeRegions without AllRegions, sorted, regions not opted in dropped', async () => {
    ec2Mock.on(DescribeRegionsCommand).resolves({
      Regions: [
        { RegionName: 'us-west-2', OptInStatus: 'opt-in-not-required', Endpoint: 'ec2.us-west-2.amazonaws.com' },
        { RegionName: 'ap-east-1', OptInStatus: 'opted-in' },
        { RegionName: 'af-south-1', OptInStatus: 'not-opted-in' },
        { RegionName: 'eu-west-1', OptInStatus: 'opt-in-not-required' },
        { RegionName: 'us-east-1' }, // no status: enabled
        { OptInStatus: 'opt-in-not-required' } // no name: nothing to sweep
      ]
    })
    await expect(resolveRegions({ regions: 'all' }, ec2.client())).resolves.toEqual([
      'ap-east-1',
      'eu-west-1',
      'us-east-1',
      'us-west-2'
    ])
    expect(ec2Mock).toHaveReceivedCommandTimes(DescribeRegionsCommand, 1)
    expect(ec2Mock).toHaveReceivedCommandWith(DescribeRegionsCommand, { AllRegions: false })
    expect(ec2Mock.commandCalls(DescribeRegionsCommand)[0]?.args[0].input).not.toHaveProperty('RegionNames')
  })

  it('all without permission: the error names ec2:DescribeRegions', async () => {
    ec2Mock
      .on(DescribeRegionsCommand)
      .rejects(ec2Error('UnauthorizedOperation', 'You are not authorized to perform this operation.'))
    await expect(resolveRegions({ regions: 'all' }, ec2.client())).rejects.toThrow(
      `regions: all could not be resolved: UnauthorizedOperation: You are not authorized to perform this operation. (missing IAM permission ec2:DescribeRegions: ${POLICY_HINT})`
    )
  })

  it('all with another failure: the error says so, without blaming a permission', async () => {
    ec2Mock
      .on(DescribeRegionsCommand)
      .rejects(ec2Error('AuthFailure', 'AWS was not able to validate the provided access credentials'))
    const error = await resolveRegions({ regions: 'all' }, ec2.client()).catch((caught: unknown) => caught as Error)
    expect(error).toBeInstanceOf(Error)
    expect((error as Error).message).toBe(
      'regions: all could not be resolved: AuthFailure: AWS was not able to validate the provided access credentials'
    )
  })

  it.each([
    ['no Regions', {}],
    ['an empty list', { Regions: [] }],
    ['only regions not opted in', { Regions: [{ RegionName: 'af-south-1', OptInStatus: 'not-opted-in' }] }]
  ])('all with %s: an error rather than a sweep of nothing', async (_title, answer) => {
    ec2Mock.on(DescribeRegionsCommand).resolves(answer)
    await expect(resolveRegions({ regions: 'all' }, ec2.client())).rejects.toThrow(
      'regions: all could not be resolved: Error: DescribeRegions listed no enabled region'
    )
  })
})

describe('homeRegion: where STS and DescribeRegions are called', () => {
  it.each<[string, string[] | 'all', Record<string, string | undefined>, string]>([
    ['the job region first', ['eu-west-1'], { AWS_REGION: 'us-west-2' }, 'us-west-2'],
    ['AWS_DEFAULT_REGION when AWS_REGION is unset', ['eu-west-1'], { AWS_DEFAULT_REGION: 'ap-south-1' }, 'ap-south-1'],
    [
      'AWS_REGION before AWS_DEFAULT_REGION',
      ['eu-west-1'],
      { AWS_REGION: 'us-west-2', AWS_DEFAULT_REGION: 'ap-south-1' },
      'us-west-2'
    ],
    [
      'an empty AWS_REGION does not count',
      ['eu-west-1'],
      { AWS_REGION: '', AWS_DEFAULT_REGION: 'ap-south-1' },
      'ap-south-1'
    ],
    ['no job region: the first region swept', ['eu-west-1', 'us-east-2'], {}, 'eu-west-1'],
    ['no job region: the first region the SDK knows', ['ap-southeast-9', 'eu-west-1'], {}, 'eu-west-1'],
    ['no job region and none known: the first region listed', ['ap-southeast-9', 'mx-west-7'], {}, 'ap-southeast-9'],
    ['all with a job region', 'all', { AWS_REGION: 'eu-central-1' }, 'eu-central-1'],
    ['all with only AWS_DEFAULT_REGION', 'all', { AWS_DEFAULT_REGION: 'eu-north-1' }, 'eu-north-1'],
    ['all without a job region: us-east-1', 'all', {}, 'us-east-1'],
    ['an empty list and no job region: us-east-1', [], {}, 'us-east-1']
  ])('%s', (_title, regions, env, expected) => {
    expect(homeRegion({ regions }, env)).toBe(expected)
  })

  it('falls back to us-east-1', () => {
    expect(FALLBACK_HOME_REGION).toBe('us-east-1')
  })
})

describe('isKnownRegion: the SDK’s partition data, offline', () => {
  it.each([
    'us-east-1',
    'eu-central-2',
    'ap-southeast-7',
    'il-central-1',
    'us-gov-west-1',
    'cn-north-1',
    'eusc-de-east-1',
    'us-iso-east-1'
  ])('%s is known', (name) => {
    expect(isKnownRegion(name)).toBe(true)
  })

  it.each(['us-esat-1', 'ap-southeast-99', 'us-east-1a', 'US-EAST-1', 'aws-global', 'aws-cn-global', '', 'all'])(
    '%j is not',
    (name) => {
      expect(isKnownRegion(name)).toBe(false)
    }
  )
})

describe('suggestRegion: a known name one edit away, offline', () => {
  it.each([
    ['us-esat-1', 'us-east-1'], // two letters swapped
    ['us-east1', 'us-east-1'], // a hyphen missing
    ['us-east-1a', 'us-east-1'], // an availability zone
    ['eu-west-1;', 'eu-west-1'],
    ['eu-wst-1', 'eu-west-1'], // a letter missing
    ['eu-wesst-1', 'eu-west-1'], // a letter too many
    ['eu-wezt-1', 'eu-west-1'], // a wrong letter
    ['US-EAST-1', 'us-east-1'], // upper case
    ['eu_west_1', 'eu-west-1'], // underscores
    [' us-east-1 ', 'us-east-1']
  ])('%j → %s', (name, expected) => {
    expect(suggestRegion(name)).toBe(expected)
  })

  it.each(['mars-1', 'useast1', 'xx-yyyy-9', '', `us-east-1${'x'.repeat(100)}`])('%j → none', (name) => {
    expect(suggestRegion(name)).toBeUndefined()
  })
})

describe('nearestName', () => {
  it.each<[string, string[], string | undefined]>([
    ['us-esat-1', ['eu-west-1', 'us-east-1', 'us-east-2'], 'us-east-1'],
    ['us-east-3', ['us-east-2', 'us-east-1'], 'us-east-1'], // a tie: the first alphabetically
    ['ap-southeast-9', ['ap-southeast-1', 'ap-southeast-2'], 'ap-southeast-1'],
    ['anything', [], undefined]
  ])('%s among %j → %s', (name, candidates, expected) => {
    expect(nearestName(name, candidates)).toBe(expected)
  })
})
