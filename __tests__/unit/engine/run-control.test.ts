import { afterEach, describe, expect, it } from '@jest/globals'
import { EventEmitter } from 'node:events'
import { GRACE_MS, regionDeadline, watchCancellation, type RunControl } from '../../../src/engine/run-control.js'

class FakeProcess extends EventEmitter {}

let control: RunControl | undefined
afterEach(() => control?.dispose())

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms))

describe('watchCancellation', () => {
  it('nothing aborted until a signal; msUntil is Infinity', () => {
    control = watchCancellation(() => undefined, new FakeProcess())
    expect(control.cancelled.aborted).toBe(false)
    expect(control.abandoned.aborted).toBe(false)
    expect(control.msUntil(1000)).toBe(Infinity)
  })

  it.each(['SIGINT', 'SIGTERM'])(
    '%s: cancelled at once, abandoned after the grace period, deadlines measured from the signal',
    async (signal) => {
      const source = new FakeProcess()
      let clock = 1_000
      control = watchCancellation(
        () => undefined,
        source,
        () => clock
      )
      const early = control.deadline(50)
      source.emit(signal, signal)
      expect(control.cancelled.aborted).toBe(true)
      expect(String(control.cancelled.reason)).toContain(signal)
      expect(control.abandoned.aborted).toBe(false)
      clock += 300
      expect(control.msUntil(1_000)).toBe(700)
      await sleep(80)
      expect(early.aborted).toBe(true)
      await sleep(GRACE_MS)
      expect(control.abandoned.aborted).toBe(true)
    }
  )

  it('a second signal changes nothing (SIGTERM follows SIGINT on a cancel)', () => {
    const source = new FakeProcess()
    let clock = 0
    control = watchCancellation(
      () => undefined,
      source,
      () => clock
    )
    source.emit('SIGINT', 'SIGINT')
    clock = 5_000
    source.emit('SIGTERM', 'SIGTERM')
    expect(control.msUntil(6_000)).toBe(1_000)
  })

  it('dispose stops listening', () => {
    const source = new FakeProcess()
    control = watchCancellation(() => undefined, source)
    control.dispose()
    expect(source.listenerCount('SIGINT')).toBe(0)
    expect(source.listenerCount('SIGTERM')).toBe(0)
  })
})

describe('regionDeadline', () => {
  it('aborts after its time', async () => {
    control = watchCancellation(() => undefined, new FakeProcess())
    const signal = regionDeadline(30, control)
    expect(signal.aborted).toBe(false)
    await sleep(60)
    expect(signal.aborted).toBe(true)
  })

  it('aborts when the run abandons its calls', () => {
    const abandoned = new AbortController()
    const signal = regionDeadline(60_000, { abandoned: abandoned.signal })
    abandoned.abort()
    expect(signal.aborted).toBe(true)
  })
})
