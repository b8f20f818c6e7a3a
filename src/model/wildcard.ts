import type { TagFilter } from './types.js'

/**
 * EC2 filter wildcards, matched client-side as well: `*` is zero or more characters, `?` exactly
 * one, `\` escapes the next character; matching is case-sensitive. Checking again what the
 * server filtered costs nothing and means an endpoint that ignores a filter (an emulator, a
 * proxy) can never widen what the sweep acts on.
 */
export function wildcardToRegExp(pattern: string): RegExp {
  let source = ''
  const chars = [...pattern]
  for (let i = 0; i < chars.length; i++) {
    const char = chars[i] as string
    if (char === '\\' && i + 1 < chars.length) {
      source += escapeRegExp(chars[++i] as string)
    } else if (char === '*') {
      source += '[\\s\\S]*'
    } else if (char === '?') {
      source += '[\\s\\S]'
    } else {
      source += escapeRegExp(char)
    }
  }
  // 'u': `?` is one character, also outside the Basic Multilingual Plane (tag values may hold emoji).
  return new RegExp(`^${source}$`, 'u')
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')
}

/** A test for "matches any of `patterns`" (values of one EC2 filter are OR'd), compiled once. */
export function wildcardMatcher(patterns: readonly string[]): (value: string | undefined) => boolean {
  const expressions = patterns.map(wildcardToRegExp)
  return (value) => value !== undefined && expressions.some((expression) => expression.test(value))
}

/** `*`, `**`, `?*`, `*?*`: an EC2 pattern with nothing but wildcards, which matches any name (of some length). */
export function isOnlyWildcards(pattern: string): boolean {
  return /^[*?]+$/.test(pattern)
}

/** A tags line that narrows the sweep: its value is more than wildcards. */
export function isConcreteTag(filter: TagFilter): boolean {
  return !isOnlyWildcards(filter.value)
}

/** A test for "every `Key=Value` filter matches a tag" (separate EC2 filters are AND'd), compiled once. */
export function tagMatcher(filters: readonly TagFilter[]): (tags: ReadonlyMap<string, string>) => boolean {
  const tests = filters.map((filter) => ({ key: filter.key, matches: wildcardMatcher([filter.value]) }))
  return (tags) => tests.every((test) => test.matches(tags.get(test.key)))
}
