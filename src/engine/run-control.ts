/**
 * When the run must stop: on cancellation, and at each region's deadline.
 *
 * GitHub cancels a step (a cancelled run, or the step's timeout-minutes) with SIGINT, then SIGTERM
 * 7.5 s later, then kills the process tree 2.5 s after that. The record of what this run changed
 * must be written before the kill, so the run's own budget after the first signal is shorter:
 *
 *   SIGINT ─ cancelled: start no new batch, delete or publish part
 *   + GRACE_MS ─ abandoned: calls still in flight are aborted; their resources are read back
 *   + RECORD_BY_MS ─ outputs, summary and log are written; the process exits non-zero
 */

/** How long calls already in flight get to answer after the first signal. */
export const GRACE_MS = 2_000
/** Read-backs of what the abandoned calls did must have answered by then (after the signal). */
export const READ_BACK_BY_MS = 3_200
/** Everything is written by then; a notification is published only if it can be done before. */
export const RECORD_BY_MS = 4_300
/** The net under a bug: the process exits by then whatever it is doing (the runner kills at 10 s). */
export const FORCED_EXIT_MS = 4_800

export interface RunControl {
  /** Aborted on the first SIGINT or SIGTERM: nothing new is started. */
  readonly cancelled: AbortSignal
  /** Aborted GRACE_MS after the first signal: calls still in flight are given up. */
  readonly abandoned: AbortSignal
  /** Milliseconds left until `offsetMs` after the first signal; Infinity while not cancelled. */
  msUntil(offsetMs: number): number
  /** A signal aborted `offsetMs` after the first signal (never, while not cancelled). */
  deadline(offsetMs: number): AbortSignal
  dispose(): void
}

/** Where the signals come from: the process, or a stand-in in tests. */
export interface SignalSource {
  on(event: NodeJS.Signals, listener: (signal: NodeJS.Signals) => void): unknown
  off(event: NodeJS.Signals, listener: (signal: NodeJS.Signals) => void): unknown
}

/**
 * Starts listening for the runner's signals. Listening replaces Node's default of dying on
 * SIGINT, which is what lost the record before. `onForcedExit` runs if the run has not finished
 * FORCED_EXIT_MS after the signal.
 */
export function watchCancellation(
  onForcedExit: () => void,
  source: SignalSource = process,
  now: () => number = Date.now
): RunControl {
  const cancelled = new AbortController()
  const abandoned = new AbortController()
  const timers: NodeJS.Timeout[] = []
  const deadlines: { offsetMs: number; controller: AbortController }[] = []
  let cancelledAt: number | undefined

  const later = (ms: number, action: () => void) => {
    const timer = setTimeout(action, Math.max(0, ms))
    timers.push(timer)
    return timer
  }
  const onSignal = (signal: NodeJS.Signals) => {
    if (cancelledAt !== undefined) return
    cancelledAt = now()
    cancelled.abort(new Error(`the job was cancelled (${signal})`))
    later(GRACE_MS, () =>
      abandoned.abort(
        new Error(`the job was cancelled (${signal}) and the call did not answer within ${GRACE_MS / 1000} s`)
      )
    )
    for (const { offsetMs, controller } of deadlines) later(offsetMs, () => controller.abort(new Error('cancelled')))
    // Unref'd: a run that finished in time exits without waiting for it.
    later(FORCED_EXIT_MS, onForcedExit).unref()
  }
  source.on('SIGINT', onSignal)
  source.on('SIGTERM', onSignal)

  return {
    cancelled: cancelled.signal,
    abandoned: abandoned.signal,
    msUntil: (offsetMs) => (cancelledAt === undefined ? Infinity : cancelledAt + offsetMs - now()),
    deadline(offsetMs) {
      const controller = new AbortController()
      if (cancelledAt === undefined) deadlines.push({ offsetMs, controller })
      else later(cancelledAt + offsetMs - now(), () => controller.abort(new Error('cancelled')))
      return controller.signal
    },
    dispose() {
      source.off('SIGINT', onSignal)
      source.off('SIGTERM', onSignal)
      for (const timer of timers) if (timer.hasRef()) clearTimeout(timer)
    }
  }
}

/** A region's deadline: `ms` from now, or sooner when the run abandons its calls. */
export function regionDeadline(ms: number, control: Pick<RunControl, 'abandoned'>): AbortSignal {
  return AbortSignal.any([AbortSignal.timeout(ms), control.abandoned])
}

/**
 * The signals of one phase (reading, or acting) in one region or the account: the one bag every
 * layer of the phase reads its deadline, cancellation and read-back window from.
 */
export interface PhaseSignals {
  /** The region's deadline for the phase (and the run abandoning its calls). */
  abortSignal: AbortSignal
  /** Aborted when the job is cancelled: no new change is started after it. */
  cancelled: AbortSignal
  /** A fresh deadline for reading back what got no answer. */
  readBackSignal: () => AbortSignal
  /**
   * When `abortSignal`'s deadline passes (epoch ms). A wait gives up a margin before it by itself,
   * so what it freed can still be deleted in time, and no poll's sleep is left pending behind an
   * aborted waiter to hold the process once the run is done.
   */
  deadlineAt?: number
}
