// The gator verify Suite (test.gatekeeper.sh/v1alpha1, kind Suite) and how `bouncer verify`
// finds suites, as gator does (gatekeeper pkg/gator/verify/read_suites.go, cmd/gator/verify):
// a PATH is a file (must be .yaml/.yml), a directory (its own .yaml/.yml files), or
// `DIR/...` (every .yaml/.yml file below DIR); files that are not Suites are ignored; the
// suites of one PATH come sorted by absolute path and are named as gator prints them.
// A file that does not parse, or a Suite whose fields have the wrong types, stops the
// run before anything is evaluated (SUITE_INVALID, exit status 2) with the file and line.
import { readdir, readFile, stat } from 'node:fs/promises';
import { extname, join, resolve } from 'node:path';
import { BouncerError } from '../errors/errors.js';
import { goGroupVersion } from './go-object.js';
import { checkSuiteNode } from './suite-schema.js';
import { parseFirstDocument } from './suite-yaml.js';

export const SUITE_GROUP = 'test.gatekeeper.sh';
export const SUITE_KIND = 'Suite';

/** An assertion as written; checked when it runs, as gator does (assertion.go). */
export interface SuiteAssertion {
  /** An integer, or a string ("yes", "no"; anything else fails the case). Absent means "yes". */
  readonly violations?: number | string;
  /** Go RE2 regular expression, unanchored, matched against each violation's msg. */
  readonly message?: string;
  readonly line: number;
}

export interface SuiteCase {
  readonly name: string;
  /** Path of the object (or AdmissionReview) to review, relative to the suite file. */
  readonly object: string;
  readonly inventory: readonly string[];
  readonly assertions: readonly SuiteAssertion[];
  readonly skip: boolean;
  readonly line: number;
}

export interface SuiteTest {
  readonly name: string;
  readonly template: string;
  readonly constraint: string;
  /** An ExpansionTemplate file; bouncer verify does not expand (the test fails saying so). */
  readonly expansion: string;
  readonly cases: readonly SuiteCase[];
  /** The constraint is expected to fail its template's parameter schema. */
  readonly invalid: boolean;
  readonly skip: boolean;
  readonly line: number;
}

export interface SuiteFile {
  /** Absolute path of the suite file. */
  readonly file: string;
  /** The path as gator prints it in `ok`/`FAIL` lines (derived from the PATH argument). */
  readonly inputPath: string;
  readonly skip: boolean;
  readonly tests: readonly SuiteTest[];
}

export interface ReadSuitesOptions {
  /** Directory relative PATHs are resolved against (default: process.cwd()). */
  readonly cwd?: string;
}

const isYamlExtension = (name: string): boolean => ['.yaml', '.yml'].includes(extname(name));

function invalid(message: string, cause?: unknown): BouncerError {
  return new BouncerError('SUITE_INVALID', message, cause === undefined ? {} : { cause });
}

/** Suites of every PATH, in argument order (each PATH's suites sorted by absolute path). */
export async function readSuites(paths: readonly string[], options: ReadSuitesOptions = {}): Promise<SuiteFile[]> {
  if (paths.length === 0) throw invalid('no PATH given: name a suite file, a directory, or DIR/... for every suite below DIR');
  const out: SuiteFile[] = [];
  for (const path of paths) out.push(...(await readSuitesOfPath(path, options.cwd ?? process.cwd())));
  return out;
}

