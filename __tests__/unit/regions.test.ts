import { describe, expect, it } from '@jest/globals'
import { DescribeRegionsCommand } from '@aws-sdk/client-ec2'
import 'aws-sdk-client-mock-jest'
import { POLICY_HINT } from '../../src/aws-errors.js'
import { FALLBACK_HOME_REGION, homeRegion, resolveRegions } from '../../src/regions.js'
import { ec2Error, useMockedEc2 } from '../../__fixtures__/support.js'

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
    await expect(resolveRegions({ regions: 'all' }, ec2.client())).resolves.toEqual(['ap-east-1', 'eu-west-1', 'us-east-1', 'us-west-2'])
    expect(ec2Mock).toHaveReceivedCommandTimes(DescribeRegionsCommand, 1)
    expect(ec2Mock).toHaveReceivedCommandWith(DescribeRegionsCommand, { AllRegions: false })
    expect(ec2Mock.commandCalls(DescribeRegionsCommand)[0]?.args[0].input).not.toHaveProperty('RegionNames')
  })

  it('all without permission: the error names ec2:DescribeRegions', async () => {
    ec2Mock.on(DescribeRegionsCommand).rejects(ec2Error('UnauthorizedOperation', 'You are not authorized to perform this operation.'))
    await expect(resolveRegions({ regions: 'all' }, ec2.client())).rejects.toThrow(
      `regions: all could not be resolved: UnauthorizedOperation: You are not authorized to perform this operation. (missing IAM permission ec2:DescribeRegions: ${POLICY_HINT})`
    )
  })

  it('all with another failure: the error says so, without blaming a permission', async () => {
    ec2Mock.on(DescribeRegionsCommand).rejects(ec2Error('AuthFailure', 'AWS was not able to validate the provided access credentials'))
    const error = await resolveRegions({ regions: 'all' }, ec2.client()).catch((caught: unknown) => caught as Error)
    expect(error).toBeInstanceOf(Error)
    expect((error as Error).message).toBe('regions: all could not be resolved: AuthFailure: AWS was not able to validate the provided access credentials')
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
    ['AWS_REGION before AWS_DEFAULT_REGION', ['eu-west-1'], { AWS_REGION: 'us-west-2', AWS_DEFAULT_REGION: 'ap-south-1' }, 'us-west-2'],
    ['an empty AWS_REGION does not count', ['eu-west-1'], { AWS_REGION: '', AWS_DEFAULT_REGION: 'ap-south-1' }, 'ap-south-1'],
    ['no job region: the first region swept', ['eu-west-1', 'us-east-2'], {}, 'eu-west-1'],
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
