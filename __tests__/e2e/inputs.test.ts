/** Every invalid input fails the step with one message naming the input and value, before any AWS call. */
import { describe, expect, it } from '@jest/globals'
import { DEFAULT_REGIONS, generateFleet, packerName } from '../../sandbox/index.js'
import { mutatingCalls, sandboxPerTest, sorted } from './fleet.js'
import { runAction } from '../../sandbox/run-action.js'
import { expectExit } from './harness.js'

const H = 3600
const JOB_TAG =
  'packer-sweeper-job=${{ github.run_id }}-${{ github.run_attempt }}-${{ github.job }}-${{ strategy.job-index }}'

/** The ::error lines of a run. */
const errorLines = (stdout: string) => stdout.split('\n').filter((line) => line.startsWith('::error'))

const { start } = sandboxPerTest()

describe('invalid inputs', () => {
  it.each([
    ['action', 'terminte'],
    ['max-age', '-1'],
    ['max-age', '2x'],
    ['regions', 'mars-1'],
    ['tags', 'github-run-id'],
    ['max-instances', 'many']
  ])('%s: %s → a clear message, exit 1, no request', async (input, value) => {
    const s = await start({ fleet: generateFleet({ region: 'us-east-1', count: 3, staleFraction: 1, seed: 2 }) })
    const run = await runAction({
      sandbox: s,
      inputs: { [input]: value, action: input === 'action' ? value : 'terminate' }
    })
    expectExit(run, 1)
    const errors = run.stdout.split('\n').filter((line) => line.startsWith('::error'))
    expect(errors.length).toBeGreaterThan(0)
    expect(errors[0]).toContain(input)
    expect(errors[0]).toContain(value)
    expect(s.calls).toEqual([])
  })

  it.each<[string, Record<string, string>, string, string]>([
    ['key-name only wildcards', { 'key-name': '*' }, 'key-name', 'would match every key pair'],
    ['key-name ?*', { 'key-name': '?*' }, 'key-name', 'packer_*'],
    ['empty key-name with Name=*', { 'key-name': '', tags: 'Name=*' }, 'tags', 'every tagged instance would match'],
    ['all next to an unknown resource', { resources: 'all,bogus' }, 'resources', '"bogus" is not a resource kind'],
    ['max-age 0 without tags', { 'max-age': '0' }, 'max-age', JOB_TAG],
    ['max-age 0m without tags', { 'max-age': '0m', resources: 'all' }, 'max-age', '"0m" is 0'],
    // A max-age under 1h has the effect 0 has on a live build.
    ['max-age 1s without tags', { 'max-age': '1s' }, 'max-age', '"1s" is under 1h'],
    ['max-age 59m with only wildcard tags', { 'max-age': '59m', tags: 'Name=*' }, 'max-age', JOB_TAG],
    // 400 nines were Infinity: nothing stale, and settings["max-age"] null in the report.
    ['max-age of 400 nines', { 'max-age': '9'.repeat(400) }, 'max-age', 'is more than 365 days'],
    ['max-age 366d', { 'max-age': '366d' }, 'max-age', 'is more than 365 days'],
    // Plausible spellings that matched no tag key, so protected nothing.
    [
      'exclude-tag key=value',
      { 'exclude-tag': 'packer-sweeper:keep=true' },
      'exclude-tag',
      'exclude-tag takes tag keys only'
    ],
    [
      'exclude-tag with a wildcard',
      { 'exclude-tag': 'packer-sweeper:keep*' },
      'exclude-tag',
      '"packer-sweeper:keep*" is not a tag key'
    ],
    ['regions not a region name', { regions: 'us-east1' }, 'regions', 'Did you mean us-east-1?']
  ])('guard: %s → refused before any request, naming the input', async (_, inputs, input, words) => {
    const s = await start({ fleet: generateFleet({ region: 'us-east-1', count: 3, staleFraction: 1, seed: 3 }) })
    const run = await runAction({ sandbox: s, inputs: { action: 'terminate', ...inputs } })
    expectExit(run, 1)
    const errors = run.stdout.split('\n').filter((line) => line.startsWith('::error'))
    expect(errors.join('\n')).toContain(`${input}: `)
    expect(errors.join('\n')).toContain(words)
    expect(s.calls).toEqual([])
    expect(run.list('acted-ids')).toEqual([])
  })

  it('max-age under the 2h default: a warning at the start, and one naming the youngest builder it acts on', async () => {
    const young = packerName(100 * 60)
    const s = await start({
      fleet: {
        'us-east-1': {
          instances: [
            { ref: 'old', keyName: packerName(5 * H), age: '5h' },
            { ref: 'young', keyName: young, age: '100m' },
            { ref: 'live', keyName: packerName(30 * 60), age: '30m' }
          ]
        }
      }
    })
    const run = await runAction({ sandbox: s, inputs: { action: 'terminate', 'max-age': '90m' } })
    expectExit(run, 0)
    const warnings = run.stdout.split('\n').filter((line) => line.startsWith('::warning'))
    expect(
      warnings.some((line) =>
        line.includes('max-age: "90m" is under the 2h default, shorter than typical Packer builds')
      )
    ).toBe(true)
    const youngest = warnings.filter((line) => line.includes('the youngest builder to terminate'))
    expect(youngest).toHaveLength(1)
    expect(youngest[0]).toContain(`${s.fleet.byRef('young').id} in us-east-1`)
    expect(run.list('acted-ids')).toEqual(sorted([s.fleet.byRef('old').id, s.fleet.byRef('young').id]))
  })

  it('no region anywhere: neither regions nor AWS_REGION/AWS_DEFAULT_REGION → a clear message', async () => {
    const s = await start()
    const run = await runAction({ sandbox: s, env: { AWS_REGION: undefined, AWS_DEFAULT_REGION: undefined } })
    expectExit(run, 1)
    expect(run.log).toMatch(/regions/)
    expect(s.calls).toEqual([])
  })
})

