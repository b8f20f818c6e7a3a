/** How much of something fits a size limit, found with few measurements. */

/**
 * The largest n in [0, limit] with fits(n), for fits true at 0 and monotone: a few probes near
 * `hint` to bracket it, with steps that double, then bisection.
 */
export function largestFitting(limit: number, fits: (count: number) => boolean, hint = 1): number {
  if (limit === 0) return 0
  const probe = Math.min(limit, Math.max(1, Math.round(hint)))
  let step = Math.max(1, Math.ceil(probe / 64))
  let low = 0
  let high = limit + 1
  if (fits(probe)) {
    low = probe
    while (low < limit) {
      const next = Math.min(limit, low + step)
      if (!fits(next)) {
        high = next
        break
      }
      low = next
      step *= 2
    }
  } else {
    high = probe
    while (high > 1) {
      const next = Math.max(0, high - step)
      if (next === 0 || fits(next)) {
        low = next
        break
      }
      high = next
      step *= 2
    }
  }
  while (high - low > 1) {
    const middle = Math.floor((low + high) / 2)
    if (fits(middle)) low = middle
    else high = middle
  }
  return low
}
