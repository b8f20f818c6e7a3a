/**
 * The documentation: README.md is short, opens with the two set-up commands and has a table of
 * contents that matches its headings; its tables and those in docs/ are generated from action.yml and
 * the kinds' registry (npm run docs) and fail here when one changed without the other, and so do the
 * other generated files (action.yml's kind blocks, deploy/'s IAM actions); every input
 * and output has a type; and every relative link in the Markdown files reaches a file, and a heading
 * when it names one.
 */
import { describe, expect, it } from '@jest/globals'
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { dirname, relative, resolve } from 'node:path'

import {
  blocksIn,
  GENERATED_FILES,
  GENERATED_PATHS,
  githubAnchor,
  headingsOf,
  INPUT_TYPES,
  inputsTable,
  OUTPUT_TYPES,
  outputsTable,
  readActionMetadata,
  renderGenerated,
  renderReadme,
  ROOT,
  staleness,
  summarize,
  SUMMARY_MAX,
  tableOfContents,
  type ActionMetadata
} from '../../scripts/readme-tables.js'
import { parseDuration } from '../../src/inputs.js'

const read = (path: string): string => readFileSync(resolve(ROOT, path), 'utf8')
const readme = read('README.md')
const meta = readActionMetadata()

/** The Markdown files whose links must resolve: the top-level documents and everything in docs/. */
const DOCUMENTS = [
  'README.md',
  'CONTRIBUTING.md',
  'SECURITY.md',
  'RELEASING.md',
  ...readdirSync(resolve(ROOT, 'docs'))
    .filter((file) => file.endsWith('.md'))
    .map((file) => `docs/${file}`)
]

/** README's limit, in bytes: short enough to read. */
const README_BUDGET = 27_500

/** A generated table's rows as cells (the header and the separator left out). */
function tableRows(markdown: string): string[][] {
  return markdown
    .split('\n')
    .filter((line) => line.startsWith('| '))
    .slice(2)
    .map((line) =>
      line
        .slice(2, -2)
        .split(/(?<!\\) \| /)
        .map((cellText) => cellText.trim())
    )
}

