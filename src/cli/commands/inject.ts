// `fathom inject FILE|-`: prints Kubernetes YAML with the mesh added, as `linkerd inject` does: the
// `fathom.io/inject: enabled` annotation (and proxy config annotations from flags) on each workload's
// pod template. It needs no running platform; its output is valid for `fathom apply` and `kubectl apply`.
import { defineCommand, UsageError, stringFlag, type FlagValues } from '../command.js';
import type { CommandIO } from '../io.js';
import { editManifest } from '../manifest-edit.js';
import { injectWorkload, PROXY_CONFIG_ANNOTATIONS, proxyConfigError, type ProxyConfig, type ProxyConfigField } from '../mesh-annotations.js';

export interface InjectArgs {
  /** A path, or `-` for stdin. */
  readonly file: string;
  /** Proxy settings added as `config.fathom.io/*` annotations next to the inject annotation. */
  readonly config: ProxyConfig;
}

export async function run(args: InjectArgs, io: CommandIO): Promise<number> {
  return editManifest({ command: 'inject', file: args.file, done: 'injected', edit: (doc, workload) => injectWorkload(doc, workload, args.config) }, io);
}

/** Flag name → the config field it sets; each flag's annotation is named in its help. */
const CONFIG_FLAGS: readonly { readonly flag: string; readonly field: ProxyConfigField; readonly value: string; readonly what: string }[] = [
  { flag: 'proxy-log-level', field: 'proxyLogLevel', value: 'level', what: 'proxy log level: error, warn, info, debug or trace' },
  { flag: 'opaque-ports', field: 'opaquePorts', value: 'ports', what: 'ports whose traffic skips protocol detection (e.g. 3306,6379,4000-4010)' },
  { flag: 'skip-inbound-ports', field: 'skipInboundPorts', value: 'ports', what: 'inbound ports not redirected to the proxy' },
  { flag: 'skip-outbound-ports', field: 'skipOutboundPorts', value: 'ports', what: 'outbound ports not redirected to the proxy' },
];

function bind(operands: readonly string[], flags: FlagValues): InjectArgs {
  const config: { [F in ProxyConfigField]?: string } = {};
  for (const { flag, field } of CONFIG_FLAGS) {
    const value = stringFlag(flags, field);
    if (value === undefined) continue;
    const error = proxyConfigError(field, value.trim());
    if (error) throw new UsageError(`invalid --${flag}: ${error}`);
    config[field] = value.trim();
  }
  return { file: operands[0] ?? '-', config };
}

export const command = defineCommand<InjectArgs>({
  name: 'inject',
  description:
    'Add the fathom.io/inject: enabled annotation to the pod template of each Deployment, DaemonSet, StatefulSet, ' +
    'ReplicaSet, ReplicationController, Job, CronJob and Pod in FILE (several YAML documents, or a List), and ' +
    'print the YAML to stdout; other objects pass through unchanged. A report of what was injected or skipped ' +
    'goes to stderr. Needs no running platform.',
  examples: ['fathom inject app.yaml | fathom apply -f -', 'kubectl get deploy -o yaml | fathom inject - | kubectl apply -f -', 'fathom inject --opaque-ports 6379 redis.yaml'],
  operands: [{ name: 'file', description: 'Kubernetes YAML to inject; - reads stdin' }],
  options: CONFIG_FLAGS.map(({ flag, field, value, what }) => ({
    flags: `--${flag} <${value}>`,
    description: `${what}; sets ${PROXY_CONFIG_ANNOTATIONS[field]}`,
  })),
  bind,
  run,
});
