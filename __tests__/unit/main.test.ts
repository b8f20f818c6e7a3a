/**
 * run() end to end inside one process: inputs from a getInput stand-in, EC2 and SNS behind
 * aws-sdk-client-mock, @actions/core's outputs and failure captured by the fixture.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it, jest } from '@jest/globals'
import {
  DescribeImagesCommand,
  DescribeInstancesCommand,
  DescribeKeyPairsCommand,
  DescribeVolumesCommand,
  EC2Client,
  StopInstancesCommand,
  TerminateInstancesCommand,
  type Instance
} from '@aws-sdk/client-ec2'
import { GetProductsCommand, PricingClient } from '@aws-sdk/client-pricing'
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns'
import { mockClient } from 'aws-sdk-client-mock'
import 'aws-sdk-client-mock-jest'
import * as core from '../../__fixtures__/core.js'
import { ec2Error, inputGetter, instanceId, packerName } from '../../__fixtures__/support.js'
import type { Report } from '../../src/report/types.js'

jest.unstable_mockModule('@actions/core', () => ({
  ...core,
  summary: { addRaw: () => ({ write: async () => undefined }) }
}))
const { run } = await import('../../src/main.js')

const ec2 = mockClient(EC2Client)
const sns = mockClient(SNSClient)
const pricing = mockClient(PricingClient)
const HOURS = 3600 * 1000
const savedEnv = { ...process.env }

function builder(n: number, ageHours: number, extra: Partial<Instance> = {}): Instance {
  return {
    InstanceId: instanceId(n),
    KeyName: packerName(ageHours * 3600, Date.now(), String(n)),
    LaunchTime: new Date(Date.now() - ageHours * HOURS),
    State: { Name: 'running', Code: 16 },
    ...extra
  }
}

/** Answers DescribeInstances per region, as each regional client asks. */
function fleetByRegion(fleet: Record<string, Instance[] | Error>): void {
  ec2.on(DescribeInstancesCommand).callsFake(async (_input, getClient) => {
    const region = await getClient().config.region()
    const answer = fleet[region] ?? []
    if (answer instanceof Error) throw answer
    return { Reservations: [{ Instances: answer }] }
  })
}

function givenInputs(overrides: Record<string, string>): void {
  core.getInput.mockImplementation(inputGetter(overrides))
}

function output(name: string): unknown {
  const call = core.setOutput.mock.calls.find(([outputName]) => outputName === name)
  if (!call) throw new Error(`output ${name} was not set`)
  return name === 'count' ? call[1] : JSON.parse(String(call[1]))
}

function failure(): string {
  expect(core.setFailed).toHaveBeenCalledTimes(1)
  return String(core.setFailed.mock.calls[0]?.[0])
}

beforeAll(() => {
  process.env.AWS_ACCESS_KEY_ID = 'AKIDUNITTEST'
  process.env.AWS_SECRET_ACCESS_KEY = 'unit-test-secret'
  process.env.AWS_REGION = 'us-east-1'
  process.env.AWS_EC2_METADATA_DISABLED = 'true'
  delete process.env.GITHUB_REPOSITORY
})

afterAll(() => {
  process.env = savedEnv
})

beforeEach(() => {
  jest.clearAllMocks()
  ec2.reset()
  sns.reset()
  pricing.reset()
})

