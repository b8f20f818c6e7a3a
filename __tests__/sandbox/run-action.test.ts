/**
 * sandbox/run-action.ts's guard: a hung action is killed and its stderr says it was the guard
 * (the e2e tests keep it); `killAfterMs: 'never'` (the benchmark) lets a run take as long as it takes.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { guardMessage, ROOT, RUN_GUARD_MS, runAction } from '../../sandbox/run-action.js'

let dir: string
let hangs: string
let finishes: string

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'packer-sweeper-guard-'))
  hangs = join(dir, 'hangs.mjs')
  finishes = join(dir, 'finishes.mjs')
  writeFileSync(hangs, "process.stderr.write('started')\nsetInterval(() => undefined, 1000)\n")
  writeFileSync(finishes, "setTimeout(() => console.log('done'), 300)\n")
})
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('runAction guard', () => {
  it('kills a process that does not exit and says that the guard did it', async () => {
    const run = await runAction({ dist: hangs, killAfterMs: 500 })
    expect(run.killedByGuard).toBe(true)
    expect(run.exitCode).toBeNull()
    expect(run.stderr).toBe(`started\n${guardMessage(500)}\n`)
    expect(run.log).toContain("killed by the sandbox runner's 0.5 s guard")
  })

  it("lets a run finish with killAfterMs: 'never', and reports no guard", async () => {
    const run = await runAction({ dist: finishes, killAfterMs: 'never' })
    expect(run.killedByGuard).toBe(false)
    expect(run.exitCode).toBe(0)
    expect(run.stdout).toBe('done\n')
  })

  it('defaults to a guard below jest’s testTimeout, so the guard and not jest ends a hung e2e test', () => {
    const testTimeout = Number(/testTimeout: (\d+)/.exec(readFileSync(join(ROOT, 'jest.config.js'), 'utf8'))?.[1])
    expect(RUN_GUARD_MS).toBeLessThan(testTimeout)
    expect(guardMessage(RUN_GUARD_MS)).toBe(
      "killed by the sandbox runner's 55 s guard (sandbox/run-action.ts, option killAfterMs): the action had not exited"
    )
  })
})
