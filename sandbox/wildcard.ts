/**
 * EC2 filter values as the sandbox matches them: `*` is zero or more characters, `?` exactly one,
 * `\` makes the next character literal (a `\` at the very end is itself literal); the whole value
 * must match, case-sensitively, and a character is a Unicode code point (an emoji is one `?`).
 *
 * Written on purpose unlike the action's src/wildcard.ts, and sharing nothing with it: that one
 * compiles a RegExp, this one walks pattern and value as arrays of code points, recursively, with a
 * table of the (pattern position, value position) pairs already decided, so it stays O(pattern ×
 * value) however many `*` there are (EC2 values are at most a few hundred characters, so the
 * recursion stays shallow). The sandbox filters with it what the action asks for; a bug
 * common to both would go unseen, a copy (or an import) would check nothing.
 */
const UNKNOWN = 0
const NO = 1
const YES = 2

export function wildcard(pattern: string): (value: string) => boolean {
  const p = Array.from(pattern)
  return (value) => {
    const v = Array.from(value)
    const width = v.length + 1
    const decided = new Uint8Array((p.length + 1) * width)
    const matches = (i: number, j: number): boolean => {
      const cell = i * width + j
      if (decided[cell] === UNKNOWN) decided[cell] = rest(i, j) ? YES : NO
      return decided[cell] === YES
    }
    // Does p[i…] match v[j…]?
    const rest = (i: number, j: number): boolean => {
      if (i === p.length) return j === v.length
      const token = p[i]
      // `*` gives up nothing or takes one more character and stays.
      if (token === '*') return matches(i + 1, j) || (j < v.length && matches(i, j + 1))
      if (j === v.length) return false
      if (token === '?') return matches(i + 1, j + 1)
      if (token === '\\' && i + 1 < p.length) return p[i + 1] === v[j] && matches(i + 2, j + 1)
      return token === v[j] && matches(i + 1, j + 1)
    }
    return matches(0, 0)
  }
}