describe('README.md', () => {
  it(`stays under ${README_BUDGET} bytes`, () => {
    expect(Buffer.byteLength(readme)).toBeLessThan(README_BUDGET)
  })

  it('opens with the two set-up commands, before any other code block', () => {
    const blocks = [...readme.matchAll(/```[a-z]*\n([\s\S]*?)```/g)].map((m) => (m[1] as string).trim())
    expect(blocks.slice(0, 2)).toEqual(['npm ci && npm run demo', 'npm ci && npm test'])
    expect(readme.indexOf('npm ci && npm run demo')).toBeLessThan(readme.indexOf('\n## '))
  })

  it('has a table of contents that lists every ## heading, in order, with the anchor GitHub gives it', () => {
    const contents = readme.slice(
      readme.indexOf('\n## Contents\n'),
      readme.indexOf('\n## ', readme.indexOf('\n## Contents\n') + 1)
    )
    const listed = [...contents.matchAll(/^- \[([^\]]+)\]\(#([^)]+)\)$/gm)].map((m) => ({ text: m[1], anchor: m[2] }))
    const headings = headingsOf(readme)
      .filter((heading) => heading.level === 2 && heading.text !== 'Contents')
      .map(({ text, anchor }) => ({ text, anchor }))
    expect(headings.length).toBeGreaterThan(8)
    expect(listed).toEqual(headings)
    expect(tableOfContents(readme).split('\n')).toHaveLength(headings.length)
  })

  it('shows the picture of the job summary, which is committed', () => {
    expect(readme).toMatch(/!\[[^\]]+\]\(docs\/summary\.png\)/)
    expect(statSync(resolve(ROOT, 'docs/summary.png')).size).toBeGreaterThan(10_000)
  })

  it('lists every input with its type and default, linked to its full description', () => {
    for (const [name, input] of Object.entries(meta.inputs)) {
      const row = readme.split('\n').find((line) => line.startsWith(`| [\`${name}\`](docs/inputs.md#${name}) |`))
      expect(row).toBeDefined()
      expect(row).toContain(`| ${INPUT_TYPES[name]} |`)
      if (input.default) expect(row).toContain(`\`${input.default}\``)
    }
    for (const name of Object.keys(meta.outputs)) expect(readme).toContain(`| \`${name}\` | ${OUTPUT_TYPES[name]} |`)
  })

  it(`keeps every description in its tables of inputs and outputs within ${SUMMARY_MAX} characters`, () => {
    const rows = [...tableRows(inputsTable(meta)), ...tableRows(outputsTable(meta))]
    expect(rows).toHaveLength(Object.keys(meta.inputs).length + Object.keys(meta.outputs).length)
    for (const row of rows) {
      const description = row[row.length - 1] as string
      expect(description.length).toBeGreaterThan(10)
      expect(description.length).toBeLessThanOrEqual(SUMMARY_MAX)
    }
  })

  it('links every page of docs/', () => {
    for (const page of DOCUMENTS.filter((file) => file.startsWith('docs/'))) expect(readme).toContain(`](${page}`)
  })
})

describe('the generated tables and files', () => {
  it.each(GENERATED_PATHS)('are current in %s (run npm run docs when this fails)', (file) => {
    const text = read(file)
    if (file in GENERATED_FILES) expect(blocksIn(text)).toEqual(GENERATED_FILES[file])
    // On failure: the file, its first stale line, where that line is generated from, and npm run docs.
    expect(staleness(file, text, meta)).toBeUndefined()
    expect(renderGenerated(file, text, meta)).toBe(text)
  })

  it('are only in the files the generator knows', () => {
    for (const file of DOCUMENTS.filter((document) => !(document in GENERATED_FILES)))
      expect(blocksIn(read(file))).toEqual([])
  })

  it('give docs/inputs.md the full description of every input under its own heading', () => {
    const inputs = read('docs/inputs.md')
    const anchors = headingsOf(inputs).map((heading) => heading.anchor)
    for (const [name, input] of Object.entries(meta.inputs)) {
      expect(anchors).toContain(name)
      expect(inputs).toContain(input.description.replace(/\s+/g, ' ').trim())
    }
  })
})

describe('the types of inputs and outputs', () => {
  it('name every input and output of action.yml, and nothing else', () => {
    expect(Object.keys(INPUT_TYPES).sort()).toEqual(Object.keys(meta.inputs).sort())
    expect(Object.keys(OUTPUT_TYPES).sort()).toEqual(Object.keys(meta.outputs).sort())
  })

  it("fit each input's default", () => {
    for (const [name, input] of Object.entries(meta.inputs)) {
      const value = input.default ?? ''
      const type = INPUT_TYPES[name]
      if (type === 'boolean') expect(['true', 'false']).toContain(value)
      if (type === 'number') expect(value).toMatch(/^\d+$/)
      if (type === 'duration') expect(parseDuration(value)).toBeGreaterThan(0)
      if (type === 'ARN') expect(value).toMatch(/^(arn:.*)?$/)
      if (type === 'choice') expect(input.description).toContain(value)
    }
  })
})

/** Relative links (inline, outside code) of a Markdown text. */
function relativeLinks(markdown: string): string[] {
  const prose = markdown
    .replace(/^\s*(```+|~~~+)[^\n]*\n[\s\S]*?^\s*\1\s*$/gm, '')
    .replace(/``[^`]*``|`[^`\n]*`/g, '')
    .replace(/<!--[\s\S]*?-->/g, '')
  return [...prose.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)]
    .map((m) => m[1] as string)
    .filter((target) => !/^[a-z][a-z+.-]*:/i.test(target))
}

describe('every relative link', () => {
  it.each(DOCUMENTS)('in %s reaches a file, and a heading of it when it names one', (file) => {
    const broken: string[] = []
    const links = relativeLinks(read(file))
    for (const link of links) {
      const [path = '', anchor] = link.split('#', 2) as [string, string | undefined]
      const target = path === '' ? resolve(ROOT, file) : resolve(ROOT, dirname(file), decodeURIComponent(path))
      if (!target.startsWith(ROOT) || !existsSync(target)) {
        broken.push(`${link}: no such file`)
        continue
      }
      if (anchor === undefined) continue
      if (!target.endsWith('.md')) {
        broken.push(`${link}: an anchor into a file that is not Markdown`)
        continue
      }
      const anchors = headingsOf(readFileSync(target, 'utf8')).map((heading) => heading.anchor)
      if (!anchors.includes(anchor)) broken.push(`${link}: ${relative(ROOT, target)} has no heading #${anchor}`)
    }
    expect(broken).toEqual([])
    if (file === 'README.md') expect(links.length).toBeGreaterThan(30)
  })
})