describe('run', () => {
  it('fails on invalid input before any AWS call, with every output still set', async () => {
    givenInputs({ action: 'terminte' })
    await run()
    expect(failure()).toMatch(/action: "terminte" is not allowed\. Use one of: notify, stop, terminate\./)
    expect(ec2.calls()).toHaveLength(0)
    expect(output('instance-ids')).toEqual([])
    expect(output('count')).toBe('0')
  })

  it('terminates the stale builders of every region, leaves fresh and excluded ones, and succeeds', async () => {
    givenInputs({ action: 'terminate', regions: 'us-east-1 eu-west-1' })
    fleetByRegion({
      'us-east-1': [builder(1, 5), builder(2, 1)],
      'eu-west-1': [builder(3, 9), builder(4, 9, { Tags: [{ Key: 'packer-sweeper:keep', Value: '' }] })]
    })
    ec2.on(TerminateInstancesCommand).resolves({})
    await run()
    expect(core.setFailed).not.toHaveBeenCalled()
    expect(output('instance-ids')).toEqual([instanceId(1), instanceId(3)])
    expect(output('acted-ids')).toEqual([instanceId(1), instanceId(3)])
    expect(output('skipped-ids')).toEqual([instanceId(4)])
    expect(ec2).toHaveReceivedCommandTimes(TerminateInstancesCommand, 2)
    expect(ec2).not.toHaveReceivedCommandWith(TerminateInstancesCommand, {
      InstanceIds: expect.arrayContaining([instanceId(2)]) as unknown as string[]
    })
  })

  it('reports a region that refuses, still finishes the others, and fails the step at the end', async () => {
    givenInputs({ action: 'terminate', regions: 'us-east-1, eu-west-1' })
    fleetByRegion({
      'us-east-1': [builder(1, 5)],
      'eu-west-1': ec2Error('UnauthorizedOperation', 'You are not authorized to perform this operation.')
    })
    ec2.on(TerminateInstancesCommand).resolves({})
    await run()
    expect(output('acted-ids')).toEqual([instanceId(1)])
    const report = output('report') as Report
    expect(report.regions.find((region) => region.region === 'eu-west-1')).toEqual({
      region: 'eu-west-1',
      status: 'failed',
      matched: 0,
      fresh: 0,
      failures: [
        expect.objectContaining({
          kind: 'instances',
          code: 'UnauthorizedOperation',
          missingPermission: 'ec2:DescribeInstances'
        })
      ]
    })
    expect(report.regions.find((region) => region.region === 'us-east-1')).toMatchObject({ status: 'ok', failures: [] })
    expect(failure()).toMatch(/^region eu-west-1: nothing swept: instances failed: UnauthorizedOperation: /m)
  })

  it('a kind that cannot be read fails only itself: the builders are swept with their true outcome, the region is partial and names the kind', async () => {
    givenInputs({ action: 'terminate', resources: 'instances,key-pairs' })
    fleetByRegion({ 'us-east-1': [builder(1, 5)] })
    ec2
      .on(TerminateInstancesCommand)
      .resolves({ TerminatingInstances: [{ InstanceId: instanceId(1), CurrentState: { Name: 'shutting-down' } }] })
    ec2
      .on(DescribeKeyPairsCommand)
      .rejects(ec2Error('UnauthorizedOperation', 'You are not authorized to perform this operation.'))
    await run()
    expect(output('acted-ids')).toEqual([instanceId(1)])
    const report = output('report') as Report
    expect(report.instances).toEqual([expect.objectContaining({ id: instanceId(1), outcome: 'terminated' })])
    expect(report.regions).toEqual([
      {
        region: 'us-east-1',
        status: 'partial',
        matched: 1,
        fresh: 0,
        failures: [
          expect.objectContaining({
            kind: 'key-pairs',
            code: 'UnauthorizedOperation',
            missingPermission: 'ec2:DescribeKeyPairs'
          })
        ]
      }
    ])
    // The step still fails, naming the kind that failed and what was swept.
    expect(failure()).toMatch(
      /^region us-east-1: partly swept: key pairs failed: UnauthorizedOperation: .*ec2:DescribeKeyPairs.*; instances swept$/m
    )
  })

  it('a region where every selected kind failed is failed: nothing in it was swept', async () => {
    givenInputs({ action: 'terminate', resources: 'key-pairs' })
    fleetByRegion({ 'us-east-1': [] })
    ec2
      .on(DescribeKeyPairsCommand)
      .rejects(ec2Error('UnauthorizedOperation', 'You are not authorized to perform this operation.'))
    await run()
    const report = output('report') as Report
    expect(report.regions).toEqual([
      expect.objectContaining({
        region: 'us-east-1',
        status: 'failed',
        failures: [expect.objectContaining({ kind: 'key-pairs', code: 'UnauthorizedOperation' })]
      })
    ])
    expect(failure()).toMatch(/^region us-east-1: nothing swept: key pairs failed: UnauthorizedOperation: /m)
  })

  it('acts on nothing when the plan is over max-instances', async () => {
    givenInputs({ action: 'terminate', 'max-instances': '2' })
    fleetByRegion({ 'us-east-1': [builder(1, 5), builder(2, 5), builder(3, 5)] })
    await run()
    expect(ec2).not.toHaveReceivedCommand(TerminateInstancesCommand)
    expect(output('acted-ids')).toEqual([])
    expect(failure()).toMatch(
      /max-instances: 3 instances would be terminated, more than the cap of 2; nothing was changed/
    )
  })

  it('lists in acted-ids only what this run changed, also when the cap holds everything back', async () => {
    const stopped = { State: { Name: 'stopped' as const, Code: 80 } }
    givenInputs({ action: 'stop', 'max-instances': '1' })
    fleetByRegion({ 'us-east-1': [builder(1, 5, stopped), builder(2, 5), builder(3, 5)] })
    await run()
    expect(output('acted-ids')).toEqual([])
    expect(failure()).toMatch(/max-instances: 2 instances would be stopped/)
    jest.clearAllMocks()
    givenInputs({ action: 'stop' })
    ec2.on(StopInstancesCommand).resolves({})
    await run()
    expect(output('acted-ids')).toEqual([instanceId(2), instanceId(3)])
    expect(ec2).toHaveReceivedCommandWith(StopInstancesCommand, { InstanceIds: [instanceId(2), instanceId(3)] })
    const report = output('report') as { instances: { id: string; outcome: string; reason?: string }[] }
    expect(report.instances.find((finding) => finding.id === instanceId(1))).toMatchObject({
      outcome: 'notified',
      reason: 'already stopped'
    })
  })

  it('fails the step with fail-on-stale when notify found stale builders', async () => {
    givenInputs({ 'fail-on-stale': 'true' })
    fleetByRegion({ 'us-east-1': [builder(1, 5)] })
    await run()
    expect(ec2).not.toHaveReceivedCommand(TerminateInstancesCommand)
    expect(failure()).toMatch(/fail-on-stale: 1 stale Packer resource/)
  })

  it('publishes once to the topic and fails the step, after the outputs, when the publish is refused', async () => {
    givenInputs({ 'sns-topic-arn': 'arn:aws:sns:eu-central-1:123456789012:packer' })
    fleetByRegion({ 'us-east-1': [builder(1, 5)] })
    sns.on(PublishCommand).rejects(Object.assign(new Error('not allowed'), { name: 'AuthorizationError' }))
    await run()
    expect(sns).toHaveReceivedCommandTimes(PublishCommand, 1)
    expect(output('count')).toBe('1')
    expect(failure()).toMatch(
      /Publishing to arn:aws:sns:eu-central-1:123456789012:packer failed: AuthorizationError.*sns:Publish/
    )
  })

  it('leaves instances alone when resources does not name them', async () => {
    givenInputs({ action: 'terminate', resources: 'key-pairs' })
    fleetByRegion({ 'us-east-1': [builder(1, 5)] })
    ec2.on(DescribeKeyPairsCommand).resolves({ KeyPairs: [] })
    await run()
    expect(ec2).not.toHaveReceivedCommand(TerminateInstancesCommand)
    expect(ec2).toHaveReceivedCommand(DescribeKeyPairsCommand)
    expect(output('instance-ids')).toEqual([])
    expect(core.setFailed).not.toHaveBeenCalled()
  })

  describe('estimate-cost with a builder volume kept', () => {
    const keeping = () =>
      builder(1, 5, {
        InstanceType: 't3.micro',
        ImageId: 'ami-0source0000000000',
        State: { Name: 'stopped', Code: 80 },
        BlockDeviceMappings: [{ DeviceName: '/dev/xvda', Ebs: { VolumeId: 'vol-1', DeleteOnTermination: false } }]
      })
    const storagePrice = (family: string, attributes: Record<string, string>, usd: string) =>
      JSON.stringify({
        product: { productFamily: family, attributes },
        terms: { OnDemand: { T: { priceDimensions: { D: { unit: 'GB-Mo', pricePerUnit: { USD: usd } } } } } }
      })

    /** Called when the storage prices are asked for. */
    let storageAsked = (): void => undefined

    beforeEach(() => {
      storageAsked = () => undefined
      fleetByRegion({ 'us-east-1': [keeping()] })
      ec2.on(DescribeImagesCommand).resolves({ Images: [] })
      ec2.on(DescribeVolumesCommand).resolves({
        Volumes: [{ VolumeId: 'vol-1', Size: 20, VolumeType: 'gp3', State: 'in-use', CreateTime: new Date() }]
      })
      ec2.on(TerminateInstancesCommand).resolves({})
      pricing.on(GetProductsCommand).callsFake((input: { Filters?: { Field?: string; Value?: string }[] }) => {
        const family = input.Filters?.find((filter) => filter.Field === 'productFamily')?.Value
        if (family === 'Storage') {
          storageAsked()
          return {
            PriceList: [storagePrice(family, { volumeApiName: 'gp3', usagetype: 'EBS:VolumeUsage.gp3' }, '0.08')]
          }
        }
        if (family === 'Storage Snapshot')
          return { PriceList: [storagePrice(family, { usagetype: 'EBS:SnapshotUsage' }, '0.05')] }
        return { PriceList: [] }
      })
    })

    it('prices the volume from its region’s storage prices, asked once, and says what it costs to keep', async () => {
      givenInputs({ action: 'terminate', resources: 'instances volumes', 'estimate-cost': 'true' })
      await run()
      const report = output('report') as Report
      expect(report.volumes).toEqual([
        expect.objectContaining({
          id: 'vol-1',
          volume: expect.objectContaining({ sizeGiB: 20, volumeType: 'gp3', monthlyCost: { usdPerMonth: 1.6 } })
        })
      ])
      expect(pricing).toHaveReceivedCommandTimes(GetProductsCommand, 2)
      expect(report.cost).toMatchObject({ stopped: 1 })
    })

    it('asks for the storage prices while the builder is being terminated: no round trip after the sweep', async () => {
      const asked = new Promise<boolean>((resolve) => (storageAsked = () => resolve(true)))
      const late = new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 5_000).unref())
      let overlapped: boolean | undefined
      ec2.on(TerminateInstancesCommand).callsFake(async () => {
        // The termination answers only once the prices are on their way (or says they were not).
        overlapped = await Promise.race([asked, late])
        return {}
      })
      givenInputs({ action: 'terminate', resources: 'instances volumes', 'estimate-cost': 'true' })
      await run()
      expect(overlapped).toBe(true)
    })

    it('asks no price without estimate-cost', async () => {
      givenInputs({ action: 'terminate', resources: 'instances volumes' })
      await run()
      expect(pricing).not.toHaveReceivedCommand(GetProductsCommand)
      const report = output('report') as Report
      expect(report.cost).toBeUndefined()
      expect(report.volumes[0]?.volume.monthlyCost).toBeUndefined()
    })
  })

  it('publishes nothing in dry-run and when the fleet is clean', async () => {
    givenInputs({ 'sns-topic-arn': 'arn:aws:sns:us-east-1:123456789012:packer', 'dry-run': 'true' })
    fleetByRegion({ 'us-east-1': [builder(1, 5)] })
    await run()
    givenInputs({ 'sns-topic-arn': 'arn:aws:sns:us-east-1:123456789012:packer' })
    fleetByRegion({ 'us-east-1': [builder(2, 1)] })
    await run()
    expect(sns).not.toHaveReceivedCommand(PublishCommand)
    expect(core.setFailed).not.toHaveBeenCalled()
  })
})
