/**
 * The job summary as GitHub shows it, for the tests that prove nothing from AWS becomes a link or
 * a mention: GFM (autolink literals on, raw HTML passed through, as micromark renders to the
 * spec), then where the text lands in the rendered HTML. GitHub links `@mentions`, issue
 * references and commit SHAs after Markdown, in text nodes outside `<code>`, `<pre>` and `<a>`.
 */
import { expect } from '@jest/globals'
import { micromark } from 'micromark'
import { gfm, gfmHtml } from 'micromark-extension-gfm'
import { parseFragment, type DefaultTreeAdapterMap } from 'parse5'

/** Strings GitHub could turn into links or mentions, as a tag value, a name or an AWS message may carry them. */
export const LINKY = [
  'https://evil.example/x',
  'www.evil.example',
  'a@b.example',
  '@team',
  '@org/team',
  'ping @team at https://evil.example/x?a=1 or www.evil.example'
]

/** Markdown as GitHub renders it before its own filters: GFM with autolink literals, raw HTML passed through. */
export function renderGfm(markdown: string): string {
  return micromark(markdown, { allowDangerousHtml: true, extensions: [gfm()], htmlExtensions: [gfmHtml()] })
}

type Node = DefaultTreeAdapterMap['node']

/** Every element of `html` and text node, with the names of the elements around it, innermost first. */
function walk(html: string): { elements: string[]; texts: { text: string; inside: string[] }[] } {
  const elements: string[] = []
  const texts: { text: string; inside: string[] }[] = []
  const visit = (node: Node, inside: string[]) => {
    if (node.nodeName === '#text' && 'value' in node) texts.push({ text: node.value, inside })
    if ('tagName' in node) elements.push(node.tagName)
    if ('childNodes' in node)
      for (const child of node.childNodes) visit(child, 'tagName' in node ? [node.tagName, ...inside] : inside)
  }
  for (const node of parseFragment(html).childNodes) visit(node, [])
  return { elements, texts }
}

/** What GitHub's filters skip when they link mentions, issue references and SHAs in the rendered text. */
const UNLINKED_BY_GITHUB = new Set(['code', 'pre', 'a'])

/**
 * The summary, rendered as GFM, is exactly the HTML that was written (every line is an HTML block,
 * so no Markdown construct applied), has no `<a>`, and shows each of `values` whole inside
 * `<code>` and nowhere outside it; no `@` or `evil.example` is left where GitHub links text.
 */
export function expectNothingLinked(summary: string, values: readonly string[]): void {
  const rendered = renderGfm(summary)
  expect(rendered.trim()).toBe(summary.trim())
  const { elements, texts } = walk(rendered)
  expect(elements).not.toContain('a')
  const outside = texts.filter(({ inside }) => !inside.some((name) => UNLINKED_BY_GITHUB.has(name)))
  for (const { text } of outside) expect(text).not.toMatch(/@|evil\.example/)
  const inCode = texts.filter(({ inside }) => inside.includes('code')).map(({ text }) => text)
  for (const value of values) expect(inCode.some((text) => text.includes(value))).toBe(true)
}
