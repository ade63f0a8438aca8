// Command-line arguments of the benchmark's stand-alone proxy processes.
export function argPort(name: string): number {
  const i = process.argv.indexOf(name);
  const port = Number(i >= 0 ? process.argv[i + 1] : NaN);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    process.stderr.write(`${name} must be a port number\n`);
    process.exit(2);
  }
  return port;
}
