// Reads a multi-document Kubernetes YAML stream and prints it back, re-rendering only the documents
// that were edited, so everything else (comments, spacing, quoting) stays byte for byte.
import { isMap, isSeq, LineCounter, parseAllDocuments, type Document, type ToStringOptions, type YAMLMap } from 'yaml';

export interface StreamDocument {
  readonly doc: Document;
  /** This document's own text in the input, `---` marker and trailing comments included. */
  readonly source: string;
}

export interface YamlStream {
  readonly docs: readonly StreamDocument[];
  /** The input used CRLF line ends; re-rendered documents use them too. */
  readonly crlf: boolean;
}

export type ParseResult = { readonly ok: true; readonly stream: YamlStream } | { readonly ok: false; readonly message: string };

/**
 * Parses every document of `text`. `name` is how an error names the input. Errors are values: the
 * first syntax error, with its line and column.
 */
export function parseYamlStream(text: string, name: string): ParseResult {
  const lineCounter = new LineCounter();
  // Kubernetes reads YAML 1.1 (go-yaml): `0644` is octal and `yes` a boolean. Parsing with the 1.2
  // core schema would print `defaultMode: 0644` back as `644`, a different file mode.
  const docs = parseAllDocuments(text, { version: '1.1', lineCounter, prettyErrors: false });
  const all = Array.isArray(docs) ? docs : [];
  for (const doc of all) {
    const error = doc.errors[0];
    if (error) {
      const { line, col } = lineCounter.linePos(error.pos[0]);
      const message = error.message.replace(/\s+/g, ' ').trim();
      return { ok: false, message: `invalid YAML in ${name} at line ${line}, column ${col}: ${message}` };
    }
  }
  // Each document's text runs from the end of the previous one to its own end (range[2] covers its
  // trailing comments); the last one also takes whatever ends the stream.
  let start = 0;
  const stream = all.map((doc, i) => {
    const end = i === all.length - 1 ? text.length : doc.range[2];
    const source = text.slice(start, end);
    start = end;
    return { doc, source };
  });
  return { ok: true, stream: { docs: stream, crlf: text.includes('\r\n') } };
}

/** The stream as text: unchanged documents verbatim, the ones in `changed` re-rendered in their own style. */
export function renderYamlStream(stream: YamlStream, changed: ReadonlySet<Document>): string {
  return stream.docs.map(({ doc, source }) => (changed.has(doc) ? renderDocument(doc, source, stream.crlf) : source)).join('');
}

function renderDocument(doc: Document, source: string, crlf: boolean): string {
  // The yaml package separates a document's trailing comment with a blank line; attached to the
  // top-level collection instead, it stays where it was.
  if (doc.comment && (isMap(doc.contents) || isSeq(doc.contents)) && !doc.contents.comment) {
    doc.contents.comment = doc.comment;
    doc.comment = null;
  }
  let text = doc.toString(renderStyle(source));
  if (crlf) text = text.replace(/\r?\n/g, '\r\n');
  // Keep the blank lines (or the missing final newline) that ended the document in the input.
  const ending = /(?:\r?\n)*$/.exec(source)?.[0] ?? '';
  return text.replace(/(?:\r?\n)*$/, ending);
}

/**
 * How a document was written, guessed from its text so that a re-rendered document looks like its
 * neighbours: indentation width, whether block sequences are indented under their key (`- ` under
 * `containers:` at the same column, as kubectl writes, or two further), and spaces inside `{ }`/`[ ]`.
 */
export function renderStyle(source: string): ToStringOptions {
  let indent: number | undefined;
  let indentSeq: boolean | undefined;
  const lines = source.split(/\r?\n/);
  for (let i = 0; i < lines.length && (indent === undefined || indentSeq === undefined); i++) {
    const key = /^( *)[^\s#-][^#]*:\s*(?:#.*)?$/.exec(lines[i] ?? '');
    if (!key) continue;
    const next = lines.slice(i + 1).find((line) => line.trim() !== '' && !line.trim().startsWith('#'));
    const child = next === undefined ? undefined : /^( *)(- |-$)?/.exec(next);
    if (!child) continue;
    const depth = (child[1] ?? '').length - (key[1] ?? '').length;
    if (child[2]) indentSeq ??= depth > 0;
    else if (depth > 0) indent ??= depth;
  }
  const flow = /(?::|-)\s+[[{]( ?)[^\s\]}]/.exec(source);
  return {
    indent: indent ?? 2,
    indentSeq: indentSeq ?? false,
    flowCollectionPadding: flow ? flow[1] === ' ' : false,
    // Never fold long lines: a re-rendered document keeps each scalar on the line it had.
    lineWidth: 0,
  };
}

/**
 * The Kubernetes objects in a document: the document itself, or for a `kind: List` (and typed lists
 * such as `DeploymentList`) its items, recursively.
 */
export function kubernetesObjects(doc: Document): YAMLMap[] {
  const out: YAMLMap[] = [];
  const visit = (node: unknown) => {
    if (!isMap(node)) return;
    const kind = node.get('kind');
    const items = node.get('items', true);
    if (typeof kind === 'string' && kind.endsWith('List') && isSeq(items)) {
      for (const item of items.items) visit(item);
    } else {
      out.push(node);
    }
  };
  visit(doc.contents);
  return out;
}
