/**
 * A builder with an Elastic IP (issue 19: Packer never allocates one, so it is the user's and is
 * never released). Nothing in src calls the address API; the sandbox answers DescribeAddresses so
 * a test can read back that the address is still allocated after a sweep. Termination
 * disassociates it, as EC2 does; the allocation stays.
 */
import { DescribeAddressesCommand, DescribeInstancesCommand } from '@aws-sdk/client-ec2'
import { afterEach, describe, expect, it } from '@jest/globals'
import { startSandbox, type Sandbox } from '../../sandbox/index.js'
import { ec2 } from './sdk.js'

const R = 'us-east-1'
let sandbox: Sandbox | undefined
afterEach(async () => {
  await sandbox?.close()
  sandbox = undefined
})

describe('an Elastic IP on a builder', () => {
  it('DescribeInstances shows its public IP, DescribeAddresses its allocation and association; termination disassociates it', async () => {
    sandbox = await startSandbox({
      regions: [R],
      fleet: {
        [R]: {
          instances: [
            {
              id: 'i-0e100000000000001',
              elasticIp: { publicIp: '203.0.113.7', allocationId: 'eipalloc-0e100000000000001' }
            },
            { id: 'i-0e100000000000002' }
          ]
        }
      }
    })
    const client = ec2(sandbox, R)
    const listed = await client.send(new DescribeInstancesCommand({}))
    const instances = listed.Reservations?.flatMap((reservation) => reservation.Instances ?? []) ?? []
    expect(instances.map((instance) => [instance.InstanceId, instance.PublicIpAddress])).toEqual([
      ['i-0e100000000000001', '203.0.113.7'],
      ['i-0e100000000000002', undefined]
    ])
    expect((await client.send(new DescribeAddressesCommand({}))).Addresses).toEqual([
      {
        PublicIp: '203.0.113.7',
        AllocationId: 'eipalloc-0e100000000000001',
        Domain: 'vpc',
        InstanceId: 'i-0e100000000000001',
        AssociationId: 'eipassoc-0e100000000000001'
      }
    ])
    sandbox.fleet.update('i-0e100000000000001', { state: 'terminated' })
    expect((await client.send(new DescribeAddressesCommand({}))).Addresses).toEqual([
      { PublicIp: '203.0.113.7', AllocationId: 'eipalloc-0e100000000000001', Domain: 'vpc' }
    ])
    expect((await client.send(new DescribeAddressesCommand({ AllocationIds: ['eipalloc-other'] }))).Addresses).toEqual(
      []
    )
    expect(sandbox.callsOf('DescribeAddresses')).toHaveLength(3)
  })
})