async function readSuitesOfPath(originalPath: string, cwd: string): Promise<SuiteFile[]> {
  if (originalPath === '') throw invalid('target not specified');
  const recursive = originalPath.endsWith('/...');
  const printedBase = recursive ? originalPath.slice(0, -'...'.length) : originalPath;
  const target = resolve(cwd, recursive ? originalPath.slice(0, -'...'.length) : originalPath);
  let isDir: boolean;
  try {
    isDir = (await stat(target)).isDirectory();
  } catch (cause) {
    throw invalid(`listing test files: ${fsMessage('stat', target.replace(/^\/+/, ''), cause)}`, cause);
  }
  let files: string[];
  if (!isDir && recursive) throw invalid(`listing test files: can only recursively traverse directories, not a directory: "${target}"`);
  if (!isDir) {
    if (!isYamlExtension(target)) throw invalid(`listing test files: unsupported extension: "${extname(target)}"`);
    files = [target];
  } else {
    files = await listYamlFiles(target, recursive);
  }
  const suites: SuiteFile[] = [];
  for (const file of files) {
    const suite = await readSuiteFile(file);
    if (suite) suites.push({ ...suite, inputPath: gatorInputPath(originalPath, printedBase, file) });
  }
  return suites.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
}

async function listYamlFiles(dir: string, recursive: boolean): Promise<string[]> {
  const out: string[] = [];
  const entries = await readdir(dir, { withFileTypes: true }).catch((cause: unknown) => {
    throw invalid(`listing test files: ${fsMessage('open', dir, cause)}`, cause);
  });
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const entry of entries) {
    const path = join(dir, entry.name);
    // As fs.WalkDir: a symlink is a file entry (never followed as a directory).
    if (entry.isDirectory()) {
      if (recursive) out.push(...(await listYamlFiles(path, true)));
    } else if (isYamlExtension(entry.name)) {
      out.push(path);
    }
  }
  return out;
}

/**
 * The suite's name in gator's output: the PATH argument followed by whatever of the file's
 * path comes after the first occurrence of the argument (stripped of a leading "/", "./" and
 * "../"s) in the file's absolute path without its leading "/". This reproduces gator's
 * strings.Cut, including `./...`, which prints "./" + the absolute path.
 */
export function gatorInputPath(originalPath: string, printedBase: string, absoluteFile: string): string {
  let cut = printedBase.replace(/^\//, '').replace(/^\.\//, '');
  while (cut.startsWith('../')) cut = cut.slice(3);
  const file = absoluteFile.replace(/^\//, '');
  const at = file.indexOf(cut);
  if (at < 0) return originalPath;
  return printedBase + file.slice(at + cut.length);
}

/** Reads one file: a Suite, or undefined when the file is YAML but not a Suite. */
export async function readSuiteFile(file: string): Promise<Omit<SuiteFile, 'inputPath'> | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (cause) {
    throw invalid(`listing test files: reading file "${file}": ${fsMessage('open', file, cause)}`, cause);
  }
  const parsed = parseSuite(text, file);
  return parsed && { file, ...parsed };
}

/** Parses a suite file's text: its first YAML document, as gator reads it. */
export function parseSuite(text: string, file: string): Pick<SuiteFile, 'skip' | 'tests'> | undefined {
  const doc = parseFirstDocument(text, file);
  if (doc === undefined) return undefined;
  if (!doc.isMap) throw invalid(`${file}:${doc.line}: invalid yaml: a suite file must hold a mapping, found ${doc.nodeType}`);
  const apiVersion = doc.value['apiVersion'];
  const kind = doc.value['kind'];
  if (typeof apiVersion !== 'string' || goGroupVersion(apiVersion).group !== SUITE_GROUP || kind !== SUITE_KIND) return undefined;
  return checkSuiteNode(doc.node, doc.lineOf, file, doc.resolve);
}


/** Go's *PathError text ("stat /x: no such file or directory") from a Node fs error. */
export function fsMessage(op: string, path: string, cause: unknown): string {
  const code = (cause as NodeJS.ErrnoException | undefined)?.code;
  const text: Record<string, string> = {
    ENOENT: 'no such file or directory',
    EACCES: 'permission denied',
    ENOTDIR: 'not a directory',
    EISDIR: 'is a directory',
  };
  return `${op} ${path}: ${(code && text[code]) ?? (cause as Error).message}`;
}
