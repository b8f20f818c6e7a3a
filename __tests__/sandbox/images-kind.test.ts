/**
 * The images kind's reads, rule and removal (src/kinds/images) against the sandbox through the real
 * SDK: what a cancelled build leaves (issue 19), a copy in a second region made with
 * `fleet.copyImage`, and the images that must be kept.
 */
import { afterEach, describe, expect, it } from '@jest/globals'
import { startSandbox, type Sandbox } from '../../sandbox/index.js'
import { candidateIds, completeImages, findImages } from '../../src/kinds/images/reads.js'
import { deregisterImage, IMAGE_PROTECTED_CODES } from '../../src/kinds/images/deregister.js'
import { judgeImage, type ImageRules, type ImageVerdict } from '../../src/kinds/images/rules.js'
import { errorCode } from '../../src/aws/errors.js'
import { ec2 } from './sdk.js'

const EU = 'eu-west-1'
const US = 'us-east-1'
const STOPPED = 'i-0b1d0000000000001'
const TERMINATED = 'i-0b1d0000000000002'
const RULES: ImageRules = {
  action: 'terminate',
  maxAgeSeconds: 7200,
  excludeTag: ['packer-sweeper:keep'],
  incompleteTag: { key: 'packer-build', value: 'incomplete' }
}
const INCOMPLETE = { 'packer-build': 'incomplete' }

let sandbox: Sandbox | undefined
afterEach(async () => {
  await sandbox?.close()
  sandbox = undefined
})

/** Both regions' reads, as the engine will run them: round 1 everywhere, then round 2 everywhere. */
async function read(s: Sandbox, builders: Record<string, string[]>) {
  const regions = [EU, US]
  const query = (region: string) => ({
    builderIds: new Set(builders[region] ?? []),
    tags: [],
    isListed: () => true
  })
  const found = new Map(
    await Promise.all(regions.map(async (r) => [r, await findImages(ec2(s, r), query(r))] as const))
  )
  const ids = candidateIds(found)
  const records = await Promise.all(regions.map((r) => completeImages(ec2(s, r), r, found.get(r) ?? [], ids)))
  return records.flat()
}