describe('exclude-tag: exact keys, several of them', () => {
  it('a builder carrying any listed key is skipped with that key named; the rest are terminated', async () => {
    const stale = (ref: string, tags: Record<string, string> = {}) => ({
      ref,
      keyName: packerName(5 * H, Date.now(), ref),
      age: '5h',
      tags
    })
    const s = await start({
      fleet: {
        'us-east-1': {
          instances: [
            stale('ours', { 'packer-sweeper:keep': 'debugging' }),
            stale('theirs', { 'do-not-delete': 'true' }),
            stale('debris'),
            stale('other-case', { 'Do-Not-Delete': '' })
          ]
        }
      }
    })
    const run = await runAction({
      sandbox: s,
      inputs: { action: 'terminate', 'exclude-tag': 'packer-sweeper:keep, do-not-delete' }
    })
    expectExit(run, 0)
    const ids = (...refs: string[]) => sorted(refs.map((ref) => s.fleet.byRef(ref).id))
    expect(run.list('skipped-ids')).toEqual(ids('ours', 'theirs'))
    // EC2 tag keys are case-sensitive: Do-Not-Delete is not do-not-delete.
    expect(run.list('acted-ids')).toEqual(ids('debris', 'other-case'))
    expect(s.fleet.byRef('ours').state).toBe('running')
    expect(s.fleet.byRef('theirs').state).toBe('running')
    const reasons = Object.fromEntries((run.report?.instances ?? []).map((finding) => [finding.id, finding.reason]))
    expect(reasons[s.fleet.byRef('ours').id]).toBe('carries the packer-sweeper:keep tag')
    expect(reasons[s.fleet.byRef('theirs').id]).toBe('carries the do-not-delete tag')
    expect(run.report?.settings['exclude-tag']).toEqual(['packer-sweeper:keep', 'do-not-delete'])
  })
})

