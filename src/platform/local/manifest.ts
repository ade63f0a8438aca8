// Reads a manifest for `fathom apply` and `fathom delete`: every document (and List item) checked and
// defaulted, Deployments stamped with the directory their relative paths resolve against.
import { FathomError } from '../../lib/errors.js';
import { SOURCE_DIR_ANNOTATION } from './objects.js';
import { validateObject, type AppliedObject } from './validate.js';

/** Plain objects from the YAML documents (null documents skipped). */
export type RawObjects = readonly unknown[];

/** Checks every object; throws one FathomError listing every problem when any object is refused. */
export function objectsFromManifest(raw: RawObjects, defaultNamespace: string, sourceDir: string, inputName: string): AppliedObject[] {
  const objects: AppliedObject[] = [];
  const errors: string[] = [];
  for (const item of raw) {
    if (item === null || item === undefined) continue;
    const result = validateObject(item, defaultNamespace);
    if ('errors' in result) errors.push(...result.errors);
    else objects.push(result.object);
  }
  if (errors.length > 0) throw new FathomError('EINVALID', `${inputName} was not applied:\n  ${errors.join('\n  ')}`);
  if (objects.length === 0) throw new FathomError('EINVALID', `no objects passed in ${inputName}`);
  for (const o of objects) {
    if (o.kind === 'Deployment') o.metadata.annotations = { ...o.metadata.annotations, [SOURCE_DIR_ANNOTATION]: sourceDir };
  }
  // Namespaces first, as kubectl orders them, so the rest can land in them.
  return [...objects.filter((o) => o.kind === 'Namespace'), ...objects.filter((o) => o.kind !== 'Namespace')];
}
