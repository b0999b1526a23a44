// The Node.js lines the service runs on (package.json "engines"). Under Node 20, better-sqlite3
// 13's binding loads and then kills the process with SIGSEGV at its first query, so an older
// Node is refused at start with a message that says what to run instead.
export const MIN_NODE_MAJOR = 22;

/** Why this Node.js cannot run the service, or undefined when it can. */
export function unsupportedNode(version: string): string | undefined {
  const major = Number(/^v?(\d+)\./.exec(version)?.[1] ?? Number.NaN);
  if (major >= MIN_NODE_MAJOR) return undefined;
  return (
    `recency-sampler needs Node.js ${MIN_NODE_MAJOR} or later (the LTS lines 22, 24 and 26); this is Node.js ${version}. ` +
    'Install one of those, then run `npm ci` again under it: the SQLite binding is built for the Node that installs it.'
  );
}