describe('tags: every line break splits', () => {
  it.each([
    ['CR', 'team=img\rgithub-run-id=42'],
    ['CRLF', 'team=img\r\ngithub-run-id=42'],
    ['LF', 'team=img\ngithub-run-id=42']
  ])('%s: two filters, both must match', async (_title, tags) => {
    const builder = (ref: string, runTags: Record<string, string>) => ({
      ref,
      keyName: packerName(5 * H, Date.now(), ref),
      age: '5h',
      tags: runTags
    })
    const s = await start({
      fleet: {
        'us-east-1': {
          instances: [
            builder('this-run', { team: 'img', 'github-run-id': '42' }),
            builder('other-run', { team: 'img', 'github-run-id': '43' })
          ]
        }
      }
    })
    const run = await runAction({ sandbox: s, inputs: { tags } })
    expectExit(run, 0)
    expect(run.report?.settings.tags).toEqual([
      { key: 'team', value: 'img' },
      { key: 'github-run-id', value: '42' }
    ])
    expect(run.list('instance-ids')).toEqual([s.fleet.byRef('this-run').id])
  })
})

describe('regions: known names offline, an unknown one looked up before anything is swept', () => {
  const staleIn = (region: string) => ({
    [region]: { instances: [{ ref: `${region}-stale`, keyName: packerName(5 * H), age: '5h' }] }
  })

  it('a typo shaped like a region: refused with the nearest name, nothing read or changed', async () => {
    const s = await start({ fleet: generateFleet({ region: 'us-east-1', count: 3, staleFraction: 1, seed: 4 }) })
    const run = await runAction({ sandbox: s, inputs: { action: 'terminate', regions: 'us-esat-1' } })
    expectExit(run, 1)
    expect(errorLines(run.stdout).join('\n')).toContain(
      'regions: "us-esat-1" is not a region: DescribeRegions does not list it for this account. Did you mean us-east-1?'
    )
    expect(s.calls.filter((c) => c.service === 'ec2').map((c) => c.action)).toEqual(['DescribeRegions'])
    expect(s.calls.find((c) => c.action === 'DescribeRegions')?.params.AllRegions).toBe('true')
    expect(mutatingCalls(s)).toEqual([])
  })

  it('a region the SDK does not know, enabled for the account: swept', async () => {
    const s = await start({
      regions: [...DEFAULT_REGIONS, 'ap-southeast-9'],
      fleet: { ...staleIn('ap-southeast-9'), ...staleIn('us-east-1') }
    })
    const run = await runAction({ sandbox: s, inputs: { action: 'terminate', regions: 'us-east-1, ap-southeast-9' } })
    expectExit(run, 0)
    expect(run.list('acted-ids')).toEqual(
      sorted([s.fleet.byRef('ap-southeast-9-stale').id, s.fleet.byRef('us-east-1-stale').id])
    )
  })

  it('a region the SDK does not know, not enabled for the account: refused before anything is swept', async () => {
    const s = await start({ notOptedIn: ['ap-east-9'], fleet: staleIn('us-east-1') })
    const run = await runAction({ sandbox: s, inputs: { action: 'terminate', regions: 'us-east-1, ap-east-9' } })
    expectExit(run, 1)
    expect(errorLines(run.stdout).join('\n')).toContain('regions: "ap-east-9" is not enabled for this account')
    expect(s.calls.filter((c) => c.service === 'ec2').map((c) => c.action)).toEqual(['DescribeRegions'])
    expect(s.fleet.byRef('us-east-1-stale').state).toBe('running')
  })

  it('known regions need no DescribeRegions', async () => {
    const s = await start({ fleet: staleIn('eu-west-1') })
    const run = await runAction({ sandbox: s, inputs: { regions: 'eu-west-1, us-east-1' } })
    expectExit(run, 0)
    expect(s.calls.map((c) => c.action)).not.toContain('DescribeRegions')
  })
})
