// Reads a service's settings from its environment, once, at start: a bad value stops the process with a
// message naming the variable.

export function envString(name, fallback) {
  const value = process.env[name];
  return value === undefined || value === '' ? fallback : value;
}

export function envNumber(name, fallback, { min = 0 } = {}) {
  const text = envString(name, undefined);
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isFinite(value) || value < min) {
    console.error(`${name}="${text}": expected a number of at least ${min}`);
    process.exit(2);
  }
  return value;
}

/** Ends the process on SIGTERM/SIGINT once `close` has run (a pod being deleted gets SIGTERM). */
export function onShutdown(close) {
  const stop = () => {
    Promise.resolve()
      .then(close)
      .finally(() => process.exit(0));
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}
