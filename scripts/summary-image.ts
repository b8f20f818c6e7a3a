/**
 * `npm run docs:summary-image`: the picture of the job summary in the README (docs/summary.png).
 *
 * It runs the demo (scripts/demo.ts: the bundled dist/index.js against the sandbox account, as the
 * runner would), which saves the job summary the action wrote (GITHUB_STEP_SUMMARY) where
 * PACKER_SWEEPER_DEMO_SUMMARY says; renders that Markdown as GitHub does, with GFM and the HTML the
 * action writes (micromark, micromark-extension-gfm), inside GitHub's Markdown CSS
 * (github-markdown-css); and screenshots the page with a headless Chromium, first measuring how tall
 * it is so the picture holds all of it.
 *
 * Needs the `chromium` command (Debian and Ubuntu: `apt-get install -y chromium`), or CHROMIUM set to
 * a Chrome or Chromium binary. Not part of CI: run it after changing the summary and commit the PNG.
 */
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import { pathToFileURL } from 'node:url'
import { micromark } from 'micromark'
import { gfm, gfmHtml } from 'micromark-extension-gfm'
import { ROOT } from './readme-tables.js'

const OUTPUT = join(ROOT, 'docs/summary.png')
/** The width of the job summary's column on a GitHub run page, plus the page's margins. */
const WIDTH = 1012
/** Chromium's flags for a throw-away headless run that reaches no network and keeps nothing. */
const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--hide-scrollbars',
  '--force-device-scale-factor=1'
]
const CANDIDATES = ['chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable']

function findChromium(): string | undefined {
  if (process.env.CHROMIUM) return process.env.CHROMIUM
  return CANDIDATES.find((name) => spawnSync(name, ['--version'], { stdio: 'ignore' }).status === 0)
}

/** The job summary as the demo's run of the bundle wrote it. */
function demoSummary(work: string): string {
  const file = join(work, 'summary.md')
  const demo = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'scripts/demo.ts')], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, PACKER_SWEEPER_DEMO_SUMMARY: file }
  })
  if (demo.status !== 0) throw new Error(`npm run demo failed (exit ${demo.status}):\n${demo.stdout}${demo.stderr}`)
  return readFileSync(file, 'utf8')
}

/** The summary as GitHub shows it: GFM with the action's HTML, in GitHub's Markdown style. */
function summaryPage(summary: string): string {
  const css = readFileSync(
    createRequire(import.meta.url).resolve('github-markdown-css/github-markdown-light.css'),
    'utf8'
  )
  const body = micromark(summary, { allowDangerousHtml: true, extensions: [gfm()], htmlExtensions: [gfmHtml()] })
  return [
    '<!doctype html>',
    '<html><head><meta charset="utf-8">',
    `<style>${css}\nbody { margin: 0; background: #fff; }\n.markdown-body { box-sizing: border-box; width: ${WIDTH}px; padding: 24px 32px; }</style>`,
    // Read by --dump-dom below: how tall the rendered page is.
    '<script>addEventListener("load", () => { document.body.dataset.height = String(Math.ceil(document.documentElement.scrollHeight)) })</script>',
    `</head><body><article class="markdown-body">${body}</article></body></html>`
  ].join('\n')
}

function chromium(binary: string, work: string, args: string[]): string {
  const result = spawnSync(binary, [...CHROMIUM_FLAGS, `--user-data-dir=${join(work, 'profile')}`, ...args], {
    encoding: 'utf8',
    timeout: 120_000
  })
  if (result.status !== 0) throw new Error(`${binary} failed (exit ${result.status}): ${result.stderr}`)
  return result.stdout
}

function main(): number {
  const binary = findChromium()
  if (!binary) {
    console.error(
      'No Chromium found (tried CHROMIUM and ' +
        `${CANDIDATES.join(', ')}). Install it, e.g. on Debian or Ubuntu: apt-get install -y chromium; or set CHROMIUM to a Chrome binary.`
    )
    return 2
  }
  const work = mkdtempSync(join(tmpdir(), 'packer-sweeper-summary-'))
  try {
    const page = join(work, 'summary.html')
    writeFileSync(page, summaryPage(demoSummary(work)))
    const url = pathToFileURL(page).href
    const dom = chromium(binary, work, [`--window-size=${WIDTH},800`, '--virtual-time-budget=5000', '--dump-dom', url])
    const height = Number(/data-height="(\d+)"/.exec(dom)?.[1])
    if (!Number.isFinite(height) || height <= 0) throw new Error('Chromium did not report the height of the page')
    chromium(binary, work, [
      `--window-size=${WIDTH},${height}`,
      '--virtual-time-budget=5000',
      `--screenshot=${OUTPUT}`,
      url
    ])
    console.log(`${relative(ROOT, OUTPUT)}: the demo's job summary, ${WIDTH}×${height} pixels.`)
    return 0
  } finally {
    rmSync(work, { recursive: true, force: true })
  }
}

process.exitCode = main()
