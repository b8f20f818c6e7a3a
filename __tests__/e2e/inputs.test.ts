/** Every invalid input fails the step with one message naming the input and value, before any AWS call. */
import { describe, expect, it } from '@jest/globals'
import { generateFleet } from '../../sandbox/index.js'
import { sandboxPerTest } from './fleet.js'
import { runAction } from '../../sandbox/run-action.js'
import { expectExit } from './harness.js'

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
    const run = await runAction({ sandbox: s, inputs: { [input]: value, action: input === 'action' ? value : 'terminate' } })
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
    ['max-age 0 without tags', { 'max-age': '0' }, 'max-age', 'github-run-id'],
    ['max-age 0m without tags', { 'max-age': '0m', resources: 'all' }, 'max-age', '"0m" is 0']
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

  it('no region anywhere: neither regions nor AWS_REGION/AWS_DEFAULT_REGION → a clear message', async () => {
    const s = await start()
    const run = await runAction({ sandbox: s, env: { AWS_REGION: undefined, AWS_DEFAULT_REGION: undefined } })
    expectExit(run, 1)
    expect(run.log).toMatch(/regions/)
    expect(s.calls).toEqual([])
  })
})
