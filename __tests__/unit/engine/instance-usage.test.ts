/** One listing of a region's live instances, against the in-process sandbox with a real EC2Client. */
import { describe, expect, it } from '@jest/globals'
import { BY_KEY_NAME } from '../../../src/kinds/key-pairs.js'
import { BY_LAUNCH_TEMPLATE } from '../../../src/kinds/launch-templates.js'
import { listLiveInstances, sharedListings } from '../../../src/engine/instance-usage.js'
import type { Candidate } from '../../../src/engine/leftover-model.js'
import { inputsOf, sandboxClient, useSandbox } from './harness.js'

const { sandbox, seed } = useSandbox()

const candidate = (id: string, name = id): Candidate => ({ kind: 'key-pairs', id, name, tags: new Map() })

describe('listLiveInstances', () => {
  it('indexes who uses each key and template in one pass over the live instances, pages followed', async () => {
    seed({
      instances: [
        { id: 'i-00000001', state: 'running', keyName: 'packer_a' },
        { id: 'i-00000002', state: 'stopped', keyName: 'packer_a', launchTemplateId: 'lt-1' },
        { id: 'i-00000003', state: 'pending', keyName: 'packer_b' },
        { id: 'i-00000004', state: 'terminated', keyName: 'packer_c' }
      ]
    })
    const visited: string[] = []
    const live = await listLiveInstances(sandboxClient(sandbox()), {
      queries: [BY_KEY_NAME, BY_LAUNCH_TEMPLATE],
      visit: (instance) => visited.push(instance.InstanceId ?? '')
    })
    expect(live.usersOf(BY_KEY_NAME, 'packer_a')).toEqual(['i-00000001', 'i-00000002'])
    expect(live.usersOf(BY_KEY_NAME, 'packer_c')).toEqual([])
    expect(live.usersOf(BY_LAUNCH_TEMPLATE, 'lt-1')).toEqual(['i-00000002'])
    expect(visited.sort()).toEqual(['i-00000001', 'i-00000002', 'i-00000003'])
    // Pages of 2 (the harness's sandbox): two calls, the same filter, no key name sent.
    expect(inputsOf(sandbox(), 'DescribeInstances').map(({ NextToken: _token, ...input }) => input)).toEqual([
      {
        MaxResults: 1000,
        Filters: [
          { Name: 'instance-state-name', Values: ['pending', 'running', 'shutting-down', 'stopping', 'stopped'] }
        ]
      },
      {
        MaxResults: 1000,
        Filters: [
          { Name: 'instance-state-name', Values: ['pending', 'running', 'shutting-down', 'stopping', 'stopped'] }
        ]
      }
    ])
  })

  it('reports the state of the watched instances, terminated for one no longer listed', async () => {
    seed({
      instances: [
        { id: 'i-00000001', state: 'shutting-down' },
        { id: 'i-00000002', state: 'terminated' }
      ]
    })
    const live = await listLiveInstances(sandboxClient(sandbox()), {
      queries: [],
      watch: ['i-00000001', 'i-00000002', 'i-0000dead']
    })
    expect(Object.fromEntries(live.states)).toEqual({
      'i-00000001': 'shutting-down',
      'i-00000002': 'terminated',
      'i-0000dead': 'terminated'
    })
  })

  it('counts no terminated instance as a user even when the endpoint ignores the state filter', async () => {
    seed({ instances: [{ id: 'i-00000001', state: 'terminated', keyName: 'packer_a' }] })
    sandbox().faults.ignoreFilters({ action: 'DescribeInstances' })
    const live = await listLiveInstances(sandboxClient(sandbox()), { queries: [BY_KEY_NAME], watch: ['i-00000001'] })
    expect(live.usersOf(BY_KEY_NAME, 'packer_a')).toEqual([])
    expect(live.states.get('i-00000001')).toBe('terminated')
  })

  it('names the permission a denied listing needs', async () => {
    sandbox().faults.deny({ action: 'DescribeInstances' })
    await expect(listLiveInstances(sandboxClient(sandbox()), { queries: [BY_KEY_NAME] })).rejects.toMatchObject({
      info: { missingPermission: 'ec2:DescribeInstances' }
    })
  })
})

describe('the users of a candidate, as the engine reads them from a listing', () => {
  it('gives the users of each candidate by its value, exact values only', async () => {
    seed({ instances: [{ id: 'i-00000001', state: 'running', keyName: 'packer_*x' }] })
    const live = await listLiveInstances(sandboxClient(sandbox()), { queries: [BY_KEY_NAME] })
    const usersOf = (key: Candidate) => live.usersOf(BY_KEY_NAME, BY_KEY_NAME.candidateValue(key))
    expect(usersOf(candidate('packer_*x'))).toEqual(['i-00000001'])
    expect(usersOf(candidate('packer_?x'))).toEqual([])
  })
})

describe('a listing of every state (the images kind asks for builders that are already gone)', () => {
  it('lists terminated instances to everyState only: they answer no question of the live ones', async () => {
    seed({
      instances: [
        { id: 'i-00000001', state: 'running', keyName: 'packer_a' },
        { id: 'i-00000004', state: 'terminated', keyName: 'packer_a' }
      ]
    })
    const everyState: string[] = []
    const live = await listLiveInstances(sandboxClient(sandbox()), {
      queries: [BY_KEY_NAME],
      everyState: (instance) => everyState.push(instance.InstanceId ?? '')
    })
    expect(everyState.sort()).toEqual(['i-00000001', 'i-00000004'])
    expect(live.usersOf(BY_KEY_NAME, 'packer_a')).toEqual(['i-00000001'])
    expect(inputsOf(sandbox(), 'DescribeInstances')[0]?.Filters).toEqual([
      {
        Name: 'instance-state-name',
        Values: ['pending', 'running', 'shutting-down', 'terminated', 'stopping', 'stopped']
      }
    ])
  })
})

describe('sharedListings', () => {
  it('gives a region’s last listing only to a question it answers', async () => {
    seed({ instances: [{ id: 'i-00000001', state: 'running', keyName: 'packer_a', launchTemplateId: 'lt-1' }] })
    const live = await listLiveInstances(sandboxClient(sandbox()), { queries: [BY_KEY_NAME] })
    const shared = sharedListings([BY_KEY_NAME])
    expect(shared.get('us-east-1', [BY_KEY_NAME])).toBeUndefined()
    shared.put('us-east-1', live)
    expect(shared.get('us-east-1', [BY_KEY_NAME])).toBe(live)
    expect(shared.get('us-east-1', [BY_KEY_NAME, BY_LAUNCH_TEMPLATE])).toBeUndefined()
    expect(shared.get('eu-west-1', [BY_KEY_NAME])).toBeUndefined()
  })
})