describe('the link checker', () => {
  it('finds inline links outside code, and leaves web addresses alone', () => {
    const sample = [
      'See [a](docs/a.md#x) and [`b`](b) and <https://x.y>.',
      '```md',
      '[not](this.md)',
      '```',
      'Inline `[no](no.md)` and [web](https://e.com).'
    ].join('\n')
    expect(relativeLinks(sample)).toEqual(['docs/a.md#x', 'b'])
  })
})

describe('GitHub anchors', () => {
  it.each([
    ['Post-build step in a Packer pipeline', 'post-build-step-in-a-packer-pipeline'],
    ['Upgrading a stack deployed before `CreateOidcProvider`', 'upgrading-a-stack-deployed-before-createoidcprovider'],
    ['`max-age`', 'max-age'],
    ["The report's schema", 'the-reports-schema'],
    ['What deploy/ sets up', 'what-deploy-sets-up'],
    ['Tests & checks', 'tests--checks'],
    ['The [README](README.md) and `packer_*`', 'the-readme-and-packer_']
  ])('%s → #%s', (heading, anchor) => {
    expect(githubAnchor(heading)).toBe(anchor)
  })

  it('number repeated headings and skip code blocks', () => {
    const text = ['# Outputs', '## Outputs', '```sh', '# not a heading', '```', '### Outputs'].join('\n')
    expect(headingsOf(text).map((heading) => heading.anchor)).toEqual(['outputs', 'outputs-1', 'outputs-2'])
  })
})

describe('the table generator', () => {
  const sample: ActionMetadata = {
    inputs: {
      tags: { description: 'Key=Value lines,\nfor example a|b. More.', default: '' },
      'max-age': { description: 'How long (in hours) it may live. 0 means all.', required: false, default: '2h' }
    },
    outputs: {
      count: { description: 'How many.' },
      'instance-ids': { description: 'JSON array of the stale ones (sorted).' }
    }
  }

  it('keeps a row on one line, escapes pipes, shows the type and empty defaults, and links the full text', () => {
    expect(inputsTable(sample).split('\n')).toEqual([
      '| Input | Type | Default | Description |',
      '| --- | --- | --- | --- |',
      '| [`tags`](docs/inputs.md#tags) | lines | *(empty)* | Key=Value lines, for example a\\|b. |',
      '| [`max-age`](docs/inputs.md#max-age) | duration | `2h` | How long it may live. |'
    ])
    expect(outputsTable(sample)).toContain('| `count` | number | How many. |')
    expect(outputsTable(sample)).toContain('| `instance-ids` | JSON array | Stale ones. |')
  })

  it('refuses an input without a type', () => {
    expect(() => inputsTable({ inputs: { 'new-input': { description: 'New.' } }, outputs: {} })).toThrow(
      /new-input has no type.*INPUT_TYPES/
    )
  })

  it('summarizes a description by its first sentence, without remarks in parentheses or list separators', () => {
    expect(
      summarize(
        'x',
        'Regions to sweep, separated by commas, spaces or newlines, or all (every region). Empty means the job’s.'
      )
    ).toBe('Regions to sweep, or all.')
    expect(summarize('x', `${'a'.repeat(100)}; ${'b'.repeat(100)}.`)).toBe(`${'a'.repeat(100)}.`)
    expect(() => summarize('x', `${'a'.repeat(SUMMARY_MAX + 1)}.`)).toThrow(/x: the first sentence .* shorten it/)
  })

  it('notices a stale table and refuses a file without markers', () => {
    const stale = readme.replace(
      '| [`max-age`](docs/inputs.md#max-age) |',
      '| [`max-runtime`](docs/inputs.md#max-age) |'
    )
    expect(stale).not.toBe(readme)
    expect(renderReadme(stale, meta)).toBe(readme)
    const headingAdded = readme.replace('\n## License\n', '\n## Support\n\nAsk.\n\n## License\n')
    expect(renderReadme(headingAdded, meta)).toContain('- [Support](#support)')
    expect(() => renderReadme('# no markers', meta)).toThrow(/markers/)
  })
})
