/**
 * The fleet file's YAML, read into plain values, or one fleet-file problem: an empty file says it is empty; a
 * syntax error is reported once (the `yaml` parser reports every later line of a bad indentation again); an
 * alias bomb (aliases expanding into millions of values) is refused as a problem of the file, not a crash.
 */
import { LineCounter, parseDocument, YAMLError } from 'yaml';
import { FleetValidationError, Problem } from './problems';

/**
 * How many alias uses the file may make: the `yaml` library's own default limit (maxAliasCount 100, options.d.ts
 * in yaml 2.9.1), which it enforces by throwing a ReferenceError from toJS().
 */
const MAX_ALIAS_COUNT = 100;

export function readFleetYaml(text: string, file: string): unknown {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: false, lineCounter });
  if (doc.errors.length > 0) throw new FleetValidationError(file, syntaxProblems(doc.errors, lineCounter));
  if (doc.contents === null) {
    throw new FleetValidationError(file, [
      { path: '', message: 'the fleet file is empty', fix: 'describe the fleet: at least clusters (copy fleet.yaml or an example under examples/ to start)' },
    ]);
  }
  try {
    return doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (e) {
    if (!(e instanceof ReferenceError)) throw e;
    throw new FleetValidationError(file, [
      {
        path: '',
        message: `YAML aliases expand too far (${e.message}): more than ${MAX_ALIAS_COUNT} alias uses, or aliases of aliases`,
        fix: 'write the repeated values out, or use fewer aliases (*name)',
      },
    ]);
  }
}

/** Duplicate keys are each their own problem; of the syntax errors only the first, the others follow from it. */
function syntaxProblems(errors: readonly YAMLError[], lines: LineCounter): Problem[] {
  const at = (e: YAMLError) => {
    const { line, col } = lines.linePos(e.pos[0]);
    return `line ${line}, column ${col}: ${e.message.split('\n')[0]}`;
  };
  const syntax = errors.filter((e) => e.code !== 'DUPLICATE_KEY');
  if (syntax.length > 0) {
    const more = syntax.length - 1;
    return [
      {
        path: '',
        message: `YAML syntax error at ${at(syntax[0])}`,
        fix: `fix the YAML syntax at that line (often its indentation)${more > 0 ? `; the parser's ${more} later complaint(s) follow from it` : ''}`,
      },
    ];
  }
  return errors.map((e) => ({ path: '', message: `YAML syntax error at ${at(e)}`, fix: 'each name may appear once: rename or remove the duplicate' }));
}
