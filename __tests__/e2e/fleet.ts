/** Shared set-up and fleet queries of the end-to-end suites. */
import { afterEach, beforeAll } from '@jest/globals'
import { startSandbox, type Sandbox, type SandboxOptions } from '../../sandbox/index.js'
import { requireDist } from '../../sandbox/run-action.js'

/**
 * A fresh sandbox per test (closed afterwards), and a loud failure when dist/index.js is missing.
 * Call `start(options)` inside the test.
 */
export function sandboxPerTest(): { start(options?: SandboxOptions): Promise<Sandbox> } {
  let current: Sandbox | undefined
  beforeAll(requireDist)
  afterEach(async () => {
    await current?.close()
    current = undefined
  })
  return {
    start: async (options = {}) => {
      current = await startSandbox(options)
      return current
    }
  }
}

export const sorted = (list: Iterable<string>): string[] => [...list].sort()

/** Instance IDs of fixture refs, sorted. */
export function idsOf(sandbox: Sandbox, refs: readonly string[]): string[] {
  return sorted(refs.map((ref) => sandbox.fleet.byRef(ref).id))
}

/** Every instance whose state changed since it was seeded, sorted. */
export function changedIds(sandbox: Sandbox): string[] {
  return sorted(sandbox.fleet.instances().filter((i) => i.history.length > 1).map((i) => i.id))
}

/** The calls that could have changed something (stop, terminate, delete), DryRun or not. */
export function mutatingCalls(sandbox: Sandbox) {
  return sandbox.calls.filter((c) => /^(Stop|Terminate|Delete)/.test(c.action) || c.action === 'Publish')
}

/** Instance IDs a TerminateInstances/StopInstances call carried. */
export function idsInCall(params: Record<string, string>): string[] {
  return Object.keys(params)
    .filter((k) => /^InstanceId\.\d+$/.test(k))
    .map((k) => params[k] as string)
}