describe('the images kind against the sandbox', () => {
  it('finds an interrupted build’s image, its copy, and judges each one on its own', async () => {
    const s = (sandbox = await startSandbox({
      regions: [EU, US],
      fleet: {
        [EU]: {
          instances: [
            { id: STOPPED, state: 'stopped', age: '3h' },
            { id: TERMINATED, state: 'terminated', age: '3h' }
          ],
          snapshots: [{ snapshotId: 'snap-0c000000000000009', volumeSize: 8 }],
          images: [
            {
              ref: 'stopped',
              name: 'a',
              age: '3h',
              sourceInstanceId: STOPPED,
              tags: INCOMPLETE,
              snapshotTags: INCOMPLETE
            },
            { ref: 'terminated', name: 'b', age: '3h', sourceInstanceId: TERMINATED, tags: INCOMPLETE },
            { ref: 'pending', name: 'c', age: '3h', state: 'pending', sourceInstanceId: STOPPED, tags: INCOMPLETE },
            { ref: 'complete', name: 'd', age: '3h', sourceInstanceId: STOPPED, tags: { 'packer-build': 'complete' } },
            { ref: 'hand-made', name: 'e', age: '3h', sourceInstanceId: STOPPED },
            {
              ref: 'backup',
              name: 'f',
              age: '3h',
              sourceInstanceId: STOPPED,
              tags: { ...INCOMPLETE, 'aws:backup:source-resource': 'x' }
            },
            {
              ref: 'shared',
              name: 'g',
              age: '3h',
              sourceInstanceId: STOPPED,
              tags: INCOMPLETE,
              launchPermissions: [{ userId: '210987654321' }]
            },
            { ref: 'public', name: 'h', age: '3h', sourceInstanceId: STOPPED, tags: INCOMPLETE, public: true },
            {
              ref: 'protected',
              name: 'i',
              age: '3h',
              sourceInstanceId: STOPPED,
              tags: INCOMPLETE,
              deregistrationProtection: 'enabled-without-cooldown'
            },
            {
              ref: 'excluded',
              name: 'j',
              age: '3h',
              sourceInstanceId: STOPPED,
              tags: INCOMPLETE,
              snapshotTags: { 'packer-sweeper:keep': '' }
            },
            {
              ref: 'shares-a-snapshot',
              name: 'k',
              age: '3h',
              sourceInstanceId: STOPPED,
              tags: INCOMPLETE,
              blockDeviceMappings: [{ deviceName: '/dev/xvda', snapshotId: 'snap-0c000000000000009' }]
            },
            {
              ref: 'other',
              name: 'l',
              age: '3h',
              blockDeviceMappings: [{ deviceName: '/dev/xvda', snapshotId: 'snap-0c000000000000009' }]
            },
            { ref: 'not-ours', name: 'm', age: '3h', sourceInstanceId: 'i-0b1d0000000000003', tags: INCOMPLETE }
          ]
        }
      }
    }))
    const source = s.fleet.imageByRef('stopped')
    const copy = s.fleet.copyImage(source.imageId, US, { ref: 'copy', age: '3h' })
    const records = await read(s, { [EU]: [STOPPED, TERMINATED] })
    const byRef = new Map(records.map((r) => [s.fleet.image(r.id)?.ref, r]))
    expect([...byRef.keys()].sort()).toEqual([
      'backup',
      'complete',
      'copy',
      'excluded',
      'hand-made',
      'pending',
      'protected',
      'public',
      'shared',
      'shares-a-snapshot',
      'stopped',
      'terminated'
    ])
    expect(byRef.get('copy')).toMatchObject({ origin: 'copy', region: US, sourceImageId: source.imageId })
    const verdicts: Record<string, ImageVerdict> = Object.fromEntries(
      [...byRef].map(([ref, record]) => [ref, judgeImage(record, [], RULES, new Date())])
    )
    const summary = Object.fromEntries(
      Object.entries(verdicts).map(([ref, v]) => [ref, v.verdict === 'remove' ? 'remove' : v.rule])
    )
    expect(summary).toEqual({
      stopped: 'remove',
      terminated: 'remove',
      copy: 'remove',
      'shares-a-snapshot': 'remove',
      pending: 'pending',
      complete: 'not-incomplete',
      'hand-made': 'not-incomplete',
      backup: 'aws-tag',
      shared: 'shared',
      public: 'public',
      protected: 'protected',
      excluded: 'snapshot-excluded'
    })
    expect(verdicts['hand-made']?.class).toBe('hand-made')
    expect(verdicts['shares-a-snapshot']?.notes).toEqual([
      `snapshot snap-0c000000000000009 is also used by ${s.fleet.imageByRef('other').imageId}: AWS keeps it`
    ])

    // The removal: each image with its own snapshots; the shared snapshot is kept by EC2.
    const shares = s.fleet.imageByRef('shares-a-snapshot')
    expect(await deregisterImage(ec2(s, EU), shares.imageId, false)).toEqual([
      { snapshotId: 'snap-0c000000000000009', returnCode: 'skipped' }
    ])
    const copySnapshot = copy.blockDeviceMappings[0]?.ebs?.snapshotId ?? ''
    expect(await deregisterImage(ec2(s, US), copy.imageId, false)).toEqual([
      { snapshotId: copySnapshot, returnCode: 'success' }
    ])
    expect(s.fleet.snapshotById(copySnapshot)).toBeUndefined()
    expect(s.fleet.image(source.imageId)?.state).toBe('available')
    const refused = await deregisterImage(ec2(s, EU), s.fleet.imageByRef('protected').imageId, false).catch(errorCode)
    expect(IMAGE_PROTECTED_CODES).toContain(refused)
  })

  it('reads 450 builders in three source-instance-id batches', async () => {
    const s = (sandbox = await startSandbox({ regions: [EU, US], fleet: {} }))
    const builders = Array.from({ length: 450 }, (_, n) => `i-${(n + 1).toString(16).padStart(17, '0')}`)
    s.fleet.seed({ [EU]: { images: [{ name: 'x', sourceInstanceId: builders[449], tags: INCOMPLETE, age: '3h' }] } })
    const records = await read(s, { [EU]: builders })
    expect(records).toHaveLength(1)
    const batches = s
      .callsOf('DescribeImages', EU)
      .filter((c) => c.params['Filter.1.Name'] === 'source-instance-id')
      .map((c) => Object.keys(c.params).filter((k) => k.startsWith('Filter.1.Value.')).length)
    expect(batches.sort()).toEqual([200, 200, 50])
  })
})

describe('fleet.copyImage', () => {
  it('copies name, tags and mappings to a new image with snapshots of its own, naming its source', async () => {
    const s = (sandbox = await startSandbox({
      regions: [EU, US],
      fleet: {
        [EU]: {
          images: [
            {
              ref: 'source',
              name: 'web',
              tags: INCOMPLETE,
              blockDeviceMappings: [
                { deviceName: '/dev/xvda', size: 30 },
                { deviceName: '/dev/sdf', size: 100, volumeType: 'gp2', deleteOnTermination: false }
              ]
            }
          ]
        }
      }
    }))
    const source = s.fleet.imageByRef('source')
    const copy = s.fleet.copyImage(source.imageId, US, { deregistrationProtection: 'enabled' })
    expect(copy).toMatchObject({
      region: US,
      name: 'web',
      tags: INCOMPLETE,
      sourceImageId: source.imageId,
      sourceImageRegion: EU,
      deregistrationProtection: 'enabled'
    })
    expect(copy.imageId).not.toBe(source.imageId)
    expect(copy.blockDeviceMappings.map((m) => [m.deviceName, m.ebs?.volumeSize, m.ebs?.volumeType])).toEqual([
      ['/dev/xvda', 30, 'gp3'],
      ['/dev/sdf', 100, 'gp2']
    ])
    const snapshots = copy.blockDeviceMappings.map((m) => s.fleet.snapshotById(m.ebs?.snapshotId ?? ''))
    expect(
      snapshots.map((x) => [x?.region, x?.description.startsWith(`Copied for DestinationAmi ${copy.imageId}`)])
    ).toEqual([
      [US, true],
      [US, true]
    ])
    expect(() => s.fleet.copyImage('ami-0ffffffffffffffff', US)).toThrow('no image')
  })
})
