/** Shared set-up and fleet queries of the end-to-end suites. */
import { afterEach, beforeAll } from '@jest/globals'
import { startSandbox, type Sandbox, type SandboxOptions } from '../../sandbox/index.js'
import { requireDist } from '../../sandbox/run-action.js'

/**
 * Fresh sandboxes per test (all closed afterwards), and a loud failure when dist/index.js is missing.
 * Call `start(options)` inside the test.
 */
export function sandboxPerTest(): { start(options?: SandboxOptions): Promise<Sandbox> } {
  // A test may start more than one: every one is closed.
  let started: Sandbox[] = []
  beforeAll(requireDist)
  afterEach(async () => {
    const closing = started
    started = []
    await Promise.all(closing.map((sandbox) => sandbox.close()))
  })
  return {
    start: async (options = {}) => {
      const sandbox = await startSandbox(options)
      started.push(sandbox)
      return sandbox
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
  return sorted(
    sandbox.fleet
      .instances()
      .filter((i) => i.history.length > 1)
      .map((i) => i.id)
  )
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
